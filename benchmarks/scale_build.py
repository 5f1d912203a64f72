"""A million-product build and bundle on this machine: every stage after encoding, timed, and the bundle it gives.

    python -m benchmarks.scale_build [--products 1000000] [--out build/benchmarks/scale]

Encoding a million photos on 2 CPU cores would take about a day and a half (docs/BENCHMARKS.md: ~8 images/s), so
`run_build` gets a simulated encoding stage (benchmarks.fixtures.SimulatedEncoding: clustered synthetic vectors
written to the shard cache) and runs every other stage for real on a generated catalog of `--products` rows in
the dataset's schema (parquet shards, 60×80 JPEG photos drawn from a pool of 8,192). Then a fresh process loads
the bundle and answers one text query (cold start, peak memory), and this process measures vector searches
through the engine with and without filters.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks import cold_start
from benchmarks.common import Report, percentiles, time_each, write_results
from benchmarks.fixtures import SimulatedEncoding, model_folder, query_vectors
from search.engine import SearchEngine
from search.fixtures.synthetic import FEATURES, generate_rows
from search.indexing import BuildConfig, run_build
from search.indexing.spec import EncoderSpec

logger = logging.getLogger(__name__)

ROWS_PER_PARQUET = 65_536
PHOTO_POOL = 8_192
FILTERS = {"none": None, "gender=Men": {"gender": "Men"}, "Boots, Men": {"articleType": "Boots", "gender": "Men"}}


def write_catalog(folder: Path, products: int) -> Path:
    """Parquet shards in the dataset's schema: generated rows repeated with fresh ids (no dictionary encoding, so
    the files are as large as distinct photos would make them)."""
    if folder.is_dir() and any(folder.glob("*.parquet")):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    pool = generate_rows(min(PHOTO_POOL, products), seed=1)
    files = -(-products // ROWS_PER_PARQUET)
    for number, start in enumerate(range(0, products, ROWS_PER_PARQUET)):
        stop = min(start + ROWS_PER_PARQUET, products)
        rows = [{**pool[row % len(pool)], "id": 10_000 + row} for row in range(start, stop)]
        table = pa.Table.from_pylist(rows, schema=FEATURES.arrow_schema)
        pq.write_table(table, folder / f"train-{number:05d}-of-{files:05d}.parquet", use_dictionary=False)
    return folder


def run(products: int, work: Path, queries: int = 100, keep_cache: bool = False) -> list[Report]:
    catalog = write_catalog(work / f"catalog-{products}", products)
    model = model_folder("clip-vit-b32", work)
    out = work / f"bundle-{products}"
    config = BuildConfig(out=out, dataset=str(catalog), model=str(model), device="cpu", keep_cache=keep_cache)
    encoding = SimulatedEncoding(EncoderSpec.from_config(config), products, work)
    started = time.perf_counter()
    report = run_build(config, encoding)
    build = Report(
        "scale_build",
        f"Build stages at {products:,} products (encoding simulated: synthetic vectors written to the shards)",
        ["stage", "seconds"],
        settings={"products": products, "index": str(json.loads((out / "manifest.json").read_text())["index"])},
    )
    for stage, seconds in report.seconds.items():
        build.add(stage=stage, seconds=round(seconds, 1))
    build.seconds = time.perf_counter() - started
    files = Report("scale_bundle", f"The {products:,}-product bundle on disk", ["file", "mb", "bytes_per_product"])
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        size = path.stat().st_size
        files.add(file=str(path.relative_to(out)), mb=round(size / 2**20, 1), bytes_per_product=round(size / products))
    start = cold_start.library(out, runs=1)[0]
    serve = Report(
        "scale_serve",
        f"Serving {products:,} products: cold start (fresh process) and vector searches through the engine, k=10",
        ["what", "p50_ms", "p95_ms", "n"],
        settings={"cold_start": start},
    )
    engine = SearchEngine.load(out)
    probes = query_vectors(queries, products, 512, seed=0)
    for name, filters in FILTERS.items():
        stats = percentiles(time_each(lambda v, f=filters: engine.search_vector(v, 10, f), list(probes)))
        serve.add(what=f"search_vector, filter {name}", p50_ms=stats["p50_ms"], p95_ms=stats["p95_ms"], n=stats["n"])
    return [build, files, serve]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("build/benchmarks/scale"))
    parser.add_argument(
        "--keep-cache",
        action="store_true",
        help="keep the filled shard cache (<bundle>.cache), so index_build.py --full can rebuild from it alone",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    reports = run(args.products, args.out / "work", keep_cache=args.keep_cache)
    for report in reports:
        print(report.table(), "\n", flush=True)
    write_results(args.out, reports, started, quick=False)


if __name__ == "__main__":
    main()
