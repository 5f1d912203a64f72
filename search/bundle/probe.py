"""Does the encoder that loads a bundle reproduce the bundle? Checked once, when the engine opens it.

Checksums only say that the files are the ones the manifest lists, and whoever can replace a file can rewrite the
manifest too. So the loading encoder must reproduce what the bundle holds: the manifest's probe embedding (the
text tower), and the stored vectors of a sample of products, re-encoded from their stored photos and texts (the
image tower, and what `index.faiss` / `vectors.npy` hold). The index must also find each sampled vector again.
An `image.onnx` of another model, an index of other vectors, or a vectors file with other rows is refused.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from search.bundle.manifest import check_encoder_matches
from search.catalog.images import decode_image
from search.catalog.schema import ID_COLUMN, product_text
from search.encoding.vectors import mix
from search.errors import BundleMismatchError, InvalidImageError

if TYPE_CHECKING:
    from search.bundle.store import Bundle
    from search.catalog.products import ProductTable
    from search.encoding.encoder import Encoder

logger = logging.getLogger(__name__)

SAMPLE_SIZE = 4
# A product's stored vector and the loading encoder's vector of its photo and text: the same model agrees far above
# this (fp16 GPU or int8 builds included), another model or another product's vector falls far below it.
SAMPLE_MIN_COSINE = 0.95
# The index's best match for a sampled product's own vector: ~1 (itself or an identical photo) when the index holds
# the stored vectors; an index of other vectors finds only other products.
SELF_MATCH_MIN_SCORE = 0.99


def check_bundle_encoder(bundle: Bundle, encoder: Encoder) -> None:
    """Refuse an encoder or bundle parts that do not reproduce each other, saying which part differs."""
    model = bundle.manifest.model
    check_encoder_matches(model, encoder.ref.name, encoder.dim, encoder.encode_text([model.probe.text])[0])
    rows = sample_rows(bundle.index.has_vector(np.arange(len(bundle.index))), bundle.products)
    if not len(rows):
        return
    stored = bundle.index.vectors(rows)
    ids = [record[ID_COLUMN] for record in bundle.products.metadata_rows(rows)]
    fresh = document_vectors(bundle.products, encoder, rows, bundle.manifest.index.doc_image_weight)
    cosines = np.einsum("ij,ij->i", stored, fresh)
    wrong = [
        f"product {product} (cosine {cosine:.2f})"
        for product, cosine in zip(ids, cosines, strict=True)
        if not cosine >= SAMPLE_MIN_COSINE  # NaN included
    ]
    if wrong:
        raise BundleMismatchError(
            f"The bundle's stored vectors are not what '{model.id}' gives its products: {'; '.join(wrong)}, below "
            f"{SAMPLE_MIN_COSINE}. The vectors (index.faiss, vectors.npy) or the model's image tower (onnx/) are "
            "not the ones the bundle was built with; rebuild the bundle."
        )
    found = [ranking.scores[0] if len(ranking.scores) else -1.0 for ranking in bundle.index.top_k(stored, 1)]
    if min(found) < SELF_MATCH_MIN_SCORE:
        raise BundleMismatchError(
            f"The bundle's index does not find its own stored vectors (best match {min(found):.2f} for a sampled "
            f"product, needs {SELF_MATCH_MIN_SCORE}): index.faiss holds other vectors than the bundle's "
            f"{'vectors.npy' if bundle.index.exact is not None else 'products'}; rebuild the bundle."
        )
    logger.info("Bundle probe: %d sampled products reproduced (cosine ≥ %.3f)", len(rows), float(cosines.min()))


def sample_rows(with_vector: np.ndarray, products: ProductTable, size: int = SAMPLE_SIZE) -> np.ndarray:
    """Up to `size` rows spread evenly over the catalog, among the products with a vector (`with_vector`, one flag
    per row) and a stored photo."""
    candidates = np.flatnonzero(with_vector)
    spread = candidates[np.unique(np.linspace(0, len(candidates) - 1, min(4 * size, len(candidates)), dtype=int))]
    rows = [row for row in spread.tolist() if products.image_bytes(row) is not None]
    return np.asarray(rows[:size], dtype=np.int64)


def stored_photo(products: ProductTable, row: int, edge: int | None) -> Image.Image:
    """A product's stored photo decoded as the encoder reads it; a missing photo is refused like an unreadable one."""
    data = products.image_bytes(row)
    if data is None:
        raise InvalidImageError(f"product row {row} has no stored photo")
    return decode_image(data, edge)


def document_vectors(products: ProductTable, encoder: Encoder, rows: np.ndarray, image_weight: float) -> np.ndarray:
    """The document vectors the encoder gives these products from their stored photos and texts, as a build
    makes them (search.encoding.vectors.mix with the bundle's doc_image_weight)."""
    try:
        images = [stored_photo(products, row, encoder.image_edge) for row in rows.tolist()]
    except InvalidImageError as error:
        raise BundleMismatchError(
            f"A stored photo of a product with a vector cannot be decoded ({error}): the bundle's products table "
            "is not the one its vectors were made from; rebuild the bundle."
        ) from error
    image_vectors = encoder.encode_images(images)
    if image_weight == 1.0:
        return image_vectors
    texts = [product_text(record) for record in products.metadata_rows(rows)]
    return mix(image_vectors, encoder.encode_text(texts), image_weight)
