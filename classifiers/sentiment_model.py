"""The sentiment model: VADER's four scores beside word n-grams and sentence vectors, in one Pipeline.

VADER counts words; people read. The model keeps VADER as evidence (four features) and learns from
the text itself (word n-grams, all-MiniLM-L6-v2 sentence vectors) how comments labeled by reading
differ from what the lexicon says: sarcasm, worried questions, complaints in polite words, arguments
for something that name a risk. A multinomial logistic regression with balanced classes gives
P(positive), P(neutral), P(negative); the label is the most probable class and
`sentiment_score` = P(positive) - P(negative), a number from -1 to 1.

Selection chooses the feature set and C by cross-validation on the training split (real comments as
the criterion) and measures leave-one-source-out; it fits about a hundred models, so it runs on demand
(`python -m classifiers select-sentiment`) and is recorded in `classifiers/data/sentiment_selection.json`
beside the data. Training fits the recorded choice once (or selects first, when the record was made
on other data) and writes a card with held-out and leave-one-source-out figures beside raw VADER's on
the same rows, and the agreement of two independent readings as the ceiling.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import FeatureUnion, Pipeline

from classifiers import artifacts, dataset, embeddings, evaluation, features, topic
from classifiers.artifacts import ModelUnavailable, default_model_dir
from classifiers.dataset import REAL_SOURCES, FromSource, Progress
from classifiers.embeddings import SentenceEmbedder, runtime_facts
from classifiers.sentiment import SENTIMENTS, VaderScores, label_for, score_rows, sentiment_scores

SEED = evaluation.SEED
MODEL_FAMILY = "sentiment-vader-v1"
ARTIFACT_NAME = "sentiment-model.joblib"
CARD_NAME = "sentiment_card.json"
CARD_FORMAT = 1  # bump when the card gains keys that readers rely on, so old cards count as stale
SENTIMENT_CSV = dataset.DATA_DIR / "sentiment.csv"
SECOND_READ_NEWS_CSV = dataset.DATA_DIR / "second_read_sentiment_civil.csv"
SELECTION_JSON = dataset.DATA_DIR / "sentiment_selection.json"
WRITTEN = "written"  # examples written for this project: hard cases the real data lacks
FEATURE_SETS = ("vader+words+embeddings", "vader+embeddings")
C_GRID = (0.25, 0.5, 1.0, 2.0, 4.0)
CV_FOLDS = 3
RETRAIN_HINT = topic.RETRAIN_HINT
SIGN = {"negative": -1, "neutral": 0, "positive": 1}
RULE = ("the feature set of the candidate with the best out-of-fold macro-F1 on the real comments of the "
        "training split (ties: on all its rows); then the smallest C whose figure is within one bootstrap "
        "standard error of the best: differences within noise are no evidence for a less regularised model")


@dataclass(frozen=True)
class SentimentComment(FromSource):
    text: str
    sentiment: str
    intensity: int
    source: str
    comment_id: str


@dataclass(frozen=True)
class Candidate:
    features: str
    c: float

    @property
    def name(self) -> str:
        return f"{self.features}, C={self.c:g}"


CANDIDATES = tuple(Candidate(f, c) for f in FEATURE_SETS for c in C_GRID)


@dataclass(frozen=True)
class SentimentModel:
    pipeline: Pipeline
    version: str
    card: dict[str, Any]

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """One row of class probabilities per text, columns in SENTIMENTS order."""
        proba = self.pipeline.predict_proba(list(texts))
        order = [list(self.pipeline.classes_).index(s) for s in SENTIMENTS]
        return proba[:, order]


def labels_of(proba: np.ndarray) -> list[str]:
    """The most probable sentiment of each row."""
    return [SENTIMENTS[i] for i in proba.argmax(axis=1)]


def scores_of(proba: np.ndarray) -> np.ndarray:
    """P(positive) - P(negative) per row: -1 (surely negative) to 1 (surely positive)."""
    positive, negative = SENTIMENTS.index("positive"), SENTIMENTS.index("negative")
    return np.clip(proba[:, positive] - proba[:, negative], -1.0, 1.0)


# --- data ----------------------------------------------------------------------------------


def load_labeled(path: Path = SENTIMENT_CSV) -> list[SentimentComment]:
    """Read the labeled comments, refusing a label or intensity outside the guidelines."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [SentimentComment(r["text"], r["sentiment"], int(r["intensity"]), r["source"],
                                 r.get("comment_id") or "")
                for r in csv.DictReader(handle)]
    wrong = [r.text[:40] for r in rows
             if r.sentiment not in SENTIMENTS or not -2 <= r.intensity <= 2
             or int(np.sign(r.intensity)) != SIGN[r.sentiment]]
    if wrong:
        raise ValueError(f"{path}: sentiment and intensity disagree or are unknown for {wrong[:5]}")
    return rows


