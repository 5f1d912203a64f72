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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
import ray
import ray.data
import torch
from huggingface_hub import HfFileSystem
from tqdm.auto import tqdm
from transformers.image_processing_utils import BaseImageProcessor

from search.bundle import ModelInfo
from search.catalog.images import processor_edge
from search.catalog.schema import (
    ID_COLUMN,
    IMAGE_COLUMN,
    LABEL_TEXT_COLUMNS,
    NAME_COLUMN,
    CatalogSource,
    local_parquet_files,
    product_text,
)
from search.encoding.encoder import Encoder, default_dtype, resolve_model
from search.errors import CatalogError, EngineError, SearchError
from search.indexing.config import BuildConfig
from search.indexing.reader import product_image
from search.indexing.shards import ShardCache

logger = logging.getLogger(__name__)

# Columns the workers read: what the product text and the image need (labels stand in for a missing name).
READ_COLUMNS = [ID_COLUMN, NAME_COLUMN, *LABEL_TEXT_COLUMNS, IMAGE_COLUMN]
HF_SCHEME = "hf://"


@dataclass(frozen=True)
class EncoderSpec:
    """How every encode actor loads the model: one snapshot, one kind of device, one precision."""

    model: str
    revision: str | None
    device: str
    dtype: str
    trust_remote_code: bool
    batch_size: int

    @property
    def gpus(self) -> int:
        return 1 if self.device == "cuda" else 0

    def load(self) -> Encoder:
        return Encoder.load(self.model, self.revision, self.device, self.dtype, self.trust_remote_code)


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


def encoder_spec(
    model: str, revision: str | None, device: str | None, dtype: str | None, trust_remote_code: bool, batch_size: int
) -> EncoderSpec:
    """The encoders' device: CUDA where the cluster has GPUs (one per actor), else CPU; a request the cluster
    cannot meet is refused before anything runs."""
    gpus = int(ray.cluster_resources().get("GPU", 0))
    kind = (device or ("cuda" if gpus else "cpu")).split(":")[0]
    if kind not in ("cuda", "cpu"):
        raise EngineError(f"--engine ray encodes on cuda or cpu, not '{device}'.")
    if kind == "cuda" and not gpus:
        raise EngineError(f"--device {device} was asked for, but the Ray cluster has no GPU; use --device cpu.")
    return EncoderSpec(model, revision, kind, dtype or default_dtype(kind), trust_remote_code, batch_size)


