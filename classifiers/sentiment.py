"""Sentiment from VADER: four scores kept, the label derived from the compound score."""

from __future__ import annotations

from functools import lru_cache
from typing import TypedDict

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

SENTIMENTS = ("positive", "neutral", "negative")
POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05


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
    """Map VADER's compound score to a label with the standard thresholds."""
    if compound >= POSITIVE_THRESHOLD:
        return "positive"
    if compound <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"
