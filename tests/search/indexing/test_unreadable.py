"""Unreadable photos are counted as shards are written, named by product id, and stop the build once there are
more than the share it may leave out."""

import logging

import pytest

from search.errors import CatalogError
from search.indexing.unreadable import UnreadableImages


def tracker(num_rows: int, share: float) -> UnreadableImages:
    return UnreadableImages(num_rows, share, lambda rows: [10_000 + row for row in rows])


def test_up_to_the_allowed_share_is_recorded():
    unreadable = tracker(200, 0.01)
    unreadable.add({3: "no image"})
    unreadable.add({17: "the image is empty (0 bytes)"})
    assert unreadable.allowed == 2 and unreadable.rows == {3: "no image", 17: "the image is empty (0 bytes)"}


def test_one_more_than_allowed_fails_naming_the_products():
    unreadable = tracker(200, 0.01)
    unreadable.add({3: "no image", 17: "empty"})
    with pytest.raises(CatalogError) as error:
        unreadable.add({50: "images/50.jpg cannot be read (No such file or directory)"})
    message = str(error.value)
    assert message.startswith("3 of 200 products (1.5%) have no readable photo, more than --max-unreadable-share 0.01")
    assert "id 10003 (no image); id 10017 (empty); id 10050 (images/50.jpg cannot be read" in message


def test_a_share_of_zero_allows_none_and_one_allows_all():
    with pytest.raises(CatalogError):
        tracker(10, 0.0).add({0: "no image"})
    everything = tracker(10, 1.0)
    everything.add({row: "no image" for row in range(10)})
    assert len(everything.rows) == 10


def test_long_lists_are_cut_and_the_report_names_ids(caplog):
    unreadable = tracker(100, 1.0)
    unreadable.add({row: "no image" for row in range(25)})
    assert unreadable.describe().endswith("; and 15 more")
    with caplog.at_level(logging.WARNING):
        unreadable.report()
    assert "25 of 100 products have no readable photo" in caplog.text and "id 10000 (no image)" in caplog.text
