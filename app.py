"""The Hugging Face Space: search a fashion catalog by text, photo or photo + text, with filters, and a client API.

    python app.py --index build/fashion-index    # a bundle folder or Hub dataset repo id; SEARCH_INDEX on a Space

With no index configured, the Hub default index is built once and cached when the Hub answers, else the demo catalog
shipped in assets/demo/ is served at once (`--index demo` asks for it; see search/indexing/default_index.py).
Queries in other languages are translated to English (--translation-model, SEARCH_TRANSLATION_MODEL; "none" turns
the language step off); a model that cannot be loaded leaves search running untranslated, never stops the start.
The UI itself lives in the `ui` package; this file only reads the settings and starts it.
"""

import argparse
import logging
import os
import sys

from search import DEFAULT_TRANSLATION_MODEL, QueryLanguage, SearchEngine, SearchError, load_query_language
from search.encoding.encoder import RUNTIME_ENV, RUNTIMES
from search.encoding.threads import set_threads
from search.indexing.default_index import DEMO_INDEX, default_index, demo_notice, ensure_demo_bundle
from search.logs import configure_logging
from search.offline import offline_unless_hub_resolves
from ui import build_demo, launch, limit_malloc_arenas, upload_sweep, use_own_upload_folder
from ui.fair_use import FairUse, default_trusted_proxies
from ui.settings import FAIR_USE_BURST, FAIR_USE_PER_MINUTE, UPLOAD_MAX_AGE

logger = logging.getLogger("app")

TRANSLATION_OFF = {"none", "off", ""}
SWITCH = ("on", "off")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--index",
        default=os.environ.get("SEARCH_INDEX"),
        help="index bundle folder, Hub dataset repo id, or 'demo' (env SEARCH_INDEX); default: the Hub default index "
        "when the Hub answers, else the demo",
    )
    parser.add_argument(
        "--revision",
        default=os.environ.get("SEARCH_INDEX_REVISION"),
        help="Hub revision of --index (env SEARCH_INDEX_REVISION)",
    )
    parser.add_argument(
        "--translation-model",
        default=os.environ.get("SEARCH_TRANSLATION_MODEL", DEFAULT_TRANSLATION_MODEL),
        help="model translating non-English queries to English: Hub id or folder, or 'none' for no language step "
        f"(env SEARCH_TRANSLATION_MODEL; default {DEFAULT_TRANSLATION_MODEL})",
    )
    parser.add_argument(
        "--upload-max-age",
        type=float,
        default=os.environ.get("SEARCH_UPLOAD_MAX_AGE", UPLOAD_MAX_AGE),
        help="seconds an uploaded photo is kept before the sweep deletes it (env SEARCH_UPLOAD_MAX_AGE; default "
        "%(default)s)",
    )
    parser.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default=os.environ.get(RUNTIME_ENV),
        help="encoder runtime (env SEARCH_RUNTIME): auto = ONNX Runtime on CPU, PyTorch on CUDA; torch = fallback",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads for PyTorch, ONNX Runtime and FAISS (env SEARCH_THREADS; default: the available cores)",
    )
    parser.add_argument("--verbose", action="store_true", help="log the libraries' INFO and DEBUG lines too")
    parser.add_argument(
        "--mcp-server",
        choices=SWITCH,
        default=os.environ.get("SEARCH_MCP_SERVER", "on"),
        help="serve the searches as MCP tools at /gradio_api/mcp for agents (env SEARCH_MCP_SERVER; default on)",
    )
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=os.environ.get("SEARCH_RATE_LIMIT", FAIR_USE_PER_MINUTE),
        help="calls a minute each client may make to the API, MCP tools and page, 0 = no limit (env "
        "SEARCH_RATE_LIMIT; default %(default)s)",
    )
    parser.add_argument(
        "--rate-burst",
        type=int,
        default=os.environ.get("SEARCH_RATE_BURST", FAIR_USE_BURST),
        help="calls a client may make at once before the rate applies (env SEARCH_RATE_BURST; default %(default)s)",
    )
    parser.add_argument(
        "--trusted-proxies",
        type=int,
        default=os.environ.get("SEARCH_TRUSTED_PROXIES", default_trusted_proxies()),
        help="proxies in front of the app that append the client's address to X-Forwarded-For (env "
        "SEARCH_TRUSTED_PROXIES; default 1 on a Hugging Face Space, else 0: the connection's address)",
    )
    parser.add_argument(
        "--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), help="env GRADIO_SERVER_NAME"
    )
    parser.add_argument(
        "--port", type=int, default=os.environ.get("GRADIO_SERVER_PORT", "7860"), help="env GRADIO_SERVER_PORT"
    )
    return parser.parse_args(argv)


def query_language(model: str) -> QueryLanguage | None:
    """The language step with `model`, or None (every query searched as typed, at no cost) when it is turned off."""
    if model.strip().lower() in TRANSLATION_OFF:
        logger.info("The query-language step is off: queries are searched as typed")
        return None
    return load_query_language(model.strip())


def fair_use(args: argparse.Namespace) -> FairUse | None:
    """The per-client budget the arguments ask for, or None when --rate-limit is 0 (raises ValueError)."""
    if args.rate_limit == 0:
        logger.info("Fair use is off: no client's calls are limited")
        return None
    return FairUse(args.rate_limit, args.rate_burst, args.trusted_proxies)


def main(argv: list[str] | None = None) -> int:
    """Load the index (or the cached default one), then serve until stopped; returns the process exit code."""
    args = parse_args(argv)
    configure_logging(args.verbose)
    if args.upload_max_age <= 0:
        logger.error("--upload-max-age must be a positive number of seconds, got %s.", args.upload_max_age)
        return 2
    try:
        budget = fair_use(args)
    except ValueError as error:
        logger.error("%s", error)
        return 2
    limit_malloc_arenas()
    offline_unless_hub_resolves()
    try:
        set_threads(args.threads)
        index = args.index or default_index()
        engine = SearchEngine.load(
            ensure_demo_bundle() if index == DEMO_INDEX else index,
            revision=args.revision,
            language=query_language(args.translation_model),
            runtime=args.runtime,
        )
    except (SearchError, ValueError) as error:
        logger.error("%s", error)
        return 1
    notice = demo_notice(engine.num_products) if str(index) == DEMO_INDEX else None
    if notice:
        logger.info("%s", notice)
    use_own_upload_folder()
    demo = build_demo(engine, notice)
    sweep = upload_sweep(args.upload_max_age)
    launch(demo, args.host, args.port, upload_sweep=sweep, fair_use=budget, mcp_server=args.mcp_server == "on")
    return 0


if __name__ == "__main__":
    sys.exit(main())
