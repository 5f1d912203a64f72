"""The query-language step: detect a query's language and translate non-English text to the catalog's English."""

from search.language.detection import ENGLISH, LANGUAGES, DetectedLanguage, LanguageDetector
from search.language.step import WAITING_PLACES, QueryLanguage, QueryText, load_query_language
from search.language.translation import DEFAULT_TRANSLATION_MODEL, MAX_SOURCE_TOKENS, Translation, Translator

__all__ = [
    "DEFAULT_TRANSLATION_MODEL",
    "ENGLISH",
    "LANGUAGES",
    "MAX_SOURCE_TOKENS",
    "WAITING_PLACES",
    "DetectedLanguage",
    "LanguageDetector",
    "QueryLanguage",
    "QueryText",
    "Translation",
    "Translator",
    "load_query_language",
]
