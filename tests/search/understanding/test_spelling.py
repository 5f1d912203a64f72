"""Spelling correction: the closest catalog word, then the most used; never short words, words with digits or common
English words."""

import pytest

from search.understanding.spelling import SpellingCorrector, correctable

WORDS = {"jeans": 608, "kurta": 1844, "kurtas": 3, "shirt": 3215, "skirt": 128, "sneakers": 40, "tshirt": 7069}


@pytest.fixture(scope="module")
def corrector() -> SpellingCorrector:
    return SpellingCorrector(WORDS)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("jeens", "jeans"), ("kurtha", "kurta"), ("snekers", "sneakers"), ("tshrt", "tshirt"), ("shrit", "shirt")],
)
def test_typos_become_the_closest_catalog_word(corrector, typed, meant):
    assert corrector.correct(typed) == meant


def test_among_equally_close_words_the_most_used_wins():
    assert SpellingCorrector({"shirt": 3215, "skirt": 128}).correct("sxirt") == "shirt"
    assert SpellingCorrector({"shirt": 12, "skirt": 128}).correct("sxirt") == "skirt"


@pytest.mark.parametrize("word", ["xl", "32", "5ml", "jeans2", "father", "nice", "want", "🙂", "t"])
def test_short_numeric_and_english_words_are_never_corrected(corrector, word):
    assert not correctable(word) and corrector.correct(word) is None


def test_words_too_far_from_any_catalog_word_stay(corrector):
    assert corrector.correct("zzzqqq") is None and corrector.correct("jxxns") is None
