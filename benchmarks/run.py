"""Run the benchmark suite: prints a Markdown table per benchmark and writes JSON results.

    python -m benchmarks.run                 # the full suite (random-weight CLIP ViT-B/32, 44k products, 1M ANN)
    python -m benchmarks.run --quick         # smoke run with a tiny model and small sizes (what the tests run)
    python -m benchmarks.run --only query,ann --out build/benchmarks

Targets and what bounds each number: docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from benchmarks import (
    ann,
    build_throughput,
    cold_start,
    incremental,
    language_cost,
    precision,
    query_latency,
    runtime,
    understanding_cost,
)
from benchmarks.common import Report, write_results
from benchmarks.fixtures import SHARED_PHOTOS, model_folder, photo_sets, synthetic_bundle
from search.encoding.encoder import Encoder
from search.encoding.onnx_runtime import OnnxTowers
from search.engine import SearchEngine

logger = logging.getLogger("benchmarks")

BENCHMARKS = ("query", "understanding", "runtime", "language", "precision", "build", "incremental", "cold_start", "ann")


@dataclass(frozen=True)
class Sizes:
    """How big each benchmark runs: the full suite, or the quick smoke run."""

    model: str
    translator: str
    products: int
    photos: int
    query_repeats: int
    precision_catalog: int
    precision_queries: int
    dtypes: tuple[str, ...]
    build_products: int
    gpu_build_products: int
    batch_size: int
    cold_start_runs: int
    ann_vectors: int
    ann_dim: int
    ann_queries: int
    incremental_encoded: int  # catalog whose changed products are encoded with the model
    incremental_simulated: int  # catalog whose re-run's encoding is simulated (and its memory measured)


FULL = Sizes(
    model="clip-vit-b32",
    translator="marian-opus-mt",
    products=44_000,
    photos=256,
    query_repeats=60,
    precision_catalog=96,
    precision_queries=32,
    dtypes=("float32", "bfloat16", "int8"),
    build_products=512,
    gpu_build_products=16_384,
    batch_size=64,
    cold_start_runs=3,
    ann_vectors=1_000_000,
    ann_dim=512,
    ann_queries=200,
    incremental_encoded=44_000,
    incremental_simulated=1_000_000,
)
QUICK = Sizes(
    model="clip-tiny",
    translator="marian-tiny",
    products=2_000,
    photos=16,
    query_repeats=6,
    precision_catalog=12,
    precision_queries=4,
    dtypes=("float32", "int8"),
    build_products=48,
    gpu_build_products=256,
    batch_size=16,
    cold_start_runs=1,
    ann_vectors=20_000,
    ann_dim=64,
    ann_queries=20,
    incremental_encoded=400,
    incremental_simulated=1_200,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny model, small sizes")
    parser.add_argument("--out", type=Path, default=Path("build/benchmarks"), help="results and cached fixtures")
    parser.add_argument(
        "--only", default=",".join(BENCHMARKS), help=f"comma-separated subset of: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument(
        "--photos", type=Path, default=SHARED_PHOTOS, help="folder of real product JPEGs (generated if missing)"
    )
    parser.add_argument("--ann-vectors", type=int, default=None, help="override the ANN catalog size")
    parser.add_argument(
        "--ann-types", default=",".join(ann.ALL_TYPES), help="comma-separated index types the ANN benchmark builds"
    )
    parser.add_argument(
        "--model",
        default=None,
        help="a CLIP-family checkpoint (Hub id or folder) instead of the random-weight one, e.g. to check int8 "
        "precision on real weights",
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.only.split(",")) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    unknown = sorted(set(args.ann_types.split(",")) - set(ann.ALL_TYPES))
    if unknown:
        parser.error(f"unknown index type(s) {', '.join(unknown)}; choose from {', '.join(ann.ALL_TYPES)}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks in a cheap-to-expensive order; print tables; write JSON to --out."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    sizes = QUICK if args.quick else FULL
    chosen = set(args.only.split(","))
    started = time.perf_counter()
    work = args.out / "work"
    model = Path(args.model) if args.model else model_folder(sizes.model, work)
    full_photos, small_photos = photo_sets(sizes.photos, args.photos)
    logger.info("Photos: %s", full_photos.source)
    reports: list[Report] = []

    lap = time.perf_counter()

    def record(report: Report) -> None:
        """Keep and print a report; its seconds include the set-up it needed."""
        nonlocal lap
        elapsed, lap = round(time.perf_counter() - lap, 3), time.perf_counter()
        report.seconds = report.seconds or elapsed  # a benchmark that gives several reports times each itself
        reports.append(report)
        print(report.table() + "\n", flush=True)

    if chosen & {"query", "understanding", "runtime", "language", "cold_start"}:
        bundle = synthetic_bundle(work / f"bundle-{sizes.model}-{sizes.products}", model, sizes.products)
    if "query" in chosen:
        engine = SearchEngine.load(bundle)
        record(query_latency.run(engine, full_photos, sizes.query_repeats))
        record(query_latency.stages(engine, full_photos, sizes.query_repeats))
        int8 = SearchEngine.load(bundle, encoder=Encoder.load(str(model), device="cpu", dtype="int8"))
        record(query_latency.run(int8, full_photos, sizes.query_repeats, name="query_latency_int8"))
        del engine, int8
    if "understanding" in chosen:
        engine = SearchEngine.load(bundle)
        record(understanding_cost.run(engine, sizes.query_repeats))
        del engine
    if "runtime" in chosen:
        engine = SearchEngine.load(bundle)
        eager = Encoder.load(str(model), device="cpu", runtime="torch")
        record(runtime.queries(engine, eager, full_photos, sizes.query_repeats))
        towers = engine.encoder.towers
        if not isinstance(towers, OnnxTowers):
            raise RuntimeError("The runtime benchmark needs the engine on ONNX Runtime (the CPU default).")
        export = towers.export
        record(runtime.threads(eager, lambda count, spin: OnnxTowers.load(export, count, spin), sizes.query_repeats))
        del engine, eager
    if "language" in chosen:
        record(language_cost.run(bundle, model, sizes.translator, work, sizes.query_repeats))
    if "precision" in chosen:
        record(
            precision.run(model, full_photos, list(sizes.dtypes), sizes.precision_catalog, sizes.precision_queries, 10)
        )
    if "build" in chosen:
        record(
            build_throughput.stages(
                model,
                [full_photos, small_photos],
                sizes.batch_size,
                sizes.products,
                [("float32", "torch"), ("float32", "onnx"), ("int8", "torch")],
            )
        )
        record(
            build_throughput.whole(
                model,
                small_photos,
                sizes.build_products,
                work,
                sizes.batch_size,
                2,
                sizes.gpu_build_products,
                [("float32", "torch", 0.9), ("float32", "auto", 1.0), ("int8", "torch", 1.0)],
            )
        )
    if "incremental" in chosen:
        for report in incremental.run(model, work, sizes.incremental_encoded, encode=True):
            record(report)
        for report in incremental.run(model, work, sizes.incremental_simulated, memory=True):
            record(report)
    if "cold_start" in chosen:
        record(cold_start.run(bundle, sizes.cold_start_runs, with_demo=not args.quick))
    if "ann" in chosen:
        record(ann.flat_codecs(sizes.products, sizes.ann_dim, sizes.ann_queries, work))
        types = tuple(args.ann_types.split(","))
        record(ann.run(args.ann_vectors or sizes.ann_vectors, sizes.ann_dim, sizes.ann_queries, work, types=types))
    path = write_results(args.out, reports, started, args.quick)
    print(f"Wrote {path} ({time.perf_counter() - started:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
