"""The labeled topic data shipped in the repository, and its reproducible split."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TOPICS = ("privacy", "cost", "opportunity", "fairness", "other")
DATA_DIR = Path(__file__).resolve().parent / "data"
TOPICS_CSV = DATA_DIR / "topics.csv"
SECOND_READ_CSV = DATA_DIR / "second_read.csv"
SELECTION_JSON = DATA_DIR / "model_selection.json"
SECOND_READ_POLIS_CSV = DATA_DIR / "second_read_polis.csv"
TEST_FRACTION = 0.25
NEWS = "civil_comments"  # real reader comments on news sites (CC0)
POLIS = "polis"  # real public statements from Polis deliberations (CC BY 4.0)
REAL_SOURCES = (NEWS, POLIS)  # every other source (`written`) was written for this project
Progress = Callable[[str], None]
ATTRIBUTION = (
    "Polis statements: data was gathered using the Polis software (compdemocracy.org/polis) and is "
    "sub-licensed under CC BY 4.0 with Attribution to The Computational Democracy Project. The data and "
    "more information about how the data was collected can be found at "
    "https://github.com/compdemocracy/openData. News comments: Civil Comments (CC0), the sample of "
    "Pavlopoulos et al., SemEval-2021 Task 5: Toxic Spans Detection."
)


class FromSource:
    """A labeled comment that knows its source (the topic and the sentiment samples both are)."""

    source: str

    @property
    def is_real(self) -> bool:
        """Written by a member of the public, not by the project."""
        return self.source in REAL_SOURCES


@dataclass(frozen=True)
class LabeledComment(FromSource):
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
    """Hold out about a quarter of the rows, chosen by a seeded hash of each text, for testing only.

    The hash decides each row on its own text, so identical comments (readers paste "Idiot" or
    the same quote many times) always fall on the same side, and adding labeled rows never moves
    an existing row across: figures from two versions of the data are measured on the same
    held-out comments.
    """
    test = [in_test_split(row.text, seed) for row in rows]
    return Split(train=[r for r, held in zip(rows, test, strict=True) if not held],
                 test=[r for r, held in zip(rows, test, strict=True) if held])


def in_test_split(text: str, seed: int) -> bool:
    """True for the texts the seeded hash puts in the held-out quarter."""
    digest = hashlib.sha256(f"{seed}:{normalized(text)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") < TEST_FRACTION * 2**64


def normalized(text: str) -> str:
    """The form under which two comments count as the same text: case and spacing ignored."""
    return " ".join(text.casefold().split())
