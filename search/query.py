"""Validation of query arguments: every bad value becomes a clear InvalidQueryError or a notice."""

from __future__ import annotations

import math
import re
import unicodedata
from numbers import Real

import numpy as np

from search.errors import InvalidQueryError

MAX_K = 100
MAX_TEXT_CHARS = 2_000
_SPACES = re.compile(r"\s+")


def clean_text(text: str | None) -> tuple[str, list[str]]:
    """Text with control characters removed and whitespace collapsed, cut to MAX_TEXT_CHARS; plus notices."""
    if text is None:
        return "", []
    if not isinstance(text, str):
        raise InvalidQueryError(f"The query text must be a string, got {type(text).__name__}.")
    notices = []
    visible = "".join(" " if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char for char in text)
    cleaned = _SPACES.sub(" ", visible).strip()
    if len(cleaned) > MAX_TEXT_CHARS:
        cleaned = cleaned[:MAX_TEXT_CHARS]
        notices.append(f"The text was {len(text):,} characters long; only the first {MAX_TEXT_CHARS:,} were used.")
    return cleaned, notices


def check_k(k: int | float | str) -> tuple[int, list[str]]:
    """A result count as an int in 1..MAX_K: non-integers and values below 1 are refused, large ones clamped."""
    if isinstance(k, bool):
        raise InvalidQueryError("k (the number of results) must be a whole number, not a boolean.")
    try:
        value = float(k)
    except (TypeError, ValueError) as error:
        raise InvalidQueryError(f"k (the number of results) must be a whole number, got {k!r}.") from error
    if not math.isfinite(value) or value != int(value):
        raise InvalidQueryError(f"k (the number of results) must be a whole number, got {k!r}.")
    if value < 1:
        raise InvalidQueryError(f"k (the number of results) must be at least 1, got {int(value)}.")
    if value > MAX_K:
        return MAX_K, [f"At most {MAX_K} results are returned; k={int(value)} was reduced to {MAX_K}."]
    return int(value), []


def check_weight(weight: float, name: str) -> float:
    """A weight in [0, 1]; NaN, infinities, non-numbers and out-of-range values are refused."""
    if isinstance(weight, bool) or not isinstance(weight, (Real, np.floating, str)):
        raise InvalidQueryError(f"{name} must be a number between 0 and 1, got {weight!r}.")
    try:
        value = float(weight)
    except ValueError as error:
        raise InvalidQueryError(f"{name} must be a number between 0 and 1, got {weight!r}.") from error
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise InvalidQueryError(f"{name} must be between 0 and 1, got {weight!r}.")
    return value


def check_vector(vector: object, dim: int) -> np.ndarray:
    """A query embedding of the index's dimension with finite values, L2-normalised."""
    try:
        array = np.asarray(vector, dtype=np.float32).reshape(-1)
    except (TypeError, ValueError) as error:
        raise InvalidQueryError("The embedding must be a list of numbers.") from error
    if array.shape[0] != dim:
        raise InvalidQueryError(f"The embedding has {array.shape[0]} values; this index needs {dim}.")
    if not np.all(np.isfinite(array)):
        raise InvalidQueryError("The embedding contains NaN or infinite values.")
    norm = float(np.linalg.norm(array))
    if norm == 0.0:
        raise InvalidQueryError("The embedding is all zeros; it matches nothing.")
    return array / norm
