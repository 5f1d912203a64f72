"""The index build: catalog → reader → encoder → shards → FAISS index → bundle (see runner.py), and the app's
embedded default index built the same way."""

from search.indexing.config import BuildConfig, BuildReport
from search.indexing.runner import index_info, model_info, run_build

__all__ = ["BuildConfig", "BuildReport", "index_info", "model_info", "run_build"]
