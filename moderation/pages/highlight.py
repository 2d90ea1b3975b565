"""Split text into plain and highlighted pieces, for templates to escape piece by piece.

Highlights are never built as HTML strings: the template escapes every piece and wraps the
highlighted ones in <mark>, so user text can never become markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

Segment = tuple[str, bool]


def term_pattern(term: str) -> re.Pattern[str] | None:
    """A whole-word, case-insensitive pattern for a word or phrase (words joined by any gap)."""
    words = re.findall(r"\w+", term)
    if not words:
        return None
    return re.compile(r"(?<!\w)" + r"\W+".join(map(re.escape, words)) + r"(?!\w)", re.IGNORECASE)


def spans_of(text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Where the terms occur in the text, overlapping matches merged, in order."""
    found = []
    for term in terms:
        pattern = term_pattern(term)
        if pattern is not None:
            found += [match.span() for match in pattern.finditer(text)]
    return merge(found)


def merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def segments(text: str, spans: Iterable[tuple[int, int]]) -> list[Segment]:
    """The text cut at the spans: (piece, highlighted?) in order, covering every character once."""
    pieces, position = [], 0
    for start, end in merge(spans):
        if start > position:
            pieces.append((text[position:start], False))
        pieces.append((text[start:end], True))
        position = end
    if position < len(text) or not pieces:
        pieces.append((text[position:], False))
    return pieces


def term_segments(text: str, terms: Iterable[str]) -> list[Segment]:
    """The text with the given words and phrases highlighted."""
    return segments(text, spans_of(text, terms))


def labelled_segments(text: str, spans_by_kind: dict[str, list[tuple[int, int]]]) -> list[tuple[str, str]]:
    """The text cut into (piece, kind) with kind '' for plain text; earlier kinds win overlaps."""
    kinds = [""] * len(text)
    for kind in reversed(list(spans_by_kind)):
        for start, end in spans_by_kind[kind]:
            kinds[start:end] = [kind] * (end - start)
    pieces: list[tuple[str, str]] = []
    for char, kind in zip(text, kinds, strict=True):
        if pieces and pieces[-1][1] == kind:
            pieces[-1] = (pieces[-1][0] + char, kind)
        else:
            pieces.append((char, kind))
    return pieces or [("", "")]
