"""Load test: the real app on localhost under mixed traffic from concurrent gradio_client clients.

    python -m benchmarks.load                # random-weight CLIP ViT-B/32, 44k-product bundle, 16 clients
    python -m benchmarks.load --quick        # tiny model, 500 products, 4 clients (what the tests run)
    python -m benchmarks.load --index build/fashion-index --clients 16 --requests 400 --rounds 3
    python -m benchmarks.load --flood        # fair use: 1 client flooding, 15 at a normal pace, budget off / on
    python -m benchmarks.load --translation-model random --foreign-share 0.25   # + new non-English queries
    python -m benchmarks.load --translation-model random --burst 5   # 8 new non-English at once, then English

Each round sends a fixed number of requests (text, hybrid text, image, image+text and more-like-this, most with
filters) and reports requests/s, latency p50/p95/p99, errors and the server's peak resident memory. Several rounds
against one server show whether memory keeps growing. Every image request uploads a different photo, as
different visitors do. After each answer the client downloads the photos of its first results, as a page shows
them, and one photo handed out longer ago than the upload sweep age (`--upload-max-age`, passed to app.py): a
photo link must stay good for as long as a page shows it. With `--upload-max-age`, the last round starts only
once the run is older than that age, so the run always spans a sweep.

With `--foreign-share`, that share of the requests are text searches in other languages, each a text never sent
before (so each needs a new translation: `--translation-model random` serves a random-weight MarianMT of
opus-mt-mul-en's size that decodes up to its token cap), and the table gives the English requests' latency apart:
non-English queries must not make English ones wait. `--code-root` serves another checkout's app.py (before a fix).
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil

from benchmarks.common import Report, free_port, machine, peak_rss_mb
from benchmarks.fixtures import REPO_ROOT, SHARED_PHOTOS, model_folder, photo_sets, synthetic_bundle
from benchmarks.language_cost import foreign_queries, translator_folder

logger = logging.getLogger("benchmarks.load")

FILTERS: tuple[dict[str, str | list[str]], ...] = (
    {},
    {"gender": ["Men"]},
    {"masterCategory": "Apparel"},
    {"gender": ["Women"], "season": "Summer"},
)
TEXTS = ("black leather boots for men", "red summer dress", "blue denim jeans", "white sneakers", "gold watch")
KINDS = ("text", "hybrid", "image", "composed", "similar")
FOREIGN = "foreign"  # a text search in another language, each text new
REPEAT_AFTER_S = 10.0
PHOTOS_PER_ANSWER = 4  # result photos downloaded after each answer, as a page shows its first tiles
APP_UPLOAD_MAX_AGE = 600.0  # app.py's default
COLUMNS = [
    "round",
    "requests",
    "requests_per_s",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "photos",
    "old_photos",
    "errors",
    "english_p99_ms",
    "foreign_p50_ms",
    "foreign_translated",
    "server_cpu_ms_per_request",
    "peak_rss_mb",
    "rss_after_mb",
]


def start_app(
    bundle: Path,
    port: int,
    upload_max_age: float | None = None,
    timeout: float = 300.0,
    extra: Sequence[str] = (),
    translation_model: str | None = None,
    code_root: Path = REPO_ROOT,
) -> tuple[subprocess.Popen, Any]:
    """Launch `python app.py --index bundle --port port [extra options]` (of the checkout `code_root`) and wait
    until a gradio_client connects."""
    from gradio_client import Client

    age = ["--upload-max-age", str(upload_max_age)] if upload_max_age is not None else []
    language = ["--translation-model", translation_model] if translation_model else []
    process = subprocess.Popen(
        [
            sys.executable,
            str(code_root / "app.py"),
            "--index",
            str(bundle),
            "--port",
            str(port),
            *age,
            *language,
            *extra,
        ],
        cwd=code_root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"},
    )
    started = time.perf_counter()
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with code {process.returncode}")
        if time.perf_counter() - started > timeout:
            process.kill()
            raise TimeoutError(f"app.py did not start within {timeout:.0f}s")
        try:
            return process, Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
        except Exception:  # not listening yet: gradio_client raises connection errors of several types
            time.sleep(0.2)


class MemoryWatcher:
    """Samples the server's RSS (children included) every 100 ms in a background thread."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemoryWatcher:
        self.peak_mb = 0.0
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def current_mb(self) -> float:
        return peak_rss_mb(self.process)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, self.current_mb())
            self._stop.wait(0.1)


