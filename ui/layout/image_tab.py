"""The Image tab: a photo uploaded, pasted or taken with the webcam is searched as soon as it arrives."""

from dataclasses import dataclass

import gradio as gr

from ui.layout.results import input_message
from ui.layout.screen import Screen
from ui.page import Page


@dataclass
class ImageTab:
    tab: gr.Tab
    image: gr.Image
    message: gr.Markdown

    def connect(self, page: Page, screen: Screen) -> None:
        """Search whenever the photo changes; the raw upload payload goes to the handler (no preprocessing), which
        accepts only files in Gradio's upload folder."""
        screen.on_search([self.image.change], page.image_ui, [self.image], preprocess=False)
        screen.on_tab_select(self.tab, page)


def image_tab(examples: list[str]) -> ImageTab:
    """The tab with example photos (ui.examples: from the catalog) that are searched on a click."""
    with gr.Tab("Image", id="image", elem_id="tab-image") as tab:
        image = gr.Image(
            label="Upload, paste or take a photo",
            sources=["upload", "webcam", "clipboard"],
            type="filepath",
            height=280,
            elem_id="image-query",
        )
        message = input_message("image-message")
        gr.Examples([[path] for path in examples], inputs=[image], label="Examples (click to search)")
    return ImageTab(tab, image, message)
