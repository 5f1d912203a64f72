"""Build throughput, stage by stage (decode / preprocess / read / encode / index) and for the whole pipeline."""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import datasets
import faiss
import torch

from benchmarks.common import Report, throughput
from benchmarks.fixtures import PhotoSet, clustered_vectors
from search.catalog.images import decode_image
from search.catalog.schema import IMAGE_COLUMN
from search.encoding.encoder import Encoder, choose_runtime, default_dtype
from search.fixtures.synthetic import FEATURES, generate_rows
from search.indexing import BuildConfig, run_build
from search.ranking.index import IndexSpec, VectorIndex

logger = logging.getLogger(__name__)


def stages(
    model: Path, photo_sets: list[PhotoSet], batch_size: int, index_vectors: int, variants: list[tuple[str, str]]
) -> Report:
    """Images (or vectors) per second of each build stage alone, in this process."""
    report = Report(
        "build_stages",
        "Build stages, each alone (CPU)",
        ["stage", "input", "per_second", "bound_by"],
        settings={"model": str(model), "batch_size": batch_size, "photos": photo_sets[0].source},
    )
    encoder = Encoder.load(str(model), device="cpu")
    processor = encoder.image_processor
    for photos in photo_sets:
        data = photos.images
        decoded = [decode_image(item) for item in data]
        report.add(
            stage="decode (PIL, 1 process)",
            input=f"{photos.size} JPEG",
            per_second=throughput(lambda d=data: len([decode_image(x) for x in d]), repeats=3)["per_second"],
            bound_by="libjpeg decode",
        )
        report.add(
            stage="preprocess, one image per call",
            input=photos.size,
            per_second=throughput(
                lambda d=decoded: len([processor(images=[x], return_tensors="pt") for x in d]), repeats=3
            )["per_second"],
            bound_by="PIL bicubic resize + NumPy normalise",
        )
        batches = [decoded[i : i + batch_size] for i in range(0, len(decoded), batch_size)]
        report.add(
            stage=f"preprocess, {batch_size} images per call",
            input=photos.size,
            per_second=throughput(
                lambda b=batches: sum(len(processor(images=x, return_tensors="pt")["pixel_values"]) for x in b),
                repeats=3,
            )["per_second"],
            bound_by="PIL bicubic resize + NumPy normalise",
        )
    table = _catalog(len(photo_sets[-1].images), photo_sets[-1].images)
    rows = list(range(len(table)))
    report.add(
        stage="catalog rows, one table[i] per row",
        input="rows",
        per_second=throughput(lambda: len([table[i] for i in rows]), repeats=3)["per_second"],
        bound_by="Arrow → Python per row",
    )
    report.add(
        stage=f"catalog rows, table[rows] per {batch_size}",
        input="rows",
        per_second=throughput(
            lambda: sum(len(table[rows[i : i + batch_size]]["id"]) for i in range(0, len(rows), batch_size)),
            repeats=3,
        )["per_second"],
        bound_by="Arrow take",
    )
    repeated = (decoded * (batch_size // len(decoded) + 1))[:batch_size]
    pixels = processor(images=repeated, return_tensors="pt")["pixel_values"]
    names = [f"Roadster Men Navy Blue Slim Fit Checked Casual Shirt {i}" for i in range(batch_size)]
    for dtype, runtime in variants:
        dtype_encoder = Encoder.load(str(model), device="cpu", dtype=dtype, runtime=runtime)
        label = f"{dtype}, {dtype_encoder.runtime}"
        report.add(
            stage=f"image encode, batch {len(pixels)}, {label}",
            input="224×224 pixels",
            per_second=throughput(lambda e=dtype_encoder: len(e.encode_pixels(pixels)), repeats=2)["per_second"],
            bound_by="GEMM (ViT-B/32: ~4.4 GMAC per image)",
        )
        report.add(
            stage=f"text encode, batch {batch_size}, {label}",
            input="product names",
            per_second=throughput(lambda e=dtype_encoder: len(e.encode_text(names)), repeats=2)["per_second"],
            bound_by="GEMM",
        )
    vectors = clustered_vectors(index_vectors, encoder.dim, seed=5)
    report.add(
        stage="FAISS flat index build",
        input=f"{index_vectors:,} vectors",
        per_second=throughput(lambda: len(VectorIndex.build(vectors, IndexSpec(type="flat"))), repeats=2)["per_second"],
        bound_by="memory copy",
    )
    queries = vectors[:200]
    flat = VectorIndex.build(vectors, IndexSpec(type="flat"))
    for threshold in (128_000, faiss.cvar.distance_compute_blas_threshold):
        with blas_threshold(threshold):
            report.add(
                stage=f"flat search, {len(queries)} queries per call, FAISS BLAS threshold {threshold:,}",
                input=f"{len(vectors):,} vectors",
                per_second=throughput(lambda: len(flat.search(queries, 10)[1]), repeats=2)["per_second"],
                bound_by="distance computations (SIMD loop vs BLAS)",
            )
    report.notes.append(
        "per_second: images, rows or vectors (queries for batched search) per second. 128,000 is this faiss-cpu "
        "build's BLAS threshold; search.ranking.index sets 20."
    )
    return report


@contextmanager
def blas_threshold(value: int) -> Iterator[None]:
    """FAISS's query-count threshold for BLAS, set for the duration of the block."""
    previous = faiss.cvar.distance_compute_blas_threshold
    faiss.cvar.distance_compute_blas_threshold = value
    try:
        yield
    finally:
        faiss.cvar.distance_compute_blas_threshold = previous


def _catalog(count: int, images: list[bytes]) -> datasets.Dataset:
    """A catalog in the dataset's schema whose images are the benchmark photos (cycled), images undecoded."""
    rows = generate_rows(count, seed=7)
    for number, row in enumerate(rows):
        row[IMAGE_COLUMN] = {"bytes": images[number % len(images)], "path": None}
    table = datasets.Dataset.from_list(rows, features=FEATURES)
    return table.cast_column(IMAGE_COLUMN, datasets.Image(decode=False))


def pipeline(
    model: Path,
    photos: PhotoSet,
    products: int,
    work: Path,
    batch_size: int,
    num_workers: int,
    device: str = "cpu",
    dtype: str | None = None,
    runtime: str | None = None,
    doc_image_weight: float = 1.0,
) -> dict[str, float | int | str]:
    """One real `run_build` over a catalog of `products` photos; images/s over read + encode, and wall time.
    `doc_image_weight` < 1 makes the build encode product names too (as every build did before it was needed)."""
    folder = work / f"catalog-{photos.size.replace('×', 'x')}-{products}"
    if not folder.is_dir():
        _catalog(products, photos.images).save_to_disk(str(folder))
    out = work / f"bundle-{device}"
    config = BuildConfig(
        out=out,
        dataset=str(folder),
        model=str(model),
        device=device,
        dtype=dtype,
        batch_size=batch_size,
        num_workers=num_workers,
        cache_dir=work / "cache",
        runtime=runtime,
        doc_image_weight=doc_image_weight,
    )
    started = time.perf_counter()
    report = run_build(config)
    wall = time.perf_counter() - started
    shutil.rmtree(out, ignore_errors=True)
    seconds = report.seconds
    return {
        "device": device,
        "dtype": dtype or ("float16" if device.startswith("cuda") else "float32"),
        "runtime": choose_runtime(runtime, device, dtype or default_dtype(device)),
        "names": "encoded" if config.encodes_names else "skipped",
        "products": products,
        "images": photos.size,
        "batch_size": batch_size,
        "num_workers": num_workers,
        "images_per_s": round(report.images_per_second, 1),
        "waiting_for_reader_s": round(seconds.get("read", 0.0), 2),
        "encode_s": round(seconds.get("encode", 0.0), 2),
        "index_s": round(seconds.get("index", 0.0), 2),
        "wall_s": round(wall, 1),
    }


def whole(
    model: Path,
    photos: PhotoSet,
    products: int,
    work: Path,
    batch_size: int,
    num_workers: int,
    gpu_products: int,
    cpu_variants: list[tuple[str, str, float]],
) -> Report:
    """The whole build (index_build's pipeline) on CPU for each (dtype, runtime, doc_image_weight), and on CUDA in
    fp16 with pinned memory when present."""
    report = Report(
        "build_pipeline",
        "Whole build pipeline (decode + preprocess + encode, images/s)",
        [
            "device",
            "dtype",
            "runtime",
            "names",
            "products",
            "images",
            "batch_size",
            "num_workers",
            "images_per_s",
            "waiting_for_reader_s",
            "encode_s",
            "wall_s",
        ],
        settings={"model": str(model), "photos": photos.source},
    )
    for dtype, runtime, weight in cpu_variants:
        report.add(**pipeline(model, photos, products, work, batch_size, num_workers, "cpu", dtype, runtime, weight))
    if torch.cuda.is_available():
        workers = min(8, max(2, (os.cpu_count() or 2) - 2))
        report.add(**pipeline(model, photos, gpu_products, work, 256, workers, "cuda", "float16"))
        report.notes.append(f"CUDA: {torch.cuda.get_device_name(0)}, fp16, pinned memory, {workers} workers.")
    else:
        report.notes.append("No CUDA device here: the GPU build throughput (target ≥ 3,000 images/s) was not measured.")
    report.notes.append(
        "images_per_s = products / (time waiting for the reader + time encoding), as BuildReport counts it; "
        "waiting_for_reader_s near 0 means the encoder, not decoding, bounds the build. names: product names are "
        "encoded only when --doc-image-weight < 1 (every build encoded them before)."
    )
    return report
