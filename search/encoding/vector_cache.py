"""The key of a cached query vector: a digest of the encoder's input.

Image queries repeat: the page re-runs its search with the same upload whenever a filter or slider changes, and a
photo costs ~100 ms of CPU to encode on a free Space. Keyed by a digest of the preprocessed pixels (search.caches
holds them), the same photo sent as a file, bytes or an array is one entry.
"""

from __future__ import annotations

import hashlib

import numpy as np


def digest(values: np.ndarray) -> bytes:
    """A 16-byte digest of an array's dtype, shape and contents."""
    values = np.ascontiguousarray(values)
    header = f"{values.dtype.str}{values.shape}".encode()
    return hashlib.blake2b(header + values.tobytes(), digest_size=16).digest()
