"""What a catalog's labels, names and years may hold, checked for every row before anything is encoded.

The products table stores labels and names as text and the year as a 32-bit whole number. Converting anything
else used to fail late or silently: a year of inf or 1e20 only after the whole encode ("Float value inf was
truncated converting to int32", no column or row named), 10¹² or the text "1e400" as a traceback, and bytes or
lists became their Python repr ("b'Caf\\xe9'", "['Men', 'Women']") in labels shown to shoppers and used as filters.
Each rule is column-wise (a million rows take a fraction of a second) and names the rows it refuses.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from search.catalog.ids import MAX_LISTED, shown

FIRST_YEAR, LAST_YEAR = 0, 9999
_YEAR_TEXT = r"^[0-9]{1,4}$"  # ASCII digits only, as product ids: nothing rounded or read loosely


def value_problems(name: str, column: pa.ChunkedArray, year: bool = False) -> tuple[list[str], int]:
    """What is wrong with a text column (labels, names) or, with `year`, the year column: the first MAX_LISTED
    problems described (rows counted from 0) and how many rows have one."""
    kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if pa.types.is_dictionary(column.type):
        column = column.cast(kind)
    if year:
        bad, rule = _bad_years(column, kind)
    else:
        bad, rule = _bad_texts(column, kind)
    rows = np.flatnonzero(bad)
    listed = [f"column {shown(name)}, row {row}: {shown(column[int(row)].as_py())} {rule}" for row in rows[:MAX_LISTED]]
    return listed, len(rows)


def image_problems(name: str, column: pa.ChunkedArray) -> tuple[list[str], int]:
    """What is wrong with the image column: a photo is given as bytes, as a path (text), or as datasets' image
    struct of both; anything else (numbers, lists: datasets turned a list of numbers into a TIFF) is refused."""
    kind = column.type
    binary = (pa.binary(), pa.large_binary())
    text = (pa.string(), pa.large_string())
    if kind in binary or kind in text or pa.types.is_null(kind):
        return [], 0
    if pa.types.is_struct(kind) and all(
        kind.field(index).name in ("bytes", "path")
        and kind.field(index).type in (binary if kind.field(index).name == "bytes" else text) + (pa.null(),)
        for index in range(kind.num_fields)
    ):
        return [], 0
    rows = np.flatnonzero(_mask(pc.is_valid(column)))
    rule = f"is a {kind} value, not a photo: give its bytes, its path or {{'bytes': ..., 'path': ...}}"
    listed = [f"column {shown(name)}, row {row}: {shown(column[int(row)].as_py())} {rule}" for row in rows[:MAX_LISTED]]
    return listed, len(rows)


def _bad_texts(column: pa.ChunkedArray, kind: pa.DataType) -> tuple[np.ndarray, str]:
    """Text, whole numbers (written as text) and missing values are labels; bytes, lists, mappings, true/false and
    fractional numbers are not, and are not turned into their repr."""
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        return np.zeros(len(column), dtype=bool), ""
    if pa.types.is_integer(kind):
        return np.zeros(len(column), dtype=bool), ""
    if pa.types.is_floating(kind):  # pandas writes a column of missing labels as NaN
        present = pc.and_(pc.is_valid(column), pc.invert(pc.is_nan(column)))
        return _mask(present), f"is a number ({kind}), not text: write labels and names as text"
    what = (
        "bytes"
        if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind)
        else "a list"
        if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)
        else "a mapping"
        if pa.types.is_struct(kind) or pa.types.is_map(kind)
        else f"a {kind} value"
    )
    return _mask(pc.is_valid(column)), f"is {what} ({kind}), not text: write labels and names as text"


def _bad_years(column: pa.ChunkedArray, kind: pa.DataType) -> tuple[np.ndarray, str]:
    """Missing values, whole numbers from FIRST_YEAR to LAST_YEAR and such numbers written in ASCII digits."""
    rule = f"is not a year: years are whole numbers from {FIRST_YEAR} to {LAST_YEAR} (or empty)"
    if pa.types.is_null(kind):
        return np.zeros(len(column), dtype=bool), rule
    if pa.types.is_integer(kind):
        return _mask(_outside_years(column)), rule
    if pa.types.is_floating(kind):
        present = pc.and_(pc.is_valid(column), pc.invert(pc.is_nan(column)))
        whole = pc.and_(pc.is_finite(column), pc.equal(pc.trunc(column), column))
        good = pc.and_(whole, pc.invert(_outside_years(column)))
        return _mask(pc.and_(present, pc.invert(good))), rule
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = pc.utf8_trim_whitespace(column)
        good = pc.or_(pc.equal(text, ""), pc.match_substring_regex(text, _YEAR_TEXT))
        return _mask(pc.invert(good)), rule
    return _mask(
        pc.is_valid(column)
    ), f"is a {kind} value, not a year (a whole number from {FIRST_YEAR} to {LAST_YEAR})"


def _outside_years(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.or_(pc.less(column, FIRST_YEAR), pc.greater(column, LAST_YEAR))


def _mask(condition: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A condition as a boolean array, missing values (null) counted as fine."""
    filled = pc.fill_null(condition, False)
    if isinstance(filled, pa.ChunkedArray):
        filled = filled.combine_chunks() if filled.num_chunks else pa.array([], pa.bool_())
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)
