"""The entry points' logging: this project's INFO lines, the libraries' chatter only with --verbose, and a Hub warning
printed once, not once by huggingface_hub's own handler and again by the root's."""

import logging

import pytest

import search.ranking.keyword  # noqa: F401  (sets the bm25s logger as serving does)
from search.logs import configure_logging


@pytest.fixture
def fresh_logging(monkeypatch):
    """The root and library loggers' state restored after the test."""
    root = logging.getLogger()
    names = ("httpx", "faiss.loader", "huggingface_hub", "bm25s")
    saved = [(logging.getLogger(n), logging.getLogger(n).level, list(logging.getLogger(n).handlers)) for n in names]
    level = root.level
    yield monkeypatch
    root.setLevel(level)
    for logger, old_level, handlers in saved:
        logger.setLevel(old_level)
        logger.handlers[:] = handlers


def emitted(capsys) -> str:
    for name, level, message in (
        ("search.indexing", logging.INFO, "our line"),
        ("httpx", logging.INFO, "HTTP Request: GET"),
        ("bm25s", logging.DEBUG, "Building index from IDs"),
        ("huggingface_hub.utils._http", logging.WARNING, "Retrying in 1s"),
    ):
        logging.getLogger(name).log(level, message)
    return capsys.readouterr().err


def unconfigured(monkeypatch) -> None:
    """No handler on the root logger, as in a fresh process (pytest puts its own there for each test)."""
    monkeypatch.setattr(logging.getLogger(), "handlers", [])


def test_by_default_our_info_and_library_warnings_once(fresh_logging, capsys):
    unconfigured(fresh_logging)
    logging.getLogger("huggingface_hub").addHandler(logging.StreamHandler())  # as huggingface_hub does on import
    configure_logging()
    err = emitted(capsys)
    assert "our line" in err and err.count("Retrying in 1s") == 1
    assert "HTTP Request" not in err and "Building index from IDs" not in err


def test_verbose_shows_the_libraries_too(fresh_logging, capsys):
    unconfigured(fresh_logging)
    configure_logging(verbose=True)
    err = emitted(capsys)
    assert "HTTP Request" in err and "Building index from IDs" in err and err.count("Retrying in 1s") == 1
