"""The whole Space for one engine: the page's parts put together and wired, plus the named API endpoints."""

import gradio as gr

from search import SearchEngine
from ui.api import SearchApi, register_endpoints
from ui.examples import catalog_examples
from ui.layout.composed_tab import ComposedTab, composed_tab
from ui.layout.filters import filters_panel
from ui.layout.header import header
from ui.layout.image_tab import ImageTab, image_tab
from ui.layout.results import results_panel
from ui.layout.screen import Controls, Screen, link_controls
from ui.layout.text_tab import TextTab, text_tab
from ui.page import Page
from ui.photo_files import ProductImages


def build_demo(engine: SearchEngine, notice: str | None = None) -> gr.Blocks:
    """The page and the named API endpoints for one engine; `notice` is a line under the title saying what is
    served (e.g. that it is the demo catalog and how to load a full index)."""
    photos = ProductImages(engine)
    page = Page(engine, photos)
    examples = catalog_examples(engine, photos)
    with gr.Blocks(title="Fashion product search", analytics_enabled=False) as demo:
        header(engine, notice)
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=320), gr.Tabs(elem_id="tabs") as tabs_row:
                text, image, composed = (
                    text_tab(engine.default_semantic_weight, examples.queries),
                    image_tab(examples.images),
                    composed_tab(examples.composed),
                )
            with gr.Column(scale=3, min_width=320, elem_id="results-column"):
                filters = filters_panel(engine.filter_choices())
                results = results_panel()
                link, push, opener = link_controls()
        tabs: dict[str, TextTab | ImageTab | ComposedTab] = {"text": text, "image": image, "composed": composed}
        controls = Controls(
            tabs_row,
            text.query,
            text.semantic_weight,
            composed.text,
            composed.image_weight,
            link,
            push,
            opener,
            text.chosen_weight,
        )
        screen = Screen(
            results,
            filters,
            messages={name: tab.message for name, tab in tabs.items()},
            photos={"image": image.image, "composed": composed.image},
            controls=controls,
        )
        for tab in tabs.values():
            tab.connect(page, screen)
        screen.connect(page)
        screen.connect_links(page, demo)
        filters.connect(demo)
        register_endpoints(SearchApi(engine, photos))
    return demo