class PhotoFetcher:
    """Downloads result photos as a browser showing the answers would, and again photos handed out more than the
    sweep age ago; any answer but 200 is an error."""

    def __init__(self, age: float) -> None:
        self.age = age
        self.handed_out: deque[tuple[float, str]] = deque(maxlen=5_000)
        self.lock = threading.Lock()
        self.photos = 0
        self.old_photos = 0

    def fetch(self, http: httpx.Client, payload: dict[str, Any]) -> None:
        """The first result photos of an answer, then one photo handed out longer ago than the sweep age."""
        urls = [result["image"]["url"] for result in payload["results"][:PHOTOS_PER_ANSWER]]
        for url in urls:
            self._get(http, url)
        now = time.monotonic()
        with self.lock:
            self.photos += len(urls)
            self.handed_out.extend((now, url) for url in urls)
            old = self.handed_out.popleft() if self.handed_out and self.handed_out[0][0] < now - self.age else None
        if old is not None:
            self._get(http, old[1], f" ({now - old[0]:.0f} s after it was handed out)")
            with self.lock:
                self.old_photos += 1

    @staticmethod
    def _get(http: httpx.Client, url: str, when: str = "") -> None:
        response = http.get(url, timeout=60)
        if response.status_code != 200:
            raise RuntimeError(f"photo {url.rsplit('/', 1)[-1]}{when}: HTTP {response.status_code}")

    def counts(self) -> dict[str, int]:
        """Photos downloaded and old photos downloaded again since the last call."""
        with self.lock:
            counts = {"photos": self.photos, "old_photos": self.old_photos}
            self.photos = self.old_photos = 0
        return counts


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the server has used so far: per request, the cost of serving it whatever share
    of a shared machine the server got, which requests/s alone cannot separate from the neighbours' load."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


class ForeignTexts:
    """Non-English queries (benchmarks/data, 17 languages), each handed out once: a number makes every text new."""

    def __init__(self) -> None:
        self.texts = foreign_queries()
        self._count = itertools.count()

    def next(self) -> str:
        number = next(self._count)
        return f"{self.texts[number % len(self.texts)]} {number}"


def request_plan(
    requests: int,
    photos: list[Path],
    product_ids: list[int],
    texts: Sequence[str] = TEXTS,
    foreign_share: float = 0.0,
) -> list[tuple[str, Callable]]:
    """A fixed, mixed list of (kind, call(client)) requests, cycling kinds, texts, filters and photos; with
    `foreign_share`, that share of them (spread evenly) are text searches of a new non-English text each."""
    from gradio_client import handle_file

    foreign = ForeignTexts()
    plan: list[tuple[str, Callable]] = []
    for number in range(requests):
        if int((number + 1) * foreign_share) > int(number * foreign_share):
            plan.append((FOREIGN, lambda c: c.predict(foreign.next(), 24, None, api_name="/search_text")))
            continue
        kind = KINDS[number % len(KINDS)]
        text = texts[number % len(texts)]
        filters = FILTERS[number % len(FILTERS)]
        photo = str(photos[number % len(photos)])
        product = product_ids[number % len(product_ids)]
        calls = {
            "text": lambda c, t=text, f=filters: c.predict(t, 24, f, api_name="/search_text"),
            "hybrid": lambda c, t=text, f=filters: c.predict(t, 24, f, 0.5, api_name="/search_text"),
            "image": lambda c, p=photo, f=filters: c.predict(handle_file(p), 24, f, api_name="/search_image"),
            "composed": lambda c, p=photo, f=filters: c.predict(
                handle_file(p), "same but in red", 0.5, 24, f, api_name="/search_composed"
            ),
            "similar": lambda c, i=product, f=filters: c.predict(i, 24, f, api_name="/more_like_this"),
        }
        plan.append((kind, calls[kind]))
    return plan


