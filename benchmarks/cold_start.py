"""Cold start: a fresh process until its first answer, and the memory it holds.

Each measurement in a new process so imports and page cache effects are real:
- the library: import + SearchEngine.load + first text query (`python -m benchmarks.first_query BUNDLE`);
- the app: `python app.py --index BUNDLE --port P` until gradio_client gets its first /search_text answer;
- (not in --quick) `python app.py` with no index, offline, as on a fresh clone: the demo, at its first start (its
  index built into an empty cache) and at a later one.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from benchmarks.common import Report, free_port, peak_rss_mb
from benchmarks.first_query import FIRST_QUERY
from benchmarks.fixtures import REPO_ROOT

logger = logging.getLogger(__name__)

APP = REPO_ROOT / "app.py"


def library(bundle: Path, runs: int) -> list[dict[str, float]]:
    """Each run: seconds to import, load and answer one text query, the whole process's wall time (interpreter
    start to exit) and its peak RSS."""
    results = []
    for _ in range(runs):
        started = time.perf_counter()
        completed = subprocess.run(
            [sys.executable, "-m", "benchmarks.first_query", str(bundle)],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        result = json.loads(completed.stdout.strip().splitlines()[-1])
        results.append({**result, "process_s": round(time.perf_counter() - started, 2)})
    return results


def app_supported() -> bool:
    """app.py exists and takes --index and --port (the command the Space runs, pointed at a local bundle)."""
    return APP.is_file() and "--index" in APP.read_text() and "--port" in APP.read_text()


def stderr_tail(process: subprocess.Popen[bytes]) -> str:
    """The end of an exited process's standard error, as text."""
    data = process.stderr.read() if process.stderr is not None else b""
    return data[-2000:].decode(errors="replace")


def app(bundle: Path | None, timeout: float = 180.0, env: dict[str, str] | None = None) -> dict[str, float]:
    """Seconds from launching app.py (with --index `bundle`, or none) to its first answer through gradio_client, and
    peak RSS (polled)."""
    from gradio_client import Client

    port = free_port()
    started = time.perf_counter()
    index = ["--index", str(bundle)] if bundle is not None else []
    process = subprocess.Popen(
        [sys.executable, str(APP), *index, "--port", str(port)],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})},
    )
    watched = psutil.Process(process.pid)
    peak = 0.0
    try:
        client = None
        while client is None:
            peak = max(peak, peak_rss_mb(watched))
            if process.poll() is not None:
                raise RuntimeError(f"app.py exited with code {process.returncode}: {stderr_tail(process)}")
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"app.py did not answer within {timeout:.0f}s")
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
            except Exception:  # not listening yet: gradio_client raises connection errors of several types
                time.sleep(0.05)
        client.predict(FIRST_QUERY, api_name="/search_text")
        first_answer = time.perf_counter() - started
        peak = max(peak, peak_rss_mb(watched))
        for text in ("red summer dress", "blue denim jeans", "white sneakers"):
            client.predict(text, api_name="/search_text")
            peak = max(peak, peak_rss_mb(watched))
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    return {"first_answer_s": round(first_answer, 2), "peak_rss_mb": round(peak, 1)}


def run(bundle: Path, runs: int, with_app: bool = True, with_demo: bool = False) -> Report:
    """Library cold start (median of `runs`) and, when app.py supports it, the app's; with `with_demo`, the demo's
    first and later start."""
    report = Report(
        "cold_start",
        "Cold start with a local bundle (fresh process → first answer)",
        ["what", "first_answer_s", "import_s", "load_s", "first_query_ms", "peak_rss_mb", "target", "met"],
        settings={"bundle": str(bundle), "runs": runs},
    )
    results = sorted(library(bundle, runs), key=lambda result: result["process_s"])
    median = results[len(results) // 2]
    report.add(
        what="library: new python process, import, SearchEngine.load, first text query",
        first_answer_s=median["process_s"],
        import_s=median["import_s"],
        load_s=median["load_s"],
        first_query_ms=median["first_query_ms"],
        peak_rss_mb=max(result["peak_rss_mb"] for result in results),
        target="≤ 15 s, ≤ 1,536 MB",
        met=median["process_s"] <= 15 and max(result["peak_rss_mb"] for result in results) <= 1536,
    )
    if with_app and app_supported():
        measured = app(bundle)
        report.add(
            what="app.py --index: launch → first /search_text via gradio_client",
            first_answer_s=measured["first_answer_s"],
            peak_rss_mb=measured["peak_rss_mb"],
            target="≤ 15 s, ≤ 1,536 MB",
            met=measured["first_answer_s"] <= 15 and measured["peak_rss_mb"] <= 1536,
        )
    else:
        report.notes.append("app.py with --index/--port not available: only the library cold start was measured.")
    if with_demo:
        for what, measured in demo_starts():
            report.add(
                what=what,
                first_answer_s=measured["first_answer_s"],
                peak_rss_mb=measured["peak_rss_mb"],
                target="≤ 60 s" if "first" in what else "≤ 15 s",
                met=measured["first_answer_s"] <= (60 if "first" in what else 15),
            )
    report.notes.append("Files were in the OS page cache (the bundle had just been written or read).")
    return report


def demo_starts() -> list[tuple[str, dict[str, float]]]:
    """`python app.py` with no index and the Hub offline, as on a fresh clone, twice on one new cache folder: the
    first start builds the demo's index, the second reuses it."""
    with tempfile.TemporaryDirectory() as cache:
        env = {"SEARCH_CACHE_DIR": cache, "SEARCH_INDEX": ""}
        first = app(None, timeout=600, env=env)
        later = app(None, env=env)
    return [
        ("app.py with no index, offline: the demo's first start (builds its index)", first),
        ("app.py with no index, offline: the demo, a later start (index cached)", later),
    ]
