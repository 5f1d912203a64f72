"""Serving the demo: the queue and upload limits, the sweep of expired request files, and glibc's malloc arenas."""

import ctypes
import logging
import os
import sys
import threading
import time

import gradio as gr

from search import MAX_IMAGE_BYTES
from ui.settings import (
    CSS_FILE,
    MALLOC_ARENAS,
    QUEUE_SIZE,
    SEARCH_CONCURRENCY,
    SESSION_CAPACITY,
    THEME,
    UPLOAD_SWEEP,
)

logger = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's mallopt() parameter number


class UploadSweeper:
    """Deletes the files Gradio keeps for requests (uploads, result copies) once older than `age` seconds.

    It replaces Gradio's `delete_cache`, whose sweep walks Gradio's live file sets in a worker thread: a request
    adding a file at that moment raises "Set changed size during iteration" and ends that sweep for good (seen
    under the load test). This one walks snapshots of the sets and keeps running after any error.
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
        """Delete the expired files once; returns how many were deleted."""
        keep = set().union(*(getattr(block, "keep_in_cache", set()) for block in self.demo.blocks.values()))
        cutoff = time.time() - self.age
        deleted = 0
        for files in list(self.demo.temp_file_sets):
            for name in list(files):
                if name in keep:
                    continue
                try:
                    if os.lstat(name).st_ctime > cutoff:
                        continue
                    os.remove(name)
                    deleted += 1
                except FileNotFoundError:
                    pass
                files.discard(name)
        return deleted

    def _run(self) -> None:
        while not self._stop.wait(self.every) and self.demo.is_running:
            try:
                deleted = self.sweep()
            except Exception:  # the sweep must outlive any one failure
                logger.exception("Upload sweep failed; trying again in %s s", self.every)
                continue
            if deleted:
                logger.info("Deleted %d expired upload and result files", deleted)


def launch(
    demo: gr.Blocks, host: str, port: int, block: bool = True, upload_sweep: tuple[float, float] = UPLOAD_SWEEP
) -> str:
    """Serve the demo with the queue, upload limits and upload sweep (every, age in seconds); returns its URL
    (only after shutdown when block=True)."""
    demo.queue(default_concurrency_limit=SEARCH_CONCURRENCY, max_size=QUEUE_SIZE)
    _, url, _ = demo.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=True,
        max_file_size=MAX_IMAGE_BYTES,
        state_session_capacity=SESSION_CAPACITY,
        theme=THEME,
        css_paths=CSS_FILE,
        quiet=not block,
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
