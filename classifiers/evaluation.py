"""Measuring a classifier: macro-F1 with bootstrap intervals, per-source reports, calibration, shares.

Shared by the topic and the sentiment model, so both report the same figures the same way.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import nnls
from scipy.stats import rankdata
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from classifiers.dataset import TOPICS, LabeledComment

SEED = 20261124
BOOTSTRAP_ROUNDS = 1000


def macro_f1(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str] = TOPICS) -> float:
    """Macro-F1 over the labels present in `truth`, rounded for the model card."""
    present = [t for t in labels if t in set(truth)]
    if not present:
        return 0.0
    return round(float(f1_score(truth, predicted, labels=present, average="macro")), 4)


def metrics(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str] = TOPICS) -> dict[str, Any]:
    """Macro-F1 with its interval, per-class precision/recall/F1 and the confusion matrix, as JSON."""
    if not truth:
        return {"n": 0}
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=list(labels), zero_division=0
    )
    per_class = {
        label: {"precision": round(float(p), 4), "recall": round(float(r), 4),
                "f1": round(float(f), 4), "support": int(s)}
        for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    }
    return {
        "n": len(truth),
        "macro_f1": macro_f1(truth, predicted, labels),
        "macro_f1_ci95": bootstrap_macro_f1(truth, predicted, labels=labels),
        "accuracy": round(float(np.mean([a == b for a, b in zip(truth, predicted, strict=True)])), 4),
        "per_class": per_class,
        "confusion_matrix": {"labels": list(labels),
                             "rows_true_cols_predicted": confusion_matrix(
                                 truth, predicted, labels=list(labels)).tolist()},
    }


def bootstrap_macro_f1(
    truth: Sequence[str], predicted: Sequence[str], rounds: int = BOOTSTRAP_ROUNDS, seed: int = SEED,
    labels: Sequence[str] = TOPICS,
) -> list[float]:
    """A 95% interval for macro-F1 by resampling the rows: how far a small test split can be trusted."""
    low, high = np.percentile(bootstrap_scores(truth, predicted, rounds, seed, labels), [2.5, 97.5])
    return [round(float(low), 4), round(float(high), 4)]


def macro_f1_standard_error(
    truth: Sequence[str], predicted: Sequence[str], rounds: int = BOOTSTRAP_ROUNDS, seed: int = SEED,
    labels: Sequence[str] = TOPICS,
) -> float:
    """The bootstrap standard error of macro-F1: the noise a model choice has to beat."""
    return round(float(np.std(bootstrap_scores(truth, predicted, rounds, seed, labels))), 4)


def bootstrap_scores(truth: Sequence[str], predicted: Sequence[str], rounds: int, seed: int,
                     labels: Sequence[str] = TOPICS) -> np.ndarray:
    """Macro-F1 of each bootstrap round.

    Each round reweights the rows instead of copying them, so a thousand rounds cost a few matrix
    products.
    """
    present = [t for t in labels if t in set(truth)]
    truth_arr, predicted_arr = np.asarray(truth), np.asarray(predicted)
    weights = resample_weights(len(truth_arr), rounds, seed)
    f1 = np.zeros((len(present), rounds))
    drawn = np.zeros((len(present), rounds), dtype=bool)
    for i, label in enumerate(present):
        is_true, is_predicted = truth_arr == label, predicted_arr == label
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


def macro_f1_gain(
    truth: Sequence[str], predicted: Sequence[str], baseline: Sequence[str], labels: Sequence[str] = TOPICS,
    rounds: int = BOOTSTRAP_ROUNDS, seed: int = SEED,
) -> dict[str, Any]:
    """How much `predicted` beats `baseline` in macro-F1, with a paired 95% interval.

    Both are scored on the same resampled rows in each round, so the interval is that of the
    difference on these comments, not of two independent figures.
    """
    gains = (bootstrap_scores(truth, predicted, rounds, seed, labels)
             - bootstrap_scores(truth, baseline, rounds, seed, labels))
    low, high = np.percentile(gains, [2.5, 97.5])
    point = macro_f1(truth, predicted, labels) - macro_f1(truth, baseline, labels)
    return {"gain": round(point, 4), "ci95": [round(float(low), 4), round(float(high), 4)]}


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rank correlation (ties share their mean rank), rounded; None when one side is constant."""
    rho = _rank_correlation(np.asarray(x, dtype=float)[None], np.asarray(y, dtype=float)[None])[0]
    return None if np.isnan(rho) else round(float(rho), 4)


