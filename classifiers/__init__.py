"""Topic and sentiment classifiers for reader comments. Importable without Flask."""

from classifiers.analysis import (
    Analysis,
    Analyzer,
    Term,
    analyze,
    analyze_many,
    default_analyzer,
    explain,
    load_analyzer,
)
from classifiers.dataset import TOPICS
from classifiers.sentiment import SENTIMENTS
from classifiers.sentiment_model import SentimentModel
from classifiers.topic import ModelUnavailable

__all__ = [
    "Analysis", "Analyzer", "ModelUnavailable", "SENTIMENTS", "SentimentModel", "TOPICS", "Term",
    "analyze", "analyze_many", "default_analyzer", "explain", "load_analyzer",
]
