"""The index build, timed per stage: catalog → one pass (content keys, photos to files) → what changed since the
previous bundle → encoding of what must be (either engine, resumable shards) → document vectors (encoded and
reused) → FAISS index → keyword index → the bundle, assembled from its parts."""

from __future__ import annotations

import logging
import shutil
import time
from collections import defaultdict

import datasets

from search.bundle import Bundle, ModelInfo
from search.catalog.content import RECIPE
from search.catalog.photos import PHOTOS_FOLDER
from search.catalog.products import ProductTable
from search.catalog.schema import ID_COLUMN, CatalogSource, load_catalog
from search.encoding.onnx_files import OnnxExport
from search.encoding.threads import set_threads
from search.indexing.changes import FULL, NO_PREVIOUS, ChangePlan, open_previous, plan_changes, refusal
from search.indexing.config import BuildConfig, BuildReport
from search.indexing.documents import document_vectors
from search.indexing.encoding import Encoding, open_encoding
from search.indexing.output import check_output
from search.indexing.shards import ShardCache
from search.indexing.source import ScannedCatalog, scan_catalog
from search.indexing.spec import EncoderSpec
from search.indexing.unreadable import UnreadableImages
from search.ranking.index import IndexSpec, VectorIndex
from search.ranking.keyword import KeywordIndex, build_keyword_index
from search.understanding.vocabulary import Vocabulary, build_vocabulary

logger = logging.getLogger(__name__)

# The products' document vectors, written next to the shards while the index is built (search.indexing.documents).
DOCUMENT_VECTORS_FILE = "document-vectors.npy"
# The catalog's photos in photo files (search.indexing.source), in the cache folder until the bundle takes them.
STAGED_PHOTOS = PHOTOS_FOLDER


def run_build(config: BuildConfig, encoding: Encoding | None = None) -> BuildReport:
    """Run the whole build and write the bundle to `config.out`; shards make it resumable after Ctrl-C, and the
    previous bundle's vectors are reused for every product whose photo and text are unchanged. `encoding` replaces
    the engine the config names (the scale benchmarks simulate encoding with it).

    Whatever fails, fails before `config.out` changes: the catalog (ids, rows, photos that cannot be read) is
    checked before anything is encoded, unreadable photos stop the encoding once too many, and `Bundle.save` swaps
    the new bundle in only after it verified it in its staging folder.
    """
    check_output(config.out, config.cache_root, config.dataset)
    timings: dict[str, float] = defaultdict(float)
    started = time.perf_counter()
    table, source = load_catalog(config.dataset, config.split, config.dataset_revision, config.limit)
    unreadable = UnreadableImages(source.num_rows, config.max_unreadable_share, lambda rows: product_ids(table, rows))
    timings["load"] = time.perf_counter() - started
    set_threads(config.threads)
    scanning = time.perf_counter()
    catalog = scan_catalog(table, source, config.cache_root / STAGED_PHOTOS, config.encodes_names)
    unreadable.add(catalog.problems)
    timings["catalog"] = time.perf_counter() - scanning

    comparing = time.perf_counter()
    previous, reason = open_previous(config)
    timings["previous"] = time.perf_counter() - comparing
    loading = time.perf_counter()
    encoding = encoding or open_encoding(EncoderSpec.from_config(config), config)
    timings["model"] = time.perf_counter() - loading
    try:
        model = encoding.model
        if previous is not None:
            reason = refusal(previous, model, config.doc_image_weight, catalog.keys)
        plan = plan_changes(catalog.keys, previous, reason)
        if reason:
            (logger.info if reason in (FULL, NO_PREVIOUS) else logger.warning)("Encoding every product: %s.", reason)
        logger.info("Changes: %s", plan.changes.summary())
        cache, resumed = encode_changed(config, catalog, model, plan, encoding, unreadable, timings)
        onnx = encoding.onnx_export() if config.export_onnx else None
    finally:
        encoding.close()
    unreadable.report()
    without_vectors = tuple(sorted(unreadable.rows))

    index_started = time.perf_counter()
    document_file = cache.folder / DOCUMENT_VECTORS_FILE
    reused = (plan.reuse, plan.reuse_from, previous.index()) if previous is not None and len(plan.reuse) else None
    vectors = document_vectors(
        document_file, len(catalog), model.dim, cache, config.doc_image_weight, without_vectors, reused
    )
    del reused
    spec = IndexSpec.for_catalog(len(vectors), config.index_type, dim=vectors.shape[1])
    index = VectorIndex.build(vectors, spec, without_vectors)
    timings["index"] = time.perf_counter() - index_started
    keyword_started = time.perf_counter()
    keyword = build_keyword_index(table)
    vocabulary = build_vocabulary(table)
    timings["keyword"] = time.perf_counter() - keyword_started

    write_started = time.perf_counter()
    save_bundle(config, catalog, model, index, keyword, vocabulary, onnx, plan, without_vectors)
    timings["bundle"] = time.perf_counter() - write_started
    del index, vectors
    document_file.unlink(missing_ok=True)
    shutil.rmtree(config.cache_root / STAGED_PHOTOS, ignore_errors=True)
    if not config.keep_cache:
        shutil.rmtree(cache.folder, ignore_errors=True)
        if config.cache_root.is_dir() and not any(config.cache_root.iterdir()):
            config.cache_root.rmdir()
    timings["total"] = time.perf_counter() - started
    ids = dict(zip(without_vectors, product_ids(table, list(without_vectors)), strict=True))
    lost = {ids[row]: problem for row, problem in unreadable.rows.items()}
    return BuildReport(config.out, source.num_rows, model.dim, resumed, plan.changes, lost, dict(timings))


