"""The Image tab: a photo uploaded, pasted or taken with the webcam is searched as soon as it arrives."""

from dataclasses import dataclass

import gradio as gr

from ui.layout.filters import FiltersPanel
from ui.layout.results import ResultsPanel, input_message
from ui.page import Page


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
