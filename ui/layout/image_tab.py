"""The Image tab: a photo uploaded, pasted or taken with the webcam is searched as soon as it arrives."""

from dataclasses import dataclass

import gradio as gr

from ui.layout.filters import FiltersPanel
from ui.layout.results import ResultsPanel, input_message
from ui.page import Page
from ui.settings import ASSETS

EXAMPLE_IMAGES = ["red-tshirt.jpg", "yellow-dress.jpg", "black-boots.jpg", "brown-handbag.jpg", "gold-watch.jpg"]


@dataclass
class ImageTab:
    tab: gr.Tab
    image: gr.Image
    message: gr.Markdown

    def connect(self, page: Page, results: ResultsPanel, filters: FiltersPanel) -> None:
        """Search whenever the photo changes; the raw upload payload goes to the handler (no preprocessing), which
        accepts only files in Gradio's upload folder."""
        results.on_search([self.image.change], page.image_ui, [self.image], filters, preprocess=False)
        results.on_tab_select(self.tab, page, filters)


def image_tab() -> ImageTab:
    with gr.Tab("Image", id="image", elem_id="tab-image") as tab:
        image = gr.Image(
            label="Upload, paste or take a photo",
            sources=["upload", "webcam", "clipboard"],
            type="filepath",
            height=280,
            elem_id="image-query",
        )
        message = input_message("image-message")
        gr.Examples([[str(ASSETS / name)] for name in EXAMPLE_IMAGES], inputs=[image], label="Examples")
    return ImageTab(tab, image, message)
