"""The word-list matcher: case, accents, repeated letters and simple l33t spellings."""

from __future__ import annotations

import pytest

from moderation.services.wordlists import find, fold, phrases_from


def matched(text: str, phrase: str) -> list[str]:
    return [text[m.start:m.end] for m in find(text, [("banned", phrase)])]


@pytest.mark.parametrize(("text", "phrase", "found"), [
    ("You are STUPID", "stupid", ["STUPID"]),
    ("you are stuuuupiiid!", "stupid", ["stuuuupiiid"]),
    ("you are 5tup1d", "stupid", ["5tup1d"]),
    ("what a $tup!d idea", "stupid", ["$tup!d"]),
    ("Stüpid, really", "stupid", ["Stüpid"]),
    ("a STÜÜÜPÍD take", "stupid", ["STÜÜÜPÍD"]),
    ("idi0t", "idiot", ["idi0t"]),
    ("total 1d10t", "idiot", ["1d10t"]),
    ("buy   now, cheap", "buy now", ["buy   now"]),
    ("BUY-NOW", "buy now", ["BUY-NOW"]),
    ("go to h3ll", "hell", ["h3ll"]),
    ("café crème", "creme", ["crème"]),
    ("stupidity is not the word", "stupid", []),
    ("a class act", "ass", []),
    ("assess the costs", "ass", []),
    ("as it is", "ass", []),
    ("nothing here", "stupid", []),
])
def test_the_matcher_survives_case_accents_repeats_and_leet_but_keeps_whole_words(text, phrase, found):
    assert matched(text, phrase) == found


def test_matches_point_at_the_text_as_written_so_highlights_land_on_the_right_letters():
    text = "Ünicode ﬁne: STUUUPID here"
    [match] = find(text, [("suspect", "stupid")])
    assert text[match.start:match.end] == "STUUUPID" and match.kind == "suspect"
    assert fold("ﬁne")[0] == "fine"  # a ligature folds into two letters, both mapped to it


def test_every_phrase_is_matched_with_its_kind():
    found = find("cheap pills and a stupid joke", [("banned", "cheap pills"), ("suspect", "stupid")])
    assert [(m.phrase, m.kind) for m in found] == [("cheap pills", "banned"), ("stupid", "suspect")]


def test_the_lists_read_one_phrase_per_line_without_blanks_or_repeats():
    assert phrases_from("  spam \n\nBuy  now\nSPAM\n***\n") == ["spam", "Buy now"]