def run_round(port: int, plan: list[tuple[str, Callable]], clients: int, fetcher: PhotoFetcher) -> dict[str, Any]:
    """Send the plan from `clients` concurrent clients (each its own gradio_client, downloading result photos with
    `fetcher`); latency per request, photo downloads not included.

    The clients are closed afterwards, as visitors close their tabs: an open client keeps a heartbeat stream and its
    session alive on the server, so leaving them open would load the server with every earlier round's visitors.
    """
    from gradio_client import Client

    connections = [Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False) for _ in range(clients)]
    browsers = [httpx.Client() for _ in range(clients)]
    shares = [plan[start::clients] for start in range(clients)]
    latencies: list[tuple[str, float]] = []
    translated: list[bool] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        for kind, call in shares[index]:
            started = time.perf_counter()
            try:
                payload = call(connections[index])
                latency = (time.perf_counter() - started) * 1000.0
                fetcher.fetch(browsers[index], payload)
            except Exception as error:  # every failure counts; the load test must see none
                with lock:
                    errors.append(f"{kind}: {type(error).__name__}: {error}"[:300])
                continue
            with lock:
                latencies.append((kind, latency))
                if kind == FOREIGN:
                    translated.append(bool(payload.get("translated")))

    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(worker, range(clients)))
        seconds = time.perf_counter() - started
    finally:
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(lambda connection: connection.close(), [*connections, *browsers]))
    values = np.asarray([latency for _, latency in latencies] or [float("nan")])
    english = [latency for kind, latency in latencies if kind != FOREIGN]
    foreign = [latency for kind, latency in latencies if kind == FOREIGN]
    return {
        "requests": len(plan),
        "seconds": round(seconds, 2),
        "requests_per_s": round(len(plan) / seconds, 2),
        "p50_ms": round(float(np.percentile(values, 50)), 1),
        "p95_ms": round(float(np.percentile(values, 95)), 1),
        "p99_ms": round(float(np.percentile(values, 99)), 1),
        "english_p99_ms": round(float(np.percentile(english, 99)), 1) if foreign and english else None,
        "foreign_p50_ms": round(float(np.percentile(foreign, 50)), 1) if foreign else None,
        "foreign_translated": f"{sum(translated)} of {len(foreign)}" if foreign else None,
        "errors": len(errors),
        "error_samples": errors[:5],
        **fetcher.counts(),
    }


