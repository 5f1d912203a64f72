"""What the benchmarks run on: the random-weight model, clustered vectors, a synthetic bundle and test photos.

Everything is generated (or read from ../shared when present) and cached under the output folder, so the
suite runs offline and a second run skips the set-up.
"""

from __future__ import annotations

import io
import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from search.bundle import Bundle, ModelInfo, is_bundle, read_manifest
from search.bundle.probe import document_vectors, sample_rows
from search.catalog.images import decode_image
from search.catalog.products import ProductTable
from search.encoding.encoder import Encoder, encoder_export
from search.encoding.onnx_files import OnnxExport
from search.fixtures.random_model import saved_random_clip
from search.fixtures.synthetic import COLOURS, GENDERS, generate_rows, jpeg_bytes, product_photo
from search.indexing.shards import ShardCache
from search.indexing.source import ScannedCatalog
from search.indexing.spec import EncoderSpec
from search.ranking.index import IndexSpec, VectorIndex
from search.ranking.keyword import KeywordIndex, keyword_text
from search.understanding.vocabulary import Vocabulary

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_PHOTOS = REPO_ROOT.parent / "shared" / "data" / "product-images"
DATASET_IMAGE_SIZE = (60, 80)
SYNTHETIC_DATASET_ID = "synthetic-clustered-vectors"
# The products the engine's load probe samples (search.bundle.probe) get their real vectors; the rest are drawn.
SYNTHETIC_DOCUMENT = "synthetic clustered vectors (probe sample encoded)"


def model_folder(config: str, root: Path) -> Path:
    """A saved random-weight CLIP of a config in search/fixtures/configs (built once, then reused)."""
    return saved_random_clip(config, root / "models" / config)


@dataclass(frozen=True)
class Mixture:
    """A two-level Gaussian mixture of unit vectors, anisotropic like real embeddings.

    Each vector = normalise(topic + 0.6·subtopic + 0.5·local + 0.15·noise), where topics (~size^0.4 of them,
    Zipf-sized) and subtopics (20 per topic) are random unit directions and `local` lives in a shared 48-d
    subspace. Same-subtopic cosines are about 0.8, same-topic 0.5, otherwise about 0: product catalogs
    cluster by article type and colour, and uniform random vectors would make every IVF index look useless.
    """

    topic_dirs: np.ndarray
    sub_dirs: np.ndarray
    basis: np.ndarray
    weights: np.ndarray

    @classmethod
    def create(cls, catalog_size: int, dim: int, seed: int) -> Mixture:
        rng = np.random.default_rng(seed)
        topics = max(8, round(catalog_size**0.4))
        weights = 1.0 / np.arange(1, topics + 1) ** 0.8
        return cls(
            topic_dirs=_unit(rng.standard_normal((topics, dim), dtype=np.float32)),
            sub_dirs=_unit(rng.standard_normal((topics, 20, dim), dtype=np.float32)),
            basis=_unit(rng.standard_normal((48, dim), dtype=np.float32)),
            weights=weights / weights.sum(),
        )

    def sample(self, count: int, rng: np.random.Generator, chunk: int = 65_536) -> np.ndarray:
        """`count` unit vectors, generated in chunks to bound memory."""
        topics, subtopics, dim = self.sub_dirs.shape
        out = np.empty((count, dim), dtype=np.float32)
        for start in range(0, count, chunk):
            size = min(chunk, count - start)
            topic = rng.choice(topics, size=size, p=self.weights)
            sub = rng.integers(0, subtopics, size=size)
            local = _unit(rng.standard_normal((size, self.basis.shape[0]), dtype=np.float32) @ self.basis)
            noise = _unit(rng.standard_normal((size, dim), dtype=np.float32))
            out[start : start + size] = (
                self.topic_dirs[topic] + 0.6 * self.sub_dirs[topic, sub] + 0.5 * local + 0.15 * noise
            )
        return _unit(out, inplace=True)


def clustered_vectors(count: int, dim: int, seed: int = 0) -> np.ndarray:
    """A catalog of `count` vectors drawn from `Mixture.create(count, dim, seed)`."""
    return Mixture.create(count, dim, seed).sample(count, np.random.default_rng([seed, 0]))