def encode_changed(
    config: BuildConfig,
    catalog: ScannedCatalog,
    model: ModelInfo,
    plan: ChangePlan,
    encoding: Encoding,
    unreadable: UnreadableImages,
    timings: dict[str, float],
) -> tuple[ShardCache, int]:
    """Encode the rows the plan says into the shard cache (resuming from its finished shards); returns the cache
    and how many rows it already held."""
    settings = shard_settings(config, catalog.source, model, plan.digest(catalog.keys))
    cache = ShardCache(config.cache_root, settings, plan.encode, config.shard_size, unreadable)
    resumed = cache.num_rows - len(cache.missing_rows())
    if resumed:
        logger.info("Resuming: %d of %d products already encoded in %s", resumed, cache.num_rows, cache.folder)
    if resumed < cache.num_rows:
        encoding.encode(cache, catalog, timings)
    return cache, resumed


def shard_settings(config: BuildConfig, source: CatalogSource, model: ModelInfo, rows: str) -> dict[str, object]:
    """Everything that changes the vectors: it keys the shard cache, so a re-run with other settings or other
    products to encode (`rows`: ChangePlan.digest) never reuses stale shards, and the same settings resume either
    engine's."""
    return {
        "dataset": source.dataset,
        "split": source.split,
        "dataset_revision": source.revision,
        "rows": rows,
        "recipe": RECIPE,
        "model": model.id,
        "model_revision": model.revision,
        "device": model.build_device,
        "dtype": model.build_dtype,
        "runtime": model.build_runtime,
        "batch_size": config.batch_size,
        "shard_size": config.shard_size,
        "names": config.encodes_names,
    }


def save_bundle(
    config: BuildConfig,
    catalog: ScannedCatalog,
    model: ModelInfo,
    index: VectorIndex,
    keyword: KeywordIndex,
    vocabulary: Vocabulary,
    onnx: OnnxExport | None,
    plan: ChangePlan,
    without_vectors: tuple[int, ...],
) -> None:
    """Assemble the bundle from its parts and save it to `config.out`. Photos that are not images are emptied
    first (never stored or served); they stay photo files above `--photos-inline-max-mb`, else they are streamed
    into the products table."""
    photos = catalog.photos.blank(without_vectors) if without_vectors else catalog.photos
    inline = catalog.photo_bytes <= config.photos_inline_max_mb * 2**20
    if not inline:
        logger.info("%.0f MB of photos: stored in photo files outside the products table", catalog.photo_bytes / 2**20)
    products = ProductTable.from_catalog(catalog.metadata(), photos, inline_photos=inline)
    bundle = Bundle.assemble(
        model,
        catalog.source.describe(),
        index,
        products,
        keyword,
        onnx,
        vocabulary,
        catalog.keys,
        doc_image_weight=config.doc_image_weight,
        changes=plan.changes,
    )
    bundle.save(config.out)


def product_ids(table: datasets.Dataset, rows: list[int]) -> list[int]:
    """The product ids of some rows (for messages; `load_catalog` checked that every id is one)."""
    return [int(value) for value in table.select_columns([ID_COLUMN]).select(rows).to_dict()[ID_COLUMN]]