def split(rows: Sequence[SentimentComment], seed: int,
          ) -> tuple[list[SentimentComment], list[SentimentComment]]:
    """Training rows and held-out rows, by the same seeded text hash as the topic model's split."""
    held = [dataset.in_test_split(r.text, seed) for r in rows]
    return ([r for r, h in zip(rows, held, strict=True) if not h],
            [r for r, h in zip(rows, held, strict=True) if h])


# --- the model -----------------------------------------------------------------------------


def build_features(feature_set: str, cache_dir: Path | None = None) -> FeatureUnion:
    """VADER's scores and the text features of `feature_set`, as one FeatureUnion."""
    makers = {"vader": VaderScores, "words": features.words,
              "embeddings": lambda: SentenceEmbedder(cache_dir=str(cache_dir) if cache_dir else None)}
    parts = feature_set.split("+")
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {feature_set!r}; expected one of {FEATURE_SETS}")
    return FeatureUnion([(part, makers[part]()) for part in parts])


def build_classifier(c: float, seed: int = SEED) -> LogisticRegression:
    """Multinomial logistic regression with balanced classes (the topic model's, with its own C)."""
    return topic.build_classifier(c, seed)


def build_pipeline(feature_set: str, c: float, seed: int = SEED, cache_dir: Path | None = None) -> Pipeline:
    """Return the whole model as one Pipeline, so training and serving cannot drift."""
    return Pipeline([("features", build_features(feature_set, cache_dir)),
                     ("classifier", build_classifier(c, seed))])


# --- choosing by cross-validation --------------------------------------------------------------


@dataclass(frozen=True)
class Fixed:
    """The features that learn nothing (VADER's scores, sentence vectors), computed once for all rows."""

    texts: np.ndarray
    vader: np.ndarray
    vectors: np.ndarray

    @classmethod
    def of(cls, rows: Sequence[SentimentComment], cache_dir: Path) -> Fixed:
        texts = [r.text for r in rows]
        return cls(np.array(texts, dtype=object), score_rows(sentiment_scores(t) for t in texts),
                   embeddings.cached_encode(texts, cache_dir))


def fit_and_predict(fixed: Fixed, fit_idx: np.ndarray, other_idx: np.ndarray, labels: np.ndarray,
                    candidates: Sequence[Candidate], seed: int) -> dict[Candidate, np.ndarray]:
    """Each candidate fitted on `fit_idx`; its probabilities (SENTIMENTS order) on `other_idx`.

    The blocks are stacked in the Pipeline's order, so each candidate is exactly its Pipeline.
    """
    words = features.words()
    blocks = {"vader": (sp.csr_matrix(fixed.vader[fit_idx]), sp.csr_matrix(fixed.vader[other_idx])),
              "words": (words.fit_transform(fixed.texts[fit_idx]), words.transform(fixed.texts[other_idx])),
              "embeddings": (sp.csr_matrix(fixed.vectors[fit_idx]), sp.csr_matrix(fixed.vectors[other_idx]))}
    result = {}
    for candidate in candidates:
        parts = candidate.features.split("+")
        fit = sp.hstack([blocks[p][0] for p in parts], format="csr")
        other = sp.hstack([blocks[p][1] for p in parts], format="csr")
        classifier = build_classifier(candidate.c, seed).fit(fit, labels[fit_idx])
        order = [list(classifier.classes_).index(s) for s in SENTIMENTS]
        result[candidate] = classifier.predict_proba(other)[:, order]
    return result


