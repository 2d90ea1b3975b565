"""The app's handle on the classifiers: loaded once per process, optional when broken."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from flask import Flask, current_app

from classifiers import Analysis, Analyzer, ModelUnavailable, load_analyzer
from classifiers.topic import ARTIFACT_NAME, default_model_dir

log = logging.getLogger(__name__)
_cache: dict[tuple[str, float], Analyzer] = {}
_lock = threading.Lock()


def init_app(app: Flask) -> None:
    """Load (or, when missing and allowed, train) the model; on failure, run unclassified."""
    model_dir = Path(app.config["MODEL_DIR"]) if app.config.get("MODEL_DIR") else None
    try:
        analyzer = _load_cached(model_dir, app.config["MODEL_AUTO_TRAIN"])
        app.extensions["analyzer"], app.extensions["analyzer_error"] = analyzer, None
    except ModelUnavailable as exc:
        app.extensions["analyzer"], app.extensions["analyzer_error"] = None, str(exc)
        app.logger.error("classifier unavailable, comments will be stored unclassified "
                         "until `flask --app wsgi classify-pending` runs: %s", exc)


def _load_cached(model_dir: Path | None, auto_train: bool) -> Analyzer:
    """One Analyzer per artifact per process, however many apps the process creates."""
    folder = model_dir or default_model_dir()
    artifact = folder / ARTIFACT_NAME
    with _lock:
        stamp = artifact.stat().st_mtime if artifact.exists() else 0.0
        key = (str(folder.resolve()), stamp)
        if key not in _cache:
            _cache[key] = load_analyzer(folder, train_if_missing=auto_train)
        return _cache[key]


def analyzer() -> Analyzer | None:
    """The current app's analyzer, or None while the model is unavailable."""
    return current_app.extensions.get("analyzer")


def classify(texts: list[str]) -> list[Analysis] | None:
    """Classify texts, or return None (and log) when no model is loaded."""
    loaded = analyzer()
    if loaded is None:
        return None
    return loaded.analyze_many(texts)
