"""The results panel: status line, the button that searches a translated text as typed (or back), gallery, the
selected product's details with "More like this", and the page's state (last query, shown ids, selected id). It
re-runs the last query when the filters change."""

from dataclasses import dataclass
from typing import Any

import gradio as gr

from ui.language import SEARCH_ORIGINAL
from ui.layout.filters import FiltersPanel
from ui.messages import page_errors
from ui.page import CHIP_FIELDS, Page
from ui.settings import SEARCH_GROUP, UI_FILTERS

# On a phone the results sit below the query: bring them into view after a search (desktop pages do not move).
SCROLL_TO_RESULTS_JS = """() => {
  const status = document.querySelector("#status");
  if (status && status.getBoundingClientRect().top > window.innerHeight * 0.6) {
    status.scrollIntoView({ behavior: "smooth" });
  }
}"""


@dataclass
class ResultsPanel:
    status: gr.Markdown
    language: gr.Button
    details: gr.Row
    detail_image: gr.Image
    detail_info: gr.HTML
    similar_button: gr.Button
    gallery: gr.Gallery
    chips_row: gr.Row
    chips: list[gr.Button]
    dismiss: gr.Button
    last_query: gr.State
    shown_ids: gr.State
    selected_id: gr.State

    @property
    def search_options(self) -> dict[str, Any]:
        """Event options of every page search: the outputs of Page.show, in the search concurrency group, and
        kept out of the client API."""
        return {
            "outputs": [
                self.gallery,
                self.status,
                self.shown_ids,
                self.last_query,
                self.details,
                self.chips_row,
                *self.chips,
                self.language,
            ],
            "concurrency_id": SEARCH_GROUP,
            "api_visibility": "private",
        }

    def connect(self, page: Page, filters: FiltersPanel) -> None:
        self.similar_button.click(
            page_errors(page.similar_ui), [self.selected_id, *filters.inputs], **self.search_options
        )
        self.language.click(page_errors(page.language_ui), [self.last_query, *filters.inputs], **self.search_options)
        gr.on(
            filters.changes,
            page_errors(page.rerun_ui),
            [self.last_query, *filters.inputs],
            trigger_mode="always_last",
            **self.search_options,
        )
        for field, chip in zip(CHIP_FIELDS, self.chips, strict=True):
            dropdown = filters.dropdowns[list(UI_FILTERS).index(field)]
            chip.click(page.apply_chip, [chip, dropdown], [dropdown, self.chips_row], api_visibility="private")
        self.dismiss.click(page.dismiss_chips, None, self.chips_row, api_visibility="private")
        self.status.change(None, js=SCROLL_TO_RESULTS_JS)
        self.gallery.select(
            page_errors(page.details_ui),
            [self.shown_ids],
            [self.details, self.detail_image, self.detail_info, self.selected_id],
            api_visibility="private",
        )


def results_panel() -> ResultsPanel:
    status = gr.Markdown("Results appear here.", elem_id="status")
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
            height=240,
            min_width=160,
            elem_id="detail-image",
        )
        with gr.Column(min_width=240):
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
        language,
        details,
        detail_image,
        detail_info,
        similar_button,
        gallery,
        chips_row,
        chips,
        dismiss,
        last_query=gr.State(None),
        shown_ids=gr.State([]),
        selected_id=gr.State(None),
    )