def bootstrap_spearman(x: Sequence[float], y: Sequence[float], rounds: int = BOOTSTRAP_ROUNDS,
                       seed: int = SEED, chunk: int = 100) -> list[float] | None:
    """A 95% interval for Spearman's rho by resampling the rows (in chunks of rounds, to bound memory)."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    rng = np.random.default_rng(seed)
    rhos = []
    for start in range(0, rounds, chunk):
        draws = rng.integers(0, len(xs), size=(min(chunk, rounds - start), len(xs)))
        rhos.append(_rank_correlation(xs[draws], ys[draws]))
    defined = np.concatenate(rhos)
    defined = defined[~np.isnan(defined)]
    if not len(defined):
        return None
    low, high = np.percentile(defined, [2.5, 97.5])
    return [round(float(low), 4), round(float(high), 4)]


def _rank_correlation(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation of the rows' ranks: Spearman's rho per row (nan when a row is constant)."""
    rx, ry = rankdata(x, axis=1), rankdata(y, axis=1)
    rx -= rx.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    spread = np.sqrt((rx * rx).sum(axis=1) * (ry * ry).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rx * ry).sum(axis=1) / spread


def by_source(rows: Sequence[LabeledComment], predicted: Sequence[str]) -> dict[str, tuple[list, list]]:
    """Truth and predictions for all rows, for the real rows, then for each source."""
    parts = {"all": ([r.topic for r in rows], list(predicted))}
    real = [(r.topic, p) for r, p in zip(rows, predicted, strict=True) if r.is_real]
    if real and len(real) < len(rows):
        parts["real"] = ([t for t, _ in real], [p for _, p in real])
    for source in sorted({r.source for r in rows}):
        picked = [(r.topic, p) for r, p in zip(rows, predicted, strict=True) if r.source == source]
        parts[source] = ([t for t, _ in picked], [p for _, p in picked])
    return parts


def evaluate_predictions(rows: Sequence[LabeledComment], predicted: Sequence[str]) -> dict[str, Any]:
    """Metrics for all rows, the real rows, and each source separately."""
    return {part: metrics(truth, guesses) for part, (truth, guesses) in by_source(rows, predicted).items()}


def without_label(truth: Sequence[str], predicted: Sequence[str], label: str) -> float:
    """Macro-F1 over the other labels: a figure that a handful of rows of one class cannot swing."""
    return macro_f1(truth, predicted, [t for t in TOPICS if t != label])


# --- a keyword rule: the baseline a learned model has to beat ---------------------------------

KEYWORDS = {
    "privacy": r"privacy|private data|personal data|surveil|tracking|track(s|ed)? (you|us|me)|spy|camera"
               r"|data (breach|leak)",
    "cost": r"cost|price|tax|budget|afford|expens|money|fee|pay(s|ing)? for|bill|spend|dollar|\$",
    "opportunity": r"jobs?\b|hire|hiring|career|opportunit|employ|business(es)?|growth|wage|startup",
    "fairness": r"fair|unfair|equal|discriminat|racis|sexis|bias|privilege|rights|inequal",
}
_KEYWORD_PATTERNS = {topic: re.compile(pattern, re.IGNORECASE) for topic, pattern in KEYWORDS.items()}


def keyword_rule(texts: Sequence[str]) -> list[str]:
    """The first topic whose keywords occur, else `other`: what a newsroom could write in four lines."""
    return [next((t for t, p in _KEYWORD_PATTERNS.items() if p.search(text)), "other") for text in texts]


# --- calibration: how often is the top topic right at each confidence? ----------------------


