"""Serving the demo: the queue, the request limits (body sizes, the uploads' disk budget), the sweep of expired
uploads, and glibc's malloc arenas."""

import ctypes
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder
from starlette.middleware import Middleware

from search import MAX_IMAGE_BYTES
from ui.calls import ArgumentCount
from ui.fair_use import MCP_ROUTE, FairUse, FairUseLimit, default_trusted_proxies
from ui.limits import MULTIPART_OVERHEAD, RequestLimits, UploadBudget
from ui.mcp_tools import SearchTools
from ui.settings import (
    CSS_FILE,
    FAIR_USE_BURST,
    FAIR_USE_PER_MINUTE,
    MALLOC_ARENAS,
    MAX_REQUEST_BYTES,
    MCP_SERVER,
    QUEUE_CONCURRENCY,
    QUEUE_SIZE,
    SESSION_CAPACITY,
    THEME,
    UPLOAD_BUDGET_BYTES,
    UPLOAD_MAX_AGE,
)

logger = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's mallopt() parameter number
# The MCP endpoint takes an image as a data URI inside its JSON: its body may hold an upload in base64.
MAX_MCP_REQUEST_BYTES = MAX_REQUEST_BYTES + 4 * MAX_IMAGE_BYTES // 3
USE_DEFAULT: Any = object()  # launch(fair_use=...) not given: the settings' budget


def upload_sweep(max_age: float) -> tuple[float, float]:
    """(every, age): uploads older than `max_age` seconds are deleted by a sweep every tenth of that age, at most
    every minute and at least every second."""
    return min(60.0, max(1.0, max_age / 10)), max_age


class UploadSweeper:
    """Deletes the files visitors and clients uploaded once older than `age` seconds, and only those: product
    photos live in a folder of their own (ui.photo_files), which no sweep touches.

    It replaces Gradio's `delete_cache`, whose sweep walks Gradio's live file sets in a worker thread: a request
    adding a file at that moment raises "Set changed size during iteration" and ends that sweep for good (seen
    under the load test). This one walks a snapshot of the uploads and keeps running after any error.
    """

    def __init__(self, demo: gr.Blocks, every: float, age: float) -> None:
        self.demo, self.every, self.age = demo, every, age
        self._stop = threading.Event()

    def start(self) -> None:
        """Sweep every `every` seconds in a daemon thread until `stop()` or the server closes."""
        threading.Thread(target=self._run, name="upload-sweeper", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def sweep(self) -> int:
        """Delete the expired uploads once; returns how many were deleted."""
        cutoff = time.time() - self.age
        deleted = 0
        uploads = self.demo.upload_file_set
        for name in list(uploads):
            try:
                if os.lstat(name).st_ctime > cutoff:
                    continue
                os.remove(name)
                deleted += 1
            except FileNotFoundError:
                pass
            uploads.discard(name)
        return deleted

    def _run(self) -> None:
        while not self._stop.wait(self.every) and self.demo.is_running:
            try:
                deleted = self.sweep()
            except Exception:  # the sweep must outlive any one failure
                logger.exception("Upload sweep failed; trying again in %s s", self.every)
                continue
            if deleted:
                logger.info("Deleted %d expired uploads", deleted)


def request_checks(
    demo: gr.Blocks, upload_budget: int = UPLOAD_BUDGET_BYTES, fair_use: FairUse | None = None
) -> list[Middleware]:
    """The middleware in front of Gradio, outermost first: oversized bodies (JSON calls included) and uploads
    beyond the disk budget refused, served files marked nosniff (ui.limits); calls past their client's budget
    refused (ui.fair_use, unless `fair_use` is None); calls with too few arguments explained (ui.calls)."""
    budget = UploadBudget(Path(get_upload_folder()), upload_budget)
    upload_limit = MAX_IMAGE_BYTES + MULTIPART_OVERHEAD
    route_limits = [(MCP_ROUTE, MAX_MCP_REQUEST_BYTES)]
    checks = [
        Middleware(
            RequestLimits,
            body_limit=MAX_REQUEST_BYTES,
            upload_limit=upload_limit,
            budget=budget,
            route_limits=route_limits,
        ),
        Middleware(ArgumentCount, demo=demo, body_limit=MAX_REQUEST_BYTES),
    ]
    if fair_use is not None:
        checks.insert(1, Middleware(FairUseLimit, fair_use=fair_use, body_limit=MAX_MCP_REQUEST_BYTES))
    return checks


def default_fair_use() -> FairUse:
    """The settings' budget, trusting the one proxy in front of a Hugging Face Space (none elsewhere)."""
    return FairUse(FAIR_USE_PER_MINUTE, FAIR_USE_BURST, default_trusted_proxies())


def launch(
    demo: gr.Blocks,
    host: str,
    port: int,
    block: bool = True,
    upload_sweep: tuple[float, float] = upload_sweep(UPLOAD_MAX_AGE),
    upload_budget: int = UPLOAD_BUDGET_BYTES,
    fair_use: FairUse | None = USE_DEFAULT,
    mcp_server: bool = MCP_SERVER,
) -> str:
    """Serve the demo with the queue, the request limits, fair use per client (the settings' unless given; None
    turns it off), the MCP tools (unless `mcp_server` is false) and the upload sweep (every, age in seconds);
    returns its URL (only after shutdown when block=True)."""
    if fair_use is USE_DEFAULT:
        fair_use = default_fair_use()
    app_kwargs: dict[str, Any] = {"middleware": request_checks(demo, upload_budget, fair_use)}
    if mcp_server:
        app_kwargs["lifespan"] = SearchTools(demo, fair_use).lifespan
    demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY, max_size=QUEUE_SIZE)
    _, url, _ = demo.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=True,
        max_file_size=MAX_IMAGE_BYTES,
        state_session_capacity=SESSION_CAPACITY,
        theme=THEME,
        css_paths=CSS_FILE,
        quiet=not block,
        mcp_server=mcp_server,
        app_kwargs=app_kwargs,
    )
    sweeper = UploadSweeper(demo, *upload_sweep)
    sweeper.start()
    if block:
        try:
            demo.block_thread()
        finally:
            sweeper.stop()
    return url


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas for threads created from now on; False where that is not glibc or MALLOC_ARENA_MAX
    is set (the operator's setting is kept)."""
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False
