"""The peak memory of one index build, stage by stage, in a fresh process:

    python -m benchmarks.build_memory --dataset DIR --model DIR --out BUNDLE [--full]

runs `run_build` here with a thread reading /proc/self/status every 0.2 s (RssAnon: the process's own memory;
VmRSS: with the file pages it maps) and prints one JSON line: each stage's seconds and peak MB, and VmHWM. It uses
only `search.indexing.BuildConfig` and `run_build`, so the same file measures another checkout too
(`PYTHONPATH=/that/checkout python /this/checkout/benchmarks/build_memory.py ...`): before/after in one table.
With a shard cache left by `benchmarks.scale_build --keep-cache` (or `benchmarks.incremental`), nothing is encoded:
what is measured is every stage after encoding.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from dataclasses import fields
from pathlib import Path

# index, keyword and bundle run back to back at the end of a build: their windows are counted back from its end.
LAST_STAGES = ("index", "keyword", "bundle")
FIRST_STAGES = ("load", "catalog", "previous", "model")


def status_mb() -> dict[str, float]:
    """VmRSS, RssAnon and VmHWM of this process, in MB."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "RssAnon", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values


class Sampler(threading.Thread):
    """(seconds since start, RssAnon MB, VmRSS MB) every `interval` seconds until stopped."""

    def __init__(self, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.started = time.perf_counter()
        self.samples: list[tuple[float, float, float]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.interval):
            now = status_mb()
            self.samples.append((time.perf_counter() - self.started, now["RssAnon"], now["VmRSS"]))


def stage_windows(seconds: dict[str, float], end: float) -> dict[str, tuple[float, float]]:
    """Each stage's (start, end) in seconds since the build started: the first ones counted from the start, the
    last ones back from the end, encoding (and the model's loading) in between."""
    windows: dict[str, tuple[float, float]] = {}
    clock = 0.0
    for name in FIRST_STAGES:
        windows[name] = (clock, clock + seconds.get(name, 0.0))
        clock += seconds.get(name, 0.0)
    tail = end
    for name in reversed(LAST_STAGES):
        windows[name] = (tail - seconds.get(name, 0.0), tail)
        tail -= seconds.get(name, 0.0)
    windows["encode"] = (clock, tail)
    return {name: windows[name] for name in (*FIRST_STAGES, "encode", *LAST_STAGES)}


def measure(argv: list[str] | None = None) -> dict[str, object]:
    from search.indexing import BuildConfig, run_build

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--full", action="store_true", help="encode (or resume) everything; reuse no bundle")
    args = parser.parse_args(argv)
    # The shards stay, so that the next measurement resumes from them too.
    settings: dict[str, object] = {"out": args.out, "dataset": args.dataset, "model": args.model, "keep_cache": True}
    if args.full and "full" in {field.name for field in fields(BuildConfig)}:
        settings["full"] = True
    sampler = Sampler()
    sampler.start()
    report = run_build(BuildConfig(**settings))  # type: ignore[arg-type]
    end = time.perf_counter() - sampler.started
    sampler.done.set()
    sampler.join()
    stages = {}
    for name, (start, stop) in stage_windows(report.seconds, end).items():
        if name != "encode" and name not in report.seconds:
            continue  # a stage an older checkout does not time
        # A stage shorter than the sampling interval gets the sample nearest to it.
        inside = [sample for sample in sampler.samples if start <= sample[0] <= stop]
        inside = inside or [min(sampler.samples, key=lambda sample: abs(sample[0] - (start + stop) / 2))]
        stages[name] = {
            "seconds": round(stop - start, 1),
            "peak_anon_mb": round(max(sample[1] for sample in inside)),
            "peak_rss_mb": round(max(sample[2] for sample in inside)),
        }
    return {
        "products": report.products,
        "seconds": round(end, 1),
        "stages": stages,
        "peak_anon_mb": round(max(sample[1] for sample in sampler.samples)),
        "vm_hwm_mb": round(status_mb()["VmHWM"]),
    }


if __name__ == "__main__":
    print(json.dumps(measure()))
