"""Topic shares corrected for the model's measured confusion, with 95% intervals.

A classifier that is right 60-80% of the time miscounts shares: it over-calls some topics and
misses others. The model card records P(predicted | true) on held-out real comments; adjusted
classify-and-count inverts it, so an editor reads an estimate of the true share beside the raw
count. Web processes read only the card (a small JSON file), never the model.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
from flask import current_app

from classifiers import TOPICS
from classifiers.artifacts import ModelUnavailable, default_model_dir, read_card
from classifiers.evaluation import adjusted_share_intervals
from classifiers.topic import CARD_NAME

FEW = 30  # below this many classified comments a share is flagged as unreliable
_cache: dict[tuple[str, float], np.ndarray | None] = {}
_lock = threading.Lock()


def confusion_rates() -> np.ndarray | None:
    """P(predicted | true) from the current model card, or None when there is no usable card."""
    configured = current_app.config.get("MODEL_DIR")
    folder = Path(configured) if configured else default_model_dir()
    card_path = folder / CARD_NAME
    try:
        stamp = card_path.stat().st_mtime
    except OSError:
        return None
    key = (str(card_path), stamp)
    with _lock:
        if key not in _cache:
            _cache[key] = _rates_from(card_path)
        return _cache[key]


def _rates_from(card_path: Path) -> np.ndarray | None:
    try:
        record = read_card(card_path).get("confusion_rates") or {}
    except ModelUnavailable:
        return None
    if record.get("labels") != list(TOPICS):
        return None
    rates = np.asarray(record["rows_true_cols_predicted"], dtype=np.float64)
    return rates if rates.shape == (len(TOPICS), len(TOPICS)) else None


def corrected(predicted: dict[str, int], rates: np.ndarray | None) -> dict[str, dict[str, Any]]:
    """Per topic: the corrected share and its 95% interval, from counts by predicted topic."""
    counts = [predicted.get(t, 0) for t in TOPICS]
    total = sum(counts)
    if rates is None or total == 0:
        return {t: {"corrected_share": None, "corrected_ci95": None, "few": total < FEW} for t in TOPICS}
    point, low, high = adjusted_share_intervals(counts, rates)
    return {t: {"corrected_share": round(float(p), 4),
                "corrected_ci95": [round(float(lo), 4), round(float(hi), 4)],
                "few": total < FEW}
            for t, p, lo, hi in zip(TOPICS, point, low, high, strict=True)}
