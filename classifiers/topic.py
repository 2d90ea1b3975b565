"""The topic model: one scikit-learn Pipeline, trained reproducibly, saved with a model card."""

from __future__ import annotations

import csv
import functools
import hashlib
import importlib.metadata
import json
import os
import platform
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)
from sklearn.pipeline import FeatureUnion, Pipeline

from classifiers import dataset
from classifiers.dataset import TOPICS, LabeledComment, Progress

SEED = 20261124
MODEL_FAMILY = "topic-tfidf-logreg-v1"
ARTIFACT_NAME = "topic-model.joblib"
CARD_NAME = "model_card.json"
DEFAULT_C = 8.0  # the recorded selection's choice; used only before the first `select`
CARD_FORMAT = 2  # bump when the card gains keys that readers rely on, so old cards count as stale
THRESHOLD_GRID = tuple(round(t, 2) for t in np.arange(0.0, 0.65, 0.05))
CV_FOLDS = 3
BOOTSTRAP_ROUNDS = 1000


class ModelUnavailable(RuntimeError):
    """The artifact is missing, corrupt or built elsewhere: say how to rebuild it."""


@dataclass(frozen=True)
class Term:
    term: str
    weight: float


@dataclass(frozen=True)
class TopicModel:
    pipeline: Pipeline
    threshold: float
    version: str
    card: dict[str, Any]

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Return one row of class probabilities per text, columns in TOPICS order."""
        proba = self.pipeline.predict_proba(list(texts))
        order = [list(self.pipeline.classes_).index(topic) for topic in TOPICS]
        return proba[:, order]

    def decide(self, proba: np.ndarray) -> list[str]:
        """Pick the topic per row; a weak winner among the four falls back to `other`."""
        return decide_topics(proba, self.threshold)

    def is_uncertain(self, confidence: float) -> bool:
        """Below the calibrated confidence bar: the topic is shown, but counted as uncertain."""
        return confidence < float(self.card.get("uncertain_below", 0.0))

    def top_terms(self, texts: Sequence[str], topics: Sequence[str], top: int = 5) -> list[list[Term]]:
        """Per text, the words and phrases that pushed it toward its topic, strongest first.

        Reads the word n-gram block of the features: the part of the model a person can check.
        """
        features = self.pipeline.named_steps["features"]
        words = dict(features.transformer_list)["words"]
        classifier = self.pipeline.named_steps["classifier"]
        classes = list(classifier.classes_)
        names = words.get_feature_names_out()
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


def default_model_dir() -> Path:
    """Where artifacts live: COMMENT_MODEL_DIR, else `models/` beside the package source."""
    configured = os.environ.get("COMMENT_MODEL_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parent.parent / "models"


FEATURE_SETS = ("words", "words+chars")


def build_features(name: str = "words+chars") -> FeatureUnion:
    """Word n-grams carry meaning; character n-grams add typos, inflections and run-together words."""
    words = TfidfVectorizer(
        ngram_range=(1, 2), min_df=2, sublinear_tf=True, strip_accents="unicode",
        token_pattern=r"(?u)\b\w[\w']*\b",
    )
    parts: list[tuple[str, Any]] = [("words", words)]
    if name == "words+chars":
        parts.append(("chars", TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), min_df=2, sublinear_tf=True,
            max_features=30_000, strip_accents="unicode",
        )))
    elif name != "words":
        raise ValueError(f"unknown feature set {name!r}; expected one of {FEATURE_SETS}")
    return FeatureUnion(parts)


def build_classifier(c: float = DEFAULT_C, seed: int = SEED) -> LogisticRegression:
    """Multinomial logistic regression: calibrated-enough probabilities, weights we can explain.

    Newton-CG reaches the optimum in a handful of iterations on these sparse features, about 3x
    faster than L-BFGS, which also stopped short of it.
    """
    return LogisticRegression(
        C=c, class_weight="balanced", solver="newton-cg", max_iter=300, random_state=seed
    )


def build_pipeline(features: str = "words+chars", c: float = DEFAULT_C, seed: int = SEED) -> Pipeline:
    """Return the whole model as one Pipeline, so training and serving cannot drift."""
    return Pipeline([("features", build_features(features)), ("classifier", build_classifier(c, seed))])


def decide_topics(proba: np.ndarray, threshold: float) -> list[str]:
    """Arg-max over TOPICS, except that a topic below `threshold` becomes `other`."""
    other = TOPICS.index("other")
    best = proba.argmax(axis=1)
    weak = (best != other) & (proba.max(axis=1) < threshold)
    best[weak] = other
    return [TOPICS[i] for i in best]


def tune_threshold(proba: np.ndarray, truth: Sequence[str]) -> tuple[float, dict[str, float], float]:
    """Choose the `other` threshold on out-of-fold predictions: the lowest within one SE of the best.

    Returns the threshold, macro-F1 by threshold and the standard error used. Thresholds that
    score within noise of each other are not evidence for a second mechanism, so the rule keeps
    the plain arg-max (0.0) unless a threshold beats it by more than the noise. The noise is the
    marginal standard error of the best threshold's score, which is deliberately conservative: the
    difference between two thresholds on the same rows varies less than either score.
    """
    scores = {str(t): macro_f1(truth, decide_topics(proba, t)) for t in THRESHOLD_GRID}
    best = max(THRESHOLD_GRID, key=lambda t: (scores[str(t)], -t))
    error = macro_f1_standard_error(truth, decide_topics(proba, best))
    chosen = min(t for t in THRESHOLD_GRID if scores[str(t)] >= scores[str(best)] - error)
    return float(chosen), scores, error


def metrics(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Macro-F1, per-class precision/recall/F1 and the confusion matrix, as plain JSON."""
    if not truth:
        return {"n": 0}
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=list(TOPICS), zero_division=0
    )
    per_class = {
        topic: {"precision": round(float(p), 4), "recall": round(float(r), 4),
                "f1": round(float(f), 4), "support": int(s)}
        for topic, p, r, f, s in zip(TOPICS, precision, recall, f1, support, strict=True)
    }
    return {
        "n": len(truth),
        "macro_f1": macro_f1(truth, predicted),
        "macro_f1_ci95": bootstrap_macro_f1(truth, predicted),
        "accuracy": round(float(np.mean([a == b for a, b in zip(truth, predicted, strict=True)])), 4),
        "per_class": per_class,
        "confusion_matrix": {"labels": list(TOPICS),
                             "rows_true_cols_predicted": confusion_matrix(
                                 truth, predicted, labels=list(TOPICS)).tolist()},
    }


def macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Macro-F1 over the topics present in `truth`, rounded for the model card."""
    present = [t for t in TOPICS if t in set(truth)]
    return round(float(f1_score(truth, predicted, labels=present, average="macro")), 4)


def bootstrap_macro_f1(
    truth: Sequence[str], predicted: Sequence[str], rounds: int = BOOTSTRAP_ROUNDS, seed: int = SEED,
) -> list[float]:
    """A 95% interval for macro-F1 by resampling the rows: how far a small test split can be trusted.

    A class with eight test rows swings macro-F1 by several points on its own; the interval makes
    that visible next to the single figure.
    """
    low, high = np.percentile(bootstrap_scores(truth, predicted, rounds, seed), [2.5, 97.5])
    return [round(float(low), 4), round(float(high), 4)]


def macro_f1_standard_error(
    truth: Sequence[str], predicted: Sequence[str], rounds: int = BOOTSTRAP_ROUNDS, seed: int = SEED,
) -> float:
    """The bootstrap standard error of macro-F1: the noise a model choice has to beat."""
    return round(float(np.std(bootstrap_scores(truth, predicted, rounds, seed))), 4)


def bootstrap_scores(truth: Sequence[str], predicted: Sequence[str], rounds: int, seed: int) -> np.ndarray:
    """Macro-F1 of each bootstrap round.

    Each round reweights the rows instead of copying them, so a thousand rounds cost a few matrix
    products.
    """
    labels = set(truth)
    present = [t for t in TOPICS if t in labels]
    truth_arr, predicted_arr = np.asarray(truth), np.asarray(predicted)
    weights = resample_weights(len(truth_arr), rounds, seed)
    f1 = np.zeros((len(present), rounds))
    drawn = np.zeros((len(present), rounds), dtype=bool)
    for i, topic in enumerate(present):
        is_true, is_predicted = truth_arr == topic, predicted_arr == topic
        hits = weights @ (is_true & is_predicted).astype(np.float64)
        misses = weights @ (is_true ^ is_predicted).astype(np.float64)
        drawn[i] = (weights @ is_true.astype(np.float64)) > 0
        np.divide(2 * hits, 2 * hits + misses, out=f1[i], where=(2 * hits + misses) > 0)
    # Like macro_f1 on the resample itself: a class no drawn row belongs to does not count.
    return (f1 * drawn).sum(axis=0) / np.maximum(drawn.sum(axis=0), 1)


@functools.lru_cache(maxsize=2)
def resample_weights(n: int, rounds: int, seed: int) -> np.ndarray:
    """How often each of `n` rows is drawn in each bootstrap round (rounds x n counts, read-only).

    Cached: selection scores a dozen candidates on the same rows, and each matrix is ~100 MB.
    """
    draws = np.random.default_rng(seed).integers(0, n, size=(rounds, n))
    offsets = (np.arange(rounds) * n)[:, None]
    counts = np.bincount((draws + offsets).ravel(), minlength=rounds * n)
    weights = counts.reshape(rounds, n).astype(np.float64)
    weights.flags.writeable = False
    return weights


def evaluate_predictions(rows: Sequence[LabeledComment], predicted: Sequence[str]) -> dict[str, Any]:
    """Metrics for all rows, and for real and written rows separately."""
    return {part: metrics(truth, guesses) for part, (truth, guesses) in by_source(rows, predicted).items()}


def held_out_reports(rows: Sequence[LabeledComment], proba: np.ndarray, threshold: float) -> dict[str, Any]:
    """Held-out metrics with the chosen threshold and without one (the same report when it is 0)."""
    without = evaluate_predictions(rows, decide_topics(proba, 0.0))
    if threshold == 0.0:
        return {"held_out": without, "held_out_without_threshold": without}
    with_threshold = evaluate_predictions(rows, decide_topics(proba, threshold))
    return {"held_out": with_threshold, "held_out_without_threshold": without}


def macro_f1_by_threshold(rows: Sequence[LabeledComment], proba: np.ndarray) -> dict[str, dict[str, float]]:
    """Held-out macro-F1 of every threshold on the grid, for all, real and written rows.

    Shows what the `other` threshold does to comments the selection never saw, including the
    thresholds it declined.
    """
    table: dict[str, dict[str, float]] = {}
    for threshold in THRESHOLD_GRID:
        predicted = decide_topics(proba, threshold)
        table[str(threshold)] = {part: macro_f1(truth, guesses)
                                 for part, (truth, guesses) in by_source(rows, predicted).items()}
    return table


def by_source(rows: Sequence[LabeledComment], predicted: Sequence[str]) -> dict[str, tuple[list, list]]:
    """Truth and predictions for all rows, then for each source: the parts every report shows."""
    parts = {"all": ([r.topic for r in rows], list(predicted))}
    for source in sorted({r.source for r in rows}):
        picked = [(r.topic, p) for r, p in zip(rows, predicted, strict=True) if r.source == source]
        parts[source] = ([t for t, _ in picked], [p for _, p in picked])
    return parts


def library_versions() -> dict[str, str]:
    """Versions that decide whether a saved artifact can be trusted."""
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "joblib": joblib.__version__,
        "vaderSentiment": importlib.metadata.version("vaderSentiment"),
    }


def read_selection(path: Path = dataset.SELECTION_JSON) -> dict[str, Any] | None:
    """The choices `python -m classifiers select` recorded, or None before the first selection."""
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def chosen_settings(selection: dict[str, Any] | None) -> tuple[str, float, float]:
    """Feature set, C and `other` threshold: the recorded choice, else the defaults."""
    if selection is None:
        return "words+chars", DEFAULT_C, 0.0
    chosen = selection["chosen"]
    return chosen["features"], float(chosen["c"]), float(selection["threshold"]["other_below"])


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
    features, c, threshold = chosen_settings(selection)
    digest = dataset.data_hash(data_path)
    if selection is not None and selection["data"]["sha256"] != digest:
        progress("note: the recorded model selection ran on other data; "
                 "rerun `python -m classifiers select` to refresh it")
    progress(f"fitting {features} features, C={c:g}, on {len(parts.train)} comments")
    pipeline = build_pipeline(features, c, seed).fit(
        [r.text for r in parts.train], [r.topic for r in parts.train]
    )
    version = f"{MODEL_FAMILY}+{digest[:10]}"
    model = TopicModel(pipeline, threshold, version, card={})
    progress(f"evaluating on the {len(parts.test)} held-out comments")
    test_proba = model.probabilities([r.text for r in parts.test])
    card = {
        "version": version,
        "card_format": CARD_FORMAT,
        "family": MODEL_FAMILY,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "data": data_summary(data_path.name, digest, rows, parts),
        "libraries": library_versions(),
        "hyperparameters": {"features": features, "C": c, "class_weight": "balanced"},
        **selection_summary(selection, digest, threshold),
        **held_out_reports(parts.test, test_proba, threshold),
        "held_out_macro_f1_by_threshold": macro_f1_by_threshold(parts.test, test_proba),
        "labeling": labeling_agreement(rows),
    }
    save(model, card, model_dir)
    return TopicModel(pipeline, threshold, version, card)


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
    """The model card's record of why this pipeline and threshold were chosen."""
    if selection is None:
        return {"selection": None, "threshold": {"other_below": threshold},
                "cross_validation": None}
    return {
        "selection": {key: selection.get(key)
                      for key in ("criterion", "rule", "candidates", "chosen", "folds")}
        | {"data_sha256": selection["data"]["sha256"],
           "ran_on_this_data": selection["data"]["sha256"] == digest},
        "threshold": selection["threshold"] | {"other_below": threshold},
        "cross_validation": {"folds": selection["folds"], "oof": selection["out_of_fold"]},
    }


