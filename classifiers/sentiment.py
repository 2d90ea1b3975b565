"""VADER: its four scores, kept with every comment and fed to the sentiment model as evidence.

VADER is a lexicon: it counts words and does not read, so its compound score alone mislabels
sarcasm, worried questions and arguments for something that name a risk. It stays as evidence,
not as the verdict: `VaderScores` puts its four numbers beside the text features of the sentiment
model (classifiers.sentiment_model), which was trained on comments labeled by reading.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any, TypedDict

import numpy as np
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from classifiers.steps import TextStep

SENTIMENTS = ("positive", "neutral", "negative")
POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
VADER_FIELDS = ("neg", "neu", "pos", "compound")


class SentimentScores(TypedDict):
    neg: float
    neu: float
    pos: float
    compound: float


@lru_cache(maxsize=1)
def analyzer() -> SentimentIntensityAnalyzer:
    """Return the process-wide VADER analyzer (loading its lexicon takes ~50 ms, so once)."""
    return SentimentIntensityAnalyzer()


def sentiment_scores(text: str) -> SentimentScores:
    """Score one text with VADER, keeping all four numbers."""
    raw = analyzer().polarity_scores(text)
    return SentimentScores(
        neg=float(raw["neg"]), neu=float(raw["neu"]), pos=float(raw["pos"]),
        compound=float(raw["compound"]),
    )


def label_for(compound: float) -> str:
    """Map VADER's compound score to a label with the standard thresholds (the baseline we beat)."""
    if compound >= POSITIVE_THRESHOLD:
        return "positive"
    if compound <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


def score_rows(scores: Iterable[SentimentScores]) -> np.ndarray:
    """VADER's four numbers per text as rows (neg, neu, pos, compound)."""
    return np.asarray([[s[field] for field in VADER_FIELDS] for s in scores],
                      dtype=np.float64).reshape(-1, len(VADER_FIELDS))


class VaderScores(TextStep):
    """VADER's four scores as a stateless Pipeline step: list of str in, (n, 4) floats out."""

    def transform(self, X: Iterable[str]) -> np.ndarray:
        """neg, neu, pos and compound of each text."""
        if isinstance(X, str | bytes):
            raise TypeError("VaderScores.transform takes a list of texts, not a single string")
        return score_rows(sentiment_scores(text) for text in X)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """vader_neg .. vader_compound."""
        return np.asarray([f"vader_{field}" for field in VADER_FIELDS], dtype=object)