def cached_vectors(work: Path, count: int, dim: int, seed: int, mmap: bool = False) -> np.ndarray:
    """clustered_vectors, saved as .npy on first use: generating a million takes longer than loading them; `mmap`
    maps the file instead of reading it."""
    path = work / f"clustered-{count}x{dim}-seed{seed}.npy"
    if path.is_file():
        return np.load(path, mmap_mode="r" if mmap else None)
    started = time.perf_counter()
    vectors = clustered_vectors(count, dim, seed=seed)
    logger.info("Generated %d vectors in %.1fs", count, time.perf_counter() - started)
    work.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def query_vectors(count: int, catalog_size: int, dim: int, seed: int = 0) -> np.ndarray:
    """Queries for `clustered_vectors(catalog_size, dim, seed)`: fresh draws from the same mixture, never stored
    vectors themselves."""
    return Mixture.create(catalog_size, dim, seed).sample(count, np.random.default_rng([seed, 1]))


def _unit(vectors: np.ndarray, inplace: bool = False) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    if inplace:
        vectors /= norms
        return vectors
    return vectors / norms


def synthetic_bundle(out: Path, model: Path, count: int, seed: int = 0, photos: bool = True) -> Path:
    """A real bundle (write_bundle, products table, manifest with the model's probe) over clustered vectors, but
    for the few products the engine's load probe re-encodes (search.bundle.probe), which hold their real vectors.

    Encoding `count` product photos on 2 CPU cores would take far longer than the queries being measured, and
    query latency does not depend on what the stored vectors are, only on how many there are and the index.
    Reused when a bundle with the same size, model and index spec is already there. photos=False leaves the
    products without photos (a million would take long to draw), so the probe has nothing to re-encode.
    """
    spec = IndexSpec.for_catalog(count)
    document = SYNTHETIC_DOCUMENT if photos else f"{SYNTHETIC_DOCUMENT}, no photos"
    if is_bundle(out):
        existing = read_manifest(out, verify=False)
        if (
            existing.dataset.num_rows == count
            and existing.model.id == str(model)
            and (existing.index.type, dict(existing.index.params)) == (spec.type, spec.params)
            and existing.components.keyword is not None
            and existing.components.vocabulary is not None
            and existing.index.document == document
        ):
            return out
    logger.info("Writing a synthetic %d-product bundle to %s", count, out)
    encoder = Encoder.load(str(model))
    rows = generate_rows(count, seed, photos)
    products = ProductTable.from_rows(rows)
    vectors = clustered_vectors(count, encoder.dim, seed)
    probed = sample_rows(np.ones(count, dtype=bool), products)
    if len(probed):
        vectors[probed] = document_vectors(products, encoder, probed, 1.0)  # what the engine's load probe re-encodes
    index = VectorIndex.build(vectors, spec)
    keyword = KeywordIndex.build([keyword_text(row) for row in rows])
    vocabulary = Vocabulary.build(rows)
    dataset = {"id": SYNTHETIC_DATASET_ID, "revision": None, "split": "train", "num_rows": count}
    bundle = Bundle.assemble(
        ModelInfo.of(encoder), dataset, index, products, keyword, vocabulary=vocabulary, document=document
    )
    return bundle.save(out)


