"""The Image tab: a photo uploaded, pasted or taken with the webcam is searched as soon as it arrives."""

from dataclasses import dataclass

import gradio as gr

from ui.layout.filters import FiltersPanel
from ui.layout.results import ResultsPanel
from ui.messages import page_errors
from ui.page import Page
from ui.settings import ASSETS

EXAMPLE_IMAGES = ["red-tshirt.jpg", "yellow-dress.jpg", "black-boots.jpg", "brown-handbag.jpg", "gold-watch.jpg"]


@dataclass
class ImageTab:
    image: gr.Image

    def connect(self, page: Page, results: ResultsPanel, filters: FiltersPanel) -> None:
        """Search whenever the photo changes; the raw upload payload goes to the handler (no preprocessing), which
        accepts only files in Gradio's upload folder."""
        self.image.change(
            page_errors(page.image_ui), [self.image, *filters.inputs], preprocess=False, **results.search_options
        )


def image_tab() -> ImageTab:
    with gr.Tab("Image", id="image"):
        image = gr.Image(
            label="Upload, paste or take a photo",
            sources=["upload", "webcam", "clipboard"],
            type="filepath",
            height=280,
            elem_id="image-query",
        )
        gr.Examples([[str(ASSETS / name)] for name in EXAMPLE_IMAGES], inputs=[image], label="Examples")
    return ImageTab(image)
