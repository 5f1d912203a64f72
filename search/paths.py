"""Where the project keeps per-user caches (the default index, ONNX exports)."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_DIR_ENV = "SEARCH_CACHE_DIR"


def user_cache_dir() -> Path:
    """$SEARCH_CACHE_DIR, else the user's cache folder (XDG_CACHE_HOME or ~/.cache)."""
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fashion-product-search"
