"""Re-running the build after 1% of the catalog changed, against building it from scratch.

    python -m benchmarks.run --only incremental              # 44k (changes encoded for real) and 1M (simulated)
    python -m benchmarks.incremental --products 1000000 [--encode] [--share 0.01] [--out build/benchmarks]

A generated catalog in the dataset's schema (benchmarks.scale_build.write_catalog: parquet files, 60×80 JPEGs) is
built once with its encoding simulated (benchmarks.fixtures.SimulatedEncoding: encoding all of it on these 2
cores would take hours); then `share` of its products change (40 % a new photo, 20 % a corrected name, 20 % a label
only, 10 % new products, 10 % retired ones) and `run_build` re-runs on the same `--out`, reusing the bundle there.
With `--encode` the re-run encodes the changed products with the real model (the 44k case: what a maintainer
waits for); without, its encoding is simulated too and what is timed is everything after encoding (the 1M case).
A full CPU build of the catalog is estimated from the re-run's own measured images/s. With `--memory`, a fresh
process (benchmarks.build_memory) then rebuilds the first catalog from its kept shards and reports the build's
peak memory per stage.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks.common import Report, write_results
from benchmarks.fixtures import SimulatedEncoding, model_folder
from benchmarks.scale_build import write_catalog
from search.bundle import read_manifest
from search.indexing import BuildConfig, BuildReport, run_build
from search.indexing.spec import EncoderSpec

logger = logging.getLogger(__name__)

# How a day's changes split: new photo, corrected name, label only, new products, retired products.
MIX = {"photo": 0.4, "text": 0.2, "labels": 0.2, "added": 0.1, "removed": 0.1}
REPO = Path(__file__).resolve().parent.parent


def change_catalog(source: Path, target: Path, share: float, seed: int = 0) -> dict[str, int]:
    """Copy the parquet catalog in `source` to `target` with `share` of its products changed (file by file, one
    file in memory at a time); returns how many of each kind of change were made."""
    files = sorted(source.glob("*.parquet"))
    total = sum(pq.ParquetFile(file).metadata.num_rows for file in files)
    rng = np.random.default_rng(seed)
    counts = {kind: max(1, round(total * share * part)) for kind, part in MIX.items()}
    chosen = rng.permutation(total)
    picks, start = {}, 0
    for kind in ("photo", "text", "labels", "removed"):
        picks[kind] = np.sort(chosen[start : start + counts[kind]])
        start += counts[kind]
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    offset, next_id = 0, None
    for number, file in enumerate(files):
        table = pq.read_table(file)
        rows = len(table)

        def local(kind: str, rows: int = rows, offset: int = offset) -> np.ndarray:
            found = picks[kind][(picks[kind] >= offset) & (picks[kind] < offset + rows)]
            return found - offset

        photos = np.arange(rows)
        photos[local("photo")] = (local("photo") + 1) % rows  # the next product's photo: other bytes
        table = table.set_column(table.schema.get_field_index("image"), "image", table["image"].take(photos))
        table = _relabel(table, "productDisplayName", local("text"), " (corrected)")
        table = _relabel(table, "usage", local("labels"), " Edition")
        keep = np.ones(rows, dtype=bool)
        keep[local("removed")] = False
        table = table.filter(pa.array(keep))
        ids = pc.cast(table["id"], pa.int64())
        next_id = max(next_id or 0, int(pc.max(ids).as_py()) + 1)
        if number == len(files) - 1:
            added = table.slice(0, counts["added"])
            added = added.set_column(
                0, "id", pa.array(np.arange(next_id, next_id + len(added)), table.schema.field("id").type)
            )
            shifted = (np.arange(len(added)) + 2) % len(table)
            added = added.set_column(added.schema.get_field_index("image"), "image", table["image"].take(shifted))
            table = pa.concat_tables([table, added])
        pq.write_table(table, target / file.name, use_dictionary=False)
        offset += rows
    return counts


def _relabel(table: pa.Table, column: str, rows: np.ndarray, suffix: str) -> pa.Table:
    values = table[column].to_pylist()
    for row in rows.tolist():
        values[row] = f"{values[row] or ''}{suffix}"
    return table.set_column(
        table.schema.get_field_index(column), column, pa.array(values, table.schema.field(column).type)
    )


def encoding_seconds(report: BuildReport) -> float:
    """Seconds the build spent reading photos to encode, encoding them and writing the shards."""
    return sum(report.seconds.get(name, 0.0) for name in ("read", "encode", "write"))


def stage_row(what: str, report: BuildReport, wall: float) -> dict[str, object]:
    seconds = report.seconds
    encoding = encoding_seconds(report)
    return {
        "run": what,
        "encoded": report.changes.encoded,
        "reused": report.changes.reused,
        "catalog_s": round(seconds.get("load", 0.0) + seconds.get("catalog", 0.0), 1),
        "previous_s": round(seconds.get("previous", 0.0), 1),
        "model_s": round(seconds.get("model", 0.0), 1),
        "encode_s": round(encoding, 1),
        "index_s": round(seconds.get("index", 0.0), 1),
        "keyword_s": round(seconds.get("keyword", 0.0), 1),
        "bundle_s": round(seconds.get("bundle", 0.0), 1),
        "total_s": round(wall, 1),
        "after_encoding_s": round(wall - encoding, 1),
    }


def run(
    model: Path, work: Path, products: int, share: float = 0.01, encode: bool = False, memory: bool = False
) -> list[Report]:
    """The first build (encoding simulated), the re-run after `share` changed, and optionally the build's memory."""
    first_catalog = write_catalog(work / f"catalog-{products}", products)
    changed = work / f"catalog-{products}-changed-{share:g}"
    counts = change_catalog(first_catalog, changed, share)
    out = work / f"incremental-{products}"
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(out.parent / f"{out.name}.cache", ignore_errors=True)
    first = BuildConfig(out=out, dataset=str(first_catalog), model=str(model), keep_cache=True)
    spec = EncoderSpec.from_config(first)
    simulated = SimulatedEncoding(spec, products + counts["added"], work)
    started = time.perf_counter()
    full = run_build(first, simulated)
    full_wall = time.perf_counter() - started
    again = BuildConfig(out=out, dataset=str(changed), model=str(model))
    started = time.perf_counter()
    rerun = run_build(again, None if encode else simulated)
    rerun_wall = time.perf_counter() - started
    report = Report(
        f"incremental_{products}",
        f"Re-running the build after {share:.0%} of {products:,} products changed"
        f" ({'changes encoded with the model' if encode else 'encoding simulated'})",
        [
            "run",
            "encoded",
            "reused",
            "catalog_s",
            "previous_s",
            "model_s",
            "encode_s",
            "index_s",
            "keyword_s",
            "bundle_s",
            "total_s",
            "after_encoding_s",
        ],
        settings={
            "products": products,
            "share": share,
            "changes": counts,
            "model": model.name,
            "index": read_manifest(out).index.type,
        },
    )
    report.seconds = round(full_wall + rerun_wall, 3)
    report.add(**stage_row("first build (encoding simulated)", full, full_wall))
    report.add(**stage_row("re-run after the change", rerun, rerun_wall))
    report.notes.append(f"changes: {rerun.changes.summary()}")
    if encode and rerun.images_per_second:
        estimate = products / rerun.images_per_second + full_wall - encoding_seconds(full)
        report.settings["full_cpu_build_estimate_s"] = round(estimate)
        report.notes.append(
            f"a full CPU build at the re-run's {rerun.images_per_second:.1f} images/s: ~{estimate:,.0f} s "
            f"(encoding {products:,} photos plus the first build's other stages); the re-run took "
            f"{rerun_wall / estimate:.1%} of it"
        )
    reports = [report]
    if memory:
        reports.append(build_memory(first_catalog, model, out, products))
    return reports


