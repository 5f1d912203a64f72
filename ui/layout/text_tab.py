"""The Text tab: a description, the exact words ← → meaning slider and example queries that run on a click.

Until the visitor moves the slider, the query's words decide the balance (search.SearchEngine.search_text with
semantic_weight=None: keywords lead when the catalog knows every word, meaning leads when it knows few) and the
slider shows the balance used; once moved, the slider's balance is used for every later search of the tab."""

from dataclasses import dataclass

import gradio as gr

from search import RAW_TEXT_LIMIT
from ui.layout.results import input_message
from ui.layout.screen import Screen
from ui.page import Page


@dataclass
class TextTab:
    tab: gr.Tab
    query: gr.Textbox
    message: gr.Markdown
    semantic_weight: gr.Slider
    button: gr.Button
    examples: gr.helpers.Examples  # what gr.Examples(...) returns
    chosen_weight: gr.State  # the balance the visitor set with the slider; None: the words decide

    def connect(self, page: Page, screen: Screen) -> None:
        """Search on the button, Enter and an example; moving the slider sets the balance and re-runs a typed
        query."""
        inputs = [self.query, self.chosen_weight]
        screen.on_search([self.button.click, self.query.submit], page.text_ui, inputs)
        screen.on_search(self.examples.load_input_event.then, page.text_ui, inputs)
        chosen = self.semantic_weight.input(
            choose_balance, self.semantic_weight, self.chosen_weight, api_visibility="private", queue=False
        )
        screen.on_search(chosen.then, page.text_on_change, inputs, trigger_mode="always_last")
        screen.on_tab_select(self.tab, page)


def choose_balance(weight: float) -> float:
    """The slider's balance, chosen by the visitor: used from now on instead of the words' choice."""
    return weight


def text_tab(semantic_weight: float, examples: list[str]) -> TextTab:
    """The tab, its slider starting at the engine's default mix (search.SearchEngine.default_semantic_weight), with
    example queries in the catalog's own words (ui.examples)."""
    with gr.Tab("Text", id="text", elem_id="tab-text") as tab:
        query = gr.Textbox(
            label="Describe what you are looking for",
            placeholder=f"e.g. {examples[0]}" if examples else None,
            max_lines=2,
            max_length=RAW_TEXT_LIMIT,
            elem_id="text-query",
        )
        message = input_message("text-message")
        slider = gr.Slider(
            0,
            1,
            value=semantic_weight,
            step=0.05,
            label="Match: exact words ← → meaning",
            info="Left ranks products whose name or labels contain your words; right ranks by what "
            "the words mean (finds similar items even with other words).",
            elem_id="semantic-weight",
        )
        button = gr.Button("Search", variant="primary", elem_id="text-search")
        shown = gr.Examples([[example] for example in examples], inputs=[query], label="Examples (click to search)")
        chosen_weight = gr.State(None)  # inside the tab: a Tabs block holds nothing but tabs
    return TextTab(tab, query, message, slider, button, shown, chosen_weight)
