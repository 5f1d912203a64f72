"""The index build: catalog → one pass → changes → encoding → vectors → FAISS index → bundle (see runner.py), and
the app's embedded default index built the same way."""

from search.indexing.config import BuildConfig, BuildReport
from search.indexing.runner import run_build

__all__ = ["BuildConfig", "BuildReport", "run_build"]