def encoder_count(spec: EncoderSpec) -> int:
    """One actor per GPU; on CPU one per two cores, leaving the rest to decoding."""
    resources = ray.cluster_resources()
    if spec.gpus:
        return int(resources.get("GPU", 1))
    return max(1, int(resources.get("CPU", 2)) // 2)


def describe_model(spec: EncoderSpec, describe: Callable[[Encoder], ModelInfo]) -> ModelInfo:
    """`describe(encoder)` run once where the actors run (same device and dtype): the manifest's model section
    with its probe vector. Also proves the model loads before the pipeline starts."""
    task = ray.remote(num_gpus=spec.gpus, num_cpus=1, max_retries=0)(_describe)
    try:
        return ray.get(task.remote(spec, describe))
    except ray.exceptions.RayTaskError as error:
        if isinstance(error.cause, SearchError):
            raise error.cause from error
        raise


def _describe(spec: EncoderSpec, describe: Callable[[Encoder], ModelInfo]) -> ModelInfo:
    return describe(spec.load())


def parquet_source(source: str, split: str, revision: str | None) -> tuple[list[str], Any] | None:
    """The catalog's parquet files in the order `datasets` loads them, and the filesystem that reads them (None:
    local or shared paths); None when the catalog is not stored as parquet (a save_to_disk folder)."""
    path = Path(source).expanduser()
    if path.exists():
        files = local_parquet_files(path)
        return (files, None) if files else None
    builder = datasets.load_dataset_builder(source, revision=revision)
    files = [str(file) for file in (builder.config.data_files or {}).get(split, [])]
    if not files or not all(file.startswith(HF_SCHEME) and file.endswith(".parquet") for file in files):
        return None
    return [file.removeprefix(HF_SCHEME) for file in files], HfFileSystem()


class RowLookup:
    """Product id → row number for the rows still to encode (-1 for the others), by binary search over sorted
    ids: cheap to ship to every task and needs no per-task index building."""

    def __init__(self, ids: np.ndarray, rows: np.ndarray) -> None:
        order = np.argsort(ids, kind="stable")
        self.ids = ids[order]
        self.rows = rows[order]

    @classmethod
    def for_catalog(cls, table: datasets.Dataset, wanted: list[int]) -> RowLookup:
        """Rows are matched by product id, which must therefore be present and unique."""
        column = table.with_format("arrow")[ID_COLUMN]
        if column.null_count:
            raise CatalogError(f"{column.null_count} products have no id; --engine ray matches rows by product id.")
        ids = column.to_numpy().astype(np.int64)
        values, counts = np.unique(ids, return_counts=True)
        if (counts > 1).any():
            repeated = ", ".join(str(value) for value in values[counts > 1][:5])
            raise CatalogError(f"Product ids repeat in the catalog (e.g. {repeated}); each product needs its own id.")
        wanted_rows = np.asarray(wanted, dtype=np.int64)
        return cls(ids[wanted_rows], wanted_rows)

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
    """Actor: holds one encoder on its device and turns preprocessed batches into image and text vectors."""

    def __init__(self, spec: EncoderSpec) -> None:
        self.encoder = spec.load()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        count = len(batch["row"])
        empty = np.empty((0, self.encoder.dim), dtype=np.float32)
        image = self.encoder.encode_pixels(torch.from_numpy(batch["pixel_values"])) if count else empty
        text = self.encoder.encode_text([str(text) for text in batch["text"]]) if count else empty
        return {"row": batch["row"], "image": image, "text": text, "problem": batch["problem"]}


class ShardAssembler:
    """Vectors arrive from the cluster in any order; each shard is written the moment all its rows are in."""

    def __init__(self, cache: ShardCache) -> None:
        self.cache = cache
        self.pending: dict[int, dict[str, Any]] = {}

    def add(self, rows: np.ndarray, image: np.ndarray, text: np.ndarray, problems: np.ndarray) -> None:
        """Place vectors by row; `problems` says why a row's photo was unreadable ('' when it was read)."""
        shards = rows // self.cache.shard_size
        for shard in np.unique(shards):
            mine = shards == shard
            part = self._part(int(shard), image.shape[1])
            offsets = rows[mine] - self.cache.rows(int(shard)).start
            part["image"][offsets] = image[mine]
            part["text"][offsets] = text[mine]
            part["seen"][offsets] = True
            found = zip(rows[mine].tolist(), problems[mine].tolist(), strict=True)
            part["unreadable"].update({row: str(problem) for row, problem in found if problem})
            if part["seen"].all():
                self.cache.write(int(shard), part["image"], part["text"], part["unreadable"])
                del self.pending[int(shard)]

    def _part(self, shard: int, dim: int) -> dict[str, Any]:
        if shard not in self.pending:
            size = len(self.cache.rows(shard))
            self.pending[shard] = {
                "image": np.zeros((size, dim), dtype=np.float32),
                "text": np.zeros((size, dim), dtype=np.float32),
                "seen": np.zeros(size, dtype=bool),
                "unreadable": {},
            }
        return self.pending[shard]


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
        num_gpus=spec.gpus,
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
        assembler.add(batch["row"], batch["image"], batch["text"], batch["problem"])
        writing += time.perf_counter() - wrote
        progress.update(len(batch["row"]))
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

    def __init__(self, config: BuildConfig, describe: Callable[[Encoder], ModelInfo]) -> None:
        self.started = connect(config.ray_address)
        try:
            self.spec = encoder_spec(
                config.model,
                config.model_revision,
                config.device,
                config.dtype,
                config.trust_remote_code,
                config.batch_size,
            )
            self.model = describe_model(self.spec, describe)
        except BaseException:
            self.close()
            raise

    def model_info(self) -> ModelInfo:
        return self.model

    def encode(
        self, cache: ShardCache, table: datasets.Dataset, source: CatalogSource, timings: dict[str, float]
    ) -> None:
        lookup = RowLookup.for_catalog(table, cache.missing_rows())
        catalog = catalog_dataset(parquet_source(source.dataset, source.split, source.revision), table)
        encode_catalog_ray(cache, catalog, lookup, self.spec, timings, source.root)

    def close(self) -> None:
        """Stop the local cluster this build started; a cluster joined by address keeps running."""
        if self.started:
            ray.shutdown()
            self.started = False
