"""Fair use under a flood (`python -m benchmarks.load --flood`): what one client sending requests as fast as it
can does to everyone else's wait, with and without the per-client budget (ui.fair_use).

One client floods the way a script does: FLOOD_THREADS text searches at once over plain HTTP (the REST call
endpoints; as many as the app runs searches at once), each sent again as soon as it is answered, and after a refusal
FLOOD_RETRY seconds later (it ignores Retry-After). The other clients search at a normal pace with gradio_client:
one request of the load test's mix (text, hybrid, image, image + text, more like this), then a think time of THINK
seconds (± a third, seeded). Every text is a new one, so no answer comes from a cache. Every client is its own
address, reported by a simulated Space proxy (X-Forwarded-For; the app runs with --trusted-proxies 1, as on a
Space). The app runs with the budget off (--rate-limit 0) and at its default, alternately, `rounds` times each, for
the same time; the table gives the normal clients' latency p50/p99 and errors, and what the flooder got served and
refused. The clients run on the same machine as the app, and other work there shifts every number, so each run
gives the 1-minute load average as it started.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks.common import Report
from benchmarks.load import TEXTS, cpu_seconds, request_plan, start_app, stop_app
from ui.settings import FAIR_USE_BURST, FAIR_USE_PER_MINUTE, SEARCH_CONCURRENCY

logger = logging.getLogger("benchmarks.flood")

FLOOD_THREADS = SEARCH_CONCURRENCY
FLOOD_RETRY = 0.25
THINK = 6.0
COLUMNS = [
    "budget",
    "seconds",
    "normal_requests",
    "normal_p50_ms",
    "normal_p99_ms",
    "normal_refused",
    "normal_errors",
    "flood_served",
    "flood_refused",
    "flood_other_errors",
    "server_cpu_s",
    "load_before",
]


class Tally:
    """Latencies and outcomes of one group of clients, shared by its threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.refused = 0
        self.errors: list[str] = []

    def served(self, latency_ms: float) -> None:
        with self.lock:
            self.latencies.append(latency_ms)

    def failed(self, error: Exception) -> None:
        """Count a failure: a fair-use refusal (HTTP 429) or another error."""
        if isinstance(error, httpx.HTTPStatusError) and error.response.status_code == 429:
            self.refusal()
            return
        with self.lock:
            self.errors.append(f"{type(error).__name__}: {error}"[:300])

    def refusal(self) -> None:
        with self.lock:
            self.refused += 1

    def percentile(self, share: float) -> float:
        return round(float(np.percentile(self.latencies, share)), 1) if self.latencies else float("nan")


def address(number: int) -> str:
    """The address the simulated proxy reports for client `number` (TEST-NET-3, never a real host)."""
    return f"203.0.113.{number + 1}"


def connect(port: int, number: int) -> Any:
    from gradio_client import Client

    headers = {"X-Forwarded-For": address(number)}
    return Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False, headers=headers)


def rest_search(http: httpx.Client, base: str, parameters: Sequence[dict], text: str) -> bool:
    """A text search over the REST call endpoints (every argument at its default but the text): True when
    answered, False when refused; other failures raise."""
    data = [
        text if parameter["parameter_name"] == "text" else parameter.get("parameter_default")
        for parameter in parameters
    ]
    posted = http.post(f"{base}gradio_api/call/search_text", json={"data": data})
    if posted.status_code == 429:
        return False
    posted.raise_for_status()
    with http.stream("GET", f"{base}gradio_api/call/search_text/{posted.json()['event_id']}") as answer:
        for line in answer.iter_lines():
            if line.startswith("event: error"):
                raise RuntimeError(f"search failed: {line}")
            if line.startswith("event: complete"):
                return True
    raise RuntimeError("the answer's stream ended without a result")


