"""Fashion product search: CLIP embeddings in a FAISS index bundle, searched by text, image or both."""

__version__ = "0.1.0"

from search.engine import SearchEngine, SearchResponse, SearchResult
from search.errors import SearchError

__all__ = ["SearchEngine", "SearchError", "SearchResponse", "SearchResult", "__version__"]
