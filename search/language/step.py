"""The query-language step before encoding: a non-English query is searched by its English translation.

The catalog's names and labels are English and CLIP-family models read English, so both the keyword and the
semantic side search the translation. Translation is optional: without a model, queries are searched as typed
and a notice says why.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, wait
from dataclasses import dataclass

from search.caches import BytesLRU
from search.language.detection import DetectedLanguage, LanguageDetector
from search.language.lane import TranslationLane
from search.language.translation import (
    DEFAULT_BEAMS,
    DEFAULT_TRANSLATION_MODEL,
    MAX_SOURCE_TOKENS,
    Translation,
    Translator,
)

logger = logging.getLogger(__name__)

# Readings of recent queries (detection and translation): ~1 KB each for a short query.
READING_CACHE_BYTES = 8 * 2**20
# How many searches may wait for their translation at once, and for how long; the others (and those that waited
# in vain) search the text as typed this time, with a notice, while the lane finishes the translation for the next
# search. The app gives these waiting places on top of its search slots (ui.settings), so English queries never
# wait behind translations.
WAITING_PLACES = 2
WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class QueryText:
    """A query's text as typed and as searched (its English translation when one was made)."""

    original: str
    searched: str
    language: DetectedLanguage | None
    translated: bool = False
    notices: tuple[str, ...] = ()

    @classmethod
    def as_typed(cls, text: str, language: DetectedLanguage | None = None, notices: tuple[str, ...] = ()) -> QueryText:
        return cls(text, text, language, False, notices)


class QueryLanguage:
    """Detects each query's language and has non-English ones translated in the translation lane
    (search.language.lane); readings are cached (within READING_CACHE_BYTES), like text vectors."""

    def __init__(
        self,
        detector: LanguageDetector,
        translator: Translator | None,
        unavailable: str = "",
        cache_bytes: int = READING_CACHE_BYTES,
        waiting_places: int = WAITING_PLACES,
        wait_seconds: float = WAIT_SECONDS,
        lane: TranslationLane | None = None,
    ) -> None:
        self.detector = detector
        self.translator = translator
        self.unavailable = unavailable or "no translation model is configured"
        self.lane = lane or (TranslationLane(translator) if translator is not None else None)
        self.wait_seconds = wait_seconds
        self._waiting = threading.BoundedSemaphore(waiting_places) if waiting_places > 0 else None
        self._readings: BytesLRU[QueryText] = BytesLRU(cache_bytes)

    @property
    def model_id(self) -> str | None:
        """The translation model as named by the user, or None when translation is unavailable."""
        return self.translator.ref.name if self.translator else None

    def cache_info(self) -> dict[str, int]:
        """Hits, misses, entries and bytes of the reading cache (detections and translations)."""
        return self._readings.info()

    def cache_clear(self) -> None:
        self._readings.clear()

    def read(self, text: str, translate: bool = True) -> QueryText:
        """The text to search for a cleaned query; translate=False searches the original (language still named).
        A translation not ready within the wait (or with no place to wait) leaves this search as typed."""
        cached = self._readings.lookup((text, translate))
        if cached is not None:
            return cached
        language = self.detector.detect(text)
        if language is None or language.is_english or not translate:
            return self._keep(text, translate, QueryText.as_typed(text, language))
        if self.lane is None:
            notice = (
                f"This looks like {language.name}, but translation is unavailable ({self.unavailable}), so the text "
                "was searched as typed; the catalog is in English."
            )
            return self._keep(text, translate, QueryText.as_typed(text, language, (notice,)))
        future, queued = self.lane.submit(text)
        if future is None:
            return QueryText.as_typed(text, language, (self._busy(language, "many other translations are waiting"),))
        if queued:
            future.add_done_callback(lambda done: self._finished(text, language, done))
        if future.done() or self._wait(future):
            return self._keep_finished(text, language, future)
        return QueryText.as_typed(text, language, (self._busy(language, "its translation is not ready yet"),))

    def _wait(self, future: Future[Translation]) -> bool:
        """Wait for the translation in one of the waiting places; False when none is free or time runs out."""
        if self._waiting is None or not self._waiting.acquire(blocking=False):
            return False
        try:
            wait((future,), timeout=self.wait_seconds)
        finally:
            self._waiting.release()
        return future.done()

    def _finished(self, text: str, language: DetectedLanguage, future: Future[Translation]) -> None:
        """Keep a finished translation's reading for the next search of the text (whoever waited or not)."""
        if not future.cancelled():
            self._keep_finished(text, language, future)

    def _keep_finished(self, text: str, language: DetectedLanguage, future: Future[Translation]) -> QueryText:
        """A finished translation's reading, kept unless the lane ran out of time (a busy moment: the next search
        of the text tries again)."""
        reading = self._reading(text, language, future)
        if future.exception() is None and future.result().timed_out:
            return reading
        return self._keep(text, True, reading)

    def _keep(self, text: str, translate: bool, reading: QueryText) -> QueryText:
        """The reading kept for the text (the first one made, when two threads made one)."""
        return self._readings.setdefault((text, translate), reading)

    def _reading(self, text: str, language: DetectedLanguage, future: Future[Translation]) -> QueryText:
        """What a finished translation means for the search: its English text, or the text as typed and why."""
        error = future.exception()
        if error is not None:
            return QueryText.as_typed(
                text, language, (f"The {language.name} text could not be translated, so it was searched as typed.",)
            )
        translation = future.result()
        if translation.timed_out:
            logger.warning("Translation of %r by %s ran out of time", text[:200], self.model_id)
            notice = f"The {language.name} text could not be translated in time, so it was searched as typed."
            return QueryText.as_typed(text, language, (notice,))
        if not translation.text:
            logger.warning("Empty translation of %r by %s", text[:200], self.model_id)
            return QueryText.as_typed(
                text, language, (f"The {language.name} text could not be translated, so it was searched as typed.",)
            )
        notices: tuple[str, ...] = ()
        if translation.truncated:
            notices = (
                f"The text has {translation.source_tokens} tokens; only the first {MAX_SOURCE_TOKENS} were translated.",
            )
        return QueryText(text, translation.text, language, True, notices)

    @staticmethod
    def _busy(language: DetectedLanguage, reason: str) -> str:
        return (
            f"This {language.name} text was searched as typed this time: {reason}. Search again in a moment to "
            "search its English translation."
        )


def load_query_language(
    model: str = DEFAULT_TRANSLATION_MODEL,
    revision: str | None = None,
    device: str | None = None,
    num_beams: int = DEFAULT_BEAMS,
) -> QueryLanguage:
    """The language step with the named translation model (Hub id or folder), or detection alone when the model
    cannot be loaded: the reason is logged and told with each non-English query, and never stops a start."""
    detector = LanguageDetector()
    try:
        translator = Translator.load(model, revision, device, num_beams)
    except Exception as error:  # any failure (Hub, files, memory, device) leaves search working untranslated
        logger.warning("Queries will not be translated: the translation model %s could not be loaded: %s", model, error)
        return QueryLanguage(detector, None, "the translation model could not be loaded")
    return QueryLanguage(detector, translator)
