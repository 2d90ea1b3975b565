"""Learning curve: would more labeled real comments raise the held-out figure?

Labeling real comments by hand is the project's most expensive step, so before asking for more
of them, measure what the last ones bought. The curve trains the selected pipeline on growing
shares of the real training rows (every written row kept) and scores each fit on the real rows of
the held-out split, with the same threshold the shipped model uses.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sklearn.pipeline import Pipeline

from classifiers import dataset, evaluation, topic
from classifiers.dataset import TOPICS, LabeledComment, Progress

DEFAULT_FRACTIONS = (0.25, 0.5, 0.75, 1.0)


def learning_curve(
    data_path: Path = dataset.TOPICS_CSV,
    seed: int = topic.SEED,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    progress: Progress = lambda _: None,
    selection_path: Path = dataset.SELECTION_JSON,
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    """Held-out real-row metrics of the selected pipeline trained on each share of the real rows."""
    parts = dataset.split(dataset.load_labeled(data_path), seed)
    settings, threshold = topic.chosen_settings(topic.read_selection(selection_path))
    real_train = _real(parts.train)
    real = random.Random(seed).sample(real_train, len(real_train))
    written = [r for r in parts.train if not r.is_real]
    test = _real(parts.test)
    if not real or not test:
        raise ValueError(f"{data_path.name} has no real comments on both sides of "
                         "the split: the curve measures real rows")
    points = []
    for fraction in fractions:
        chosen = real[: round(len(real) * fraction)]
        progress(f"fitting on {fraction:.0%} of the real training rows ({len(chosen)})")
        pipeline = topic.build_pipeline(**settings, seed=seed, cache_dir=cache_dir)
        points.append(_point(fraction, chosen, written, test, pipeline, threshold))
    return {
        "data": {"path": data_path.name, "sha256": dataset.data_hash(data_path)},
        "seed": seed,
        "pipeline": {"features": settings["feature_set"], "C": settings["c"],
                     "embedding_weight": settings["embedding_weight"],
                     "class_weight": settings["class_weight"], "other_below": threshold},
        "held_out_real_rows": len(test),
        "written_train_rows": len(written),
        "points": points,
    }


def _real(rows: Sequence[LabeledComment]) -> list[LabeledComment]:
    return [r for r in rows if r.is_real]


def _point(
    fraction: float, real: list[LabeledComment], written: list[LabeledComment],
    test: list[LabeledComment], pipeline: Pipeline, threshold: float,
) -> dict[str, Any]:
    """Fit on `real` + `written` and score on `test`: one point of the curve."""
    train_rows = real + written
    pipeline.fit([r.text for r in train_rows], [r.topic for r in train_rows])
    model = topic.TopicModel(pipeline, threshold, "learning-curve", card={})
    predicted = model.decide(model.probabilities([r.text for r in test]))
    scores = evaluation.metrics([r.topic for r in test], predicted)
    return {
        "fraction": fraction,
        "real_train_rows": len(real),
        "real_train_rows_per_topic": {t: sum(r.topic == t for r in real) for t in TOPICS},
        "macro_f1": scores["macro_f1"],
        "macro_f1_ci95": scores["macro_f1_ci95"],
        "f1_per_topic": {t: scores["per_class"][t]["f1"] for t in TOPICS},
    }
