"""The Space's fixed settings: result count, queue and concurrency, upload sweep, session and malloc limits, the
filters the page offers and the look. Sized for a free 2-core CPU Space (docs/RELIABILITY.md)."""

from pathlib import Path

import gradio as gr

from search import TRANSLATION_WAITING_PLACES

ASSETS = Path(__file__).resolve().parent.parent / "assets"
# Searches running at once, over all endpoints together; the rest wait in the queue. The engine runs the encoder on
# batches that concurrent requests share (search.encoding.batcher), so more searches at once means bigger batches,
# not more threads fighting over a free Space's 2 cores (measured: docs/BENCHMARKS.md).
SEARCH_CONCURRENCY = 8
# Searches waiting for a non-English query's translation (search.language) get places of their own on top of the
# search slots, so a burst of new non-English queries never holds the slots English queries are served in.
QUEUE_CONCURRENCY = SEARCH_CONCURRENCY + TRANSLATION_WAITING_PLACES
SEARCH_GROUP = "search"  # the Gradio concurrency group of every search, page and API alike
QUEUE_SIZE = 64
# Uploaded photos are deleted once older than 10 minutes (UploadSweeper; app.py --upload-max-age): a page re-runs
# its last search with the same upload when a filter or slider changes. They are not deleted right after a request
# because Gradio stores uploads at content-addressed paths that identical concurrent uploads share.
UPLOAD_MAX_AGE = 600
# All uploads together may take this much disk (ui.limits.UploadBudget); beyond it new uploads wait for the sweep.
UPLOAD_BUDGET_BYTES = 2**30
# The largest request body other than an upload: a JSON call (a 768-d embedding is ~16 kB; a text is cut to 2,000
# characters anyway). Gradio itself limits only uploaded files.
MAX_REQUEST_BYTES = 2**20
# Gradio keeps a state object per browser or API session (a copy of every component's config) for an hour after the
# visitor leaves and forgets the oldest beyond this many; its default of 10,000 lets memory grow with every visitor
# of a busy Space (docs/RELIABILITY.md).
SESSION_CAPACITY = 500
# glibc gives every thread that allocates its own malloc arena (up to 8 per core); Gradio's worker threads each
# fragment one, which doubled the load test's memory growth (docs/RELIABILITY.md). MALLOC_ARENA_MAX, if set, wins.
MALLOC_ARENAS = 2
# Agents call the search endpoints as MCP tools at /gradio_api/mcp (ui.mcp_tools); app.py --mcp-server off turns it off.
MCP_SERVER = True
# Fair use per client (ui.fair_use): each client address may make FAIR_USE_BURST calls at once, refilled at
# FAIR_USE_PER_MINUTE a minute; past that it gets HTTP 429 with Retry-After. A visitor of the page makes a call per
# search, tile or chip clicked, well under one a second however fast they click through (docs/RELIABILITY.md).
FAIR_USE_PER_MINUTE = 60.0
FAIR_USE_BURST = 30
# Page and client API alike fold near-identical and same-name results (a size or colour run) into one result that
# lists the others ("similar"); an API client passes collapse_similar=false for every product.
COLLAPSE_SIMILAR = True
# The engine's filter fields the page offers, with their labels.
UI_FILTERS = {
    "gender": "Gender",
    "masterCategory": "Category",
    "articleType": "Article type",
    "baseColour": "Colour",
    "season": "Season",
    "usage": "Usage",
    "brand": "Brand",  # shown when the bundle knows its products' brands (read from their names)
}
# The product fields the details panel lists, with their labels.
DETAIL_LABELS = {
    "id": "Product id",
    "gender": "Gender",
    "masterCategory": "Category",
    "subCategory": "Sub-category",
    "articleType": "Article type",
    "baseColour": "Colour",
    "season": "Season",
    "year": "Year",
    "usage": "Usage",
}
PLACEHOLDER = "no-photo.jpg"
THEME = gr.themes.Soft(primary_hue="rose", secondary_hue="slate", radius_size="md")
CSS_FILE = ASSETS / "app.css"
