"""What visitors and API clients read when something goes wrong, and their own text shown back safely."""

import functools
import html
import logging
import re
from collections.abc import Callable
from typing import Any

import gradio as gr

from search import SearchError

logger = logging.getLogger(__name__)

MARKDOWN_SYNTAX = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
UNEXPECTED = "Something went wrong on the server (it was logged). Please try again."


def as_markdown_text(text: str) -> str:
    """Text (e.g. a visitor's query) shown in Markdown exactly as typed: HTML and Markdown syntax escaped (quotes
    stay as they are: their HTML entities would have their "#" escaped as Markdown and show as typed)."""
    return MARKDOWN_SYNTAX.sub(r"\\\1", html.escape(text, quote=False))


def explained(escape: bool) -> Callable[[Callable], Callable]:
    """Turn search errors into gr.Error with the engine's human message (HTML-escaped for the page), and any
    unexpected failure into a logged, generic gr.Error: visitors and API clients never see a stack trace."""

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except SearchError as error:
                message = html.escape(str(error)) if escape else str(error)
                raise gr.Error(message, print_exception=False) from error
            except gr.Error:
                raise
            except Exception as error:
                logger.exception("Unexpected error in %s", function.__name__)
                raise gr.Error(UNEXPECTED) from error

        return wrapper

    return decorate


# The page shows messages as HTML; API clients get them as plain text.
page_errors = explained(escape=True)
api_errors = explained(escape=False)
