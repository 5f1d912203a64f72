"""The index build: catalog → (reader → encoder → shards) → vectors → FAISS index → bundle, timed per stage."""

from __future__ import annotations

import logging
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from search.bundle import INDEX_FILE, PROBE_TEXT, PRODUCTS_FILE, Manifest, write_bundle
from search.card import dataset_card
from search.catalog import DEFAULT_DATASET, load_catalog
from search.encoder import DEFAULT_MODEL, Encoder, normalise
from search.index import IndexSpec, VectorIndex
from search.keyword import KEYWORD_DIR, build_keyword_index
from search.products import products_frame
from search.reader import batch_loader
from search.shards import ShardCache

logger = logging.getLogger(__name__)


@dataclass
class BuildConfig:
    """Every setting of a build; defaults build the full default catalog with the default model."""

    out: Path = Path("build/fashion-index")
    dataset: str = DEFAULT_DATASET
    split: str = "train"
    dataset_revision: str | None = None
    limit: int | None = None
    model: str = DEFAULT_MODEL
    model_revision: str | None = None
    device: str | None = None
    dtype: str | None = None
    trust_remote_code: bool = False
    batch_size: int = 64
    num_workers: int = 2
    shard_size: int = 4096
    cache_dir: Path | None = None
    keep_cache: bool = False
    index_type: str = "auto"
    doc_image_weight: float = 1.0

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if self.batch_size < 1:
            raise ValueError(f"--batch-size must be at least 1, got {self.batch_size}.")
        if self.num_workers < 0:
            raise ValueError(f"--num-workers must be 0 or more, got {self.num_workers}.")
        if not 0.0 <= self.doc_image_weight <= 1.0:
            raise ValueError(f"--doc-image-weight must be between 0 and 1, got {self.doc_image_weight}.")
        self.shard_size = max(self.batch_size, self.shard_size // self.batch_size * self.batch_size)

    @property
    def cache_root(self) -> Path:
        return Path(self.cache_dir) if self.cache_dir else self.out.parent / f"{self.out.name}.cache"


@dataclass
class BuildReport:
    """What a build did and how long each stage took (seconds)."""

    bundle: Path
    products: int
    dim: int
    resumed_products: int
    bad_images: int
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def images_per_second(self) -> float:
        encoded = self.products - self.resumed_products
        busy = self.seconds.get("read", 0.0) + self.seconds.get("encode", 0.0)
        return encoded / busy if busy > 0 and encoded else 0.0

    def summary(self) -> str:
        stages = ", ".join(f"{name} {value:.1f}s" for name, value in self.seconds.items())
        return (
            f"Built {self.bundle}: {self.products:,} products, {self.dim}-d, {self.images_per_second:,.0f} images/s "
            f"({self.resumed_products:,} resumed from cache, {self.bad_images} unreadable images); {stages}"
        )


def document_vectors(image: np.ndarray, text: np.ndarray, image_weight: float) -> np.ndarray:
    """Product vectors: normalise(w·image + (1−w)·text); w=1 is exactly the image vectors."""
    if image_weight == 1.0:
        return image
    return normalise(image_weight * image + (1.0 - image_weight) * text)


def encode_catalog(
    config: BuildConfig, encoder: Encoder, cache: ShardCache, table: object, timings: dict[str, float]
) -> int:
    """Encode every row not yet in the shard cache; returns how many rows were already cached."""
    todo = cache.missing_rows()
    resumed = cache.num_rows - len(todo)
    if resumed:
        logger.info("Resuming: %d of %d products already encoded in %s", resumed, cache.num_rows, cache.folder)
    if not todo:
        return resumed
    loader = batch_loader(
        table,
        todo,
        encoder.image_processor,
        config.batch_size,
        config.num_workers,
        pin_memory=encoder.device.startswith("cuda"),
    )
    pending: dict[int, list[tuple[list[int], np.ndarray, np.ndarray, int]]] = defaultdict(list)
    progress = tqdm(total=cache.num_rows, initial=resumed, desc="Encoding products", unit="img")
    waited = time.perf_counter()
    for rows, pixels, texts, bad in loader:
        started = time.perf_counter()
        timings["read"] += started - waited
        image_vectors = encoder.encode_pixels(pixels)
        text_vectors = encoder.encode_text(texts)
        encoded = time.perf_counter()
        timings["encode"] += encoded - started
        shard = rows[0] // cache.shard_size
        pending[shard].append((rows, image_vectors, text_vectors, bad))
        if sum(len(part[0]) for part in pending[shard]) == len(cache.rows(shard)):
            parts = pending.pop(shard)
            cache.write(
                shard,
                np.concatenate([p[1] for p in parts]),
                np.concatenate([p[2] for p in parts]),
                sum(p[3] for p in parts),
            )
        progress.update(len(rows))
        waited = time.perf_counter()
        timings["write"] += waited - encoded
    progress.close()
    return resumed


def run_build(config: BuildConfig) -> BuildReport:
    """Run the whole build and write the bundle to `config.out`; shards make it resumable after Ctrl-C."""
    timings: dict[str, float] = defaultdict(float)
    started = time.perf_counter()
    table, source = load_catalog(config.dataset, config.split, config.dataset_revision, config.limit)
    timings["load"] = time.perf_counter() - started
    encoder = Encoder.load(config.model, config.model_revision, config.device, config.dtype, config.trust_remote_code)
    settings = {
        "dataset": source.dataset,
        "split": source.split,
        "dataset_revision": source.revision,
        "rows": source.num_rows,
        "model": encoder.ref.name,
        "model_revision": encoder.ref.revision,
        "device": encoder.device,
        "dtype": encoder.dtype,
        "batch_size": config.batch_size,
        "shard_size": config.shard_size,
    }
    cache = ShardCache(config.cache_root, settings, source.num_rows, config.shard_size)
    resumed = encode_catalog(config, encoder, cache, table, timings)
    image_vectors, text_vectors, bad_images = cache.read_all()

    index_started = time.perf_counter()
    vectors = document_vectors(image_vectors, text_vectors, config.doc_image_weight)
    spec = IndexSpec.for_catalog(len(vectors), config.index_type)
    index = VectorIndex.build(vectors, spec)
    timings["index"] = time.perf_counter() - index_started
    keyword_started = time.perf_counter()
    keyword = build_keyword_index(table)
    timings["keyword"] = time.perf_counter() - keyword_started

    write_started = time.perf_counter()
    manifest = Manifest(
        model=model_manifest(encoder),
        dataset={
            "id": source.dataset,
            "revision": source.revision,
            "split": source.split,
            "num_rows": source.num_rows,
            "unreadable_images": bad_images,
        },
        index={
            **spec.to_dict(),
            "document": _document_label(config.doc_image_weight),
            "doc_image_weight": config.doc_image_weight,
        },
        components={"keyword": keyword.describe()},
    )

    def write_files(folder: Path) -> None:
        index.save(folder / INDEX_FILE)
        pq.write_table(products_frame(table.to_list()), folder / PRODUCTS_FILE, compression="zstd")
        keyword.save(folder / KEYWORD_DIR)

    bundle = write_bundle(config.out, manifest, write_files, dataset_card)
    timings["bundle"] = time.perf_counter() - write_started
    if not config.keep_cache:
        shutil.rmtree(cache.folder, ignore_errors=True)
        if config.cache_root.is_dir() and not any(config.cache_root.iterdir()):
            config.cache_root.rmdir()
    timings["total"] = time.perf_counter() - started
    return BuildReport(bundle, source.num_rows, encoder.dim, resumed, bad_images, dict(timings))


def model_manifest(encoder: Encoder) -> dict[str, Any]:
    """The manifest's model section: identity, dimension, build precision and the probe embedding."""
    return {
        "id": encoder.ref.name,
        "revision": encoder.ref.revision,
        "dim": encoder.dim,
        "family": encoder.model_type,
        "build_device": encoder.device,
        "build_dtype": encoder.dtype,
        "probe": {"text": PROBE_TEXT, "vector": encoder.encode_text([PROBE_TEXT])[0].round(6).tolist()},
    }


def _document_label(image_weight: float) -> str:
    if image_weight == 1.0:
        return "image"
    return f"normalise({image_weight:g}·image + {1 - image_weight:g}·text)"
