"""Topic and sentiment together: the one interface the app and the benchmarks use."""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifiers import sentiment_model
from classifiers import topic as topic_model
from classifiers.dataset import TOPICS
from classifiers.embeddings import use_one_blas_thread
from classifiers.sentiment import SentimentScores, sentiment_scores
from classifiers.sentiment_model import SentimentModel
from classifiers.topic import Term

SCORE_DECIMALS = 4


@dataclass(frozen=True)
class Analysis:
    topic: str
    topic_scores: dict[str, float]
    topic_confidence: float
    sentiment: str
    sentiment_scores: SentimentScores
    model_version: str
    sentiment_score: float = 0.0
    topic_uncertain: bool = False
    topic_terms: tuple[Term, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """Return the JSON shape that `predict` writes and the API returns."""
        return {
            "topic": self.topic,
            "topic_scores": self.topic_scores,
            "topic_confidence": self.topic_confidence,
            "topic_uncertain": self.topic_uncertain,
            "topic_terms": [[t.term, t.weight] for t in self.topic_terms],
            "sentiment": self.sentiment,
            "sentiment_score": self.sentiment_score,
            "sentiment_scores": dict(self.sentiment_scores),
            "model_version": self.model_version,
        }


class Analyzer:
    """A loaded topic model and sentiment model (VADER's scores kept); safe to share between threads."""

    def __init__(self, model: topic_model.TopicModel, sentiment: SentimentModel) -> None:
        # The classifiers' matmuls too: the same batch gets the same answers in every thread.
        use_one_blas_thread()
        self.model = model
        self.sentiment = sentiment

    @property
    def version(self) -> str:
        """Both models' versions, as stored with each comment (at most 80 characters)."""
        return f"{self.model.version} {self.sentiment.version}"

    def analyze(self, text: str) -> Analysis:
        """Classify one comment."""
        return self.analyze_many([text])[0]

    def analyze_many(self, texts: Sequence[str]) -> list[Analysis]:
        """Classify many comments with one vectorised pass through the pipeline."""
        if not texts:
            return []
        proba = self.model.probabilities(texts)
        topics = self.model.decide(proba)
        confidence = self.model.confidence(proba, topics)
        terms = self.model.top_terms(texts, topics)
        # The same batch again: its sentence vectors come from the embedder's memo, not a second encoding.
        labels, scores = self.sentiments(texts)
        return [self._combine(*parts) for parts in
                zip(texts, proba, topics, confidence, terms, labels, scores, strict=True)]

    def sentiments(self, texts: Sequence[str]) -> tuple[list[str], list[float]]:
        """The sentiment model's label and score (P(positive) - P(negative)) of each text."""
        proba = self.sentiment.probabilities(texts)
        # Four decimals: a text's sentence vector differs by ~1e-7 with the batch it is encoded in (BLAS
        # blocking), and the score must not change with the rest of the batch.
        scores = [round(float(score), SCORE_DECIMALS) for score in sentiment_model.scores_of(proba)]
        return sentiment_model.labels_of(proba), scores

    def _combine(self, text: str, row: np.ndarray, chosen: str, confidence: float,
                 terms: list[Term], feeling: str, score: float) -> Analysis:
        scores = {name: round(float(p), 6) for name, p in zip(TOPICS, row, strict=True)}
        return Analysis(
            topic=chosen,
            topic_scores=scores,
            topic_confidence=round(float(confidence), 6),
            sentiment=feeling,
            sentiment_scores=sentiment_scores(text),
            model_version=self.version,
            sentiment_score=score,
            topic_uncertain=self.model.is_uncertain(float(confidence)),
            topic_terms=tuple(terms),
        )

    def explain(self, text: str, top: int = 5) -> list[Term]:
        """Return the words and phrases that pushed this comment toward its topic, strongest first."""
        chosen = self.model.decide(self.model.probabilities([text]))  # no VADER needed here
        return self.model.top_terms([text], chosen, top)[0]


_default: Analyzer | None = None
_default_lock = threading.Lock()


def load_analyzer(model_dir: Path | None = None, train_if_missing: bool = False) -> Analyzer:
    """Load both artifacts; when one is missing and allowed, train it first (saying so on stderr)."""
    model_dir = model_dir or topic_model.default_model_dir()
    for name, module in (("topic", topic_model), ("sentiment", sentiment_model)):
        if train_if_missing and not (model_dir / module.ARTIFACT_NAME).exists():
            print(f"no {name} model in {model_dir}: training one from the shipped data...", file=sys.stderr)
            module.train(model_dir, progress=lambda msg: print(f"  {msg}", file=sys.stderr))
    return Analyzer(topic_model.load(model_dir), sentiment_model.load(model_dir))


def default_analyzer() -> Analyzer:
    """The process-wide analyzer for the module-level helpers, loaded (or built) once."""
    global _default
    with _default_lock:
        if _default is None:
            _default = load_analyzer(train_if_missing=True)
        return _default


def analyze(text: str) -> Analysis:
    """Classify one comment with the default model."""
    return default_analyzer().analyze(text)


def analyze_many(texts: Sequence[str]) -> list[Analysis]:
    """Classify many comments at once with the default model (much faster per comment)."""
    return default_analyzer().analyze_many(texts)


def explain(text: str, top: int = 5) -> list[Term]:
    """Explain the default model's topic decision for one comment."""
    return default_analyzer().explain(text, top)
