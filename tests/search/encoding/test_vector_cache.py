"""The vector LRU: hits by digest, least recently used evicted first, read-only vectors."""

from __future__ import annotations

import numpy as np

from search.encoding.vector_cache import VectorCache, digest


def test_digest_follows_contents_shape_and_dtype():
    values = np.arange(12, dtype=np.float32)
    assert digest(values) == digest(values.copy())
    assert len({digest(values), digest(values.reshape(3, 4)), digest(values.astype(np.float64))}) == 3
    assert digest(values) != digest(values + 1)


def test_hits_misses_and_eviction_of_the_least_recently_used():
    cache = VectorCache(size=2)
    computed: list[str] = []

    def vector(name: str):
        def compute():
            computed.append(name)
            return np.full(4, len(computed), dtype=np.float32)

        return compute

    first = cache.get(b"a", vector("a"))
    assert cache.get(b"a", vector("a")) is first and not first.flags.writeable
    cache.get(b"b", vector("b"))
    cache.get(b"a", vector("a"))  # a is now the most recently used
    cache.get(b"c", vector("c"))  # evicts b
    cache.get(b"b", vector("b"))
    assert computed == ["a", "b", "c", "b"]
    assert cache.info() == {"hits": 2, "misses": 4, "maxsize": 2, "currsize": 2}
    cache.clear()
    assert cache.info()["currsize"] == 0
