"""The results panel: status line, "About this search", the buttons that search a translated text as typed (or
back) and a spelling-corrected one as typed, the attributes a text names and the label chips of a photo search as
filter chips, the selected product's details with "More like this", the gallery, and the page's state (each tab's
last search, the results shown, the selected result, the attribute chips shown)."""

from dataclasses import dataclass

import gradio as gr

from ui.language import SEARCH_ORIGINAL
from ui.page import CHIP_FIELDS, RECOGNISED_CHIPS
from ui.state import TAB_PROMPTS, TABS, TabSearches


@dataclass
class ResultsPanel:
    status: gr.Markdown
    about_fold: gr.Accordion
    about: gr.Markdown
    language: gr.Button
    as_typed: gr.Button
    recognised_row: gr.Row
    recognised: list[gr.Button]
    recognised_shown: gr.State
    details: gr.Row
    detail_image: gr.Image
    detail_heading: gr.HTML
    detail_info: gr.HTML
    similar_button: gr.Button
    close_details: gr.Button
    gallery: gr.Gallery
    chips_row: gr.Row
    chips: list[gr.Button]
    dismiss: gr.Button
    searches: gr.State
    shown: gr.State
    selected: gr.State


def input_message(elem_id: str) -> gr.Markdown:
    """The calm line next to a tab's input that says what to do after an input mistake (hidden until then)."""
    return gr.Markdown(visible=False, elem_id=elem_id, elem_classes=["input-message"])


def results_panel() -> ResultsPanel:
    status = gr.Markdown(TAB_PROMPTS[TABS[0]], elem_id="status")
    # One line under the status: search the words as typed, and the attributes a text names offered as filters
    # ("Men · Red · Tshirts").
    with gr.Row(elem_id="search-actions"):
        language = gr.Button(
            SEARCH_ORIGINAL, visible=False, size="sm", variant="secondary", min_width=0, elem_id="language-toggle"
        )
        as_typed = gr.Button(visible=False, size="sm", variant="secondary", min_width=0, elem_id="as-typed")
        with gr.Row(visible=False, elem_id="recognised") as recognised_row:
            gr.Markdown("Filter by:", elem_id="recognised-intro")
            recognised = [
                gr.Button(visible=False, size="sm", variant="secondary", min_width=0, elem_id=f"recognised-{index}")
                for index in range(RECOGNISED_CHIPS)
            ]
    # A photo search's confident zero-shot guesses, offered as filters (search.zero_shot).
    with gr.Row(visible=False, elem_id="label-chips") as chips_row:
        gr.Markdown("Looks like:", elem_id="label-chips-intro")
        chips = [
            gr.Button(visible=False, size="sm", variant="secondary", min_width=0, elem_id=f"chip-{field}")
            for field in CHIP_FIELDS
        ]
        dismiss = gr.Button("✕", size="sm", min_width=0, elem_id="chips-dismiss")
    with gr.Row(visible=False, equal_height=False, elem_id="details") as details:
        detail_image = gr.Image(
            show_label=False,
            interactive=False,
            buttons=[],
            height=200,
            scale=1,
            min_width=100,
            elem_id="detail-image",
        )
        with gr.Column(scale=2, min_width=200):
            detail_heading = gr.HTML(elem_id="detail-heading")
            similar_button = gr.Button("More like this", variant="primary", elem_id="more-like-this")
            detail_info = gr.HTML(elem_id="detail-info")
        close_details = gr.Button("✕", size="sm", min_width=0, elem_id="details-close")
    gallery = gr.Gallery(
        label="Results",
        show_label=False,
        columns=5,
        allow_preview=False,
        object_fit="contain",
        buttons=[],
        elem_id="results",
    )
    # Under the results: what only a curious visitor wants (the balance, the time, the models).
    with gr.Accordion("About this search", open=False, visible=False, elem_id="about-fold") as about_fold:
        about = gr.Markdown(elem_id="about")
    return ResultsPanel(
        status,
        about_fold,
        about,
        language,
        as_typed,
        recognised_row,
        recognised,
        gr.State(()),
        details,
        detail_image,
        detail_heading,
        detail_info,
        similar_button,
        close_details,
        gallery,
        chips_row,
        chips,
        dismiss,
        searches=gr.State(TabSearches()),
        shown=gr.State(()),
        selected=gr.State(None),
    )
