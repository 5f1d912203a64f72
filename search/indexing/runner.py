"""The index build: catalog → (reader → encoder → shards) → vectors → FAISS index → bundle, timed per stage."""

from __future__ import annotations

import logging
import shutil
import time
from collections import defaultdict
from pathlib import Path
from typing import Protocol

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tqdm.auto import tqdm

from search.bundle import (
    PROBE_TEXT,
    Bundle,
    Components,
    DatasetInfo,
    IndexInfo,
    KeywordInfo,
    Manifest,
    ModelInfo,
    PhotosInfo,
    Probe,
    onnx_info,
)
from search.bundle import code_version as current_code_version
from search.catalog.photos import PHOTOS_FOLDER, ROWS_PER_FILE
from search.catalog.products import ProductTable
from search.catalog.schema import ID_COLUMN, IMAGE_COLUMN, CatalogSource, load_catalog
from search.encoding.encoder import Encoder, model_export
from search.encoding.threads import set_threads
from search.encoding.vectors import mix_label
from search.errors import EngineError
from search.indexing.config import BuildConfig, BuildReport
from search.indexing.fingerprint import catalog_fingerprint
from search.indexing.output import check_output
from search.indexing.reader import Unreadable, batch_loader, stored_image
from search.indexing.shards import ShardCache
from search.indexing.unreadable import UnreadableImages
from search.ranking.index import IndexSpec, VectorIndex
from search.ranking.keyword import build_keyword_index
from search.understanding.vocabulary import build_vocabulary

logger = logging.getLogger(__name__)

# The products' document vectors, written next to the shards while the index is built (search.indexing.shards).
DOCUMENT_VECTORS_FILE = "document-vectors.npy"


class Encoding(Protocol):
    """Where the catalog is encoded. Both engines fill the same shard cache with the same vectors."""

    def model_info(self) -> ModelInfo:
        """The manifest's model section, from the encoder the vectors come from."""

    def encode(
        self, cache: ShardCache, table: datasets.Dataset, source: CatalogSource, timings: dict[str, float]
    ) -> None:
        """Encode every row the shard cache still misses."""

    def close(self) -> None:
        """Release what the engine holds (a local Ray cluster)."""


class LocalEncoding:
    """The default engine: DataLoader worker processes decode, one encoder in this process."""

    def __init__(self, config: BuildConfig) -> None:
        self.config = config
        self.encoder = Encoder.load(
            config.model, config.model_revision, config.device, config.dtype, config.trust_remote_code, config.runtime
        )

    def model_info(self) -> ModelInfo:
        return model_info(self.encoder)

    def encode(
        self, cache: ShardCache, table: datasets.Dataset, source: CatalogSource, timings: dict[str, float]
    ) -> None:
        encode_catalog(self.config, self.encoder, cache, table, source, timings)

    def close(self) -> None:
        """Nothing to release: the encoder goes with this object."""


def open_encoding(config: BuildConfig) -> Encoding:
    """The engine `config.engine` names. Ray is an optional extra, imported only here and only for `ray`."""
    if config.engine != "ray":
        return LocalEncoding(config)
    try:
        from search.indexing.ray_runner import RayEncoding
    except ImportError as error:
        raise EngineError(
            f"--engine ray needs Ray Data ({error}): pip install -r requirements-scale.txt, or build without "
            "--engine ray."
        ) from error
    return RayEncoding(config, model_info)


def encode_catalog(
    config: BuildConfig,
    encoder: Encoder,
    cache: ShardCache,
    table: datasets.Dataset,
    source: CatalogSource,
    timings: dict[str, float],
) -> None:
    """Encode every row not yet in the shard cache, in this process (image paths read from `source.root`)."""
    todo = cache.missing_rows()
    loader = batch_loader(
        table,
        todo,
        encoder.image_processor,
        config.batch_size,
        config.num_workers,
        pin_memory=encoder.device.startswith("cuda"),
        root=source.root,
    )
    pending: dict[int, list[tuple[list[int], np.ndarray, np.ndarray, Unreadable]]] = defaultdict(list)
    progress = tqdm(total=cache.num_rows, initial=cache.num_rows - len(todo), desc="Encoding products", unit="img")
    waited = time.perf_counter()
    for rows, pixels, texts, bad in loader:
        started = time.perf_counter()
        timings["read"] += started - waited
        image_vectors = encoder.encode_pixels(pixels)
        text_vectors = encoder.encode_text(texts) if config.encodes_names else np.empty((len(rows), 0), np.float32)
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
                {row: problem for part in parts for row, problem in part[3].items()},
            )
        progress.update(len(rows))
        waited = time.perf_counter()
        timings["write"] += waited - encoded
    progress.close()


