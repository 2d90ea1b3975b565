"""Model selection by cross-validation: which features, how much regularisation, which threshold.

Selection fits dozens of pipelines, so it runs on demand (`python -m classifiers select`) and
writes its evidence to `classifiers/data/model_selection.json`. Training then fits the chosen
pipeline once, which keeps `train` fast, and copies that evidence into the model card.

The criterion is the out-of-fold macro-F1 on the *real* reader comments of the training split:
they, not the comments we wrote, predict how the service will do on a news site. Each score
carries its bootstrap standard error, so a reader of the table can tell a lead from noise.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from classifiers import dataset, topic
from classifiers.dataset import REAL_SOURCE, TOPICS, LabeledComment, Progress


@dataclass(frozen=True)
class Candidate:
    features: str
    c: float

    @property
    def name(self) -> str:
        return f"{self.features}, C={self.c:g}"


CANDIDATES = tuple(
    Candidate(features, c) for features in topic.FEATURE_SETS for c in (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
)


def criterion_mask(rows: Sequence[LabeledComment]) -> np.ndarray:
    """Score on real comments when there are any, else on every row."""
    real = np.array([r.source == REAL_SOURCE for r in rows])
    return real if real.any() else np.ones(len(rows), dtype=bool)


def out_of_fold(
    rows: Sequence[LabeledComment], seed: int, progress: Progress,
) -> dict[Candidate, np.ndarray]:
    """Out-of-fold class probabilities (TOPICS order) of every candidate.

    Features are fitted inside each fold (no peeking at the held-in vocabulary), and identical
    texts stay in one fold, as in the held-out split; every C of a feature set reuses that fold's
    matrices, which is what makes a full grid affordable.
    """
    texts = np.array([r.text for r in rows], dtype=object)
    labels = np.array([r.topic for r in rows])
    strata = [f"{r.topic}/{r.source}" for r in rows]
    same_text = [dataset.normalized(r.text) for r in rows]
    folds = StratifiedGroupKFold(n_splits=topic.CV_FOLDS, shuffle=True, random_state=seed)
    proba = {c: np.zeros((len(rows), len(TOPICS))) for c in CANDIDATES}
    for number, (fit_idx, val_idx) in enumerate(folds.split(texts, strata, same_text), start=1):
        for features in topic.FEATURE_SETS:
            progress(f"fold {number}/{topic.CV_FOLDS}: {features} features")
            union = topic.build_features(features)
            fit_matrix = union.fit_transform(texts[fit_idx])
            val_matrix = union.transform(texts[val_idx])
            for candidate in (c for c in CANDIDATES if c.features == features):
                classifier = topic.build_classifier(candidate.c, seed).fit(fit_matrix, labels[fit_idx])
                order = [list(classifier.classes_).index(t) for t in TOPICS]
                proba[candidate][val_idx] = classifier.predict_proba(val_matrix)[:, order]
    return proba


def select(
    data_path: Path = dataset.TOPICS_CSV, seed: int = topic.SEED, progress: Progress = lambda _: None,
) -> dict[str, Any]:
    """Compare every candidate on the training split and return the evidence as plain JSON."""
    rows = dataset.split(dataset.load_labeled(data_path), seed).train
    truth = np.array([r.topic for r in rows])
    mask = criterion_mask(rows)
    proba = out_of_fold(rows, seed, progress)
    table = [score(candidate, proba[candidate], truth, mask) for candidate in CANDIDATES]
    chosen, why = best_candidate(table)
    threshold, by_threshold, threshold_error = topic.tune_threshold(
        proba[chosen][mask], list(truth[mask])
    )
    predicted = topic.decide_topics(proba[chosen], threshold)
    return {
        "data": {"path": data_path.name, "sha256": dataset.data_hash(data_path),
                 "train_rows": len(rows)},
        "seed": seed,
        "folds": topic.CV_FOLDS,
        "criterion": "out-of-fold macro-F1 on the real comments of the training split",
        "candidates": table,
        "rule": RULE,
        "chosen": {**asdict(chosen), "name": chosen.name, "why": why},
        "threshold": {"other_below": threshold, "criterion_macro_f1_by_threshold": by_threshold,
                      "standard_error": threshold_error},
        "out_of_fold": topic.evaluate_predictions(rows, predicted),
    }


def score(candidate: Candidate, proba: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    """One row of the comparison table: macro-F1 (and its noise) on the criterion rows, and on all rows."""
    predicted = np.array(topic.decide_topics(proba, 0.0))
    return {
        "name": candidate.name,
        "criterion_macro_f1": topic.macro_f1(truth[mask], predicted[mask]),
        "criterion_standard_error": topic.macro_f1_standard_error(list(truth[mask]), list(predicted[mask])),
        "all_macro_f1": topic.macro_f1(truth, predicted),
    }


RULE = ("the candidate with the best criterion (ties: macro-F1 on all rows); then the `other` "
        "threshold by the one-standard-error rule: the lowest threshold whose criterion is within "
        "one bootstrap standard error of the best threshold's")


def best_candidate(table: Sequence[dict[str, Any]]) -> tuple[Candidate, str]:
    """The candidate with the highest criterion, and why, with the noise that figure carries.

    C is one continuous knob with an interior optimum here, so it is taken at its best. The
    threshold is different: it is a second decision mechanism, kept only when it beats the noise
    (see `topic.tune_threshold`).
    """
    best = max(table, key=lambda entry: (entry["criterion_macro_f1"], entry["all_macro_f1"]))
    chosen = next(c for c in CANDIDATES if c.name == best["name"])
    why = (f"highest out-of-fold macro-F1 on real comments, {best['criterion_macro_f1']:.4f} "
           f"(bootstrap standard error {best['criterion_standard_error']:.4f}), among "
           f"{len(table)} candidates (ties go to macro-F1 on all rows)")
    return chosen, why


def write(report: dict[str, Any], path: Path = dataset.SELECTION_JSON) -> None:
    """Record the evidence beside the data it was computed on (it is committed, the model is not)."""
    path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
