"""Product ids: what counts as one, for the catalog a build reads and for the ids clients send.

Every part of a bundle and every more-like-this request finds a product by its id, so a value is an id only when it
is a whole number exactly as given: nothing is rounded (10005.5), read loosely ('1_0005', '١٠٠٠٥', ' 12 ') or taken
from a boolean.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np

INT64_LIMIT = 2**63
# Floats are exact integers only up to 2**53; a larger float id is not the number it was written as.
EXACT_FLOAT_LIMIT = 2**53
_DIGITS = re.compile(r"[+-]?[0-9]{1,19}")  # ASCII digits only: int() also reads other scripts and underscores
MAX_LISTED = 10


def as_product_id(value: object) -> int | None:
    """The id `value` stands for, or None when it is not a whole number that fits a 64-bit id: ints, integral
    floats (JSON numbers) and strings of ASCII digits qualify."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Integral):
        number = int(value)
    elif isinstance(value, Real):
        real = float(value)
        if not (math.isfinite(real) and real.is_integer() and abs(real) <= EXACT_FLOAT_LIMIT):
            return None
        number = int(real)
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if -INT64_LIMIT <= number < INT64_LIMIT else None


def shown(value: object, limit: int = 60, quoted: bool = True) -> str:
    """A value as it appears in a message (its repr, or with quoted=False its text), cut so that a huge argument or
    catalog label cannot make a huge message."""
    text = repr(value) if quoted else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def id_problems(values: Sequence[object]) -> tuple[list[str], int]:
    """What is wrong with a catalog's ids, row by row (rows counted from 0): missing ids, values that are not whole
    numbers, ids given to several rows. Returns the first MAX_LISTED problems described and how many there are."""
    listed: list[str] = []
    total = 0
    ids = np.zeros(len(values), dtype=np.int64)
    valid = np.zeros(len(values), dtype=bool)
    for row, value in enumerate(values):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            problem = f"row {row} has no id"
        elif (number := as_product_id(value)) is None:
            problem = f"row {row} has id {shown(value)}, not a whole number of at most 64 bits"
        else:
            ids[row], valid[row] = number, True
            continue
        total += 1
        if len(listed) < MAX_LISTED:
            listed.append(problem)
    rows = np.flatnonzero(valid)
    order = rows[np.argsort(ids[rows], kind="stable")]
    repeated = np.flatnonzero(np.diff(ids[order]) == 0)
    starts = repeated[np.r_[True, np.diff(repeated) > 1]] if len(repeated) else repeated
    total += len(starts)
    for start in starts[: max(0, MAX_LISTED - len(listed))]:
        number = ids[order[start]]
        listed.append(f"id {number} is in rows {joined(sorted(order[ids[order] == number].tolist()))}")
    return listed, total


def joined(rows: Sequence[int]) -> str:
    """'3', '3 and 7', '3, 7 and 9', the first MAX_LISTED of many with how many more."""
    shown_rows = [str(row) for row in rows[:MAX_LISTED]]
    text = shown_rows[0] if len(shown_rows) == 1 else ", ".join(shown_rows[:-1]) + " and " + shown_rows[-1]
    return text + (f" (and {len(rows) - MAX_LISTED} more)" if len(rows) > MAX_LISTED else "")