def shard_settings(config: BuildConfig, source: CatalogSource, model: ModelInfo, fingerprint: str) -> dict[str, object]:
    """Everything that changes the vectors: it keys the shard cache, so a re-run with other settings, a catalog
    changed in place (its content `fingerprint`) or the other engine on other hardware never reuses stale shards,
    and the same settings resume either engine's."""
    return {
        "dataset": source.dataset,
        "split": source.split,
        "dataset_revision": source.revision,
        "rows": source.num_rows,
        "catalog": fingerprint,
        "model": model.id,
        "model_revision": model.revision,
        "device": model.build_device,
        "dtype": model.build_dtype,
        "batch_size": config.batch_size,
        "shard_size": config.shard_size,
        "names": config.encodes_names,
    }


def encode_to_shards(
    config: BuildConfig,
    table: datasets.Dataset,
    source: CatalogSource,
    unreadable: UnreadableImages,
    timings: dict[str, float],
) -> tuple[ShardCache, ModelInfo, int]:
    """Fill the shard cache with the chosen engine; returns the cache, the model section and the resumed rows.
    Stops (CatalogError) once more photos are unreadable than `unreadable` allows."""
    fingerprint = catalog_fingerprint(table, source.root)
    encoding = open_encoding(config)
    try:
        model = encoding.model_info()
        settings = shard_settings(config, source, model, fingerprint)
        cache = ShardCache(config.cache_root, settings, source.num_rows, config.shard_size, unreadable)
        resumed = cache.num_rows - len(cache.missing_rows())
        if resumed:
            logger.info("Resuming: %d of %d products already encoded in %s", resumed, cache.num_rows, cache.folder)
        if resumed < cache.num_rows:
            encoding.encode(cache, table, source, timings)
    finally:
        encoding.close()
    return cache, model, resumed


def run_build(config: BuildConfig) -> BuildReport:
    """Run the whole build and write the bundle to `config.out`; shards make it resumable after Ctrl-C.

    Whatever fails, fails before `config.out` changes: the catalog (ids, rows) is checked before anything is
    encoded, unreadable photos stop the encoding once too many, and `Bundle.save` swaps the new bundle in only
    after it has loaded back from its staging folder.
    """
    check_output(config.out, config.cache_root, config.dataset)
    timings: dict[str, float] = defaultdict(float)
    started = time.perf_counter()
    table, source = load_catalog(config.dataset, config.split, config.dataset_revision, config.limit)
    unreadable = UnreadableImages(source.num_rows, config.max_unreadable_share, lambda rows: product_ids(table, rows))
    timings["load"] = time.perf_counter() - started
    set_threads(config.threads)
    cache, model, resumed = encode_to_shards(config, table, source, unreadable, timings)
    unreadable.report()
    without_vectors = tuple(sorted(unreadable.rows))

    index_started = time.perf_counter()
    document_file = cache.folder / DOCUMENT_VECTORS_FILE
    vectors = cache.document_vectors(document_file, model.dim, config.doc_image_weight, without_vectors)
    spec = IndexSpec.for_catalog(len(vectors), config.index_type, dim=vectors.shape[1])
    index = VectorIndex.build(vectors, spec, without_vectors)
    timings["index"] = time.perf_counter() - index_started
    keyword_started = time.perf_counter()
    keyword = build_keyword_index(table)
    vocabulary = build_vocabulary(table)
    timings["keyword"] = time.perf_counter() - keyword_started

    write_started = time.perf_counter()
    products = ProductTable.from_catalog(stored_photos(table.with_format("arrow")[:], source.root, unreadable.rows))
    onnx = model_export(model.id, model.revision, config.trust_remote_code) if config.export_onnx else None
    manifest = Manifest(
        model=model,
        dataset=DatasetInfo(
            id=source.dataset,
            revision=source.revision,
            split=source.split,
            num_rows=source.num_rows,
            unreadable_images=len(without_vectors),
        ),
        index=index_info(spec, config.doc_image_weight, without_vectors),
        components=Components(
            keyword=KeywordInfo(**keyword.describe()),
            photos=photos_info(products, config),
            onnx=onnx_info(onnx) if onnx else None,
            vocabulary=vocabulary.describe(),
        ),
        code_version=current_code_version(),
    )
    Bundle(manifest, index, products, keyword, onnx, vocabulary).save(config.out)
    timings["bundle"] = time.perf_counter() - write_started
    del index, vectors
    document_file.unlink(missing_ok=True)
    if not config.keep_cache:
        shutil.rmtree(cache.folder, ignore_errors=True)
        if config.cache_root.is_dir() and not any(config.cache_root.iterdir()):
            config.cache_root.rmdir()
    timings["total"] = time.perf_counter() - started
    ids = dict(zip(without_vectors, product_ids(table, list(without_vectors)), strict=True))
    lost = {ids[row]: problem for row, problem in unreadable.rows.items()}
    return BuildReport(config.out, source.num_rows, model.dim, resumed, lost, dict(timings))