def reliability(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Mean confidence against the share correct in equal-width bins: a reliability diagram's points."""
    edges = np.linspace(0, 1, bins + 1)
    table = []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence >= low) & ((confidence < high) | (high == 1.0))
        if inside.any():
            table.append({"from": round(float(low), 2), "to": round(float(high), 2), "n": int(inside.sum()),
                          "mean_confidence": round(float(confidence[inside].mean()), 4),
                          "share_correct": round(float(correct[inside].mean()), 4)})
    return table


def expected_calibration_error(table: Sequence[dict[str, float]]) -> float:
    """Average gap between confidence and accuracy, weighted by how many rows each bin holds."""
    total = sum(b["n"] for b in table)
    gap = sum(b["n"] * abs(b["mean_confidence"] - b["share_correct"]) for b in table)
    return round(gap / total, 4) if total else 0.0


# --- shares corrected for the model's confusion -------------------------------------------


def confusion_rates(truth: Sequence[str], predicted: Sequence[str],
                    labels: Sequence[str] = TOPICS) -> np.ndarray:
    """P(predicted = column | true = row), measured on held-out comments."""
    counts = confusion_matrix(truth, predicted, labels=list(labels)).astype(np.float64)
    return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)


def adjusted_shares(predicted_counts: Sequence[float], rates: np.ndarray) -> np.ndarray:
    """True shares that best explain the observed counts (adjusted classify and count).

    The observed share of each predicted label is q = R^T p, where R holds P(predicted | true) and
    p the true shares; solve for p by non-negative least squares and renormalise, so a model that
    over-calls a topic no longer inflates it.
    """
    counts = np.asarray(predicted_counts, dtype=np.float64)
    if counts.sum() == 0:
        return np.zeros(len(counts))
    observed = counts / counts.sum()
    solved, _ = nnls(np.asarray(rates).T, observed)
    return solved / solved.sum() if solved.sum() > 0 else observed


def adjusted_share_intervals(
    predicted_counts: Sequence[int], rates: np.ndarray, rounds: int = 500, seed: int = SEED,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Corrected shares with a 95% interval from resampling the comments (multinomial bootstrap)."""
    counts = np.asarray(predicted_counts, dtype=np.int64)
    point = adjusted_shares(counts, rates)
    total = int(counts.sum())
    if total == 0:
        zeros = np.zeros(len(counts))
        return zeros, zeros, zeros
    draws = np.random.default_rng(seed).multinomial(total, counts / total, size=rounds)
    samples = np.array([adjusted_shares(draw, rates) for draw in draws])
    low, high = np.percentile(samples, [2.5, 97.5], axis=0)
    return point, low, high


def reliability_svg(tables: dict[str, Sequence[dict[str, float]]], title: str) -> str:
    """A reliability diagram as a small standalone SVG: confidence (x) against share correct (y)."""
    size, pad = 320, 40
    colours = ("#1f6f8b", "#d1495b", "#66a182")

    def xy(x: float, y: float) -> tuple[float, float]:
        return round(pad + x * size, 1), round(pad + (1 - y) * size, 1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size + 2 * pad + 160}" '
             f'height="{size + 2 * pad}" font-family="sans-serif" font-size="12">',
             f'<text x="{pad}" y="20">{title}</text>',
             f'<rect x="{pad}" y="{pad}" width="{size}" height="{size}" fill="none" stroke="#999"/>',
             f'<line x1="{pad}" y1="{pad + size}" x2="{pad + size}" y2="{pad}" stroke="#bbb" '
             'stroke-dasharray="4"/>',
             f'<text x="{pad}" y="{size + pad + 28}">confidence</text>',
             f'<text x="4" y="{pad - 8}">share correct</text>']
    for index, ((name, table), colour) in enumerate(zip(tables.items(), colours, strict=False)):
        points = [xy(b["mean_confidence"], b["share_correct"]) for b in table]
        parts.append(f'<polyline points="{" ".join(f"{x},{y}" for x, y in points)}" fill="none" '
                     f'stroke="{colour}" stroke-width="2"/>')
        parts.extend(f'<circle cx="{x}" cy="{y}" r="3" fill="{colour}"/>' for x, y in points)
        parts.append(f'<text x="{size + pad + 12}" y="{pad + 16 + 18 * index}" fill="{colour}">{name}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
