"""The key of a cached query vector: a digest of contents, shape and dtype."""

from __future__ import annotations

import numpy as np

from search.encoding.vector_cache import digest


def test_digest_follows_contents_shape_and_dtype():
    values = np.arange(12, dtype=np.float32)
    assert digest(values) == digest(values.copy())
    assert len({digest(values), digest(values.reshape(3, 4)), digest(values.astype(np.float64))}) == 3
    assert digest(values) != digest(values + 1)
