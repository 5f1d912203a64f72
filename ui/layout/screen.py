"""The page as its handlers see it: every component a view changes, the one place that turns a handler's view
(ui.views) into `{component: update}`, and the wiring of every search, so all of them share one set of outputs."""

import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import singledispatchmethod
from typing import Any

import gradio as gr

from ui.layout.filters import PHONE_MAX_WIDTH, FiltersPanel
from ui.layout.results import ResultsPanel
from ui.messages import as_markdown_text, page_errors
from ui.page import CHIP_FIELDS, Page
from ui.settings import SEARCH_GROUP
from ui.state import TabSearches
from ui.views import DetailsView, MistakeView, OpenedView, PromptView, ResultsView, View

# After a search, bring the status line into view unless it is (on a phone the results sit below the query; a
# desktop page moves only when the visitor had scrolled the status away), and not after an input mistake, whose
# message is next to the input. A photo search keeps its photo in view too: all of it when both fit on the screen,
# else as much of it as the status line leaves.
SCROLL_TO_RESULTS_JS = """() => setTimeout(() => {
  const mistake = [...document.querySelectorAll(".input-message")].some(e => e.offsetParent && e.innerText.trim());
  const status = document.querySelector("#status");
  if (mistake || !status) return;
  const shown = status.getBoundingClientRect();
  if (shown.top >= 0 && shown.bottom <= window.innerHeight) return;
  const photo = ["#image-query", "#composed-image"].map(s => document.querySelector(s)).find(e => e && e.offsetParent);
  if (photo) {
    const top = photo.getBoundingClientRect().top;
    const lowest = Math.min(shown.bottom - window.innerHeight + 8, shown.top - 8);
    window.scrollBy({ top: shown.bottom - top <= window.innerHeight ? top - 8 : lowest, behavior: "smooth" });
  } else {
    (document.querySelector("#filters") || status).scrollIntoView({ behavior: "smooth" });
  }
}, 100)"""
# On a phone the details are a sheet at the bottom of the screen: the page scrolls, if need be, so that the selected
# tile sits above it.
SELECTED_ABOVE_SHEET_JS = """() => setTimeout(() => {
  const tile = document.querySelector("#results .thumbnail-item.selected");
  const sheet = document.querySelector("#details");
  if (!tile || !sheet) return;
  const shown = tile.getBoundingClientRect(), top = sheet.getBoundingClientRect().top;
  if (shown.bottom > top && sheet.getBoundingClientRect().left < shown.right) {
    window.scrollBy({ top: Math.min(shown.bottom - top + 8, shown.top - 8), behavior: "smooth" });
  }
}, 50)"""
# On a phone, a filter or number of results chosen folds the filters, so that the results they changed are in view
# (before a search there are none: the filters stay open for the next choice).
FOLD_FILTERS_ON_PHONES_JS = f"""() => {{
  const open = document.querySelector("#filters .label-wrap.open");
  const shown = document.querySelector("#results .thumbnail-item");
  if (window.innerWidth <= {PHONE_MAX_WIDTH} && open && shown) open.click();
  ({SCROLL_TO_RESULTS_JS})();
}}"""
# What the page's components do not do as a visitor expects: a filter list closed with Escape opens again on the
# next click (its input loses the focus it kept), Enter in "Number of results" re-runs the search (as leaving the
# box does), Escape closes a product's details, and a selected tile is focused without scrolling the page (Gradio's
# gallery focuses it, which scrolled a tile under a phone's details sheet to the top of the screen).
PAGE_JS = """() => {
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.key === "Escape" && target.closest && target.closest("#filter-row")) {
      setTimeout(() => target.blur(), 0);
    } else if (event.key === "Escape") {
      document.querySelector("#details-close")?.click();
    } else if (event.key === "Enter" && target.matches && target.matches("#k input[type=number]")) {
      target.blur();
    }
  }, true);
  const focus = HTMLElement.prototype.focus;
  HTMLElement.prototype.focus = function (options) {
    const tile = this.closest && this.closest("#results");
    return focus.call(this, tile ? { ...options, preventScroll: true } : options);
  };
}"""

