"""Queries parsed once: every argument a visitor or client sends is checked here and becomes a small immutable
object (or a clear InvalidQueryError). The engine, its caches and the page all use these objects, so nothing is
validated twice and a cache key is always a checked, canonical value."""

from __future__ import annotations

import math
import os
import re
import unicodedata
from dataclasses import dataclass, field, replace
from numbers import Real
from typing import Any

import numpy as np
from PIL import Image

from search.catalog.ids import as_product_id, shown
from search.catalog.images import ImageInput
from search.errors import InvalidImageError, InvalidQueryError
from search.ranking.filters import FilterKey, Filters, normalise_filters
from search.ranking.hybrid import DEFAULT_IMAGE_WEIGHT, DEFAULT_SEMANTIC_WEIGHT

DEFAULT_K = 24
MAX_K = 100
MAX_TEXT_CHARS = 2_000
# Raw text is cut to this many characters before any per-character work: cleaning only removes characters, so
# the first MAX_TEXT_CHARS cleaned characters come from (at most) this prefix unless it is mostly blank.
RAW_TEXT_LIMIT = 4 * MAX_TEXT_CHARS
EMPTY_TEXT = "Type something to search for: the text is empty."
_SPACES = re.compile(r"\s+")
# Control characters, line and paragraph separators and ZERO WIDTH SPACE separate words: they become spaces.
_SEPARATORS = ("Cc", "Zl", "Zp")
ZERO_WIDTH_SPACE = "\u200b"
# ZERO WIDTH NON-JOINER and JOINER belong to words of other scripts (Persian, Indic) and to emoji sequences: kept
# next to a non-ASCII character, dropped between ASCII ones ("T\u200dshirts" is "Tshirts").
_JOINERS = ("\u200c", "\u200d")


def clean_text(text: object) -> tuple[str, tuple[str, ...]]:
    """Text with control characters removed and whitespace collapsed, cut to MAX_TEXT_CHARS; plus notices.

    None is the empty text; any other non-string is refused.
    """
    if text is None:
        return "", ()
    if not isinstance(text, str):
        raise InvalidQueryError(f"The query text must be a string, got {type(text).__name__}.")
    length = len(text)
    cleaned = _SPACES.sub(" ", visible_text(text[:RAW_TEXT_LIMIT])).strip()
    if len(cleaned) > MAX_TEXT_CHARS or length > RAW_TEXT_LIMIT:
        cleaned = cleaned[:MAX_TEXT_CHARS].rstrip()
        return cleaned, (f"The text was {length:,} characters long; only the first {MAX_TEXT_CHARS:,} were used.",)
    return cleaned, ()


def visible_text(text: str) -> str:
    """The text without invisible formatting: separators become spaces, other format characters (soft hyphen,
    word joiner, direction marks, byte order mark) are removed so they never split a word, and joiners stay
    where they join non-ASCII characters."""
    if text.isascii() and text.isprintable():
        return text
    kept = []
    for position, char in enumerate(text):
        category = unicodedata.category(char)
        if category in _SEPARATORS or char == ZERO_WIDTH_SPACE:
            kept.append(" ")
        elif category != "Cf" or (char in _JOINERS and _joins(text, position)):
            kept.append(char)
    return "".join(kept)


def _joins(text: str, position: int) -> bool:
    """Whether the joiner at `position` stands between visible characters, one of them not ASCII."""
    around = text[position - 1 : position] + text[position + 1 : position + 2]
    return (
        len(around) == 2
        and not around.isascii()
        and all(not char.isspace() and unicodedata.category(char) != "Cf" for char in around)
    )


def check_k(k: object) -> tuple[int, tuple[str, ...]]:
    """A result count as an int in 1..MAX_K: non-integers and values below 1 are refused, large ones clamped."""
    if isinstance(k, bool) or not isinstance(k, (Real, str)):
        raise InvalidQueryError(f"k (the number of results) must be a whole number, got {shown(k)}.")
    try:
        value = float(k)
    except (ValueError, OverflowError) as error:
        raise InvalidQueryError(f"k (the number of results) must be a whole number, got {shown(k)}.") from error
    if not math.isfinite(value) or value != int(value):
        raise InvalidQueryError(f"k (the number of results) must be a whole number, got {shown(k)}.")
    if value < 1:
        raise InvalidQueryError(f"k (the number of results) must be at least 1, got {int(value)}.")
    if value > MAX_K:
        return MAX_K, (f"At most {MAX_K} results are returned; k={int(value)} was reduced to {MAX_K}.",)
    return int(value), ()