def run(
    bundle: Path,
    photos: list[Path],
    clients: int,
    requests: int,
    rounds: int,
    port: int,
    upload_max_age: float | None = None,
    translation_model: str | None = None,
    foreign_share: float = 0.0,
    code_root: Path = REPO_ROOT,
) -> Report:
    """Start the app once, warm it up, then run `rounds` rounds; one table row per round. With `upload_max_age`
    (the app's sweep age) the last round waits until the run is older than that age."""
    age = upload_max_age if upload_max_age is not None else APP_UPLOAD_MAX_AGE
    report = Report(
        "load",
        f"Load: {clients} concurrent gradio_client clients, mixed traffic with result photo downloads, app.py on "
        "localhost",
        COLUMNS,
        settings={
            "bundle": str(bundle),
            "clients": clients,
            "requests_per_round": requests,
            "kinds": list(KINDS),
            "upload_max_age_s": age,
            "translation_model": translation_model,
            "foreign_share": foreign_share,
            "code_root": str(code_root),
        },
    )
    process, client = start_app(bundle, port, upload_max_age, translation_model=translation_model, code_root=code_root)
    fetcher = PhotoFetcher(age)
    try:
        ids = [hit["id"] for hit in client.predict("shirt", 50, None, api_name="/search_text")["results"]]
        plan = request_plan(requests, photos, ids, foreign_share=foreign_share)
        watcher = MemoryWatcher(process.pid)
        run_round(port, plan[: len(KINDS) * 2], min(clients, 4), fetcher)
        fetcher.counts()
        started = time.monotonic()
        for number in range(1, rounds + 1):
            waited = started + age + 1 - time.monotonic()
            if number == rounds and upload_max_age is not None and waited > 0:
                logger.info("Waiting %.0f s so that the last round runs past the sweep age", waited)
                time.sleep(waited)
            cpu_before = cpu_seconds(process.pid)
            with watcher:
                result = run_round(port, plan, clients, fetcher)
            cpu_ms = (cpu_seconds(process.pid) - cpu_before) * 1000.0 / len(plan)
            report.add(round=number, server_cpu_ms_per_request=round(cpu_ms, 1), peak_rss_mb=round(watcher.peak_mb, 1),
                       rss_after_mb=round(watcher.current_mb(), 1), **result)  # fmt: skip
            logger.info(
                "Round %d/%d: %.2f requests/s, p50 %.0f ms, %d errors, server RSS %.0f MB",
                number, rounds, result["requests_per_s"], result["p50_ms"], result["errors"], watcher.current_mb(),
            )  # fmt: skip
            if result["error_samples"]:
                report.notes.append(f"round {number} errors: {result['error_samples']}")
        report.notes.append(
            "server_cpu_ms_per_request: the server's CPU time (user + system) per request in that round, whatever "
            "share of the machine it got; 2,000 / it bounds the requests/s of a server alone on 2 cores."
        )
    finally:
        client.close()
        stop_app(process)
    return report


def translation_burst(
    bundle: Path, port: int, bursts: int, translation_model: str | None, code_root: Path = REPO_ROOT, foreign: int = 8
) -> Report:
    """Issue 23's case: `foreign` clients each send a new non-English query at once, and an English query follows
    one second later; each burst gives that English query's latency and the non-English ones', and how many of
    the non-English texts are searched by their translation when sent again REPEAT_AFTER_S after their answers."""
    from gradio_client import Client

    report = Report(
        "translation_burst",
        f"{foreign} new non-English queries at once, then an English query 1 s later",
        ["burst", "english_ms", "foreign_p50_ms", "foreign_max_ms", "foreign_translated", "repeated_translated"],
        settings={"translation_model": translation_model, "code_root": str(code_root), "foreign": foreign},
    )
    process, client = start_app(bundle, port, translation_model=translation_model, code_root=code_root)
    texts = ForeignTexts()
    try:
        client.predict("shirt", 24, None, api_name="/search_text")  # warm: the first search loads lazy parts
        connections = [Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False) for _ in range(foreign)]
        for burst in range(1, bursts + 1):

            def timed(connection: Any, text: str) -> tuple[float, bool]:
                started = time.perf_counter()
                payload = connection.predict(text, 24, None, api_name="/search_text")
                return (time.perf_counter() - started) * 1000.0, bool(payload.get("translated"))

            sent = [texts.next() for _ in connections]
            with ThreadPoolExecutor(foreign + 1) as pool:
                answers = list(map(pool.submit, [timed] * foreign, connections, sent))
                time.sleep(1.0)
                english_ms, _ = timed(client, TEXTS[burst % len(TEXTS)] + f" size {burst}")
                foreign_answers = [answer.result() for answer in answers]
                time.sleep(REPEAT_AFTER_S)  # then the same texts again: translated by now unless they failed
                repeats = list(pool.map(timed, connections, sent))
            latencies = [latency for latency, _ in foreign_answers]
            report.add(
                burst=burst,
                english_ms=round(english_ms, 1),
                foreign_p50_ms=round(float(np.percentile(latencies, 50)), 1),
                foreign_max_ms=round(max(latencies), 1),
                foreign_translated=f"{sum(done for _, done in foreign_answers)} of {foreign}",
                repeated_translated=f"{sum(done for _, done in repeats)} of {foreign}",
            )
            logger.info("Burst %d: English %.0f ms, non-English max %.0f ms", burst, english_ms, max(latencies))
        for connection in connections:
            connection.close()
    finally:
        client.close()
        stop_app(process)
    return report


