"""One thread setting for every compute library: PyTorch, ONNX Runtime and FAISS.

Each library otherwise sizes its own pool to the machine, and on a 2-vCPU Space three pools of 2 threads (plus
busy-waiting ONNX Runtime workers) fight over the same cores. The count is $SEARCH_THREADS (an option sets it
through `set_threads`, so worker processes inherit it), else the cores this process may run on;
docs/BENCHMARKS.md has the measurement behind that default.
"""

from __future__ import annotations

import logging
import os

import faiss
import torch

THREADS_ENV = "SEARCH_THREADS"
logger = logging.getLogger(__name__)


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def parse_threads(value: object, source: str) -> int:
    """A thread count from an option or the environment: a positive integer, or a clear ValueError."""
    try:
        count = int(str(value).strip())
    except ValueError:
        count = 0
    if count < 1:
        raise ValueError(f"{source} must be a positive whole number of threads, got {value!r}.")
    return count


def thread_count() -> int:
    """The thread count in force: $SEARCH_THREADS, else the available cores."""
    if os.environ.get(THREADS_ENV):
        return parse_threads(os.environ[THREADS_ENV], THREADS_ENV)
    return available_cores()


def set_threads(count: int | None = None) -> int:
    """Apply a thread count (None: $SEARCH_THREADS or the default) to PyTorch and FAISS now, and to every ONNX
    Runtime session created afterwards; returns the count."""
    if count is not None:
        os.environ[THREADS_ENV] = str(parse_threads(count, "threads"))
    count = thread_count()
    torch.set_num_threads(count)
    faiss.omp_set_num_threads(count)
    logger.info("Compute threads: %d (PyTorch, ONNX Runtime, FAISS)", count)
    return count