# Shareable searches (ui.links). The link of the search shown is kept in a hidden textbox: each new one a search
# made is pushed to the browser's history (and, inside a Hugging Face Space's iframe, to the Space page's URL), so a
# copied URL and back / forward work. The page's URL is opened as it loads, and again after back / forward
# (popstate) by a click on a hidden button; "?" then stands for the page without a search. The link of an opened
# URL is never pushed (`push` is false): the browser may have moved on since (back, back).
SHOW_LINK_JS = """(link, push) => {
  if (push && link !== window.location.search.replace(/^[?]/, "")) {
    window.history.pushState(null, "", link ? "?" + link : window.location.pathname);
    if (window.parent !== window) window.parent.postMessage({ queryString: link ? "?" + link : "" }, "https://huggingface.co");
  }
}"""
OPEN_ON_LOAD_JS = """(searches, link) => {
  window.addEventListener("popstate", () => document.querySelector("#open-link")?.click());
  return [searches, window.location.search];
}"""
OPEN_ON_HISTORY_JS = """(searches, link) => [searches, window.location.search || "?"]"""

Updates = dict[gr.components.Component | gr.blocks.BlockContext, Any]


@dataclass
class Controls:
    """The inputs a link sets (besides the filters), the hidden link of the search shown and the hidden button that
    opens the page's URL after back / forward."""

    tabs: gr.Tabs
    text: gr.Textbox
    semantic_weight: gr.Slider
    composed_text: gr.Textbox
    image_weight: gr.Slider
    link: gr.Textbox
    push: gr.Checkbox
    opener: gr.Button
    chosen_weight: gr.State  # the Text tab's balance as the visitor set it; None: its words decide


def link_controls() -> tuple[gr.Textbox, gr.Checkbox, gr.Button]:
    """The hidden link, whether to push it to the browser's history, and the button the browser's back / forward
    clicks (kept in the page, out of view)."""
    link = gr.Textbox(visible=False, elem_id="link")
    push = gr.Checkbox(True, visible=False, elem_id="link-push")
    opener = gr.Button("Open the page's link", elem_id="open-link", elem_classes=["out-of-view"])
    return link, push, opener


