"""The worker's handle on the classifiers: loaded once per process, and only where it is used.

Web processes never load the model: readers' requests only store comments, and the background
worker (or `classify-pending`) classifies them. A worker without a usable model keeps running,
says so in its heartbeat, and tries to load the model again every so often.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from classifiers import Analyzer, ModelUnavailable, load_analyzer, sentiment_model
from classifiers.topic import ARTIFACT_NAME, default_model_dir

_cache: dict[tuple[str, float, float], Analyzer] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class LoadedModel:
    analyzer: Analyzer | None
    error: str | None

    @property
    def version(self) -> str | None:
        return self.analyzer.version if self.analyzer else None


def load(app: Flask) -> LoadedModel:
    """Load (or, when missing and allowed, train) the model; on failure, say why instead."""
    model_dir = Path(app.config["MODEL_DIR"]) if app.config.get("MODEL_DIR") else None
    try:
        return LoadedModel(_load_cached(model_dir, app.config["MODEL_AUTO_TRAIN"]), None)
    except ModelUnavailable as exc:
        app.logger.error("classifier unavailable, comments wait unclassified: %s", exc)
        return LoadedModel(None, str(exc))


def _load_cached(model_dir: Path | None, auto_train: bool) -> Analyzer:
    """One Analyzer per artifact per process, however many apps the process creates."""
    folder = model_dir or default_model_dir()
    with _lock:
        key = (str(folder.resolve()), _stamp(folder / ARTIFACT_NAME),
               _stamp(folder / sentiment_model.ARTIFACT_NAME))
        if key not in _cache:
            _cache[key] = load_analyzer(folder, train_if_missing=auto_train)
        return _cache[key]


def _stamp(artifact: Path) -> float:
    """When the artifact was written (0 when missing): a rebuilt model is loaded afresh."""
    return artifact.stat().st_mtime if artifact.exists() else 0.0
