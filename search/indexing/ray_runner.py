"""The build's encoding stage on Ray Data, for catalogs and clusters beyond one process (`--engine ray`).

catalog parquet shards → decode + preprocess (CPU tasks) → encode (actor pool, one GPU per actor where there are
GPUs, `batch_size` rows per device) → the driver writes the same resumable `ShardCache` shards the default engine
writes; the index and the bundle then follow the one build path. Only this module imports Ray, and only the Ray
engine imports this module.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
import ray
import ray.data
import torch
from tqdm.auto import tqdm
from transformers.image_processing_utils import BaseImageProcessor

from search.bundle import ModelInfo
from search.catalog.images import processor_edge
from search.catalog.schema import (
    ID_COLUMN,
    IMAGE_COLUMN,
    LABEL_TEXT_COLUMNS,
    NAME_COLUMN,
    parquet_files,
    product_text,
)
from search.encoding.encoder import default_dtype, model_export, resolve_model
from search.encoding.onnx_files import OnnxExport
from search.errors import CatalogError, EngineError, SearchError
from search.indexing.reader import product_image
from search.indexing.shards import ShardAssembler, ShardCache
from search.indexing.source import ScannedCatalog
from search.indexing.spec import EncoderSpec

logger = logging.getLogger(__name__)

# Columns the workers read: what the product text and the image need (labels stand in for a missing name).
READ_COLUMNS = [ID_COLUMN, NAME_COLUMN, *LABEL_TEXT_COLUMNS, IMAGE_COLUMN]


def gpus(spec: EncoderSpec) -> int:
    """GPUs per encoder: one on CUDA, none on the CPU."""
    return 1 if spec.device == "cuda" else 0


def connect(address: str | None, num_cpus: int | None = None) -> bool:
    """Join the cluster at `address`, or start a local one (on `num_cpus` cores, default all); True when this
    call started Ray."""
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the driver shows one tqdm bar per build instead
    context.verbose_stats_logs = False
    if ray.is_initialized():
        return False
    package = str(Path(__file__).resolve().parents[1])
    try:
        ray.init(
            address=address,
            num_cpus=None if address else num_cpus,
            include_dashboard=False,
            logging_level=logging.WARNING,
            # The cluster's workers import this project's `search` package from the driver's copy.
            runtime_env={"py_modules": [package]},
        )
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise EngineError(
            f"Could not {'join the Ray cluster at ' + address if address else 'start a local Ray cluster'}: {error}"
        ) from error
    return True


def on_cluster(spec: EncoderSpec) -> EncoderSpec:
    """The spec on the cluster's devices: CUDA where the cluster has GPUs (one per actor), else CPU; a request the
    cluster cannot meet is refused before anything runs."""
    cluster_gpus = int(ray.cluster_resources().get("GPU", 0))
    kind = (spec.device or ("cuda" if cluster_gpus else "cpu")).split(":")[0]
    if kind not in ("cuda", "cpu"):
        raise EngineError(f"--engine ray encodes on cuda or cpu, not '{spec.device}'.")
    if kind == "cuda" and not cluster_gpus:
        raise EngineError(f"--device {spec.device} was asked for, but the Ray cluster has no GPU; use --device cpu.")
    return spec.on(kind, spec.dtype or default_dtype(kind))


def encoder_count(spec: EncoderSpec) -> int:
    """One actor per GPU; on CPU one per two cores, leaving the rest to decoding."""
    resources = ray.cluster_resources()
    if gpus(spec):
        return int(resources.get("GPU", 1))
    return max(1, int(resources.get("CPU", 2)) // 2)


def describe_model(spec: EncoderSpec) -> ModelInfo:
    """The manifest's model section, from the model loaded once where the actors run (same device, precision and
    runtime). Also proves the model loads before the pipeline starts."""
    task = ray.remote(num_gpus=gpus(spec), num_cpus=1, max_retries=0)(_describe)
    try:
        return ray.get(task.remote(spec))
    except ray.exceptions.RayTaskError as error:
        if isinstance(error.cause, SearchError):
            raise error.cause from error
        raise


def _describe(spec: EncoderSpec) -> ModelInfo:
    return ModelInfo.of(spec.load())


class RowLookup:
    """Product id → row number for the rows still to encode (-1 for the others), by binary search over sorted
    ids (unique: search.catalog.schema.check_product_ids): cheap to ship to every task and needs no per-task index
    building."""

    def __init__(self, ids: np.ndarray, rows: np.ndarray) -> None:
        order = np.argsort(ids, kind="stable")
        self.ids = ids[order]
        self.rows = rows[order]

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        if not len(self.ids):
            return np.full(len(ids), -1, dtype=np.int64)
        positions = np.searchsorted(self.ids, ids).clip(max=len(self.ids) - 1)
        return np.where(self.ids[positions] == ids, self.rows[positions], -1)


@functools.cache
def _image_processor(spec: EncoderSpec) -> BaseImageProcessor:
    """The model's image processor, loaded once per worker process (Ray reuses workers across tasks)."""
    from transformers import AutoProcessor

    ref = resolve_model(spec.model, spec.revision)
    return AutoProcessor.from_pretrained(ref.path, trust_remote_code=spec.trust_remote_code).image_processor


