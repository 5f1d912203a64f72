"""A thread-safe LRU of query vectors keyed by a digest of the encoder's input.

Image queries repeat: the page re-runs its search with the same upload whenever a filter or slider changes, and a
photo costs ~100 ms of CPU to encode on a free Space. The key is a digest of the preprocessed pixels, so the same
photo sent as a file, bytes or an array is one entry; the vectors are stored read-only.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np


def digest(values: np.ndarray) -> bytes:
    """A 16-byte digest of an array's dtype, shape and contents."""
    values = np.ascontiguousarray(values)
    header = f"{values.dtype.str}{values.shape}".encode()
    return hashlib.blake2b(header + values.tobytes(), digest_size=16).digest()


class VectorCache:
    """Least-recently-used vectors by key, computed outside the lock (two misses on one key both compute)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = 0
        self.misses = 0
        self._vectors: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes, compute: Callable[[], np.ndarray]) -> np.ndarray:
        with self._lock:
            if key in self._vectors:
                self.hits += 1
                self._vectors.move_to_end(key)
                return self._vectors[key]
            self.misses += 1
        vector = np.array(compute(), dtype=np.float32)
        vector.setflags(write=False)
        with self._lock:
            self._vectors[key] = vector
            self._vectors.move_to_end(key)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return vector

    def info(self) -> dict[str, int]:
        """Hits, misses, current and maximum size (the fields functools.lru_cache reports)."""
        with self._lock:
            return {"hits": self.hits, "misses": self.misses, "maxsize": self.size, "currsize": len(self._vectors)}

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()
            self.hits = self.misses = 0
