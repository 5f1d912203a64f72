"""Query vectors for the engine: texts and photos encoded in batches with concurrent requests and cached.

Text vectors are cached by the cleaned text, photo vectors by their pixels (the page re-runs a search with the
same upload whenever a filter changes); concurrent encodes share a batch (search.encoding.batcher).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from search.caches import BytesLRU
from search.catalog.images import ImageInput, load_image
from search.encoding.batcher import MicroBatcher
from search.encoding.encoder import Encoder
from search.encoding.vector_cache import digest

# Query vectors by the cleaned text and by a digest of the photo's pixels: ~2.2 KB per 512-d vector (and its key).
TEXT_CACHE_BYTES = 8 * 2**20
IMAGE_CACHE_BYTES = 2**20
# One batch runs at a time, so concurrent requests share a batch instead of fighting over the cores. A text batch
# costs about one text (the text tower streams its weights once); image batches only save the per-call overhead,
# so they stay small to keep latency fair.
BATCH_LIMITS = {"text": 32, "image": 8}


class QueryEncoder:
    """Read-only, normalised query vectors of texts and photos, batched and cached."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self._texts: BytesLRU[tuple[np.ndarray, int]] = BytesLRU(TEXT_CACHE_BYTES)
        self._images: BytesLRU[np.ndarray] = BytesLRU(IMAGE_CACHE_BYTES)
        self._batcher = MicroBatcher(
            {"text": encoder.encode_text, "image": self._encode_pixel_batch}, max_batch=BATCH_LIMITS
        )

    def text(self, cleaned: str) -> tuple[np.ndarray, list[str]]:
        """A cleaned text's vector and, when the model had to cut the text, a notice saying so."""
        vector, tokens = self._texts.get(cleaned, lambda: self._encode_text(cleaned))
        limit = self.encoder.max_text_tokens
        if tokens <= limit:
            return vector, []
        notice = f"The text has {tokens} tokens; the model reads at most {limit}, so only its beginning was used."
        return vector, [notice]

    def image(self, image: ImageInput) -> np.ndarray:
        """A photo's vector: checked, decoded at the model's input size and preprocessed in the caller's thread (a
        bad image fails alone), encoded in a batch with concurrent requests, cached by its pixels."""
        pixels = self.encoder.preprocess([load_image(image, self.encoder.image_edge)])[0]
        return self._images.get(digest(pixels.numpy()), lambda: read_only(self._batcher.submit("image", pixels)))

    def cache_info(self) -> dict[str, Any]:
        return {"text_vectors": self._texts.info(), "image_vectors": self._images.info()}

    def batch_sizes(self) -> dict[str, dict[int, int]]:
        """How many encoder batches of each size ran, per kind ("text", "image")."""
        return {kind: dict(sizes) for kind, sizes in self._batcher.batch_sizes.items()}

    def clear(self) -> None:
        self._texts.clear()
        self._images.clear()

    def _encode_text(self, cleaned: str) -> tuple[np.ndarray, int]:
        """The read-only vector of a cleaned text and its token count before truncation."""
        return read_only(self._batcher.submit("text", cleaned)), self.encoder.count_tokens(cleaned)

    def _encode_pixel_batch(self, pixels: list[torch.Tensor]) -> np.ndarray:
        return self.encoder.encode_pixels(torch.stack(pixels))


def read_only(vector: np.ndarray) -> np.ndarray:
    """A read-only float32 copy of a batch's row (not a view pinning the whole batch in a cache)."""
    vector = np.array(vector, dtype=np.float32)
    vector.setflags(write=False)
    return vector
