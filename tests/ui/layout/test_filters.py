"""The filter dropdowns refuse a value that is not one of their labels with a short message naming it."""

from __future__ import annotations

import gradio as gr
import pytest

from ui.layout.filters import refusing_unoffered_values


@pytest.fixture
def gender() -> gr.Dropdown:
    with gr.Blocks():
        return refusing_unoffered_values(
            gr.Dropdown(["Men", "Women", "x" * 1_000_000], multiselect=True, label="Gender")
        )


def test_a_huge_value_is_refused_without_echoing_it_or_the_choices(gender):
    with pytest.raises(gr.Error) as refused:
        gender.preprocess(["Men", "y" * 900_000])
    message = str(refused.value.message)
    assert message.startswith("'Gender' has no value 'yyyy") and "choose among its 3 values" in message
    assert len(message) < 200


def test_offered_values_pass(gender):
    assert gender.preprocess(["Men", "Women"]) == ["Men", "Women"]
    assert gender.preprocess([]) == []
