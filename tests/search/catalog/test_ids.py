"""One rule for product ids, in catalogs and in requests: whole numbers exactly as given, nothing coerced; a
catalog's problems are listed by row."""

import math

import numpy as np
import pytest

from search.catalog.ids import MAX_LISTED, as_product_id, id_problems, joined, shown


@pytest.mark.parametrize(
    ("value", "expected"),
    [(15970, 15970), (15970.0, 15970), ("15970", 15970), ("-3", -3), (np.int64(7), 7), (np.float32(12.0), 12)],
)
def test_whole_numbers_are_ids(value, expected):
    assert as_product_id(value) == expected


@pytest.mark.parametrize(
    "value",
    [1.5, "1.5", "12abc", "1_000", "١٢", " 12 ", "", "1e3", True, None, [1], {"id": 1}, b"12", math.nan, math.inf,
     1e30, 2**63, -(2**63) - 1, "9" * 20],
)  # fmt: skip
def test_anything_else_is_not_an_id(value):
    assert as_product_id(value) is None


def test_catalog_problems_are_named_by_row():
    listed, total = id_problems([10, None, 12.5, "x", 10, 13, 14, 13, float("nan")])
    assert total == 6
    assert listed == [
        "row 1 has no id",
        "row 2 has id 12.5, not a whole number of at most 64 bits",
        "row 3 has id 'x', not a whole number of at most 64 bits",
        "row 8 has no id",
        "id 10 is in rows 0 and 4",
        "id 13 is in rows 5 and 7",
    ]


def test_every_repeated_id_counts_once_and_lists_all_its_rows():
    listed, total = id_problems([1, 2, 1, 3, 1, 2])
    assert total == 2
    assert listed == ["id 1 is in rows 0, 2 and 4", "id 2 is in rows 1 and 5"]


def test_many_problems_are_listed_up_to_a_limit_and_counted():
    listed, total = id_problems([None] * 25 + list(range(5)) * 2)
    assert total == 30 and len(listed) == MAX_LISTED


def test_clean_ids_have_no_problems():
    assert id_problems(list(range(1000))) == ([], 0)


def test_rows_and_values_are_shown_short():
    assert joined([3]) == "3" and joined([3, 7]) == "3 and 7" and joined(list(range(12))).endswith("(and 2 more)")
    assert len(shown("x" * 10_000)) == 60
