"""The topic model: one scikit-learn Pipeline (n-grams + sentence vectors -> logistic regression).

Trained reproducibly from the labeled data in the repository; saved with a model card that records
the data, the selection evidence, held-out and leave-one-source-out figures, the calibration and
the library versions.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score
from sklearn.pipeline import Pipeline

from classifiers import artifacts, dataset, embeddings, evaluation, features
from classifiers.artifacts import ModelUnavailable, default_model_dir
from classifiers.dataset import TOPICS, LabeledComment, Progress
from classifiers.embeddings import runtime_facts

__all__ = ["ModelUnavailable", "TopicModel", "Term", "default_model_dir", "train", "load"]

SEED = evaluation.SEED
MODEL_FAMILY = "topic-ngrams-minilm-logreg-v2"
ARTIFACT_NAME = "topic-model.joblib"
CARD_NAME = "model_card.json"
DEFAULT_FEATURES = "words+chars+embeddings"
DEFAULT_C = 8.0  # used only before the first `select`
DEFAULT_CLASS_WEIGHT = "balanced"
CLASS_WEIGHTS = ("balanced", "none")
CARD_FORMAT = 4  # bump when the card gains keys that readers rely on, so old cards count as stale
THRESHOLD_GRID = tuple(round(t, 2) for t in np.arange(0.0, 0.65, 0.05))
CV_FOLDS = 3
EMBEDDING_CACHE = "embedding-cache"
RETRAIN_HINT = "rebuild it with `python -m classifiers train` (a few minutes the first time)"


@dataclass(frozen=True)
class Term:
    term: str
    weight: float


@dataclass(frozen=True)
class Calibration:
    """Maps the top topic's raw probability to how often such a top topic is right (isotonic)."""

    raw: tuple[float, ...] = (0.0, 1.0)
    correct: tuple[float, ...] = (0.0, 1.0)
    uncertain_below: float = 0.5  # calibrated confidence under which a topic counts as uncertain

    def __call__(self, confidence: np.ndarray) -> np.ndarray:
        return np.interp(confidence, self.raw, self.correct)

    @classmethod
    def from_record(cls, record: dict[str, Any] | None) -> Calibration:
        if not record:
            return cls()
        return cls(tuple(record["raw"]), tuple(record["correct"]), float(record["uncertain_below"]))


@dataclass(frozen=True)
class TopicModel:
    pipeline: Pipeline
    threshold: float
    version: str
    card: dict[str, Any]
    calibration: Calibration = field(default_factory=Calibration)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Return one row of class probabilities per text, columns in TOPICS order."""
        proba = self.pipeline.predict_proba(list(texts))
        order = [list(self.pipeline.classes_).index(topic) for topic in TOPICS]
        return proba[:, order]

    def decide(self, proba: np.ndarray) -> list[str]:
        """Pick the topic per row; a weak winner among the four falls back to `other`."""
        return decide_topics(proba, self.threshold)

    def confidence(self, proba: np.ndarray, topics: Sequence[str]) -> np.ndarray:
        """How often a topic chosen with this probability is right (calibrated on held-in folds)."""
        chosen = proba[np.arange(len(topics)), [TOPICS.index(t) for t in topics]]
        return self.calibration(chosen)

    def is_uncertain(self, confidence: float) -> bool:
        """Below the calibrated bar: the topic is shown, but counted as uncertain."""
        return confidence < self.calibration.uncertain_below

    def top_terms(self, texts: Sequence[str], topics: Sequence[str], top: int = 5) -> list[list[Term]]:
        """Per text, the words and phrases that pushed it toward its topic, strongest first.

        Reads the word n-gram block of the features: the part of the model a person can check.
        """
        union = self.pipeline.named_steps["features"]
        words = dict(union.transformer_list)["words"]
        classifier = self.pipeline.named_steps["classifier"]
        classes = list(classifier.classes_)
        names = _feature_names(words)
        word_count = len(words.vocabulary_)
        matrix = words.transform(list(texts)).tocsr()
        result = []
        for i, chosen in enumerate(topics):
            row = matrix.getrow(i)
            weights = classifier.coef_[classes.index(chosen), :word_count][row.indices] * row.data
            terms = [Term(str(names[j]), round(float(w), 4))
                     for j, w in zip(row.indices, weights, strict=True) if w > 0]
            result.append(sorted(terms, key=lambda t: (-t.weight, t.term))[:top])
        return result


def _feature_names(vectorizer: Any) -> np.ndarray:
    """The vectorizer's feature names, built once per loaded model (100,000+ strings: ~15 ms a call)."""
    names = getattr(vectorizer, "_cached_feature_names", None)
    if names is None:
        names = vectorizer.get_feature_names_out()
        vectorizer._cached_feature_names = names
    return names