def preprocess_batch(
    batch: pa.Table, spec: EncoderSpec, lookup: RowLookup, root: Path | None = None
) -> dict[str, np.ndarray]:
    """CPU task: keep the rows still to encode, decode their photos (blank when unreadable, with the reason; image
    paths read from the dataset folder `root`) and preprocess them."""
    rows = lookup(batch.column(ID_COLUMN).to_numpy().astype(np.int64))
    keep = rows >= 0
    records = batch.filter(pa.array(keep)).to_pylist()
    processor = _image_processor(spec)
    decoded = [product_image(record, root, processor_edge(processor)) for record in records]
    images = [image for image, _ in decoded] or [product_image({})[0]]
    pixels = processor(images=images, return_tensors="np")["pixel_values"].astype(np.float32)
    return {
        "row": rows[keep],
        "pixel_values": pixels[: len(records)],
        "text": np.array([product_text(record) for record in records], dtype=object),
        "problem": np.array([problem or "" for _, problem in decoded], dtype=object),
    }


class EncodeActor:
    """Actor: holds one encoder on its device and turns preprocessed batches into vectors as the spec says (image,
    and text only when names are encoded)."""

    def __init__(self, spec: EncoderSpec) -> None:
        self.spec = spec
        self.encoder = spec.load()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        pixels = torch.from_numpy(batch["pixel_values"])
        image, text = self.spec.encode(self.encoder, pixels, [str(text) for text in batch["text"]])
        return {"row": batch["row"], "image": image, "text": text, "problem": batch["problem"]}


def encoded_batches(
    catalog: ray.data.Dataset, spec: EncoderSpec, lookup: RowLookup, root: Path | None = None
) -> Iterable[dict[str, np.ndarray]]:
    """The pipeline: preprocess in CPU tasks, encode in an actor pool, stream the vectors back to the driver."""
    encoders = encoder_count(spec)
    logger.info("Ray: %d %s encoder(s), batch %d per device", encoders, spec.device, spec.batch_size)
    vectors = catalog.map_batches(
        preprocess_batch,  # type: ignore[arg-type]  # fn_kwargs give its other arguments
        batch_format="pyarrow",
        fn_kwargs={"spec": spec, "lookup": lookup, "root": root},
        num_cpus=1,
    ).map_batches(
        EncodeActor,
        fn_constructor_kwargs={"spec": spec},
        batch_size=spec.batch_size,
        batch_format="numpy",
        zero_copy_batch=False,
        concurrency=encoders,
        num_gpus=gpus(spec),
        num_cpus=1,
        # SPREAD puts the encoders on different nodes; it also keeps Ray from fusing the decoding into the
        # encoder actors (fusion needs equal remote arguments), so decoding stays in parallel CPU tasks.
        scheduling_strategy="SPREAD",
    )
    return vectors.iter_batches(batch_size=None, batch_format="numpy")


def catalog_dataset(source: tuple[list[str], Any] | None, table: datasets.Dataset | None) -> ray.data.Dataset:
    """The catalog as a Ray dataset: its parquet shards read by the cluster, else the loaded table itself."""
    if source is not None:
        files, filesystem = source
        return ray.data.read_parquet(files, columns=READ_COLUMNS, filesystem=filesystem)
    if table is None:
        raise ValueError("catalog_dataset needs the catalog's parquet files or its loaded table.")
    logger.info("The catalog is not stored as parquet: the cluster gets this machine's copy (parquet scales).")
    return ray.data.from_arrow(table.select_columns(READ_COLUMNS).with_format("arrow")[:])


def encode_catalog_ray(
    cache: ShardCache,
    catalog: ray.data.Dataset,
    lookup: RowLookup,
    spec: EncoderSpec,
    timings: dict[str, float],
    root: Path | None = None,
) -> None:
    """Encode the rows `lookup` names (those missing from the shard cache) on the Ray cluster."""
    assembler = ShardAssembler(cache)
    todo = len(lookup.rows)
    progress = tqdm(total=cache.num_rows, initial=cache.num_rows - todo, desc="Encoding products (Ray)", unit="img")
    started = time.perf_counter()
    writing = 0.0
    for batch in encoded_batches(catalog, spec, lookup, root):
        wrote = time.perf_counter()
        rows = batch["row"]
        found = zip(rows.tolist(), batch["problem"].tolist(), strict=True)
        assembler.add(rows, batch["image"], batch["text"], {row: str(problem) for row, problem in found if problem})
        writing += time.perf_counter() - wrote
        progress.update(len(rows))
    progress.close()
    if assembler.pending:
        raise CatalogError(
            f"The Ray pipeline returned no vectors for some rows of shard(s) {sorted(assembler.pending)[:5]}: the "
            "parquet files differ from the loaded catalog. Re-run; if it persists, check the dataset files."
        )
    timings["encode"] += time.perf_counter() - started - writing
    timings["write"] += writing


class RayEncoding:
    """The Ray engine (`index_build.py --engine ray`): joins or starts the cluster, loads the model once where
    the encoders run for the manifest's model section, and encodes the rows the shard cache misses."""

    def __init__(self, spec: EncoderSpec, address: str | None) -> None:
        self.started = connect(address)
        try:
            self.spec = on_cluster(spec)
            self.model = describe_model(self.spec)
        except BaseException:
            self.close()
            raise

    def encode(self, cache: ShardCache, catalog: ScannedCatalog, timings: dict[str, float]) -> None:
        source = catalog.source
        rows = np.asarray(cache.missing_rows(), dtype=np.int64)
        lookup = RowLookup(catalog.keys.ids[rows], rows)
        dataset = catalog_dataset(parquet_files(source.dataset, source.split, source.revision), catalog.table)
        encode_catalog_ray(cache, dataset, lookup, self.spec, timings, source.root)

    def onnx_export(self) -> OnnxExport:
        """The driver loads no encoder (they run on the cluster): the export comes from the snapshot."""
        return model_export(self.model.id, self.model.revision, self.spec.trust_remote_code)

    def close(self) -> None:
        """Stop the local cluster this build started; a cluster joined by address keeps running."""
        if self.started:
            ray.shutdown()
            self.started = False