def stored_photos(catalog: pa.Table, root: Path | None, unreadable: Unreadable) -> pa.Table:
    """The catalog with each photo as the bytes to store: read from its file where the catalog gives a path, none
    where it cannot be read (a file that is not an image is never stored or served). Column-wise: only rows given
    by path become Python objects."""
    image = catalog[IMAGE_COLUMN].combine_chunks()
    data, paths = pc.struct_field(image, "bytes"), pc.struct_field(image, "path")
    by_path = pc.and_(pc.is_null(data), pc.is_valid(paths))
    if pc.any(by_path).as_py():
        files = [stored_image({"bytes": None, "path": path}, root)[0] for path in paths.filter(by_path).to_pylist()]
        data = pc.replace_with_mask(data, by_path, pa.array(files, pa.binary()))
    readable = np.ones(len(catalog), dtype=bool)
    readable[list(unreadable)] = False
    data = pc.if_else(pa.array(readable), data, pa.scalar(None, pa.binary()))
    photos = pa.StructArray.from_arrays([data, pa.nulls(len(catalog), pa.string())], names=["bytes", "path"])
    return catalog.set_column(catalog.schema.get_field_index(IMAGE_COLUMN), IMAGE_COLUMN, photos)


def product_ids(table: datasets.Dataset, rows: list[int]) -> list[int]:
    """The product ids of some rows (for messages; `load_catalog` checked that every id is one)."""
    return [int(value) for value in table.select_columns([ID_COLUMN]).select(rows).to_dict()[ID_COLUMN]]


def photos_info(products: ProductTable, config: BuildConfig) -> PhotosInfo | None:
    """Photos stay in the products table up to `photos_inline_max_mb`; above, they go to sharded photo files."""
    if products.photo_bytes <= config.photos_inline_max_mb * 2**20:
        return None
    files = -(-len(products) // ROWS_PER_FILE)
    megabytes = products.photo_bytes / 2**20
    logger.info("%.0f MB of photos: stored in %d photo file(s) outside the products table", megabytes, files)
    return PhotosInfo(folder=PHOTOS_FOLDER, files=files, rows_per_file=ROWS_PER_FILE)


def model_info(encoder: Encoder) -> ModelInfo:
    """The manifest's model section: identity, dimension, build precision and the probe embedding."""
    return ModelInfo(
        id=encoder.ref.name,
        revision=encoder.ref.revision,
        dim=encoder.dim,
        family=encoder.model_type,
        build_device=encoder.device,
        build_dtype=encoder.dtype,
        probe=Probe(text=PROBE_TEXT, vector=tuple(encoder.encode_text([PROBE_TEXT])[0].round(6).tolist())),
    )


def index_info(spec: IndexSpec, doc_image_weight: float, without_vectors: tuple[int, ...] = ()) -> IndexInfo:
    """The manifest's index section: the FAISS spec, what a product vector is and which rows have none."""
    return IndexInfo(
        type=spec.type,
        metric="inner_product",
        params=dict(spec.params),
        document=mix_label(doc_image_weight),
        doc_image_weight=doc_image_weight,
        rows_without_vectors=without_vectors,
    )
