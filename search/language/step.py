"""The query-language step before encoding: a non-English query is searched by its English translation.

The catalog's names and labels are English and CLIP-family models read English, so both the keyword and the
semantic side search the translation. Translation is optional: without a model, queries are searched as typed
and a notice says why.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from search.language.detection import DetectedLanguage, LanguageDetector
from search.language.translation import DEFAULT_BEAMS, DEFAULT_TRANSLATION_MODEL, MAX_SOURCE_TOKENS, Translator

logger = logging.getLogger(__name__)

TRANSLATION_CACHE_SIZE = 2048


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
    """Detects each query's language and translates non-English ones (LRU-cached, like text vectors)."""

    def __init__(
        self,
        detector: LanguageDetector,
        translator: Translator | None,
        unavailable: str = "",
        cache_size: int = TRANSLATION_CACHE_SIZE,
    ) -> None:
        self.detector = detector
        self.translator = translator
        self.unavailable = unavailable or "no translation model is configured"
        self._read = functools.lru_cache(maxsize=cache_size)(self._uncached_read)

    @property
    def model_id(self) -> str | None:
        """The translation model as named by the user, or None when translation is unavailable."""
        return self.translator.ref.name if self.translator else None

    def cache_info(self) -> dict[str, int]:
        """Hits, misses and size of the reading cache (detections and translations)."""
        return self._read.cache_info()._asdict()

    def cache_clear(self) -> None:
        self._read.cache_clear()

    def read(self, text: str, translate: bool = True) -> QueryText:
        """The text to search for a cleaned query; translate=False searches the original (language still named)."""
        return self._read(text, translate)

    def _uncached_read(self, text: str, translate: bool) -> QueryText:
        language = self.detector.detect(text)
        if language is None or language.is_english or not translate:
            return QueryText.as_typed(text, language)
        if self.translator is None:
            return QueryText.as_typed(
                text,
                language,
                (
                    f"This looks like {language.name}, but translation is unavailable ({self.unavailable}), so the "
                    "text was searched as typed; the catalog is in English.",
                ),
            )
        translation = self.translator.translate([text])[0]
        if not translation.text:
            logger.warning("Empty translation of %r by %s", text, self.model_id)
            return QueryText.as_typed(
                text, language, (f"The {language.name} text could not be translated, so it was searched as typed.",)
            )
        notices: tuple[str, ...] = ()
        if translation.truncated:
            notices = (
                f"The text has {translation.source_tokens} tokens; only the first {MAX_SOURCE_TOKENS} were translated.",
            )
        return QueryText(text, translation.text, language, True, notices)


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
