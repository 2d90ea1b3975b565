"""The base of our Pipeline steps that learn nothing (VADER's scores, sentence vectors)."""

from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator, TransformerMixin


class TextStep(TransformerMixin, BaseEstimator):
    """A stateless step over a list of texts: fitted from the start, so scikit-learn asks for no fit.

    Subclasses give `transform` and `get_feature_names_out`.
    """

    def fit(self, X: Any, y: Any = None) -> TextStep:
        """Nothing to learn: the lexicon or the pretrained model is fixed."""
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
