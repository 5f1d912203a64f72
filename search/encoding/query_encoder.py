"""Query vectors for the engine: texts and photos encoded in batches with concurrent requests and cached.

Text vectors are cached by the cleaned text, photo vectors by their pixels (the page re-runs a search with the
same upload whenever a filter changes); concurrent encodes share a batch (search.encoding.batcher).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch

from search.catalog.images import ImageInput, load_image
from search.encoding.batcher import MicroBatcher
from search.encoding.encoder import Encoder
from search.encoding.vector_cache import VectorCache, digest

TEXT_CACHE_SIZE = 2048
IMAGE_CACHE_SIZE = 256  # 2 KB per 512-d vector
# One batch runs at a time, so concurrent requests share a batch instead of fighting over the cores. A text batch
# costs about one text (the text tower streams its weights once); image batches only save the per-call overhead,
# so they stay small to keep latency fair.
BATCH_LIMITS = {"text": 32, "image": 8}


class QueryEncoder:
    """Read-only, normalised query vectors of texts and photos, batched and cached."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self._text = functools.lru_cache(maxsize=TEXT_CACHE_SIZE)(self._encode_text)
        self._images = VectorCache(IMAGE_CACHE_SIZE)
        self._batcher = MicroBatcher(
            {"text": encoder.encode_text, "image": self._encode_pixel_batch}, max_batch=BATCH_LIMITS
        )

    def text(self, cleaned: str) -> tuple[np.ndarray, list[str]]:
        """A cleaned text's vector and, when the model had to cut the text, a notice saying so."""
        vector, tokens = self._text(cleaned)
        limit = self.encoder.max_text_tokens
        if tokens <= limit:
            return vector, []
        notice = f"The text has {tokens} tokens; the model reads at most {limit}, so only its beginning was used."
        return vector, [notice]

    def image(self, image: ImageInput) -> np.ndarray:
        """A photo's vector: checked, decoded at the model's input size and preprocessed in the caller's thread (a
        bad image fails alone), encoded in a batch with concurrent requests, cached by its pixels."""
        pixels = self.encoder.preprocess([load_image(image, self.encoder.image_edge)])[0]
        return self._images.get(digest(pixels.numpy()), lambda: self._batcher.submit("image", pixels))

    def cache_info(self) -> dict[str, Any]:
        return {"text_vectors": self._text.cache_info()._asdict(), "image_vectors": self._images.info()}

    def batch_sizes(self) -> dict[str, dict[int, int]]:
        """How many encoder batches of each size ran, per kind ("text", "image")."""
        return {kind: dict(sizes) for kind, sizes in self._batcher.batch_sizes.items()}

    def clear(self) -> None:
        self._text.cache_clear()
        self._images.clear()

    def _encode_text(self, cleaned: str) -> tuple[np.ndarray, int]:
        """The read-only vector of a cleaned text and its token count before truncation."""
        vector = self._batcher.submit("text", cleaned).copy()  # not a view pinning the whole batch in the cache
        vector.setflags(write=False)
        return vector, self.encoder.count_tokens(cleaned)

    def _encode_pixel_batch(self, pixels: list[torch.Tensor]) -> np.ndarray:
        return self.encoder.encode_pixels(torch.stack(pixels))
