"""The query reader: a shopper's text read with the loaded catalog's own vocabulary.

1. Spelling: each word the catalog does not know is corrected to the closest, most used catalog word
   (search.understanding.spelling); a word it knows, brand names included, is never changed, so a query whose words
   all occur in the catalog is searched exactly as typed.
2. Attributes: the longest runs of words naming a label ("navy blue", "casual shoes", "men", "necklace" of "Necklace
   and Chains"), a shopper synonym ("sneakers") or a brand ("united colors of benetton") are recognised. They
   become soft boosts: products carrying them rank first, none is filtered out.
3. Terms: every other word is a plain word, known to the catalog or not (search.ranking.matching).
4. Balance: when every word is known the keywords lead (the hybrid default); when some are not ("a gift for my
   father", "something warm for a winter wedding") meaning leads; when none is, meaning alone ranks.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from search.ranking.analysis import phrases
from search.ranking.filters import BRAND_FIELD
from search.ranking.hybrid import DEFAULT_SEMANTIC_WEIGHT
from search.ranking.keyword import KeywordIndex
from search.ranking.matching import Term
from search.understanding.spelling import SpellingCorrector, correctable
from search.understanding.vocabulary import Vocabulary

# The semantic weight the query's words decide when none is given: all known → the hybrid default (keywords
# lead); some unknown → meaning leads; none known → meaning alone. Measured on the shopper protocol's natural
# phrasings (docs/EVALUATION.md).
KEYWORDS_LEAD = DEFAULT_SEMANTIC_WEIGHT
MEANING_LEADS = 0.8
MEANING_ONLY = 1.0
# When a run of words names labels of several fields, the first field here wins ("skin": the colour, not the
# sub-category; "watches": the article type).
FIELD_ORDER = ("gender", "baseColour", "articleType", "subCategory", "masterCategory", "usage", "season")
# Fields whose labels join two things with "and" ("Necklace and Chains"): each part names the label too.
PART_FIELDS = ("articleType", "subCategory")
# A one-word brand is recognised only when most of the catalog's uses of its rarest word are that brand's names
# ("Denim" the deodorant brand is not what "denim jacket" asks for).
BRAND_MIN_SHARE = 0.5
MAX_PHRASE_WORDS = 5
# Words read (corrected, recognised, matched) per query: a text of thousands of words (up to MAX_TEXT_CHARS) is
# searched whole, but only its first words are read, and it matches no product (an unread word stands in for the
# rest), so a pasted page costs no more than a long query.
MAX_READ_WORDS = 64
UNREAD = "…"
# Unknown words looked up for a correction per query: a shopper's typos are one or two; a text of many unknown
# words (another alphabet's transliteration, a pasted code) is no typo of the catalog.
MAX_CORRECTED = 8


@dataclass(frozen=True)
class Recognised:
    """An attribute the query names, used as a soft boost (ranked first, never a hard filter)."""

    field: str  # gender, baseColour, articleType, subCategory, masterCategory, season, usage or brand
    value: str  # the catalog's own label, e.g. "Men", "Red", "Tshirts", "Nike"
    words: str  # the query words that named it, e.g. "red", "tee"


@dataclass(frozen=True)
class Correction:
    """A spelling rewrite of the query: what was typed, what was searched, and each word changed."""

    typed: str  # the text as typed (after translation, if any)
    searched: str  # the text actually searched
    changes: tuple[tuple[str, str], ...]  # (typed word, searched word), e.g. (("jeens", "jeans"),)


@dataclass(frozen=True)
class Meaning:
    """What a run of words names: labels of one field, and the tokens that also satisfy it (brands' words)."""

    field: str
    values: tuple[str, ...]
    tokens: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reading:
    """A text as read: what to search, the correction made, the attributes recognised and the matching terms."""

    searched: str
    correction: Correction | None
    recognised: tuple[Recognised, ...]
    terms: tuple[Term, ...]

    @property
    def semantic_weight(self) -> float:
        """The balance the words decide: keywords lead when all are known, meaning leads when some are not."""
        known = sum(term.known for term in self.terms)
        if not known:
            return MEANING_ONLY
        return KEYWORDS_LEAD if known == len(self.terms) else MEANING_LEADS


class QueryReader:
    """Reads texts with one catalog's vocabulary and keyword index (their analysis, stems and tokens)."""

    def __init__(self, vocabulary: Vocabulary, keyword: KeywordIndex) -> None:
        self.vocabulary = vocabulary
        self.keyword = keyword
        self.meanings = self._meanings()

    # --- reading -----------------------------------------------------------------------------------------------

    def read(self, text: str, correct: bool = True) -> Reading:
        """The reading of a cleaned, non-empty text; `correct=False` searches its words as typed."""
        head, rest = _first_words(text, MAX_READ_WORDS)
        changes = self._corrections(head) if correct else ()
        searched = _replace_words(text, changes)
        words = self.keyword.analyse(_replace_words(head, changes)).split()
        unread = bool(rest) or len(words) > MAX_READ_WORDS
        words = words[:MAX_READ_WORDS]
        stems = [self.keyword.stem(word) for word in words]
        tokens = [self.keyword.query_tokens(word) for word in words]
        terms: list[Term] = []
        recognised: list[Recognised] = []
        position = 0
        while position < len(words):
            length, meaning = self._longest_meaning(stems, position)
            if meaning is not None:
                said = " ".join(words[position : position + length])
                terms.append(Term(said, meaning.tokens, meaning.field, meaning.values))
                recognised += [Recognised(meaning.field, value, said) for value in meaning.values]
                position += length
                continue
            if tokens[position]:  # a stop word has none
                known = all(self.keyword.indexed(token) for token in tokens[position])
                terms.append(Term(words[position], tuple(tokens[position]) if known else ()))
            position += 1
        if unread:
            terms.append(Term(UNREAD))
        correction = Correction(text, searched, changes) if changes else None
        return Reading(searched, correction, tuple(dict.fromkeys(recognised)), tuple(terms))

    def known_words(self, words: list[str]) -> list[bool]:
        """For each (lower-case) word, whether the catalog knows it: all its tokens are indexed (a stop word has
        none), or it names something (a shopper synonym)."""
        tokens = [self.keyword.query_tokens(word) for word in words]
        return [
            all(self.keyword.indexed(token) for token in found) or (self.keyword.stem(word),) in self.meanings
            for word, found in zip(words, tokens, strict=True)
        ]

    @functools.cached_property
    def corrector(self) -> SpellingCorrector:
        """Built on the first word to correct: most queries never need it."""
        words = dict(self.vocabulary.words)
        for word, targets in self.vocabulary.synonyms.items():
            field = targets[0][0]
            words.setdefault(word, sum(self.vocabulary.labels[field].get(value, 0) for _, value in targets))
        return SpellingCorrector(words)

    def _corrections(self, text: str) -> tuple[tuple[str, str], ...]:
        """(typed, corrected) for each distinct word the catalog does not know and a catalog word is close to."""
        words = list(dict.fromkeys(word for word, _ in _flat(phrases(text))))
        unknown = [word for word, known in zip(words, self.known_words(words), strict=True) if not known]
        unknown = [word for word in unknown if correctable(word)][:MAX_CORRECTED]
        found = {word: corrected for word in unknown if (corrected := self.corrector.correct(word)) is not None}
        known = dict(zip(found.values(), self.known_words(list(found.values())), strict=True))
        return tuple((word, corrected) for word, corrected in found.items() if known[corrected])

    def _longest_meaning(self, stems: list[str], start: int) -> tuple[int, Meaning | None]:
        for length in range(min(MAX_PHRASE_WORDS, len(stems) - start), 0, -1):
            meaning = self.meanings.get(tuple(stems[start : start + length]))
            if meaning is not None:
                return length, meaning
        return 0, None

    # --- what runs of words name ---------------------------------------------------------------------------

    def _meanings(self) -> dict[tuple[str, ...], Meaning]:
        """Stemmed word runs → what they name: labels first (in FIELD_ORDER), then synonyms, then brands."""
        meanings: dict[tuple[str, ...], Meaning] = {}
        for field in FIELD_ORDER:
            named: dict[tuple[str, ...], list[str]] = {}
            for value in self.vocabulary.labels.get(field, {}):
                for text in _label_forms(value, field in PART_FIELDS):
                    key = self._key(text)
                    if key and key not in meanings:
                        named.setdefault(key, []).append(value)
            meanings |= {key: Meaning(field, tuple(values)) for key, values in named.items()}
        for word, targets in self.vocabulary.synonyms.items():
            key = self._key(word)
            if key and key not in meanings:
                tokens = tuple(self.keyword.query_tokens(word))
                indexed = tokens and all(self.keyword.indexed(token) for token in tokens)
                meanings[key] = Meaning(targets[0][0], tuple(value for _, value in targets), tokens if indexed else ())
        branded: dict[tuple[str, ...], list[str]] = {}
        for brand in self._recognisable_brands():
            key = self._key(brand)
            if key and key not in meanings:
                branded.setdefault(key, []).append(brand)
        for key, brands in branded.items():
            tokens = tuple(self.keyword.query_tokens(brands[0]))
            meanings[key] = Meaning(BRAND_FIELD, tuple(brands), tokens)
        return meanings

    def _recognisable_brands(self) -> Iterable[str]:
        """Brands of at least two letters, not made of stop words, whose rarest word is mostly theirs."""
        vocabulary = self.vocabulary
        counts = np.bincount(vocabulary.brand_codes[vocabulary.brand_codes >= 0], minlength=len(vocabulary.brands))
        for brand, count in zip(vocabulary.brands, counts, strict=True):
            words = [word for word, _ in _flat(phrases(brand))]
            if sum(len(word) for word in words) < 2 or not self.keyword.query_tokens(brand):
                continue
            rarest = min((vocabulary.words.get(word, 0) for word in words), default=0)
            if rarest and count / rarest >= BRAND_MIN_SHARE:
                yield brand

    def _key(self, text: str) -> tuple[str, ...]:
        return tuple(self.keyword.stem(word) for word in self.keyword.analyse(text).split())


def _label_forms(value: str, with_parts: bool) -> list[str]:
    """A label and, for "A and B" labels of the fields that have them, each part."""
    parts = re.split(r"\s+and\s+", value, flags=re.IGNORECASE)
    return [value, *parts] if with_parts and len(parts) > 1 else [value]


def _flat(groups: list[list[tuple[str, bool]]]) -> list[tuple[str, bool]]:
    return [item for group in groups for item in group]


def _first_words(text: str, count: int) -> tuple[str, str]:
    """The text's first `count` space-separated words and the rest ("" when there is none): only the first are
    read, so the cost of reading does not grow with the text."""
    found = re.match(rf"\s*(?:\S+\s+){{{count}}}(?=\S)", text)
    return (text, "") if found is None else (text[: found.end()], text[found.end() :])


def _replace_words(text: str, changes: tuple[tuple[str, str], ...]) -> str:
    """The text with each changed word (any case, whole words only) replaced by its correction."""
    for typed, corrected in changes:
        text = re.sub(rf"(?<![^\W_]){re.escape(typed)}(?![^\W_])", corrected, text, flags=re.IGNORECASE)
    return text
