"""Logging for the entry points (app.py, index_build.py, finetune.py): one format, this project's INFO lines, and
the libraries' chatter (HTTP requests, "faiss loaded", exporter passes, DEBUG lines) only with --verbose."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that log routine INFO lines a user cannot act on: one line per HTTP request (httpx, through gradio and
# huggingface_hub), faiss's "Successfully loaded faiss", huggingface_hub's own INFO. Their warnings still show.
CHATTY_LIBRARIES = ("httpx", "faiss.loader", "huggingface_hub")
# Libraries that print through a handler of their own as well as through the root logger (each warning twice).
OWN_HANDLERS = ("huggingface_hub",)


def configure_logging(verbose: bool = False) -> None:
    """INFO for this project and the libraries' warnings; with `verbose`, DEBUG for everything."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format=FORMAT)
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.WARNING)
    for name in OWN_HANDLERS:
        library = logging.getLogger(name)
        for handler in list(library.handlers):
            library.removeHandler(handler)
