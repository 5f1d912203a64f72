"""The translation lane: queries' translations made in one thread of their own, in batches, never on a search's.

A new non-English query costs a seq2seq decode (hundreds of ms with real weights, seconds for a long text or a
model that will not stop). Made on the request thread, eight such queries held every search slot and an English
query waited for all of them. Here one worker thread takes the queued texts in batches (one `generate` call each,
with the token cap and the time budget of search.language.translation), a bounded number of texts may wait, and
whoever asked gets a future: the language step decides how long a search may wait for it.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from concurrent.futures import Future

from search.language.translation import Translation, Translator

logger = logging.getLogger(__name__)

BATCH_SIZE = 8
# Texts waiting to be translated; beyond this a new text is not queued (it is searched as typed, with a notice).
MAX_PENDING = 32
# Seconds one batch may decode before its unfinished translations are given up (searched as typed, with a notice):
# a real opus-mt model translates a short query in ~0.5 s on a free Space (docs/MULTILINGUAL.md).
TIME_BUDGET = 4.0


class TranslationLane:
    """A worker thread translating queued texts in batches; a text already queued or being translated is shared."""

    def __init__(
        self,
        translator: Translator,
        batch_size: int = BATCH_SIZE,
        max_pending: int = MAX_PENDING,
        time_budget: float = TIME_BUDGET,
    ) -> None:
        self.translator = translator
        self.batch_size = batch_size
        self.max_pending = max_pending
        self.time_budget = time_budget
        self.batch_sizes: list[int] = []
        self._queued: OrderedDict[str, Future[Translation]] = OrderedDict()
        self._running: dict[str, Future[Translation]] = {}
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, text: str) -> tuple[Future[Translation] | None, bool]:
        """The future translation of `text` and whether this call queued it; (None, False) when `max_pending`
        texts already wait."""
        with self._ready:
            known = self._queued.get(text) or self._running.get(text)
            if known is not None:
                return known, False
            if len(self._queued) >= self.max_pending or self._closed:
                return None, False
            future: Future[Translation] = Future()
            self._queued[text] = future
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="translation-lane", daemon=True)
                self._thread.start()
            self._ready.notify()
            return future, True

    def pending(self) -> int:
        """Texts queued or being translated."""
        with self._ready:
            return len(self._queued) + len(self._running)

    def close(self) -> None:
        """Stop the worker after its current batch; texts still queued are cancelled."""
        with self._ready:
            self._closed = True
            for future in self._queued.values():
                future.cancel()
            self._queued.clear()
            self._ready.notify()
        if self._thread is not None:
            self._thread.join()

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._queued and not self._closed:
                    self._ready.wait()
                if self._closed:
                    return
                texts = list(self._queued)[: self.batch_size]
                for text in texts:
                    self._running[text] = self._queued.pop(text)
            self.batch_sizes.append(len(texts))
            try:
                translations = self.translator.translate(texts, time_budget=self.time_budget)
            except Exception as error:  # a failed batch fails its texts, never the lane
                logger.exception("Translating %d queued queries failed", len(texts))
                outcome: list[Translation] | Exception = error
            else:
                outcome = translations
            with self._ready:
                futures = [self._running.pop(text) for text in texts]
            for position, future in enumerate(futures):
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome[position])
