"""The brand of each product, read from the catalog's own names (the catalog has no brand column).

Product names in this catalog follow "Brand [Gender] Colour … Type" ("Puma Men Faas 300 Blue Sports Shoes", "Gini
and Jony Girl's Delma Blue Kidswear", "Lotus Herbals Lemon Pure Cleansing Milk"). Two readings, precision first:

1. The words before a gender word are a brand ("Van Heusen Woman …" → "Van Heusen"); every such prefix in the
   catalog is a known brand, and a name starting with a known brand has it, gender word or not.
2. A name without one starts with a brand when at least `MIN_PRODUCTS` names start with the same word; the brand
   grows by the next word while every name starting with it goes on with that word ("Lotus" → "Lotus Herbals").
3. A brand that starts with another brand is that maker's line: "ADIDAS Originals" and "Police Passion" are read
   as ADIDAS and Police (and, wrongly, "Lee Cooper" as Lee).

A first word that is a label word (a colour, a type: "Black Push-Up Bra") or holds no letter is never a brand by
the second reading, and a name no reading covers has none: a wrong brand would be a wrong chip and facet.
Measured on the 2,000 real KAGL names by scripts/measure_brands.py (docs/EVALUATION.md).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

# Words for whom a product is ("Men", "Girl's", "Kids", "Infant"): in these names they follow the brand.
GENDER_WORDS = frozenset(
    {"men", "man", "mens", "women", "woman", "womens", "boys", "boy", "girls", "girl", "unisex", "ladies"}
    | {"kids", "kid", "teens", "teen", "infant", "infants", "baby"}
)
MAX_BRAND_WORDS = 4
MIN_PRODUCTS = 2
_POSSESSIVE = re.compile(r"['’]s$")
_LETTER = re.compile(r"[^\W\d_]")


def key_of(words: Iterable[str]) -> str:
    """A brand's matching key: its words lower-cased, single-spaced."""
    return " ".join(word.lower() for word in words)


def _plain(word: str) -> str:
    return _POSSESSIVE.sub("", word.lower()).strip(".,;:!?'’\"()")


def read_brands(names: Sequence[str | None], label_words: Iterable[str] = ()) -> list[str]:
    """Each name's brand as the catalog writes it most often ("ADIDAS"), or "" where no reading finds one.
    `label_words` (lower case) are the catalog's label words: never the first word of a brand by prefix alone."""
    labels = {word.lower() for word in label_words}
    split = [(name or "").split() for name in names]
    known = _gendered_prefixes(split, labels)
    starts = _shared_starts(split, labels, known)
    found = [_longest_known(words, known) or _longest_known(words, starts) for words in split]
    maker = _makers(brand for brand in found if brand)
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for words, brand in zip(split, found, strict=True):
        if brand:
            spellings[maker[brand]][" ".join(words[: len(maker[brand].split())])] += 1
    shown = {key: counts.most_common(1)[0][0] for key, counts in spellings.items()}
    return [shown[maker[brand]] if brand else "" for brand in found]


def _makers(brands: Iterable[str]) -> dict[str, str]:
    """Each brand key → the key of its maker: the shortest other brand it starts with ("ADIDAS Originals",
    "Jockey ELANCE", "Police Passion" → "ADIDAS", "Jockey", "Police"), else itself."""
    keys = set(brands)
    maker = {}
    for key in keys:
        words = key.split()
        shorter = (" ".join(words[:length]) for length in range(1, len(words)))
        maker[key] = next((prefix for prefix in shorter if prefix in keys), key)
    return maker


def _gendered_prefixes(split: list[list[str]], labels: set[str]) -> set[str]:
    """Keys of the prefixes before a gender word, up to MAX_BRAND_WORDS words, other than one label word alone
    ("Red Rose Women …" has a brand, "Black Men …" none)."""
    known = set()
    for words in split:
        for position, word in enumerate(words[: MAX_BRAND_WORDS + 1]):
            if _plain(word) in GENDER_WORDS:
                prefix = words[:position]
                lone_label = len(prefix) == 1 and _plain(prefix[0]) in labels
                if prefix and any(_LETTER.search(w) for w in prefix) and not lone_label:
                    known.add(key_of(prefix))
                break
    return known


def _shared_starts(split: list[list[str]], labels: set[str], known: set[str]) -> set[str]:
    """Keys of the words that start at least MIN_PRODUCTS names (without a known brand), grown while every
    such name continues with the same next word."""
    counts: Counter[str] = Counter()
    for words in split:
        for length in range(1, min(MAX_BRAND_WORDS, len(words) - 1) + 1):
            counts[key_of(words[:length])] += 1
    starts = set()
    for words in split:
        if not words or _longest_known(words, known):
            continue
        first = _plain(words[0])
        if (
            first in labels
            or first in GENDER_WORDS
            or not _LETTER.search(first)
            or counts[key_of(words[:1])] < MIN_PRODUCTS
        ):
            continue
        length = 1
        while (
            length < min(MAX_BRAND_WORDS, len(words) - 1)
            and _plain(words[length]) not in GENDER_WORDS | labels
            and counts[key_of(words[: length + 1])] == counts[key_of(words[:length])]
        ):
            length += 1
        starts.add(key_of(words[:length]))
    return starts


def _longest_known(words: list[str], keys: set[str]) -> str:
    """The key of the longest prefix of `words` that is in `keys` (and is not the whole name), or ""."""
    for length in range(min(MAX_BRAND_WORDS, len(words) - 1), 0, -1):
        key = key_of(words[:length])
        if key in keys:
            return key
    return ""