def choose(rows: Sequence[SentimentComment], fixed: Fixed, seed: int, progress: Progress) -> dict[str, Any]:
    """Cross-validate every candidate on `rows` (with `fixed` their features): the table and the choice.

    Identical texts stay in one fold, and folds keep each sentiment and source in proportion.
    """
    labels = np.array([r.sentiment for r in rows])
    strata = [f"{r.sentiment}/{r.source}" for r in rows]
    groups = [dataset.normalized(r.text) for r in rows]
    proba = {c: np.zeros((len(rows), len(SENTIMENTS))) for c in CANDIDATES}
    folds = StratifiedGroupKFold(n_splits=CV_FOLDS, shuffle=True, random_state=seed)
    for number, (fit_idx, val_idx) in enumerate(folds.split(labels, strata, groups), start=1):
        fitted = fit_and_predict(fixed, fit_idx, val_idx, labels, CANDIDATES, seed)
        for candidate, fold_proba in fitted.items():
            proba[candidate][val_idx] = fold_proba
        progress(f"cross-validation fold {number}/{CV_FOLDS}: {len(CANDIDATES)} candidates fitted")
    real = np.array([r.is_real for r in rows])
    table = [{**asdict(c), "name": c.name,
              "oof_macro_f1_real": evaluation.macro_f1(labels[real], labels_of(proba[c][real]), SENTIMENTS),
              "oof_macro_f1_all": evaluation.macro_f1(labels, labels_of(proba[c]), SENTIMENTS)}
             for c in CANDIDATES]
    best = max(table, key=lambda row: (row["oof_macro_f1_real"], row["oof_macro_f1_all"], -row["c"]))
    noise = evaluation.macro_f1_standard_error(
        list(labels[real]), labels_of(proba[Candidate(best["features"], best["c"])][real]), labels=SENTIMENTS)
    within = [row for row in table if row["features"] == best["features"]
              and row["oof_macro_f1_real"] >= best["oof_macro_f1_real"] - noise]
    chosen = min(within, key=lambda row: row["c"])
    for row in table:
        row["within_one_standard_error"] = any(row is other for other in within)
        row["chosen"] = row is chosen
    return {"candidates": table, "standard_error": noise,
            "chosen": Candidate(chosen["features"], chosen["c"])}


# --- measuring against VADER -----------------------------------------------------------------


def comparison(rows: Sequence[SentimentComment], proba: np.ndarray, vader: np.ndarray) -> dict[str, Any]:
    """The model and raw VADER on the same rows: 3-class macro-F1 and Spearman with the intensity."""
    truth = [r.sentiment for r in rows]
    intensity = [r.intensity for r in rows]
    predicted, score = labels_of(proba), scores_of(proba)
    compound = vader[:, -1]
    vader_labels = [label_for(c) for c in compound]
    return {
        "n": len(rows),
        "model": {**evaluation.metrics(truth, predicted, SENTIMENTS),
                  "spearman": evaluation.spearman(score, intensity),
                  "spearman_ci95": evaluation.bootstrap_spearman(score, intensity)},
        "vader": {**evaluation.metrics(truth, vader_labels, SENTIMENTS),
                  "spearman": evaluation.spearman(compound, intensity),
                  "spearman_ci95": evaluation.bootstrap_spearman(compound, intensity)},
        "macro_f1_gain_over_vader": evaluation.macro_f1_gain(truth, predicted, vader_labels, SENTIMENTS),
    }


def parts_of(rows: Sequence[SentimentComment]) -> dict[str, np.ndarray]:
    """Row masks: the real comments, each source, and the written hard cases."""
    sources = np.array([r.source for r in rows])
    masks = {"real": np.isin(sources, REAL_SOURCES)}
    masks.update({source: sources == source for source in (*REAL_SOURCES, WRITTEN)})
    return {name: mask for name, mask in masks.items() if mask.any()}


def held_out_report(rows: Sequence[SentimentComment], proba: np.ndarray, vader: np.ndarray) -> dict[str, Any]:
    """Held-out figures per part; `written` shows the hard cases, never the headline."""
    return {name: comparison([r for r, m in zip(rows, mask, strict=True) if m], proba[mask], vader[mask])
            for name, mask in parts_of(rows).items()}