def run_clients(
    port: int, plan: Sequence[tuple[str, Callable]], normal: int, seconds: float, seed: int
) -> tuple[Tally, Tally, float]:
    """`normal` clients at a normal pace and one flooding client for `seconds`; their tallies and the wall time."""
    base = f"http://127.0.0.1:{port}/"
    clients = [connect(port, number) for number in range(normal)]
    parameters = clients[0].view_api(print_info=False, return_format="dict")["named_endpoints"]["/search_text"]
    flood = httpx.Client(headers={"X-Forwarded-For": address(normal)}, timeout=120)
    texts = unique_texts(100_000, start=1_000_000)
    normal_tally, flood_tally = Tally(), Tally()
    deadline = time.monotonic() + seconds
    stop = threading.Event()

    def visitor(number: int) -> None:
        pace = random.Random(seed + number)
        stop.wait(pace.uniform(0, THINK))  # visitors arrive spread out
        index = number
        while not stop.is_set() and time.monotonic() < deadline:
            _, request = plan[index % len(plan)]
            started = time.perf_counter()
            try:
                request(clients[number])
                normal_tally.served((time.perf_counter() - started) * 1000.0)
            except Exception as error:  # every failure is counted; normal clients must meet none
                normal_tally.failed(error)
            index += normal
            stop.wait(THINK * pace.uniform(2 / 3, 4 / 3))

    def flooder(thread: int) -> None:
        index = thread
        while not stop.is_set() and time.monotonic() < deadline:
            started = time.perf_counter()
            answered: bool | None = None
            try:
                answered = rest_search(flood, base, parameters["parameters"], texts[index % len(texts)])
            except Exception as error:  # counted, and the flood goes on
                flood_tally.failed(error)
            if answered:
                flood_tally.served((time.perf_counter() - started) * 1000.0)
            else:
                if answered is False:
                    flood_tally.refusal()
                stop.wait(FLOOD_RETRY)
            index += FLOOD_THREADS

    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(normal + FLOOD_THREADS) as pool:
            jobs = [pool.submit(visitor, number) for number in range(normal)]
            jobs += [pool.submit(flooder, thread) for thread in range(FLOOD_THREADS)]
            for job in jobs:
                job.result()
    finally:
        stop.set()
        flood.close()
        for client in clients:
            client.close()
    return normal_tally, flood_tally, time.perf_counter() - started


def unique_texts(count: int, start: int = 0) -> list[str]:
    """`count` different shopper texts: the load test's, each with a different number."""
    return [f"{TEXTS[number % len(TEXTS)]} {number}" for number in range(start, start + count)]


def run(bundle: Path, photos: list[Path], normal: int, seconds: float, port: int, rounds: int = 1) -> Report:
    """The flood against the app without and with the default budget, alternately; one row per run."""
    budgets = [("off", ["--rate-limit", "0"]), ("default", [])] * rounds
    report = Report(
        "flood",
        f"Fair use: 1 script flooding ({FLOOD_THREADS} text searches at once) and {normal} clients at a normal pace "
        f"(one request every {THINK:g} s ± a third), each its own address behind a simulated Space proxy",
        COLUMNS,
        settings={
            "bundle": str(bundle),
            "normal_clients": normal,
            "flood_threads": FLOOD_THREADS,
            "flood_retry_s": FLOOD_RETRY,
            "think_s": THINK,
            "seconds": seconds,
            "default_budget": {"per_minute": FAIR_USE_PER_MINUTE, "burst": FAIR_USE_BURST},
        },
    )
    for budget, options in budgets:
        process, client = start_app(bundle, port, extra=["--trusted-proxies", "1", *options])
        try:
            ids = [hit["id"] for hit in client.predict("shirt", 50, None, api_name="/search_text")["results"]]
            count = int(seconds * (FLOOD_THREADS + normal)) + 100  # more than the run can send
            plan = request_plan(count, photos, ids, unique_texts(count))
            cpu_before, load_before = cpu_seconds(process.pid), os.getloadavg()[0]
            normal_tally, flood_tally, wall = run_clients(port, plan, normal, seconds, seed=0)
            report.add(
                budget=budget if budget == "off" else f"{FAIR_USE_PER_MINUTE:g}/min, burst {FAIR_USE_BURST}",
                seconds=round(wall, 1),
                normal_requests=len(normal_tally.latencies) + len(normal_tally.errors) + normal_tally.refused,
                normal_p50_ms=normal_tally.percentile(50),
                normal_p99_ms=normal_tally.percentile(99),
                normal_refused=normal_tally.refused,
                normal_errors=len(normal_tally.errors),
                flood_served=len(flood_tally.latencies),
                flood_refused=flood_tally.refused,
                flood_other_errors=len(flood_tally.errors),
                server_cpu_s=round(cpu_seconds(process.pid) - cpu_before, 1),
                load_before=round(load_before, 1),
            )
            for group, tally in (("normal", normal_tally), ("flood", flood_tally)):
                if tally.errors:
                    report.notes.append(f"{budget}: {group} errors, e.g. {tally.errors[:3]}")
            logger.info("Budget %s: %s", budget, report.rows[-1])
        finally:
            client.close()
            stop_app(process)
    report.notes.append(
        "load_before: the machine's 1-minute load average as the run started (other jobs may share its cores); "
        "normal_refused: fair-use refusals of the clients at a normal pace (there must be none); normal_errors: "
        "their other failures (e.g. their own read timeouts)."
    )
    return report
