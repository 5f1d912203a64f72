"""The results panel: status line, the button that searches a translated text as typed (or back), the label chips
of a photo search, the selected product's details with "More like this", the gallery, and the page's state (each
tab's last search, shown ids, selected id). Every page search is wired here (`on_search`), so all of them share one
set of outputs, and the filters re-run the search of the tab in view."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ui.language import SEARCH_ORIGINAL
from ui.layout.filters import FiltersPanel
from ui.messages import page_errors
from ui.page import CHIP_FIELDS, TAB_PROMPTS, TABS, Page, TabSearches
from ui.settings import SEARCH_GROUP, UI_FILTERS

# On a phone the results sit below the query: bring them into view after a search (desktop pages do not move), but
# not when the search was an input mistake, whose message is next to the input.
SCROLL_TO_RESULTS_JS = """() => setTimeout(() => {
  const mistake = [...document.querySelectorAll(".input-message")].some(e => e.offsetParent && e.innerText.trim());
  const results = document.querySelector("#filters");
  if (!mistake && results && results.getBoundingClientRect().top > window.innerHeight * 0.6) {
    results.scrollIntoView({ behavior: "smooth" });
  }
}, 100)"""


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
    input_messages: list[gr.Markdown]
    searches: gr.State
    shown_ids: gr.State
    selected_id: gr.State

    @property
    def search_options(self) -> dict[str, Any]:
        """Event options of every page search: the outputs of ui.page (OUTPUTS), in the search concurrency
        group, and kept out of the client API."""
        return {
            "outputs": [
                self.gallery,
                self.status,
                self.shown_ids,
                self.searches,
                self.details,
                self.chips_row,
                *self.chips,
                self.language,
                *self.input_messages,
            ],
            "concurrency_id": SEARCH_GROUP,
            "api_visibility": "private",
        }

    def on_search(
        self,
        triggers: Sequence[Any] | Callable,
        handler: Callable[..., tuple],
        inputs: Sequence[gr.components.Component],
        filters: FiltersPanel,
        **options: Any,
    ) -> None:
        """Wire a search: `handler(searches, *inputs, k, *filter values)` on the triggers (a list for gr.on, or one
        listener such as an example's `.then`), then the phone's scroll to the results."""
        args = (page_errors(handler), [self.searches, *inputs, *filters.inputs])
        kwargs = {**self.search_options, **options}
        event = gr.on(triggers, *args, **kwargs) if isinstance(triggers, Sequence) else triggers(*args, **kwargs)
        event.then(None, js=SCROLL_TO_RESULTS_JS)

    def on_tab_select(self, tab: gr.Tab, page: Page, filters: FiltersPanel) -> None:
        """Selecting the tab shows its own last search (or what to do before its first)."""

        def tab_selected(searches: TabSearches, k: int, *filter_values: list[str]) -> tuple:
            return page.tab_ui(str(tab.id), searches, k, *filter_values)

        tab.select(page_errors(tab_selected), [self.searches, *filters.inputs], **self.search_options)

    def connect(self, page: Page, filters: FiltersPanel) -> None:
        self.similar_button.click(
            page_errors(page.similar_ui), [self.searches, self.selected_id, *filters.inputs], **self.search_options
        )
        self.language.click(page_errors(page.language_ui), [self.searches, *filters.inputs], **self.search_options)
        gr.on(
            filters.changes,
            page_errors(page.rerun_ui),
            [self.searches, *filters.inputs],
            trigger_mode="always_last",
            **self.search_options,
        )
        for field, chip in zip(CHIP_FIELDS, self.chips, strict=True):
            dropdown = filters.dropdowns[list(UI_FILTERS).index(field)]
            chip.click(
                page_errors(page.apply_chip), [chip, dropdown], [dropdown, self.chips_row], api_visibility="private"
            )
        self.dismiss.click(page.dismiss_chips, None, self.chips_row, api_visibility="private")
        self.gallery.select(
            page_errors(page.details_ui),
            [self.shown_ids],
            [self.details, self.detail_image, self.detail_info, self.selected_id],
            api_visibility="private",
        )


def input_message(elem_id: str) -> gr.Markdown:
    """The calm line next to a tab's input that says what to do after an input mistake (hidden until then)."""
    return gr.Markdown(visible=False, elem_id=elem_id, elem_classes=["input-message"])


def results_panel(input_messages: list[gr.Markdown]) -> ResultsPanel:
    """The panel, given the tabs' input messages (every search may write the message of its tab)."""
    status = gr.Markdown(TAB_PROMPTS[TABS[0]], elem_id="status")
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
        language,
        details,
        detail_image,
        detail_info,
        similar_button,
        gallery,
        chips_row,
        chips,
        dismiss,
        input_messages,
        searches=gr.State(TabSearches()),
        shown_ids=gr.State([]),
        selected_id=gr.State(None),
    )
