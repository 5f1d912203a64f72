"""Errors as visitors and API clients read them, and a visitor's text shown back as typed."""

import logging

import gradio as gr
import pytest

from search import InvalidQueryError
from ui.messages import UNEXPECTED, api_errors, as_markdown_text, page_errors


def test_markdown_text_escapes_html_and_markdown_syntax():
    assert as_markdown_text("<b>black</b> *leather* [boots](x)") == (
        r"&lt;b&gt;black&lt;/b&gt; \*leather\* \[boots\]\(x\)"
    )
    assert as_markdown_text("red shirt") == "red shirt"


def refuse(text: str) -> None:
    raise InvalidQueryError(f"No product has colour '{text}'.")


def test_search_errors_become_their_message_escaped_for_the_page_and_plain_for_the_api():
    with pytest.raises(gr.Error) as page:
        page_errors(refuse)("<i>Purpel</i>")
    assert page.value.message == "No product has colour &#x27;&lt;i&gt;Purpel&lt;/i&gt;&#x27;."
    with pytest.raises(gr.Error) as api:
        api_errors(refuse)("<i>Purpel</i>")
    assert api.value.message == "No product has colour '<i>Purpel</i>'."


def test_unexpected_errors_are_logged_and_answered_with_a_generic_message(caplog):
    def broken() -> None:
        raise KeyError("secret internals")

    with caplog.at_level(logging.ERROR), pytest.raises(gr.Error) as raised:
        api_errors(broken)()
    assert raised.value.message == UNEXPECTED and "secret internals" not in raised.value.message
    assert "Unexpected error in broken" in caplog.text and "secret internals" in caplog.text


def test_gradio_errors_and_results_pass_through():
    def own_message() -> None:
        raise gr.Error("Shown as written")

    with pytest.raises(gr.Error, match="Shown as written"):
        page_errors(own_message)()
    assert page_errors(lambda value: value * 2)(21) == 42


def test_quotes_in_markdown_text_stay_quotes():
    assert as_markdown_text("No product has gender 'Martian' \"x\"") == "No product has gender 'Martian' \"x\""
