"""Word lists set by admins: banned phrases reject a comment on arrival, suspect ones hold it.

Matching survives case, accents, repeated letters and simple l33t spellings: the text and each
phrase are folded character by character (a map back to the original positions is kept, so the
matched words can be highlighted in the text as written), and each letter of a phrase matches one
or more of itself ("stupid" finds "STUUUPID", "stüpid" and "5tup1d").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import select

from moderation.extensions import db
from moderation.models import User, WordListEntry

KINDS = ("banned", "suspect")
MAX_PHRASE_CHARS = 100
# Look-alike characters read as letters; l and i fold together because "1" stands for either.
LEET = str.maketrans({"0": "o", "1": "i", "!": "i", "|": "i", "l": "i", "3": "e", "4": "a", "@": "a",
                      "5": "s", "$": "s", "7": "t", "8": "b"})
# Symbols stand for letters only inside or at the start of a word ("$tup!d"), not as punctuation
# after one ("stupid!").
SYMBOLS = frozenset("!|@$")


def fold(text: str) -> tuple[str, list[int]]:
    """Lower-case, unaccented, de-l33ted text, and for each of its characters the original index."""
    folded, origin = [], []
    for index, char in enumerate(text):
        plain = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        following = text[index + 1:index + 2]
        in_word = char not in SYMBOLS or following.isalnum() or (following != "" and following in SYMBOLS)
        for piece in plain.casefold().translate(LEET) if in_word else plain:
            folded.append(piece)
            origin.append(index)
    return "".join(folded), origin


@lru_cache(maxsize=2048)
def phrase_pattern(phrase: str) -> re.Pattern[str] | None:
    """Each letter one or more times, words joined by any gap, whole words only."""
    words = re.findall(r"[^\W_]+", fold(phrase)[0])
    if not words:
        return None
    body = r"[\W_]+".join("".join(re.escape(c) + "+" for c in word) for word in words)
    return re.compile(r"(?<![^\W_])" + body + r"(?![^\W_])")


@dataclass(frozen=True)
class Match:
    phrase: str
    kind: str
    start: int
    end: int


def find(text: str, phrases: Iterable[tuple[str, str]]) -> list[Match]:
    """Every occurrence of the (kind, phrase) pairs in the text, with its span in the original text."""
    phrases = list(phrases)
    if not phrases:  # no lists set (the default): folding the text character by character is for nothing
        return []
    folded, origin = fold(text)
    found = []
    for kind, phrase in phrases:
        pattern = phrase_pattern(phrase)
        for hit in pattern.finditer(folded) if pattern else ():
            found.append(Match(phrase, kind, origin[hit.start()], origin[hit.end() - 1] + 1))
    return sorted(found, key=lambda m: (m.start, m.end))


@dataclass(frozen=True)
class Verdict:
    """What the word lists say about a comment."""

    matches: list[Match] = field(default_factory=list)

    def words(self, kind: str) -> list[str]:
        return sorted({m.phrase for m in self.matches if m.kind == kind})

    @property
    def banned(self) -> list[str]:
        return self.words("banned")

    @property
    def suspect(self) -> list[str]:
        return self.words("suspect")


# Built once and read as plain rows on the session's connection: every posted comment is checked.
ENTRIES = select(WordListEntry.kind, WordListEntry.phrase).order_by(WordListEntry.kind, WordListEntry.phrase)


def entries() -> list[tuple[str, str]]:
    """The lists as (kind, phrase) pairs."""
    return [(kind, phrase) for kind, phrase in db.session.connection().execute(ENTRIES)]


def check(text: str) -> Verdict:
    """Match the comment against the current lists."""
    return Verdict(find(text, entries()))


def phrases_from(raw: str) -> list[str]:
    """One phrase per line: trimmed, inner spaces collapsed, empty lines and repeats dropped."""
    seen: dict[str, str] = {}
    for line in (raw or "").splitlines():
        phrase = " ".join(line.split())
        if phrase and phrase_pattern(phrase) is not None:
            seen.setdefault(fold(phrase)[0], phrase)
    return list(seen.values())


def valid_phrases(raw: str) -> list[str]:
    """The phrases in `raw`, or ValueError with a message for a person when one is too long."""
    phrases = phrases_from(raw)
    too_long = [p for p in phrases if len(p) > MAX_PHRASE_CHARS]
    if too_long:
        raise ValueError(f"Phrases can be at most {MAX_PHRASE_CHARS} characters: {too_long[0][:40]}…")
    return phrases


def replace_list(kind: str, raw: str, user: User) -> list[str]:
    """Set one list to the phrases in `raw` (one per line); return them."""
    if kind not in KINDS:
        raise ValueError(f"unknown word list {kind!r}")
    phrases = valid_phrases(raw)
    current = {row.phrase: row for row in db.session.scalars(
        select(WordListEntry).where(WordListEntry.kind == kind))}
    for phrase, row in current.items():
        if phrase not in phrases:
            db.session.delete(row)
    db.session.add_all(WordListEntry(kind=kind, phrase=p, user=user) for p in phrases if p not in current)
    db.session.commit()
    return phrases
