"""The Hugging Face Space: search a fashion catalog by text, photo or photo + text, with filters, and a client API.

    python app.py --index build/fashion-index    # a bundle folder or Hub dataset repo id; SEARCH_INDEX on a Space

With no index configured, a small default index is built once and cached (see search/build/default_index.py).
The UI itself lives in the `ui` package; this file only reads the settings and starts it.
"""

import argparse
import logging
import os
import sys

from search import SearchEngine, SearchError
from search.build.default_index import ensure_default_bundle
from ui import build_demo, launch, limit_malloc_arenas

logger = logging.getLogger("app")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--index",
        default=os.environ.get("SEARCH_INDEX"),
        help="index bundle folder or Hub dataset repo id (env SEARCH_INDEX); default: build a small one once",
    )
    parser.add_argument(
        "--revision",
        default=os.environ.get("SEARCH_INDEX_REVISION"),
        help="Hub revision of --index (env SEARCH_INDEX_REVISION)",
    )
    parser.add_argument(
        "--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), help="env GRADIO_SERVER_NAME"
    )
    parser.add_argument(
        "--port", type=int, default=os.environ.get("GRADIO_SERVER_PORT", "7860"), help="env GRADIO_SERVER_PORT"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Load the index (or the cached default one), then serve until stopped; returns the process exit code."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    limit_malloc_arenas()
    try:
        engine = SearchEngine.load(args.index or ensure_default_bundle(), revision=args.revision)
    except SearchError as error:
        logger.error("%s", error)
        return 1
    launch(build_demo(engine), args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
