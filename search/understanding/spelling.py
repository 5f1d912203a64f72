"""Spelling correction of the words a catalog does not know ("jeens" → "jeans", "snekers" → "sneakers").

SymSpell (symspellpy) finds the catalog words within a small edit distance (Damerau–OSA: a swap of neighbours is
one edit) in microseconds; among them the closest wins, then the one more products use. Never corrected: a word
the catalog knows (the reader checks before asking), a word of fewer than MIN_LENGTH letters or with a digit in it
("xl", "32", "5ml"), and a common English word ("father", "nice", "want": frequency ≥ ENGLISH_MIN_COUNT in the
English frequency list symspellpy ships), which is a word the shopper meant, not a typo of a catalog word.
"""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Mapping

from symspellpy import SymSpell, Verbosity

MIN_LENGTH = 3
# Words up to this length may be one edit off; longer ones two.
ONE_EDIT_MAX_LENGTH = 7
MAX_EDITS = 2
# Count of a word in symspellpy's English list (Google Books n-grams) from which it is taken as a real English
# word: "hoodie" 1.8 M, "sneakers" 1.4 M, "father" 48 M; typos of catalog words ("jeens", "kurtha") are absent.
ENGLISH_MIN_COUNT = 1_000_000
ENGLISH_LIST = "frequency_dictionary_en_82_765.txt"


@functools.cache
def english_words() -> frozenset[str]:
    """The common English words of symspellpy's frequency list (read once per process)."""
    text = importlib.resources.files("symspellpy").joinpath(ENGLISH_LIST).read_text(encoding="utf-8")
    common = set()
    for line in text.splitlines():
        word, _, count = line.partition(" ")
        if count.isdigit() and int(count) >= ENGLISH_MIN_COUNT:
            common.add(word)
    return frozenset(common)


def correctable(word: str) -> bool:
    """Whether a word the catalog does not know may be a typo: long enough, letters only, not common English."""
    return len(word) >= MIN_LENGTH and word.isalpha() and word not in english_words()


class SpellingCorrector:
    """The closest, then most used, catalog word to a word the catalog does not know."""

    def __init__(self, words: Mapping[str, int]) -> None:
        self.symspell = SymSpell(max_dictionary_edit_distance=MAX_EDITS, prefix_length=7)
        for word, count in words.items():
            if len(word) >= MIN_LENGTH - 1 and word.isalpha():
                self.symspell.create_dictionary_entry(word, count)

    def correct(self, word: str) -> str | None:
        """The catalog word meant by `word` (lower case), or None when none is close enough or it is no typo."""
        if not correctable(word):
            return None
        edits = 1 if len(word) <= ONE_EDIT_MAX_LENGTH else MAX_EDITS
        found = self.symspell.lookup(word, Verbosity.CLOSEST, max_edit_distance=edits)
        if not found:
            return None
        best = min(found, key=lambda item: (item.distance, -item.count, item.term))
        return best.term if best.term != word else None
