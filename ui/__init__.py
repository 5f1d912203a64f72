"""The Hugging Face Space's UI: the page, the client API and serving, over one search engine."""

from ui.demo import build_demo
from ui.server import launch, limit_malloc_arenas, upload_sweep
from ui.uploads import use_own_upload_folder

__all__ = ["build_demo", "launch", "limit_malloc_arenas", "upload_sweep", "use_own_upload_folder"]