def check_weight(weight: object, name: str) -> float:
    """A weight in [0, 1]; NaN, infinities, non-numbers and out-of-range values are refused."""
    if isinstance(weight, bool) or not isinstance(weight, (Real, str)):
        raise InvalidQueryError(f"{name} must be a number between 0 and 1, got {shown(weight)}.")
    try:
        value = float(weight)
    except (ValueError, OverflowError) as error:
        raise InvalidQueryError(f"{name} must be a number between 0 and 1, got {shown(weight)}.") from error
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise InvalidQueryError(f"{name} must be between 0 and 1, got {shown(weight)}.")
    return value


def check_flag(value: object, name: str) -> bool:
    """A yes/no argument: only true or false (JSON booleans); 1, "yes" or None are refused, not guessed."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidQueryError(f"{name} must be true or false, got {shown(value)}.")
    return bool(value)


def check_product_id(product_id: object) -> int:
    """An integer-valued product id (see search.catalog.ids): ints, whole floats (JSON numbers) and strings of ASCII
    digits; nothing else is coerced (no fractions, no booleans, no "12abc", "1_000" or other scripts' digits)."""
    number = as_product_id(product_id)
    if number is None:
        raise InvalidQueryError(f"The product id must be a whole number, got {shown(product_id)}.")
    return number


def check_vector(vector: object, dim: int) -> np.ndarray:
    """A query embedding: a flat list of `dim` finite numbers, returned L2-normalised (read-only).

    Nothing is coerced (no strings or booleans of numbers), the length is checked before any per-value work, and
    the norm is taken after scaling by the largest magnitude, so no finite value can overflow or underflow it.
    """
    if isinstance(vector, np.ndarray):
        if vector.dtype.kind not in "iuf":
            raise InvalidQueryError(f"The embedding must be a flat list of {dim} numbers, got {vector.dtype} values.")
        values: np.ndarray | list[Any] | tuple[Any, ...] = vector
    elif isinstance(vector, (list, tuple)):
        values = vector
    else:
        raise InvalidQueryError(f"The embedding must be a list of {dim} numbers, got {type(vector).__name__}.")
    if np.ndim(values) > 1 or any(isinstance(value, (list, tuple, np.ndarray)) for value in values):
        raise InvalidQueryError(f"The embedding must be a flat list of {dim} numbers, got shape {np.shape(values)}.")
    if len(values) != dim:
        raise InvalidQueryError(f"The embedding has {len(values)} values; this index needs {dim}.")
    if isinstance(values, (list, tuple)):
        wrong = [value for value in values if isinstance(value, bool) or not isinstance(value, Real)]
        if wrong:
            raise InvalidQueryError(f"The embedding must be a flat list of {dim} numbers, got {shown(wrong[0])} in it.")
    try:
        array = np.asarray(values, dtype=np.float64)
    except OverflowError as error:
        raise InvalidQueryError("The embedding's values must be finite numbers; one is too large.") from error
    if not np.all(np.isfinite(array)):
        raise InvalidQueryError("The embedding contains NaN or infinite values; it needs finite numbers.")
    peak = float(np.abs(array).max())
    if peak == 0.0:
        raise InvalidQueryError("The embedding is all zeros; it matches nothing.")
    scaled = array / peak
    unit = (scaled / np.linalg.norm(scaled)).astype(np.float32)
    unit.setflags(write=False)
    return unit


@dataclass(frozen=True)
class Scope:
    """How many results, within which products, and whether near-identical ones are folded together: k, the
    filters and collapse_similar, checked and canonical (hashable)."""

    k: int = DEFAULT_K
    filters: FilterKey = ()
    notices: tuple[str, ...] = ()
    collapse_similar: bool = False

    @classmethod
    def parse(cls, k: object = DEFAULT_K, filters: Filters | None = None, collapse_similar: object = False) -> Scope:
        checked, notices = check_k(k)
        return cls(checked, normalise_filters(filters), notices, check_flag(collapse_similar, "collapse_similar"))

    def with_k(self, k: int) -> Scope:
        """The same filters with another result count (e.g. candidates beyond k)."""
        return replace(self, k=k)


def check_optional_weight(weight: object, name: str) -> float | None:
    """None (the query decides, see search.understanding) or a weight in [0, 1] (check_weight)."""
    return None if weight is None else check_weight(weight, name)


@dataclass(frozen=True)
class TextQuery:
    """A cleaned, non-empty text and the share of meaning (CLIP) vs exact words (BM25) in its score (None: the
    query's words decide); translate=False searches a non-English text as typed instead of by its English
    translation, correct=False its words as typed instead of with their spelling corrected."""

    text: str
    semantic_weight: float | None = DEFAULT_SEMANTIC_WEIGHT
    notices: tuple[str, ...] = ()
    translate: bool = True
    correct: bool = True

    @classmethod
    def parse(
        cls,
        text: object,
        semantic_weight: object = DEFAULT_SEMANTIC_WEIGHT,
        translate: object = True,
        correct: object = True,
    ) -> TextQuery:
        weight = check_optional_weight(semantic_weight, "semantic_weight")
        flags = check_flag(translate, "translate"), check_flag(correct, "correct")
        cleaned, notices = clean_text(text)
        if not cleaned:
            raise InvalidQueryError(EMPTY_TEXT)
        return cls(cleaned, weight, notices, *flags)


@dataclass(frozen=True, eq=False)
class ImageQuery:
    """A photo to search with: a path, bytes, PIL image or array, decoded (and checked) when it is encoded."""

    image: ImageInput

    @classmethod
    def parse(cls, image: object) -> ImageQuery:
        return cls(check_image(image))


@dataclass(frozen=True, eq=False)
class ComposedQuery:
    """A photo changed by a text: vector = mix(image, text, image_weight); empty text means the photo alone."""

    image: ImageInput
    text: str = ""
    image_weight: float = DEFAULT_IMAGE_WEIGHT
    semantic_weight: float | None = DEFAULT_SEMANTIC_WEIGHT
    notices: tuple[str, ...] = ()
    translate: bool = True
    correct: bool = True

    @classmethod
    def parse(
        cls,
        image: object,
        text: object,
        image_weight: object = DEFAULT_IMAGE_WEIGHT,
        semantic_weight: object = DEFAULT_SEMANTIC_WEIGHT,
        translate: object = True,
        correct: object = True,
    ) -> ComposedQuery:
        weight = check_weight(image_weight, "image_weight")
        semantic = check_optional_weight(semantic_weight, "semantic_weight")
        flags = check_flag(translate, "translate"), check_flag(correct, "correct")
        cleaned, notices = clean_text(text)
        return cls(check_image(image), cleaned, weight, semantic, notices, *flags)

    def text_query(self) -> TextQuery:
        """Its text as a text query (the same weights and flags)."""
        return TextQuery(self.text, self.semantic_weight, self.notices, self.translate, self.correct)


@dataclass(frozen=True)
class SimilarQuery:
    """A catalog product whose stored vector is the query; the product itself is left out of the results."""

    product_id: int

    @classmethod
    def parse(cls, product_id: object) -> SimilarQuery:
        return cls(check_product_id(product_id))


@dataclass(frozen=True, eq=False)
class VectorQuery:
    """A raw embedding in the index's space, normalised; `exclude_rows` are never returned."""

    vector: np.ndarray
    exclude_rows: tuple[int, ...] = field(default=())

    @classmethod
    def parse(cls, vector: object, dim: int, exclude_rows: tuple[int, ...] = ()) -> VectorQuery:
        return cls(check_vector(vector, dim), tuple(int(row) for row in exclude_rows))


Query = TextQuery | ImageQuery | ComposedQuery | SimilarQuery | VectorQuery


def check_image(image: object) -> ImageInput:
    """The image input itself when its type is one the decoder reads; None and other types are refused."""
    if image is None:
        raise InvalidImageError("No image was given. Upload, paste or take a photo first.")
    if not isinstance(image, (Image.Image, bytes, bytearray, memoryview, str, os.PathLike, np.ndarray)):
        raise InvalidImageError(f"Unsupported image input of type {type(image).__name__}.")
    return image
