"""Text features shared by the topic and sentiment models: word and character n-grams, sentence vectors.

Each feature set is a scikit-learn FeatureUnion, so it sits inside the model's one Pipeline and
training and serving cannot drift. Word n-grams carry vocabulary; character n-grams add typos,
inflections and run-together words; sentence embeddings read meaning that shares no words with
the training comments ("who sees my chats?" is about privacy without saying it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline

from classifiers.embeddings import SentenceEmbedder

FEATURE_SETS = ("words+chars", "words+chars+embeddings")


def words() -> TfidfVectorizer:
    return TfidfVectorizer(
        ngram_range=(1, 2), min_df=2, sublinear_tf=True, strip_accents="unicode",
        token_pattern=r"(?u)\b\w[\w']*\b",
    )


def chars() -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 4), min_df=2, sublinear_tf=True,
        max_features=30_000, strip_accents="unicode",
    )


def build_features(name: str = "words+chars+embeddings", cache_dir: Path | None = None,
                   embedding_weight: float = 1.0) -> FeatureUnion:
    """The named feature set; `cache_dir` keeps sentence vectors on disk while training.

    `embedding_weight` scales the sentence vector against the n-gram blocks (each row of each
    block has unit length): the classifier's one C then regularises it less (above 1) or more.
    """
    makers: dict[str, Any] = {
        "words": words, "chars": chars,
        "embeddings": lambda: SentenceEmbedder(cache_dir=str(cache_dir) if cache_dir else None),
    }
    parts = name.split("+")
    if name not in FEATURE_SETS or not all(part in makers for part in parts):
        raise ValueError(f"unknown feature set {name!r}; expected one of {FEATURE_SETS}")
    weights = {"embeddings": embedding_weight} if uses_embeddings(name) and embedding_weight != 1.0 else None
    return FeatureUnion([(part, makers[part]()) for part in parts], transformer_weights=weights)


def uses_embeddings(name: str) -> bool:
    return "embeddings" in name.split("+")


def forget_cache(pipeline: Pipeline) -> Pipeline:
    """Drop the training-time embedding cache from a fitted pipeline before it is saved or served."""
    union = pipeline.named_steps["features"]
    for step_name, step in union.transformer_list:
        if step_name == "embeddings":
            step.set_params(cache_dir=None)
        step.__dict__.pop("_cached_feature_names", None)  # a serving-time cache, never saved
    return pipeline