def build_memory(catalog: Path, model: Path, out: Path, products: int, checkout: Path = REPO) -> Report:
    """A fresh process of `checkout` rebuilds `catalog` from its kept shards (nothing encoded): peak MB per stage."""
    command = [
        sys.executable,
        str(REPO / "benchmarks" / "build_memory.py"),
        "--dataset",
        str(catalog),
        "--model",
        str(model),
        "--out",
        str(out),
        "--full",
    ]
    env = {**os.environ, "PYTHONPATH": str(checkout), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    report = Report(
        f"build_memory_{products}",
        f"The build's memory at {products:,} products, every stage after encoding (fresh process, code of "
        f"{code_version(checkout)})",
        ["stage", "seconds", "peak_anon_mb", "peak_rss_mb"],
        settings={"checkout": str(checkout), "vm_hwm_mb": measured["vm_hwm_mb"]},
    )
    report.seconds = measured["seconds"]
    for stage, values in measured["stages"].items():
        report.add(stage=stage, **values)
    return report


def code_version(checkout: Path) -> str:
    """The commit a checkout is at (short), or its folder name outside git."""
    done = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or checkout.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--share", type=float, default=0.01, help="share of the products changed")
    parser.add_argument("--encode", action="store_true", help="encode the changed products with the model")
    parser.add_argument("--memory", action="store_true", help="then measure the build's memory in a fresh process")
    parser.add_argument("--config", default="clip-vit-b32", help="model architecture (random weights)")
    parser.add_argument("--out", type=Path, default=Path("build/benchmarks"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    work = args.out / "work"
    reports = run(model_folder(args.config, work), work, args.products, args.share, args.encode, args.memory)
    for report in reports:
        print(report.table(), "\n", flush=True)
    write_results(args.out / f"incremental-{args.products}", reports, started, quick=False)


if __name__ == "__main__":
    main()