def labeling_agreement(rows: Sequence[LabeledComment]) -> dict[str, Any]:
    """Cohen's kappa between the first and the independent second reading of real rows."""
    if not dataset.SECOND_READ_CSV.exists():
        return {"kappa": None, "n": 0}
    first = {r.comment_id: r.topic for r in rows if r.comment_id}
    with dataset.SECOND_READ_CSV.open(newline="", encoding="utf-8") as handle:
        pairs = [(first[r["comment_id"]], r["topic"]) for r in csv.DictReader(handle)
                 if r["comment_id"] in first]
    if not pairs:
        return {"kappa": None, "n": 0}
    first_reading, second_reading = zip(*pairs, strict=True)
    return {
        "kappa": round(float(cohen_kappa_score(first_reading, second_reading)), 4),
        "n": len(pairs),
        "raw_agreement": round(float(np.mean([x == y for x, y in pairs])), 4),
        # The second reading scored against the first: inter-reader macro-F1, very noisy (few topics).
        "second_reading_macro_f1": macro_f1(first_reading, second_reading),
        "per_topic": {t: first_reading.count(t) for t in TOPICS},
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save(model: TopicModel, card: dict[str, Any], model_dir: Path) -> None:
    """Write artifact and card atomically, so a concurrent reader never sees half a file."""
    model_dir.mkdir(parents=True, exist_ok=True)
    payload = {"pipeline": model.pipeline, "threshold": model.threshold, "version": model.version}
    with tempfile.NamedTemporaryFile(dir=model_dir, suffix=".tmp", delete=False) as handle:
        joblib.dump(payload, handle)
    artifact_tmp = Path(handle.name)
    card = {**card, "artifact": {"file": ARTIFACT_NAME, "sha256": _sha256(artifact_tmp)}}
    card_tmp = model_dir / f"{CARD_NAME}.tmp{os.getpid()}"
    card_tmp.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(artifact_tmp, model_dir / ARTIFACT_NAME)
    os.replace(card_tmp, model_dir / CARD_NAME)


RETRAIN_HINT = "rebuild it with `python -m classifiers train` (about 15 s)"


def load(model_dir: Path | None = None) -> TopicModel:
    """Load an artifact this project built, or raise ModelUnavailable saying how to rebuild."""
    model_dir = model_dir or default_model_dir()
    artifact, card_path = model_dir / ARTIFACT_NAME, model_dir / CARD_NAME
    if not artifact.exists() or not card_path.exists():
        raise ModelUnavailable(f"no topic model in {model_dir}: {RETRAIN_HINT}")
    card = _read_card(card_path)
    _check_provenance(artifact, card)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", InconsistentVersionWarning)
            payload = joblib.load(artifact)
        return TopicModel(payload["pipeline"], float(payload["threshold"]), payload["version"], card)
    except Exception as exc:  # joblib raises many kinds on a damaged file
        raise ModelUnavailable(f"cannot load {artifact} ({exc.__class__.__name__}): {RETRAIN_HINT}") from exc


def is_current(model_dir: Path | None = None, data_path: Path = dataset.TOPICS_CSV) -> bool:
    """True when a loadable artifact exists, was built from exactly this data file by this card format."""
    try:
        model = load(model_dir)
    except ModelUnavailable:
        return False
    return (model.card.get("card_format") == CARD_FORMAT
            and model.card.get("data", {}).get("sha256") == dataset.data_hash(data_path))


def _read_card(card_path: Path) -> dict[str, Any]:
    try:
        return json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(f"unreadable model card {card_path}: {RETRAIN_HINT}") from exc


def _check_provenance(artifact: Path, card: dict[str, Any]) -> None:
    """Refuse artifacts we did not build here, or built with another scikit-learn."""
    built_with = card.get("libraries", {}).get("scikit-learn")
    if built_with != sklearn.__version__:
        raise ModelUnavailable(
            f"the topic model was built with scikit-learn {built_with}, this is "
            f"{sklearn.__version__}: {RETRAIN_HINT}"
        )
    if card.get("artifact", {}).get("sha256") != _sha256(artifact):
        raise ModelUnavailable(f"{artifact} does not match its model card: {RETRAIN_HINT}")