def build_classifier(c: float = DEFAULT_C, seed: int = SEED, class_weight: str = DEFAULT_CLASS_WEIGHT,
                     ) -> LogisticRegression:
    """Multinomial logistic regression: probabilities and weights we can explain.

    `class_weight` is "balanced" (four of the five topics are rare in real comments) or "none".
    Newton-CG reaches the optimum in a few iterations on these features, 2-3x faster than L-BFGS.
    """
    if class_weight not in CLASS_WEIGHTS:
        raise ValueError(f"unknown class weight {class_weight!r}; expected one of {CLASS_WEIGHTS}")
    return LogisticRegression(C=c, class_weight=None if class_weight == "none" else class_weight,
                              solver="newton-cg", max_iter=300, random_state=seed)


def build_pipeline(feature_set: str = DEFAULT_FEATURES, c: float = DEFAULT_C, seed: int = SEED,
                   cache_dir: Path | None = None, embedding_weight: float = 1.0,
                   class_weight: str = DEFAULT_CLASS_WEIGHT) -> Pipeline:
    """Return the whole model as one Pipeline, so training and serving cannot drift."""
    return Pipeline([("features", features.build_features(feature_set, cache_dir, embedding_weight)),
                     ("classifier", build_classifier(c, seed, class_weight))])


def decide_topics(proba: np.ndarray, threshold: float) -> list[str]:
    """Arg-max over TOPICS, except that a topic below `threshold` becomes `other`."""
    other = TOPICS.index("other")
    best = proba.argmax(axis=1)
    weak = (best != other) & (proba.max(axis=1) < threshold)
    best[weak] = other
    return [TOPICS[i] for i in best]


def tune_threshold(proba: np.ndarray, truth: Sequence[str]) -> tuple[float, dict[str, float], float]:
    """Choose the `other` threshold on out-of-fold predictions: the lowest within one SE of the best.

    Thresholds that score within noise of each other are not evidence for a second mechanism, so
    the rule keeps the plain arg-max (0.0) unless a threshold beats it by more than the noise.
    """
    scores = {str(t): evaluation.macro_f1(truth, decide_topics(proba, t)) for t in THRESHOLD_GRID}
    best = max(THRESHOLD_GRID, key=lambda t: (scores[str(t)], -t))
    error = evaluation.macro_f1_standard_error(truth, decide_topics(proba, best))
    chosen = min(t for t in THRESHOLD_GRID if scores[str(t)] >= scores[str(best)] - error)
    return float(chosen), scores, error


def read_selection(path: Path = dataset.SELECTION_JSON) -> dict[str, Any] | None:
    """The choices `python -m classifiers select` recorded, or None before the first selection."""
    return artifacts.read_record(path)


def chosen_settings(selection: dict[str, Any] | None) -> tuple[dict[str, Any], float]:
    """The recorded choice as `build_pipeline` keywords, and the `other` threshold; else the defaults."""
    if selection is None:
        return pipeline_settings({}), 0.0
    return pipeline_settings(selection["chosen"]), float(selection["threshold"]["other_below"])


def pipeline_settings(chosen: dict[str, Any]) -> dict[str, Any]:
    """`build_pipeline` keywords from a recorded choice (older records lack the newer keys)."""
    return {"feature_set": chosen.get("features", DEFAULT_FEATURES), "c": float(chosen.get("c", DEFAULT_C)),
            "embedding_weight": float(chosen.get("embedding_weight", 1.0)),
            "class_weight": chosen.get("class_weight", DEFAULT_CLASS_WEIGHT)}


def describe(settings: dict[str, Any]) -> str:
    """A pipeline's settings as people read them: "words+chars+embeddings, C=64"."""
    name = f"{settings['feature_set']}, C={settings['c']:g}"
    if settings.get("embedding_weight", 1.0) != 1.0:
        name += f", embeddings x{settings['embedding_weight']:g}"
    if settings.get("class_weight", DEFAULT_CLASS_WEIGHT) != DEFAULT_CLASS_WEIGHT:
        name += f", class weight {settings['class_weight']}"
    return name


def embedding_cache() -> Path:
    """Sentence vectors by text hash, so re-training encodes only texts it has not seen.

    One cache for every model folder (COMMENT_EMBEDDING_CACHE, else beside the default artifacts):
    a test run or a second model folder reuses what the set-up already encoded.
    """
    configured = os.environ.get("COMMENT_EMBEDDING_CACHE")
    return Path(configured) if configured else default_model_dir() / EMBEDDING_CACHE