def leave_one_source_out(rows: Sequence[SentimentComment], fixed: Fixed, train_idx: np.ndarray, seed: int,
                         progress: Progress) -> dict[str, Any]:
    """Per real source: choose and fit without it (training split of the rest), measure on all of it."""
    sources = np.array([r.source for r in rows])
    labels = np.array([r.sentiment for r in rows])
    report = {}
    for source in REAL_SOURCES:
        fit_idx = train_idx[sources[train_idx] != source]
        left_out = np.flatnonzero(sources == source)
        if not len(left_out) or not len(fit_idx):
            continue
        fit_rows = [rows[i] for i in fit_idx]
        chosen = choose(fit_rows, Fixed(fixed.texts[fit_idx], fixed.vader[fit_idx], fixed.vectors[fit_idx]),
                        seed, lambda msg, s=source: progress(f"without {s}: {msg}"))["chosen"]
        proba = fit_and_predict(fixed, fit_idx, left_out, labels, [chosen], seed)[chosen]
        report[source] = {
            "trained_on": {s: int((sources[fit_idx] == s).sum()) for s in sorted(set(sources[fit_idx]))},
            "chosen": {**asdict(chosen), "name": chosen.name},
            **comparison([rows[i] for i in left_out], proba, fixed.vader[left_out]),
        }
        progress(f"measured on {source}, which the model did not train on")
    return report


# --- agreement of two readings: the ceiling ----------------------------------------------------


def labeling_agreement(rows: Sequence[SentimentComment]) -> dict[str, Any]:
    """Cohen's kappa and intensity Spearman between the first and an independent second reading."""
    first = {r.comment_id: r for r in rows if r.comment_id}
    pairs = {"polis": _pairs(first, dataset.SECOND_READ_POLIS_CSV),
             "civil_comments": _pairs(first, SECOND_READ_NEWS_CSV)}
    pairs["all"] = [p for source in ("polis", "civil_comments") for p in pairs[source]]
    return {name: _agreement(found) for name, found in pairs.items()}


def _pairs(first: dict[str, SentimentComment], path: Path) -> list[tuple[SentimentComment, str, int]]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return [(first[r["comment_id"]], r["sentiment"], int(r["intensity"]))
                for r in csv.DictReader(handle) if r["comment_id"] in first]


def _agreement(pairs: list[tuple[SentimentComment, str, int]]) -> dict[str, Any]:
    if not pairs:
        return {"kappa": None, "n": 0}
    first = [row.sentiment for row, _, _ in pairs]
    second = [label for _, label, _ in pairs]
    # Kappa is undefined when both readings use one label only (chance agreement is then total).
    kappa = (round(float(cohen_kappa_score(first, second, labels=list(SENTIMENTS))), 4)
             if len(set(first) | set(second)) > 1 else None)
    return {
        "kappa": kappa,
        "n": len(pairs),
        "raw_agreement": round(float(np.mean([a == b for a, b in zip(first, second, strict=True)])), 4),
        # The second reading scored against the first: the ceiling any model can be measured at.
        "second_reading_macro_f1": evaluation.macro_f1(first, second, SENTIMENTS),
        "intensity_spearman": evaluation.spearman([row.intensity for row, _, _ in pairs],
                                                  [i for _, _, i in pairs]),
        "per_sentiment": {s: first.count(s) for s in SENTIMENTS},
    }


# --- training, saving, loading ------------------------------------------------------------------


def select(data_path: Path = SENTIMENT_CSV, seed: int = SEED,
           progress: Progress = lambda _: None) -> dict[str, Any]:
    """Cross-validate every candidate on the training split and measure leave-one-source-out: the record."""
    rows = load_labeled(data_path)
    progress(f"sentiment: VADER and sentence vectors of {len(rows)} comments (cached after the first run)")
    fixed = Fixed.of(rows, topic.embedding_cache())
    train_idx = np.flatnonzero([not dataset.in_test_split(r.text, seed) for r in rows])
    selection = choose([rows[i] for i in train_idx], Fixed(fixed.texts[train_idx], fixed.vader[train_idx],
                                                           fixed.vectors[train_idx]), seed, progress)
    chosen = selection["chosen"]
    return {
        "data": {"path": data_path.name, "sha256": dataset.data_hash(data_path),
                 "train_rows": len(train_idx)},
        "seed": seed,
        "criterion": "out-of-fold macro-F1 on the real comments of the training split",
        "rule": RULE, "folds": CV_FOLDS, "candidates": selection["candidates"],
        "standard_error": selection["standard_error"],
        "chosen": {**asdict(chosen), "name": chosen.name},
        "leave_one_source_out": leave_one_source_out(rows, fixed, train_idx, seed, progress),
    }


