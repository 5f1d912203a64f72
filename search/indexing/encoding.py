"""Build stage 3: encoding, one pipeline for both engines. One `EncoderSpec` (search.indexing.spec), made from the
build's settings, says how every encoder loads (model, device, precision, runtime) and what it encodes (names or
not); an engine fills the shard cache through the one `ShardAssembler` with the photos and texts of the one catalog
pass (search.indexing.source). The default engine runs here; the Ray engine (search.indexing.ray_runner) runs the
same spec on a cluster."""

from __future__ import annotations

import logging
import time
from typing import Protocol

import numpy as np
from tqdm.auto import tqdm

from search.bundle import ModelInfo
from search.encoding.encoder import encoder_export
from search.encoding.onnx_files import OnnxExport
from search.errors import EngineError
from search.indexing.config import BuildConfig
from search.indexing.reader import batch_loader
from search.indexing.shards import ShardAssembler, ShardCache
from search.indexing.source import ScannedCatalog
from search.indexing.spec import EncoderSpec

logger = logging.getLogger(__name__)


class Encoding(Protocol):
    """Where the catalog is encoded. Both engines fill the same shard cache with the same vectors."""

    model: ModelInfo  # the manifest's model section, from the encoder the vectors come from

    def encode(self, cache: ShardCache, catalog: ScannedCatalog, timings: dict[str, float]) -> None:
        """Encode every row the shard cache still misses."""

    def onnx_export(self) -> OnnxExport:
        """The model's ONNX towers, to put into the bundle."""

    def close(self) -> None:
        """Release what the engine holds (a local Ray cluster)."""


class LocalEncoding:
    """The default engine: DataLoader worker processes decode, one encoder in this process."""

    def __init__(self, spec: EncoderSpec, num_workers: int) -> None:
        self.spec = spec
        self.num_workers = num_workers
        self.encoder = spec.load()
        self.model = ModelInfo.of(self.encoder)

    def encode(self, cache: ShardCache, catalog: ScannedCatalog, timings: dict[str, float]) -> None:
        """Encode every row not yet in the shard cache, in this process."""
        todo = cache.missing_rows()
        loader = batch_loader(
            catalog,
            todo,
            self.encoder.image_processor,
            self.spec.batch_size,
            self.num_workers,
            pin_memory=self.encoder.device.startswith("cuda"),
        )
        assembler = ShardAssembler(cache)
        progress = tqdm(total=cache.num_rows, initial=cache.num_rows - len(todo), desc="Encoding products", unit="img")
        waited = time.perf_counter()
        for rows, pixels, texts, unreadable in loader:
            started = time.perf_counter()
            timings["read"] += started - waited
            image, text = self.spec.encode(self.encoder, pixels, texts)
            encoded = time.perf_counter()
            timings["encode"] += encoded - started
            assembler.add(np.asarray(rows), image, text, unreadable)
            progress.update(len(rows))
            waited = time.perf_counter()
            timings["write"] += waited - encoded
        progress.close()

    def onnx_export(self) -> OnnxExport:
        return encoder_export(self.encoder, self.spec.trust_remote_code)

    def close(self) -> None:
        """Nothing to release: the encoder goes with this object."""


def open_encoding(spec: EncoderSpec, config: BuildConfig) -> Encoding:
    """The engine `config.engine` names. Ray is an optional extra, imported only here and only for `ray`."""
    if config.engine != "ray":
        return LocalEncoding(spec, config.num_workers)
    try:
        from search.indexing.ray_runner import RayEncoding
    except ImportError as error:
        raise EngineError(
            f"--engine ray needs Ray Data ({error}): pip install -r requirements-scale.txt, or build without "
            "--engine ray."
        ) from error
    return RayEncoding(spec, config.ray_address)