def train(
    model_dir: Path | None = None,
    data_path: Path = dataset.TOPICS_CSV,
    seed: int = SEED,
    progress: Progress = lambda _: None,
    selection_path: Path = dataset.SELECTION_JSON,
) -> TopicModel:
    """Fit the selected pipeline once on the training split with a fixed seed; write artifact and card."""
    model_dir = model_dir or default_model_dir()
    rows = dataset.load_labeled(data_path)
    parts = dataset.split(rows, seed)
    selection = read_selection(selection_path)
    settings, threshold = chosen_settings(selection)
    feature_set = settings["feature_set"]
    digest = dataset.data_hash(data_path)
    if selection is not None and selection["data"]["sha256"] != digest:
        progress("note: the recorded model selection ran on other data; "
                 "rerun `python -m classifiers select` to refresh it")
    progress(f"fitting {describe(settings)}, on {len(parts.train)} comments "
             "(sentence vectors are cached after the first run)")
    if features.uses_embeddings(feature_set):
        embeddings.cached_encode([r.text for r in rows], embedding_cache(), progress=lambda done, total:
                                 progress(f"encoded {done}/{total} new comments"))
    pipeline = build_pipeline(**settings, seed=seed, cache_dir=embedding_cache()).fit(
        [r.text for r in parts.train], [r.topic for r in parts.train]
    )
    version = f"{MODEL_FAMILY}+{digest[:10]}"
    calibration = Calibration.from_record((selection or {}).get("calibration"))
    model = TopicModel(pipeline, threshold, version, card={}, calibration=calibration)
    progress(f"evaluating on the {len(parts.test)} held-out comments")
    test_proba = model.probabilities([r.text for r in parts.test])
    features.forget_cache(pipeline)
    card = {
        **artifacts.card_header(version, CARD_FORMAT, MODEL_FAMILY, seed),
        "data": data_summary(data_path.name, digest, rows, parts),
        "hyperparameters": {"features": feature_set, "C": settings["c"],
                            "class_weight": settings["class_weight"],
                            "embedding_weight": settings["embedding_weight"]},
        "embeddings": runtime_facts() if features.uses_embeddings(feature_set) else None,
        **selection_summary(selection, digest, threshold),
        **held_out_reports(parts.test, test_proba, threshold),
        "held_out_calibration": calibration_report(model, parts.test, test_proba),
        "confusion_rates": confusion_record(parts.test, model.decide(test_proba)),
        "labeling": labeling_agreement(rows),
        "attribution": dataset.ATTRIBUTION,
    }
    payload = {"pipeline": pipeline, "threshold": threshold, "version": version,
               "calibration": calibration}
    artifacts.save(payload, card, model_dir, ARTIFACT_NAME, CARD_NAME)
    return TopicModel(pipeline, threshold, version, card, calibration)


def held_out_reports(rows: Sequence[LabeledComment], proba: np.ndarray, threshold: float) -> dict[str, Any]:
    """Held-out metrics (all, real, each source; real without privacy) and the keyword rule's."""
    predicted = decide_topics(proba, threshold)
    truth = [r.topic for r in rows]
    real = [i for i, r in enumerate(rows) if r.is_real]
    rule = evaluation.keyword_rule([r.text for r in rows])
    return {
        "held_out": evaluation.evaluate_predictions(rows, predicted),
        "held_out_real_without_privacy": evaluation.without_label(
            [truth[i] for i in real], [predicted[i] for i in real], "privacy"),
        "held_out_keyword_rule": {part: evaluation.macro_f1(t, p)
                                  for part, (t, p) in evaluation.by_source(rows, rule).items()},
        "held_out_macro_f1_by_threshold": {
            str(t): {part: evaluation.macro_f1(tr, pr)
                     for part, (tr, pr) in evaluation.by_source(rows, decide_topics(proba, t)).items()}
            for t in THRESHOLD_GRID
        },
    }


def calibration_report(model: TopicModel, rows: Sequence[LabeledComment],
                       proba: np.ndarray) -> dict[str, Any]:
    """Reliability of the raw and the calibrated top-topic confidence on held-out comments."""
    topics = model.decide(proba)
    correct = np.array([t == r.topic for t, r in zip(topics, rows, strict=True)], dtype=float)
    raw = proba[np.arange(len(topics)), [TOPICS.index(t) for t in topics]]
    calibrated = model.confidence(proba, topics)
    raw_table = evaluation.reliability(raw, correct)
    calibrated_table = evaluation.reliability(calibrated, correct)
    uncertain = calibrated < model.calibration.uncertain_below
    return {
        "raw": raw_table, "raw_ece": evaluation.expected_calibration_error(raw_table),
        "calibrated": calibrated_table,
        "calibrated_ece": evaluation.expected_calibration_error(calibrated_table),
        "uncertain_below": model.calibration.uncertain_below,
        "uncertain_share": round(float(uncertain.mean()), 4),
        "accuracy_when_certain": round(float(correct[~uncertain].mean()), 4) if (~uncertain).any() else None,
        "accuracy_when_uncertain": round(float(correct[uncertain].mean()), 4) if uncertain.any() else None,
    }