class SimulatedEncoding:
    """The build's encoding stage (search.indexing.encoding.Encoding) with the encoder's arithmetic replaced by
    clustered synthetic vectors: catalog row i gets vector i of `count` (cached under `work`), but for the few
    products the engine's load probe re-encodes (search.bundle.probe), which get their real vectors so that the
    bundle loads. The real model is loaded for the manifest's model section and every other stage of `run_build`
    runs for real; a million photos would take ~35 hours to encode on 2 cores."""

    def __init__(self, spec: EncoderSpec, count: int, work: Path, seed: int = 0) -> None:
        self.spec = spec
        self.encoder = spec.load()
        self.model = ModelInfo.of(self.encoder)
        self.vectors = cached_vectors(work, count, self.encoder.dim, seed, mmap=True)

    def encode(self, cache: ShardCache, catalog: ScannedCatalog, timings: dict[str, float]) -> None:
        products = ProductTable.from_catalog(catalog.metadata(), catalog.photos)
        probed = set(sample_rows(np.ones(len(catalog), dtype=bool), products).tolist())
        for shard in range(cache.num_shards):
            if cache.done(shard):
                continue
            rows = cache.rows(shard)
            image = np.array(self.vectors[rows])
            text = np.zeros((len(rows), self.encoder.dim if self.spec.encode_names else 0), np.float32)
            real = [position for position, row in enumerate(rows.tolist()) if row in probed]
            if real:
                photos = [decode_image(products.image_bytes(rows[i]) or b"", self.encoder.image_edge) for i in real]
                image[real], text[real] = self.spec.encode(
                    self.encoder, self.encoder.preprocess(photos), catalog.texts(rows[real].tolist())
                )
            cache.write(shard, image, text, {})

    def onnx_export(self) -> OnnxExport:
        return encoder_export(self.encoder)

    def close(self) -> None:
        """Nothing to release."""


@dataclass(frozen=True)
class PhotoSet:
    """Encoded JPEGs to decode and search with, and where they came from (real photos or generated)."""

    source: str
    size: str
    images: list[bytes]


def photo_sets(count: int, photos_dir: Path | None = SHARED_PHOTOS) -> tuple[PhotoSet, PhotoSet]:
    """Real 224×224 product photos and the dataset's 60×80 size made from them; generated ones as a fallback.

    The 60×80 versions are centre-cropped to 3:4 and re-encoded as JPEG, as the dataset's own thumbnails are.
    """
    files = sorted(photos_dir.glob("*.jpg"))[:count] if photos_dir and photos_dir.is_dir() else []
    if files:
        full = [path.read_bytes() for path in files]
        source = f"real photos ({photos_dir})"
    else:
        full = [jpeg_bytes(photo.resize((224, 224), Image.Resampling.BICUBIC)) for photo in _generated(count)]
        source = "generated (../shared/data/product-images not found)"
    small = [jpeg_bytes(_thumbnail(Image.open(io.BytesIO(data)).convert("RGB"))) for data in full]
    return PhotoSet(source, "224×224", full), PhotoSet(source, "60×80", small)


def large_photo(photo: bytes, side: int = 1200) -> bytes:
    """A phone-sized upload (side × side·4/3) made from a product photo, to show what big uploads cost."""
    image = Image.open(io.BytesIO(photo)).convert("RGB")
    return jpeg_bytes(image.resize((side, side * 4 // 3), Image.Resampling.BICUBIC), quality=92)


def _thumbnail(image: Image.Image) -> Image.Image:
    width, height = image.size
    crop = min(width, height * 3 // 4)
    left = (width - crop) // 2
    return image.crop((left, 0, left + crop, height)).resize(DATASET_IMAGE_SIZE, Image.Resampling.LANCZOS)


def _generated(count: int) -> list[Image.Image]:
    rng = random.Random(0)
    shapes = ("tshirt", "shirt", "trousers", "dress", "shoe", "boot", "watch", "bag")
    return [product_photo(shapes[i % len(shapes)], rng.choice(list(COLOURS.values())), i % 7 - 3) for i in range(count)]


ARTICLES = ("shirt", "tshirt", "jeans", "dress", "boots", "shoes", "watch", "handbag", "jacket", "kurta", "skirt")
MATERIALS = ("", "leather ", "cotton ", "denim ", "printed ", "striped ", "solid ")


def text_queries(count: int, seed: int) -> list[str]:
    """Distinct shopper-style queries ("black leather boots for men"); distinct so none hits the text cache."""
    rng = random.Random(seed)
    colours = [name.lower() for name in COLOURS]
    genders = [gender.lower() for gender in GENDERS]
    seen: set[str] = set()
    queries: list[str] = []
    while len(queries) < count:
        query = f"{rng.choice(colours)} {rng.choice(MATERIALS)}{rng.choice(ARTICLES)} for {rng.choice(genders)}"
        if query not in seen:
            seen.add(query)
            queries.append(query)
    return queries