def recorded_selection(data_path: Path, seed: int, selection_path: Path,
                       progress: Progress) -> dict[str, Any]:
    """The recorded selection when it was made on this data and seed; else select now (slower)."""
    record = artifacts.read_record(selection_path)
    if record is not None:
        if record["data"]["sha256"] == dataset.data_hash(data_path) and record["seed"] == seed:
            return record
        progress(f"sentiment: {selection_path.name} was made on other data; selecting again "
                 "(`python -m classifiers select-sentiment` records it)")
    return select(data_path, seed, progress)


def train(model_dir: Path | None = None, data_path: Path = SENTIMENT_CSV, seed: int = SEED,
          progress: Progress = lambda _: None, selection_path: Path = SELECTION_JSON) -> SentimentModel:
    """Fit the selected pipeline once on the training split, measure, write artifact and card."""
    model_dir = model_dir or default_model_dir()
    selection = recorded_selection(data_path, seed, selection_path, progress)
    rows = load_labeled(data_path)
    train_rows, test_rows = split(rows, seed)
    cache = topic.embedding_cache()
    chosen = Candidate(selection["chosen"]["features"], selection["chosen"]["c"])
    test_vader = score_rows(sentiment_scores(r.text) for r in test_rows)
    progress(f"sentiment: fitting {chosen.name} on {len(train_rows)} comments")
    pipeline = build_pipeline(chosen.features, chosen.c, seed, cache).fit(
        [r.text for r in train_rows], [r.sentiment for r in train_rows])
    digest = dataset.data_hash(data_path)
    version = f"{MODEL_FAMILY}+{digest[:10]}"
    model = SentimentModel(pipeline, version, card={})
    test_proba = model.probabilities([r.text for r in test_rows])
    progress(f"sentiment: evaluated on {len(test_rows)} held-out comments")
    features.forget_cache(pipeline)
    card = {
        **artifacts.card_header(version, CARD_FORMAT, MODEL_FAMILY, seed),
        "data": data_summary(data_path.name, digest, rows, train_rows, test_rows),
        "hyperparameters": {"features": chosen.features, "C": chosen.c, "class_weight": "balanced",
                            "score": "P(positive) - P(negative)", "label": "arg-max"},
        "embeddings": runtime_facts() if "embeddings" in chosen.features else None,
        "selection": {key: selection[key] for key in
                      ("criterion", "rule", "folds", "candidates", "standard_error", "chosen")},
        "held_out": held_out_report(test_rows, test_proba, test_vader),
        "leave_one_source_out": selection["leave_one_source_out"],
        "labeling": labeling_agreement(rows),
        "attribution": dataset.ATTRIBUTION,
    }
    artifacts.save({"pipeline": pipeline, "version": version}, card, model_dir, ARTIFACT_NAME, CARD_NAME)
    return SentimentModel(pipeline, version, card)


def data_summary(name: str, digest: str, rows: Sequence[SentimentComment],
                 train_rows: Sequence[SentimentComment], test_rows: Sequence[SentimentComment],
                 ) -> dict[str, Any]:
    """What the model was trained on: enough to tell two trainings apart and to audit the mix."""
    sources = sorted({r.source for r in rows})
    return {
        "path": name, "sha256": digest, "rows": len(rows),
        "train_rows": len(train_rows), "test_rows": len(test_rows),
        "real_share": round(sum(r.is_real for r in rows) / len(rows), 4) if rows else 0.0,
        "per_source": {s: {label: sum(r.source == s and r.sentiment == label for r in rows)
                           for label in SENTIMENTS} for s in sources},
        "per_intensity": {str(i): sum(r.intensity == i for r in rows) for i in range(-2, 3)},
    }


def load(model_dir: Path | None = None) -> SentimentModel:
    """Load an artifact this project built, or raise ModelUnavailable saying how to rebuild."""
    payload, card = artifacts.load(model_dir or default_model_dir(), ARTIFACT_NAME, CARD_NAME, RETRAIN_HINT)
    return SentimentModel(payload["pipeline"], payload["version"], card)


def is_current(model_dir: Path | None = None, data_path: Path = SENTIMENT_CSV) -> bool:
    """True when a loadable artifact exists, built from exactly this data file by this card format."""
    try:
        model = load(model_dir)
    except ModelUnavailable:
        return False
    return (model.card.get("card_format") == CARD_FORMAT
            and model.card.get("data", {}).get("sha256") == dataset.data_hash(data_path))