def confusion_record(rows: Sequence[LabeledComment], predicted: Sequence[str]) -> dict[str, Any]:
    """P(predicted | true) on the held-out real comments: what the dashboard corrects shares with."""
    real = [(r.topic, p) for r, p in zip(rows, predicted, strict=True) if r.is_real]
    truth, guesses = [t for t, _ in real], [p for _, p in real]
    return {"labels": list(TOPICS), "measured_on": f"{len(real)} held-out real comments",
            "rows_true_cols_predicted": evaluation.confusion_rates(truth, guesses).round(4).tolist()}


def data_summary(
    name: str, digest: str, rows: Sequence[LabeledComment], parts: dataset.Split,
) -> dict[str, Any]:
    """What the model was trained on: enough to tell two trainings apart and to audit the mix."""
    return {
        "path": name, "sha256": digest, "rows": len(rows),
        "train_rows": len(parts.train), "test_rows": len(parts.test),
        "per_topic": {t: sum(r.topic == t for r in rows) for t in TOPICS},
        "per_source": {s: sum(r.source == s for r in rows) for s in sorted({r.source for r in rows})},
    }


def selection_summary(selection: dict[str, Any] | None, digest: str, threshold: float) -> dict[str, Any]:
    """The model card's record of why this pipeline and threshold were chosen, and how it generalises."""
    if selection is None:
        return {"selection": None, "threshold": {"other_below": threshold},
                "cross_validation": None, "leave_one_source_out": None}
    return {
        "selection": {key: selection.get(key)
                      for key in ("criterion", "rule", "candidates", "chosen", "folds")}
        | {"data_sha256": selection["data"]["sha256"],
           "ran_on_this_data": selection["data"]["sha256"] == digest},
        "threshold": selection["threshold"] | {"other_below": threshold},
        "cross_validation": {"folds": selection["folds"], "oof": selection["out_of_fold"]},
        "leave_one_source_out": selection.get("leave_one_source_out"),
        "calibration": selection.get("calibration"),
    }


def labeling_agreement(rows: Sequence[LabeledComment]) -> dict[str, Any]:
    """Cohen's kappa between the first and an independent second reading, per real source."""
    first = {r.comment_id: r.topic for r in rows if r.comment_id}
    return {"civil_comments": _agreement(first, dataset.SECOND_READ_CSV),
            "polis": _agreement(first, dataset.SECOND_READ_POLIS_CSV)}


def _agreement(first: dict[str, str], path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"kappa": None, "n": 0}
    with path.open(newline="", encoding="utf-8") as handle:
        pairs = [(first[r["comment_id"]], r["topic"]) for r in csv.DictReader(handle)
                 if r["comment_id"] in first]
    if not pairs:
        return {"kappa": None, "n": 0}
    first_reading, second_reading = zip(*pairs, strict=True)
    return {
        "kappa": round(float(cohen_kappa_score(first_reading, second_reading)), 4),
        "n": len(pairs),
        "raw_agreement": round(float(np.mean([x == y for x, y in pairs])), 4),
        # The second reading scored against the first: the ceiling any model can be measured at.
        "second_reading_macro_f1": evaluation.macro_f1(first_reading, second_reading),
        "per_topic": {t: first_reading.count(t) for t in TOPICS},
    }


def load(model_dir: Path | None = None) -> TopicModel:
    """Load an artifact this project built, or raise ModelUnavailable saying how to rebuild."""
    payload, card = artifacts.load(model_dir or default_model_dir(), ARTIFACT_NAME, CARD_NAME, RETRAIN_HINT)
    return TopicModel(payload["pipeline"], float(payload["threshold"]), payload["version"], card,
                      payload.get("calibration") or Calibration())


def is_current(model_dir: Path | None = None, data_path: Path = dataset.TOPICS_CSV) -> bool:
    """True when a loadable artifact exists, was built from exactly this data file by this card format."""
    try:
        model = load(model_dir)
    except ModelUnavailable:
        return False
    return (model.card.get("card_format") == CARD_FORMAT
            and model.card.get("data", {}).get("sha256") == dataset.data_hash(data_path))