def stop_app(process: subprocess.Popen) -> None:
    """Stop the app, killing it if it does not stop within 20 s."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def photo_files(count: int, folder: Path) -> list[Path]:
    """`count` distinct product photos as files a client uploads (real ones when ../shared is present)."""
    full, _ = photo_sets(count, SHARED_PHOTOS)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, data in enumerate(full.images):
        path = folder / f"upload-{number:04d}.jpg"
        path.write_bytes(data)
        paths.append(path)
    logger.info("Upload photos: %s", full.source)
    return paths


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny model, 500 products, few requests")
    parser.add_argument("--index", type=Path, default=None, help="bundle to serve (default: a synthetic one)")
    parser.add_argument("--clients", type=int, default=None, help="concurrent clients (default 16; quick: 4)")
    parser.add_argument("--requests", type=int, default=None, help="requests per round (default 400; quick: 20)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="rounds against one server (default 3; quick: 2); --flood: runs of each budget (default 1)",
    )
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument(
        "--upload-max-age",
        type=float,
        default=None,
        help="the app's upload sweep age in seconds (app.py --upload-max-age; default the app's 600); the last round "
        "starts once the run is older than it",
    )
    parser.add_argument(
        "--flood",
        action="store_true",
        help="fair use instead: 1 client flooding and --clients - 1 at a normal pace, the budget off and on "
        "(benchmarks/flood.py)",
    )
    parser.add_argument(
        "--seconds", type=float, default=None, help="--flood: length of each run (default 120; quick: 20)"
    )
    parser.add_argument(
        "--translation-model",
        default=None,
        help="app.py --translation-model; 'random': a random-weight MarianMT of opus-mt-mul-en's size (quick: a tiny "
        "one), saved under --out (default: the app's default)",
    )
    parser.add_argument(
        "--foreign-share", type=float, default=0.0, help="share of requests that search a new non-English text"
    )
    parser.add_argument("--code-root", type=Path, default=REPO_ROOT, help="checkout whose app.py is served")
    parser.add_argument(
        "--burst",
        type=int,
        default=0,
        help="instead of rounds: this many bursts of 8 new non-English queries at once, an English one 1 s later",
    )
    parser.add_argument("--out", type=Path, default=Path("build/benchmarks"), help="results and cached fixtures")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = parse_args(argv)
    config, products = ("clip-tiny", 500) if args.quick else ("clip-vit-b32", 44_000)
    clients = args.clients or (4 if args.quick else 16)
    requests = args.requests or (20 if args.quick else 400)
    rounds = args.rounds or (2 if args.quick else 3)
    work = args.out / "work"
    bundle = args.index or synthetic_bundle(work / f"bundle-{config}-{products}", model_folder(config, work), products)
    translation_model = args.translation_model
    if translation_model == "random":
        translation_model = str(translator_folder("marian-tiny" if args.quick else "marian-opus-mt", work))
    with tempfile.TemporaryDirectory() as folder:
        photos = photo_files(min(requests, 64), Path(folder))
        port = args.port or free_port()
        if args.burst:
            report = translation_burst(bundle, port, args.burst, translation_model, args.code_root.resolve())
        elif args.flood:
            from benchmarks import flood  # it builds on this module's app and request plan

            seconds = args.seconds or (20.0 if args.quick else 120.0)
            report = flood.run(bundle, photos, clients - 1, seconds, port, args.rounds or 1)
        else:
            report = run(
                bundle,
                photos,
                clients,
                requests,
                rounds,
                port,
                args.upload_max_age,
                translation_model,
                args.foreign_share,
                args.code_root.resolve(),
            )
    print(report.table(), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{report.name}.json"
    path.write_text(json.dumps({"machine": machine(), **report.to_dict()}, indent=2))
    logger.info("Wrote %s", path)
    failures = ("normal_refused", "normal_errors") if args.flood else ("errors",)
    return 0 if all(row.get(column, 0) == 0 for row in report.rows for column in failures) else 1


if __name__ == "__main__":
    sys.exit(main())
