"""Fashion product search: CLIP embeddings in a FAISS index bundle, searched by text, image or both.

The facade for the app and the client API: `SearchEngine` and its query objects, results, errors and defaults.
Everything else in this package is reached through it (see docs/ARCHITECTURE.md).
"""

from search.bundle import looks_like_repo_id
from search.catalog.ids import shown
from search.catalog.images import MAX_IMAGE_BYTES, decode_image
from search.catalog.schema import NAME_COLUMN
from search.engine import SearchEngine
from search.errors import InvalidImageError, InvalidQueryError, SearchError
from search.language import (
    DEFAULT_TRANSLATION_MODEL,
    DetectedLanguage,
    QueryLanguage,
    QueryText,
    load_query_language,
)
from search.language import (
    WAITING_PLACES as TRANSLATION_WAITING_PLACES,
)
from search.query import (
    DEFAULT_K,
    MAX_K,
    RAW_TEXT_LIMIT,
    ComposedQuery,
    ImageQuery,
    Query,
    Scope,
    SimilarQuery,
    TextQuery,
    VectorQuery,
)
from search.ranking.hybrid import DEFAULT_IMAGE_WEIGHT, DEFAULT_SEMANTIC_WEIGHT
from search.results import Correction, Recognised, SearchResponse, SearchResult
from search.version import __version__

__all__ = [
    "DEFAULT_IMAGE_WEIGHT",
    "DEFAULT_K",
    "DEFAULT_SEMANTIC_WEIGHT",
    "DEFAULT_TRANSLATION_MODEL",
    "MAX_IMAGE_BYTES",
    "MAX_K",
    "NAME_COLUMN",
    "RAW_TEXT_LIMIT",
    "TRANSLATION_WAITING_PLACES",
    "ComposedQuery",
    "Correction",
    "DetectedLanguage",
    "ImageQuery",
    "InvalidImageError",
    "InvalidQueryError",
    "Query",
    "QueryLanguage",
    "QueryText",
    "Recognised",
    "Scope",
    "SearchEngine",
    "SearchError",
    "SearchResponse",
    "SearchResult",
    "SimilarQuery",
    "TextQuery",
    "VectorQuery",
    "__version__",
    "decode_image",
    "load_query_language",
    "looks_like_repo_id",
    "shown",
]
