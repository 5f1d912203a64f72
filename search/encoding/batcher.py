"""Micro-batching of concurrent requests: items submitted together from many threads run as one batch.

Under concurrent visitors each request used to run the encoder alone at batch 1, and the requests' thread pools
fought over the same cores. Here one batch runs at a time: a caller that finds the encoder free runs everything
queued so far (its own item and whatever arrived while the previous batch ran) and hands each waiting caller its
own result. No worker thread sits in between, so a lone request pays no hand-off, which on a loaded machine costs
a scheduling delay each way. A batch that raises is retried item by item, so one bad input fails only its own
request and its batch-mates still get their answers.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

BatchFunction = Callable[[list[Any]], Sequence[Any] | np.ndarray]


@dataclass
class _Job:
    kind: str
    item: Any
    future: Future = field(default_factory=Future)


class MicroBatcher:
    """Runs `processors[kind](items) -> results` (one result per item, in order) on batches of submitted items."""

    def __init__(self, processors: dict[str, BatchFunction], max_batch: dict[str, int] | None = None) -> None:
        self.processors = processors
        self.max_batch = {kind: (max_batch or {}).get(kind, 32) for kind in processors}
        self.batch_sizes: dict[str, Counter[int]] = {kind: Counter() for kind in processors}
        self._queue: deque[_Job] = deque()
        self._queue_lock = threading.Lock()
        self._running = threading.Lock()

    def submit(self, kind: str, item: object) -> Any:
        """Run `item` in a batch of its kind and return its own result, or raise its own exception."""
        if kind not in self.processors:
            raise ValueError(f"Unknown batch kind {kind!r}; expected one of {sorted(self.processors)}.")
        job = _Job(kind, item)
        with self._queue_lock:
            self._queue.append(job)
        while not job.future.done():
            with self._running:
                if not job.future.done():
                    self._run(self._take())
        return job.future.result()

    def _take(self) -> list[_Job]:
        """The oldest queued jobs, up to one full batch of every kind."""
        with self._queue_lock:
            count = min(len(self._queue), sum(self.max_batch.values()))
            return [self._queue.popleft() for _ in range(count)]

    def _run(self, jobs: list[_Job]) -> None:
        try:
            for kind in self.processors:
                batch = [job for job in jobs if job.kind == kind]
                for start in range(0, len(batch), self.max_batch[kind]):
                    self._process(kind, batch[start : start + self.max_batch[kind]])
        except BaseException as error:  # e.g. KeyboardInterrupt: the other waiting callers must not hang
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(error)
            raise

    def _process(self, kind: str, jobs: list[_Job]) -> None:
        self.batch_sizes[kind][len(jobs)] += 1
        try:
            results = self.processors[kind]([job.item for job in jobs])
            if len(results) != len(jobs):
                raise RuntimeError(f"{kind} batch returned {len(results)} results for {len(jobs)} items.")
        except Exception as error:  # isolate: retry one by one so only the bad item's request fails
            if len(jobs) == 1:
                jobs[0].future.set_exception(error)
                return
            logger.warning("A %s batch of %d failed (%s); retrying its items one by one", kind, len(jobs), error)
            for job in jobs:
                self._process(kind, [job])
            return
        for job, result in zip(jobs, results, strict=True):
            job.future.set_result(result)
