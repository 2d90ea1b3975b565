"""Readers' names: no invisible characters, no words that imitate another script.

The rule, after Unicode's guidance for identifiers (UAX #31) and for confusables (UTS #39):

1. NFKC normalisation: compatibility look-alikes become the plain letter ("ａｄｍｉｎ" -> "admin").
2. Characters that display as nothing are removed: every Default_Ignorable_Code_Point (soft
   hyphen, zero-width and direction marks such as U+061C, the Hangul fillers such as U+3164,
   variation selectors, tag characters U+E0000-E0FFF), the Braille blank, and any format,
   control, private-use or unassigned character.
3. Runs of spaces of any kind become one space; the name is trimmed.
4. Each word is written in one script (UTS #39's single-script test, per word): Common and
   Inherited characters (digits, punctuation, emoji, combining accents) go with any script, and
   Han may mix with Hiragana and Katakana (Japanese), Hangul (Korean) or Bopomofo. "Jürgen",
   "Владимир Putin" and "山田 太郎" pass; "аdmin" with a Cyrillic "а" is refused.
"""

from __future__ import annotations

import re
import unicodedata

from confusable_homoglyphs import categories

# DerivedCoreProperties.txt, Default_Ignorable_Code_Point (Unicode 15.1), plus the Braille blank.
INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
HIDDEN_CATEGORIES = {"Cc", "Cf", "Co", "Cn", "Cs"}
SPACES = re.compile(r"\s+")
ANY_SCRIPT = {"COMMON", "INHERITED"}
COMPATIBLE_SCRIPTS = ({"HAN", "HIRAGANA", "KATAKANA"}, {"HAN", "HANGUL"}, {"HAN", "BOPOMOFO"})


def clean_name(raw: str | None) -> str:
    """Apply steps 1-3 of the rule: the name as it will be stored and shown."""
    name = INVISIBLE.sub("", unicodedata.normalize("NFKC", raw or ""))
    name = "".join(ch for ch in name if unicodedata.category(ch) not in HIDDEN_CATEGORIES)
    return SPACES.sub(" ", name).strip()


def scripts(word: str) -> set[str]:
    """The scripts of a word's letters, leaving out those that go with any script."""
    return {categories.aliases_categories(ch)[0] for ch in word} - ANY_SCRIPT


def mixed_script_word(name: str) -> str | None:
    """The first word that mixes scripts (step 4), else None."""
    for word in name.split(" "):
        found = scripts(word)
        if len(found) > 1 and not any(found <= allowed for allowed in COMPATIBLE_SCRIPTS):
            return word
    return None


def name_error(name: str) -> str | None:
    """A message for a person when a cleaned name breaks step 4, else None."""
    word = mixed_script_word(name)
    if word is None:
        return None
    mixed = " and ".join(sorted(s.title() for s in scripts(word)))
    return (f"Please write each word of your name in one alphabet: {word!r} mixes {mixed} "
            f"letters that look alike.")
