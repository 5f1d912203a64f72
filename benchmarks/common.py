"""Shared benchmark plumbing: timing statistics, the machine description, tables and JSON results."""

from __future__ import annotations

import json
import os
import platform
import socket
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import psutil


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50 / p95 / mean in milliseconds and the sample count: medians resist the noise of a shared machine."""
    values = np.asarray(samples_ms, dtype=np.float64)
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 3),
        "p95_ms": round(float(np.percentile(values, 95)), 3),
        "mean_ms": round(float(values.mean()), 3),
        "n": len(values),
    }


def time_each(call: Callable[..., object], inputs: Iterable[Any], warmup: int = 2) -> list[float]:
    """Milliseconds of `call(x)` for every x, after `warmup` untimed calls on the first input."""
    inputs = list(inputs)
    for _ in range(warmup):
        call(inputs[0])
    samples = []
    for item in inputs:
        started = time.perf_counter()
        call(item)
        samples.append((time.perf_counter() - started) * 1000.0)
    return samples


def interleaved(calls: Mapping[str, Callable[..., object]], repeats: int, warmup: int = 0) -> dict[str, list[float]]:
    """Milliseconds of every call for i in warmup..warmup+repeats-1, the calls taking turns so that each sees the
    same neighbours on a shared machine; `warmup` untimed rounds (i = 0, 1, ...) first."""
    for i in range(warmup):
        for call in calls.values():
            call(i)
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for i in range(warmup, warmup + repeats):
        for name, call in calls.items():
            started = time.perf_counter()
            call(i)
            samples[name].append((time.perf_counter() - started) * 1000.0)
    return samples


def throughput(call: Callable[..., int], min_seconds: float = 0.0, repeats: int = 1) -> dict[str, float]:
    """Items per second of `call()` (which returns how many items it handled), best of `repeats` runs.

    Best-of rather than mean: on a shared machine the fastest run is the one least disturbed by neighbours.
    """
    best = 0.0
    total_items, total_seconds = 0, 0.0
    for _ in range(repeats):
        items, started = 0, time.perf_counter()
        while True:
            items += call()
            elapsed = time.perf_counter() - started
            if elapsed >= min_seconds:
                break
        best = max(best, items / elapsed)
        total_items, total_seconds = total_items + items, total_seconds + elapsed
    return {"per_second": round(best, 2), "items": total_items, "seconds": round(total_seconds, 3)}


def machine() -> dict[str, Any]:
    """What the numbers were measured on, including how busy the machine was (1-minute load average)."""
    import faiss
    import torch
    import transformers

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line]
        cpu = names[0] if names else cpu
    flags = cpuinfo.read_text() if cpuinfo.is_file() else ""
    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "cpu_features": [name for name in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f" {name}" in flags],
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "transformers": transformers.__version__,
        "faiss": faiss.__version__,
        "faiss_threads": faiss.omp_get_max_threads(),
    }


@dataclass
class Report:
    """One benchmark's result: rows of a table plus the settings and machine they were measured with."""

    name: str
    title: str
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, **row: Any) -> None:
        self.rows.append(row)

    def table(self) -> str:
        """A Markdown table (so it can be pasted into docs/BENCHMARKS.md as printed)."""
        lines = [f"### {self.title}", "", "| " + " | ".join(self.columns) + " |"]
        lines.append("|" + "|".join("---" for _ in self.columns) + "|")
        lines += ["| " + " | ".join(_cell(row.get(column)) for column in self.columns) + " |" for row in self.rows]
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "columns": self.columns,
            "rows": self.rows,
            "settings": self.settings,
            "notes": self.notes,
            "seconds": self.seconds,
        }


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def write_results(out: Path, reports: list[Report], started: float, quick: bool) -> Path:
    """Write every report to `<out>/results.json` (and one JSON per benchmark); returns the combined file."""
    out.mkdir(parents=True, exist_ok=True)
    info = machine()
    document = {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "quick": quick,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": info,
        "benchmarks": {report.name: report.to_dict() for report in reports},
    }
    for report in reports:
        (out / f"{report.name}.json").write_text(json.dumps({"machine": info, **report.to_dict()}, indent=2))
    path = out / "results.json"
    path.write_text(json.dumps(document, indent=2))
    return path


def free_port() -> int:
    """A localhost TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_rss_mb(process: psutil.Process) -> float:
    """Resident memory of a process and its children, in MB (a sample, polled by callers)."""
    try:
        total = process.memory_info().rss
        for child in process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                continue
    except psutil.Error:
        return 0.0
    return total / 2**20
