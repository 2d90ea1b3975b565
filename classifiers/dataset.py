"""The labeled topic data shipped in the repository, and its reproducible split."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from sklearn.model_selection import train_test_split

TOPICS = ("privacy", "cost", "opportunity", "fairness", "other")
DATA_DIR = Path(__file__).resolve().parent / "data"
TOPICS_CSV = DATA_DIR / "topics.csv"
SECOND_READ_CSV = DATA_DIR / "second_read.csv"
SELECTION_JSON = DATA_DIR / "model_selection.json"
TEST_FRACTION = 0.25


@dataclass(frozen=True)
class LabeledComment:
    text: str
    topic: str
    source: str
    comment_id: str


@dataclass(frozen=True)
class Split:
    train: list[LabeledComment]
    test: list[LabeledComment]


def load_labeled(path: Path = TOPICS_CSV) -> list[LabeledComment]:
    """Read the labeled comments, refusing unknown topics so a typo cannot become a class."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [
            LabeledComment(r["text"], r["topic"], r["source"], r.get("comment_id") or "")
            for r in csv.DictReader(handle)
        ]
    unknown = {row.topic for row in rows} - set(TOPICS)
    if unknown:
        raise ValueError(f"{path}: unknown topics {sorted(unknown)}")
    return rows


def data_hash(path: Path = TOPICS_CSV) -> str:
    """Return the SHA-256 of the data file, recorded in the model card."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def split(rows: list[LabeledComment], seed: int) -> Split:
    """Hold out a stratified test split (by topic and source) that training never sees, not even as a copy.

    Readers paste the same insult or quote many times ("Idiot", "You're an idiot."); identical
    comments go to the same side, so held-out figures are not inflated by texts seen verbatim.
    """
    groups = group_identical(rows)
    keys = list(groups)
    strata = [f"{groups[key][0].topic}/{groups[key][0].source}" for key in keys]
    train_keys, test_keys = train_test_split(
        keys, test_size=TEST_FRACTION, random_state=seed, stratify=strata
    )
    return Split(train=[r for key in train_keys for r in groups[key]],
                 test=[r for key in test_keys for r in groups[key]])


def normalized(text: str) -> str:
    """The form under which two comments count as the same text: case and spacing ignored."""
    return " ".join(text.casefold().split())


def group_identical(rows: list[LabeledComment]) -> dict[str, list[LabeledComment]]:
    """Rows keyed by normalized text, in first-seen order."""
    groups: dict[str, list[LabeledComment]] = {}
    for row in rows:
        groups.setdefault(normalized(row.text), []).append(row)
    return groups
