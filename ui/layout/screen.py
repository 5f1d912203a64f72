"""The page as its handlers see it: every component a view changes, the one place that turns a handler's view
(ui.views) into `{component: update}`, and the wiring of every search, so all of them share one set of outputs."""

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import singledispatchmethod
from typing import Any

import gradio as gr

from ui.layout.filters import FiltersPanel
from ui.layout.results import ResultsPanel
from ui.messages import as_markdown_text, page_errors
from ui.page import CHIP_FIELDS, Page
from ui.settings import SEARCH_GROUP
from ui.state import TabSearches
from ui.views import DetailsView, MistakeView, PromptView, ResultsView, View

# On a phone the results sit below the query: bring them into view after a search (desktop pages do not move), but
# not when the search was an input mistake, whose message is next to the input.
SCROLL_TO_RESULTS_JS = """() => setTimeout(() => {
  const mistake = [...document.querySelectorAll(".input-message")].some(e => e.offsetParent && e.innerText.trim());
  const results = document.querySelector("#filters");
  if (!mistake && results && results.getBoundingClientRect().top > window.innerHeight * 0.6) {
    results.scrollIntoView({ behavior: "smooth" });
  }
}, 100)"""

Updates = dict[gr.components.Component | gr.blocks.BlockContext, Any]


@dataclass
class Screen:
    """The results panel, the filters and each tab's input message and photo input (the photo tabs')."""

    results: ResultsPanel
    filters: FiltersPanel
    messages: dict[str, gr.Markdown]
    photos: dict[str, gr.Image]

    @property
    def outputs(self) -> list[gr.components.Component | gr.blocks.BlockContext]:
        """Every component a search may change."""
        r = self.results
        return [
            r.gallery,
            r.status,
            r.about_fold,
            r.about,
            r.searches,
            r.shown,
            r.selected,
            r.details,
            r.detail_image,
            r.detail_info,
            r.chips_row,
            *r.chips,
            r.language,
            *self.filters.dropdowns,
            *self.messages.values(),
            *self.photos.values(),
        ]

    @singledispatchmethod
    def render(self, view: View | None) -> Updates | dict:
        """The updates of a view: only the components it names change (None changes nothing)."""
        if view is None:
            return gr.skip()
        raise TypeError(f"No rendering for {type(view).__name__}.")

    @render.register
    def _results(self, view: ResultsView) -> Updates:
        r = self.results
        chips = {chip.field: chip for chip in view.chips}
        return {
            **self.cleared(view.searches),
            r.gallery: gr.Gallery(value=[(tile.photo, tile.caption) for tile in view.tiles], selected_index=None),
            r.status: view.status,
            r.about_fold: gr.Accordion(visible=bool(view.about)),
            r.about: view.about,
            r.shown: view.results,
            r.chips_row: gr.Row(visible=bool(chips)),
            **{
                button: gr.Button(chips[field].label, visible=True) if field in chips else gr.Button(visible=False)
                for field, button in zip(CHIP_FIELDS, r.chips, strict=True)
            },
            r.language: gr.Button(view.language, visible=True) if view.language else gr.Button(visible=False),
            **{dropdown: view.filters.get(name, []) for name, dropdown in self.filters.by_field.items()},
            self.messages[view.searches.tab]: gr.Markdown(visible=False),
        }

    @render.register
    def _prompt(self, view: PromptView) -> Updates:
        r = self.results
        return {
            **self.cleared(view.searches),
            r.gallery: gr.Gallery(value=[], selected_index=None),
            r.status: view.status,
            r.about_fold: gr.Accordion(visible=False),
            r.shown: (),
            r.chips_row: gr.Row(visible=False),
            r.language: gr.Button(visible=False),
        }

    @render.register
    def _mistake(self, view: MistakeView) -> Updates:
        message: Updates = {self.messages[view.tab]: gr.Markdown(as_markdown_text(view.message), visible=True)}
        if view.cleared is None:
            return message
        return {**self._prompt(view.cleared), self.photos[view.tab]: None, **message}

    @render.register
    def _details(self, view: DetailsView) -> Updates:
        r = self.results
        return {
            r.details: gr.Row(visible=True),
            r.detail_image: view.photo,
            r.detail_info: view.info,
            r.selected: view.result,
        }

    def cleared(self, searches: TabSearches) -> Updates:
        """What every search resets: the tabs' searches, and no selection (its details hidden)."""
        r = self.results
        return {r.searches: searches, r.selected: None, r.details: gr.Row(visible=False)}

    def rendered(self, handler: Callable[..., View | None]) -> Callable[..., Updates | dict]:
        """`handler` with its view rendered, and errors explained on the page (ui.messages.page_errors)."""
        explained = page_errors(handler)

        @functools.wraps(handler)
        def render(*args: Any) -> Updates | dict:
            return self.render(explained(*args))

        return render

    def on_search(
        self,
        triggers: Sequence[Any] | Callable,
        handler: Callable[..., View | None],
        inputs: Sequence[gr.components.Component],
        scroll: bool = True,
        **options: Any,
    ) -> None:
        """Wire a search: `handler(searches, *inputs, k, *filter values)` on the triggers (a list for gr.on, or one
        listener such as an example's `.then`), in the search concurrency group and kept out of the client API, then
        (unless `scroll` is false) the phone's scroll to the results."""
        args = (self.rendered(handler), [self.results.searches, *inputs, *self.filters.inputs], self.outputs)
        kwargs = {"concurrency_id": SEARCH_GROUP, "api_visibility": "private", **options}
        event = gr.on(triggers, *args, **kwargs) if isinstance(triggers, Sequence) else triggers(*args, **kwargs)
        if scroll:
            event.then(None, js=SCROLL_TO_RESULTS_JS)

    def on_tab_select(self, tab: gr.Tab, page: Page) -> None:
        """Selecting the tab shows its own last search (or what to do before its first)."""

        def tab_selected(searches: TabSearches, k: int, *filter_values: list[str]) -> View:
            return page.tab_ui(str(tab.id), searches, k, *filter_values)

        self.on_search([tab.select], tab_selected, [], scroll=False)

    def connect(self, page: Page) -> None:
        """The results panel's and the filters' events."""
        r = self.results
        self.on_search([r.similar_button.click], page.similar_ui, [r.selected])
        self.on_search([r.language.click], page.language_ui, [])
        self.on_search(self.filters.changes, page.rerun_ui, [], trigger_mode="always_last")
        for field, chip in zip(CHIP_FIELDS, r.chips, strict=True):
            self.on_search([chip.click], chip_clicked(page, field), [chip])
        r.dismiss.click(dismiss_chips, None, r.chips_row, api_visibility="private")
        r.gallery.select(self.rendered(page.details_ui), [r.shown], self.outputs, api_visibility="private")


def dismiss_chips() -> gr.Row:
    return gr.Row(visible=False)


def chip_clicked(page: Page, field: str) -> Callable[..., View | None]:
    """The handler of `field`'s chip: its value added to that filter, and the search of the tab in view re-run."""

    def chip_clicked(searches: TabSearches, label: str, k: int, *filter_values: list[str]) -> View | None:
        return page.chip_ui(field, searches, label, k, *filter_values)

    return chip_clicked
