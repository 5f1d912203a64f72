"""The engine's caches: thread-safe least-recently-used maps bounded by the bytes they hold, not by entries.

An entry-count bound says nothing about memory: a cached result list at k=100 with collapse_similar holds ~400
results with their metadata (~0.4 MB), and a filter selector holds a byte per product (1.1 MB at a million
products), so 512 results or 256 selectors could take hundreds of MB — and any client can fill them with distinct
queries or filter combinations. Every value is weighed when stored; the least recently used go once the total
passes the budget, and a value too large for a fair share of it is returned without being stored.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

import numpy as np

Value = TypeVar("Value")
# A single value may take at most this share of the budget, so one huge entry cannot empty the cache.
LARGEST_SHARE = 0.25


def approximate_bytes(value: Any, seen: set[int] | None = None) -> int:
    """The memory a value holds: arrays with their buffers (a view with the array it pins), containers,
    dataclasses and objects with their contents (each object counted once), everything else by `sys.getsizeof`."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    size = sys.getsizeof(value)  # an array's includes the buffer it owns
    if isinstance(value, np.ndarray):
        return size if value.base is None else size + approximate_bytes(value.base, seen)  # a view pins its base
    if isinstance(value, (str, bytes, bytearray, int, float, bool)) or value is None:
        return size
    if isinstance(value, dict):
        return size + sum(approximate_bytes(k, seen) + approximate_bytes(v, seen) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return size + sum(approximate_bytes(item, seen) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return size + sum(approximate_bytes(getattr(value, f.name), seen) for f in dataclasses.fields(value))
    if hasattr(value, "__dict__"):
        return size + approximate_bytes(vars(value), seen)
    return size


class BytesLRU(Generic[Value]):
    """Least-recently-used values by key within `max_bytes`; values are computed outside the lock (two misses on
    one key both compute, the second stored wins)."""

    def __init__(self, max_bytes: int, weigh: Callable[[Any], int] = approximate_bytes) -> None:
        self.max_bytes = max_bytes
        self.weigh = weigh
        self.hits = 0
        self.misses = 0
        self.bytes = 0
        self._entries: OrderedDict[Hashable, tuple[Value, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Value]) -> Value:
        """The cached value of `key`, else `compute()`, stored when it fits."""
        found = self.lookup(key)
        if found is not None:
            return found
        value = compute()
        self.put(key, value)
        return value

    def lookup(self, key: Hashable) -> Value | None:
        """The cached value of `key` (counted as a hit) or None (a miss)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self.hits += 1
            self._entries.move_to_end(key)
            return entry[0]

    def setdefault(self, key: Hashable, value: Value) -> Value:
        """The value already cached for `key` (not counted as a hit), else `value`, stored."""
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None:
            return entry[0]
        self.put(key, value)
        return value

    def put(self, key: Hashable, value: Value) -> None:
        """Store a value (weighed with its key), dropping the least recently used beyond the budget; too large a
        value is not stored."""
        size = self.weigh(value) + approximate_bytes(key)
        if size > LARGEST_SHARE * self.max_bytes:
            return
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self.bytes -= previous[1]
            self._entries[key] = (value, size)
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self.bytes -= dropped

    def info(self) -> dict[str, int]:
        """Hits, misses, entries ("currsize", as functools.lru_cache says) and bytes held, with the budget."""
        with self._lock:
            return {
                "hits": self.hits,
                "misses": self.misses,
                "currsize": len(self._entries),
                "bytes": self.bytes,
                "max_bytes": self.max_bytes,
            }

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = self.hits = self.misses = 0
