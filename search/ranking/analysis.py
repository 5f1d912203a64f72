"""Keyword text analysis for the catalog's vocabulary, run before bm25s tokenizes, drops stop words and stems.

Shoppers and product names write one thing several ways: "T-shirt", "Tshirts", "t shirt", "tee"; "Flip Flops",
"flipflops"; "slip-on", "slip on"; "V-Neck", "v neck"; "Sunglasses", "sun glasses". PyStemmer folds plurals
("Tshirts" → "tshirt") and bm25s splits, drops stop words and scores, but neither joins or splits compounds, and
bm25s's default token pattern drops one-letter words (the "t" of "t-shirt"). This module is that missing step,
in the spirit of Lucene's word-delimiter and dictionary-compound filters, with the catalog's own words as the
dictionary (a compound is a word the catalog writes joined or hyphenated):

- products: every word is kept; a hyphenated pair is also written joined ("v-neck" → "v neck vneck"), and so is a
  spaced pair whose joined form is a compound ("V Neck" → "v neck vneck" once some name says "V-Neck");
- queries: a pair whose joined form is a compound becomes that compound ("ear rings" → "earrings", "t shirt" →
  "tshirt": its parts alone would find rings and shirts), and an unknown word that splits into two known words is
  split ("flipflops" → "flip flops", "trackpants" → "track pants").

A handful of spellings no rule derives ("tee", "gray", "jewelry") are rewritten to the catalog's words first.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from typing import Literal

# Recorded in the keyword index settings: a bundle built without it is queried exactly as it was built.
AnalyzerName = Literal["fashion-compounds-v1"]
ANALYZER: AnalyzerName = "fashion-compounds-v1"
# bm25s's default pattern without the two-letter minimum: "t", "v" and "3" are words of this catalog.
TOKEN_PATTERN = r"(?u)\b\w+\b"
# Separates the fields of a product's keyword text: no pair of words is joined across two fields.
FIELD_SEPARATOR = " | "
# Words the catalog writes another way (American spellings, the informal "tee"), lower case.
SPELLINGS = {
    "tee shirts": "tshirts",
    "tee shirt": "tshirt",
    "tee": "tshirt",
    "tees": "tshirts",
    "gray": "grey",
    "jewelry": "jewellery",
    "color": "colour",
    "colored": "coloured",
}
# Shorter words are never split off an unknown word ("t" + "ees" is no reading of "tees").
MIN_SPLIT = 2

POSSESSIVE = re.compile(r"['’]s\b")
APOSTROPHE = re.compile(r"['’]")
# Anything but letters, digits, spaces, hyphens and slashes ends a phrase: "Green & White", "Kurta | Women".
PHRASE_BREAK = re.compile(r"[^\w\s\-/]|_")
CHUNK = re.compile(r"[^\W_]+(?:[\-/]+[^\W_]+)*")
WORD = re.compile(r"[^\W_]+")
SPELLING = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(SPELLINGS, key=len, reverse=True))) + r")\b")

Stem = Callable[[str], str]


def phrases(text: str) -> list[list[tuple[str, bool]]]:
    """Each phrase's lower-cased words, each with whether a hyphen or slash ties it to the word before.

    Possessive "'s" is dropped ("men's" = "men") and other apostrophes join their word ("levi's" → "levi")."""
    text = APOSTROPHE.sub("", POSSESSIVE.sub("", text.lower()))
    text = SPELLING.sub(lambda match: SPELLINGS[match.group(0)], text)
    result = []
    for phrase in PHRASE_BREAK.split(text):
        words = []
        for chunk in CHUNK.findall(phrase):
            words += [(word, number > 0) for number, word in enumerate(WORD.findall(chunk))]
        if words:
            result.append(words)
    return result


def compounds(texts: Iterable[str], stem: Stem) -> set[str]:
    """The stems a catalog writes as one word: every word, and every hyphenated pair joined ("tshirt")."""
    found: set[str] = set()
    for text in texts:
        for words in phrases(text):
            found.update(stem(word) for word, _ in words)
            found.update(stem(a + b) for (a, _), (b, tied) in itertools.pairwise(words) if tied)
    return found


class Analyzer:
    """Product and query texts rewritten for the tokenizer, given the stemmer and the catalog's known stems."""

    def __init__(self, stem: Stem, known: Callable[[str], bool]) -> None:
        self.stem = stem
        self.known = known

    def document(self, text: str) -> str:
        """All words, plus each hyphenated pair and each pair forming a known compound, joined."""
        tokens = []
        for words in phrases(text):
            tokens += [word for word, _ in words]
            tokens += [a + b for (a, _), (b, tied) in itertools.pairwise(words) if tied or self.compound(a, b)]
        return " ".join(tokens)

    def compound(self, first: str, second: str) -> bool:
        """Whether the two words written joined are a word of the catalog, and not just one of them stemmed
        ("silver" + "ring" stems to "silver")."""
        joined = self.stem(first + second)
        return joined not in (self.stem(first), self.stem(second)) and self.known(joined)

    def query(self, text: str) -> str:
        """Pairs forming a known compound joined in place of their parts; unknown words split into known ones."""
        tokens = []
        for words in phrases(text):
            plain = [word for word, _ in words]
            position = 0
            while position < len(plain):
                if position + 1 < len(plain) and self.compound(plain[position], plain[position + 1]):
                    tokens.append(plain[position] + plain[position + 1])
                    position += 2
                    continue
                tokens += self.split(plain[position])
                position += 1
        return " ".join(tokens)

    def split(self, word: str) -> list[str]:
        """The word itself when known; else its most even split into two known words, if any; else itself."""
        if self.known(self.stem(word)):
            return [word]
        cuts = [
            cut
            for cut in range(MIN_SPLIT, len(word) - MIN_SPLIT + 1)
            if self.known(self.stem(word[:cut])) and self.known(self.stem(word[cut:]))
        ]
        if not cuts:
            return [word]
        cut = max(cuts, key=lambda c: min(c, len(word) - c))
        return [word[:cut], word[cut:]]
