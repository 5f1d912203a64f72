"""The Image + Text tab: a photo plus what to change, and a text ← → photo slider that re-runs the search."""

from dataclasses import dataclass

import gradio as gr

from search import DEFAULT_IMAGE_WEIGHT, RAW_TEXT_LIMIT
from ui.layout.results import input_message
from ui.layout.screen import Screen
from ui.page import Page


@dataclass
class ComposedTab:
    tab: gr.Tab
    image: gr.Image
    text: gr.Textbox
    message: gr.Markdown
    image_weight: gr.Slider
    button: gr.Button

    def connect(self, page: Page, screen: Screen) -> None:
        """Search on the button and Enter; a new photo or a moved slider re-runs it once a photo is there."""
        inputs = [self.image, self.text, self.image_weight]
        screen.on_search([self.button.click, self.text.submit], page.composed_ui, inputs, preprocess=False)
        screen.on_search(
            [self.image.change, self.image_weight.input],
            page.composed_on_change,
            inputs,
            preprocess=False,
            trigger_mode="always_last",
        )
        screen.on_tab_select(self.tab, page)


def composed_tab(examples: list[tuple[str, str]]) -> ComposedTab:
    """The tab with (photo, what to change) examples (ui.examples: photos from the catalog)."""
    with gr.Tab("Image + Text", id="composed", elem_id="tab-composed") as tab:
        image = gr.Image(
            label="A photo to start from",
            sources=["upload", "webcam", "clipboard"],
            type="filepath",
            height=240,
            elem_id="composed-image",
        )
        text = gr.Textbox(
            label="What to change",
            placeholder="e.g. same style but in red",
            max_lines=2,
            max_length=RAW_TEXT_LIMIT,
            elem_id="composed-text",
        )
        message = input_message("composed-message")
        image_weight = gr.Slider(
            0,
            1,
            value=DEFAULT_IMAGE_WEIGHT,
            step=0.05,
            label="Balance: text ← → photo",
            info="Left follows your words more, right stays closer to the photo.",
            elem_id="image-weight",
        )
        button = gr.Button("Search", variant="primary", elem_id="composed-search")
        gr.Examples(
            [[path, text] for path, text in examples],
            inputs=[image, text],
            label="Examples (click to search)",
            elem_id="composed-examples",
        )
    return ComposedTab(tab, image, text, message, image_weight, button)
