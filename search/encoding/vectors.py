"""Vector arithmetic shared by the build, the engine and the evaluation: normalising and mixing embeddings."""

from __future__ import annotations

import numpy as np


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation to float32 (zero rows stay zero instead of becoming NaN)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def mix(image: np.ndarray, text: np.ndarray, image_weight: float) -> np.ndarray:
    """normalise(w·image + (1−w)·text) row-wise: composed queries and image+text product vectors alike.

    w = 1 returns the image vectors and w = 0 the text vectors unchanged (bit for bit), so the pure searches are
    exactly the mixes' end points.
    """
    if image_weight == 1.0:
        return np.asarray(image, dtype=np.float32)
    if image_weight == 0.0:
        return np.asarray(text, dtype=np.float32)
    return normalise(image_weight * np.asarray(image, dtype=np.float32) + (1.0 - image_weight) * np.asarray(text))


def mix_label(image_weight: float) -> str:
    """How a mix is named in manifests, cards and evaluation reports: "image", or "0.9·image+0.1·text"."""
    if image_weight == 1.0:
        return "image"
    return f"{image_weight:g}·image+{1 - image_weight:g}·text"
