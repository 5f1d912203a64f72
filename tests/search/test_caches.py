"""Caches bounded by bytes: least recently used evicted first once the budget is passed, sizes weighed with their
contents, and a value too large for its share never stored."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from search.caches import LARGEST_SHARE, BytesLRU, approximate_bytes


def counting(computed: list[str], name: str, size: int = 1_000):
    def compute():
        computed.append(name)
        return np.zeros(size, dtype=np.uint8)

    return compute


def test_least_recently_used_values_go_once_the_bytes_are_passed():
    entry = approximate_bytes(np.zeros(1_000, dtype=np.uint8)) + approximate_bytes("a")
    cache: BytesLRU[np.ndarray] = BytesLRU(max_bytes=4 * entry + 10)
    computed: list[str] = []
    first = cache.get("a", counting(computed, "a"))
    assert cache.get("a", counting(computed, "a")) is first
    for name in "bcd":
        cache.get(name, counting(computed, name))
    cache.get("a", counting(computed, "a"))  # a is now the most recently used
    cache.get("e", counting(computed, "e"))  # evicts b
    cache.get("b", counting(computed, "b"))
    assert computed == ["a", "b", "c", "d", "e", "b"]
    info = cache.info()
    assert info["hits"] == 2 and info["misses"] == 6 and info["currsize"] == 4
    assert info["bytes"] == 4 * entry <= info["max_bytes"]
    cache.clear()
    assert cache.info()["currsize"] == 0 and cache.info()["bytes"] == 0


def test_many_small_entries_fit_where_a_few_large_ones_do():
    cache: BytesLRU[np.ndarray] = BytesLRU(max_bytes=200_000)
    for number in range(500):
        cache.put(number, np.zeros(100, dtype=np.uint8))
    small = cache.info()["currsize"]
    for number in range(500):
        cache.put(number, np.zeros(40_000, dtype=np.uint8))
    assert small > 500 // 2 and cache.info()["currsize"] == 4 and cache.info()["bytes"] <= 200_000


def test_a_value_too_large_for_its_share_is_returned_but_not_stored():
    cache: BytesLRU[np.ndarray] = BytesLRU(max_bytes=100_000)
    cache.put("small", np.zeros(10, dtype=np.uint8))
    huge = cache.get("huge", lambda: np.zeros(int(LARGEST_SHARE * 100_000) + 1, dtype=np.uint8))
    assert len(huge) > LARGEST_SHARE * 100_000
    assert cache.lookup("huge") is None and cache.lookup("small") is not None


@dataclass(frozen=True)
class Row:
    name: str
    metadata: dict


def test_sizes_include_contents_views_pin_their_base_and_shared_objects_count_once():
    base = np.zeros((100, 512), dtype=np.float32)
    assert approximate_bytes(base[0]) > base.nbytes
    assert approximate_bytes(base[0].copy()) < 3_000
    text = "x" * 10_000
    rows = (Row("a", {"label": text}), Row("b", {"label": text}))
    assert 10_000 < approximate_bytes(rows) < 10_000 + 2_000
    assert approximate_bytes({"k": [1.5, "v" * 100]}) > sys.getsizeof({"k": 1}) + 100
