"""The results panel: status line, "About this search", the button that searches a translated text as typed (or
back), the label chips of a photo search, the selected product's details with "More like this", the gallery, and
the page's state (each tab's last search, the results shown, the selected result)."""

from dataclasses import dataclass

import gradio as gr

from ui.language import SEARCH_ORIGINAL
from ui.page import CHIP_FIELDS
from ui.state import TAB_PROMPTS, TABS, TabSearches


@dataclass
class ResultsPanel:
    status: gr.Markdown
    about_fold: gr.Accordion
    about: gr.Markdown
    language: gr.Button
    details: gr.Row
    detail_image: gr.Image
    detail_info: gr.HTML
    similar_button: gr.Button
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
    with gr.Accordion("About this search", open=False, visible=False, elem_id="about-fold") as about_fold:
        about = gr.Markdown(elem_id="about")
    language = gr.Button(SEARCH_ORIGINAL, visible=False, size="sm", variant="secondary", elem_id="language-toggle")
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
            min_width=160,
            elem_id="detail-image",
        )
        with gr.Column(scale=2, min_width=240):
            detail_info = gr.HTML(elem_id="detail-info")
            similar_button = gr.Button("More like this", variant="primary", elem_id="more-like-this")
    gallery = gr.Gallery(
        label="Results",
        show_label=False,
        columns=4,
        allow_preview=False,
        object_fit="contain",
        buttons=[],
        elem_id="results",
    )
    return ResultsPanel(
        status,
        about_fold,
        about,
        language,
        details,
        detail_image,
        detail_info,
        similar_button,
        gallery,
        chips_row,
        chips,
        dismiss,
        searches=gr.State(TabSearches()),
        shown=gr.State(()),
        selected=gr.State(None),
    )