@dataclass
class Screen:
    """The results panel, the filters, each tab's input message and photo input (the photo tabs') and the controls
    a link sets."""

    results: ResultsPanel
    filters: FiltersPanel
    messages: dict[str, gr.Markdown]
    photos: dict[str, gr.Image]
    controls: Controls

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
            r.detail_heading,
            r.detail_info,
            r.chips_row,
            *r.chips,
            r.language,
            r.as_typed,
            r.recognised_row,
            *r.recognised,
            r.recognised_shown,
            *self.filters.dropdowns,
            *self.messages.values(),
            *self.photos.values(),
            self.controls.tabs,
            self.controls.text,
            self.controls.semantic_weight,
            self.controls.composed_text,
            self.controls.image_weight,
            self.controls.chosen_weight,
            self.filters.k,
            self.controls.push,  # before the link, whose change reads it
            self.controls.link,
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
            r.as_typed: gr.Button(view.correction, visible=True) if view.correction else gr.Button(visible=False),
            r.recognised_row: gr.Row(visible=bool(view.recognised)),
            **{
                button: gr.Button(chip.label, visible=True) if chip else gr.Button(visible=False)
                for button, chip in itertools.zip_longest(r.recognised, view.recognised)
            },
            r.recognised_shown: view.recognised,
            **self.filters.choices(view.choices, view.filters),
            self.messages[view.searches.tab]: gr.Markdown(visible=False),
            **({} if view.balance is None else {self.controls.semantic_weight: view.balance}),
            self.controls.link: view.link,
            self.controls.push: True,
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
            r.as_typed: gr.Button(visible=False),
            r.recognised_row: gr.Row(visible=False),
            r.recognised_shown: (),
            self.controls.link: view.link,
            self.controls.push: True,
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
            r.detail_heading: view.heading,
            r.detail_info: view.info,
            r.selected: view.result,
        }

    @render.register
    def _opened(self, view: OpenedView) -> Updates:
        c, i = self.controls, view.inputs
        text = {c.text: i.text} if i.tab == "text" else {c.composed_text: i.text} if i.tab == "composed" else {}
        return {
            c.tabs: gr.Tabs(selected=i.tab),
            **text,
            c.semantic_weight: i.semantic_weight,
            c.chosen_weight: i.chosen_weight,
            c.image_weight: i.image_weight,
            self.filters.k: i.k,
            **self.filters.choices({}, i.filters),  # a search shown sets its own choices
            **self.render(view.view),
            c.link: view.link,
            c.push: False,
        }

    def close_details(self) -> Updates:
        """The details hidden (✕ or Escape) and nothing selected any more."""
        return {self.results.details: gr.Row(visible=False), self.results.selected: None}

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
        then_js: str | None = SCROLL_TO_RESULTS_JS,
        **options: Any,
    ) -> None:
        """Wire a search: `handler(searches, *inputs, k, *filter values)` on the triggers (a list for gr.on, or one
        listener such as an example's `.then`), in the search concurrency group and kept out of the client API, then
        `then_js` in the browser (by default, the status line brought into view)."""
        args = (self.rendered(handler), [self.results.searches, *inputs, *self.filters.inputs], self.outputs)
        kwargs = {"concurrency_id": SEARCH_GROUP, "api_visibility": "private", **options}
        event = gr.on(triggers, *args, **kwargs) if isinstance(triggers, Sequence) else triggers(*args, **kwargs)
        if then_js:
            event.then(None, js=then_js)

    def on_tab_select(self, tab: gr.Tab, page: Page) -> None:
        """Selecting the tab shows its own last search (or what to do before its first)."""

        def tab_selected(searches: TabSearches, k: int, *filter_values: list[str]) -> View | None:
            return page.tab_ui(str(tab.id), searches, k, *filter_values)

        self.on_search([tab.select], tab_selected, [], then_js=None)

    def connect(self, page: Page) -> None:
        """The results panel's and the filters' events."""
        r = self.results
        self.on_search([r.similar_button.click], page.similar_ui, [r.selected])
        self.on_search([r.language.click], page.language_ui, [])
        self.on_search([r.as_typed.click], page.as_typed_ui, [])
        for index, button in enumerate(r.recognised):
            self.on_search([button.click], recognised_clicked(page, index), [r.recognised_shown])
        cleared = self.filters.clear.click(
            no_filters(len(self.filters.dropdowns)), None, self.filters.dropdowns, api_visibility="private"
        )
        self.on_search(cleared.then, page.clear_filters_ui, [], then_js=FOLD_FILTERS_ON_PHONES_JS)
        self.on_search(
            self.filters.changes, page.rerun_ui, [], then_js=FOLD_FILTERS_ON_PHONES_JS, trigger_mode="always_last"
        )
        for field, chip in zip(CHIP_FIELDS, r.chips, strict=True):
            self.on_search([chip.click], chip_clicked(page, field), [chip])
        r.dismiss.click(dismiss_chips, None, r.chips_row, api_visibility="private")
        r.gallery.select(self.rendered(page.details_ui), [r.shown], self.outputs, api_visibility="private").then(
            None, js=SELECTED_ABOVE_SHEET_JS
        )
        r.close_details.click(self.close_details, None, [r.details, r.selected], api_visibility="private")

    def connect_links(self, page: Page, demo: gr.Blocks) -> None:
        """Open the page's URL as it loads and after back / forward; push the link of each search shown."""
        c = self.controls
        opened, inputs = self.rendered(page.open_ui), [self.results.searches, c.link]
        demo.load(
            opened, inputs, self.outputs, js=OPEN_ON_LOAD_JS, concurrency_id=SEARCH_GROUP, api_visibility="private"
        )
        c.opener.click(  # quick back, back: the last URL is opened
            opened,
            inputs,
            self.outputs,
            js=OPEN_ON_HISTORY_JS,
            concurrency_id=SEARCH_GROUP,
            api_visibility="private",
            trigger_mode="always_last",
        )
        c.link.change(None, [c.link, c.push], None, js=SHOW_LINK_JS)
        demo.load(None, js=PAGE_JS)


def dismiss_chips() -> gr.Row:
    return gr.Row(visible=False)


def no_filters(count: int) -> Callable[[], list[list[str]]]:
    """Every filter dropdown emptied (before the search re-runs without them)."""

    def no_filters() -> list[list[str]]:
        return [[] for _ in range(count)]

    return no_filters


def recognised_clicked(page: Page, index: int) -> Callable[..., View | None]:
    """The handler of the `index`th chip of an attribute the text names: its value added to its filter."""

    def recognised_clicked(searches: TabSearches, chips: tuple, k: int, *filter_values: list[str]) -> View | None:
        return page.recognised_ui(searches, chips, index, k, *filter_values)

    return recognised_clicked


def chip_clicked(page: Page, field: str) -> Callable[..., View | None]:
    """The handler of `field`'s chip: its value added to that filter, and the search of the tab in view re-run."""

    def chip_clicked(searches: TabSearches, label: str, k: int, *filter_values: list[str]) -> View | None:
        return page.chip_ui(field, searches, label, k, *filter_values)

    return chip_clicked
