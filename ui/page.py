"""The page's handlers and their state: each search is parsed once into the engine's immutable query object
(search.TextQuery, ImageQuery, ComposedQuery or SimilarQuery), which the page keeps as the last query of the tab it
was made in (TabSearches): filters and the number of results re-run the search of the tab in view, the language
button runs it translated / as typed, and selecting a tab shows that tab's own last search.

Every search handler returns the same outputs (OUTPUTS): the gallery, the status line, the shown ids, the tabs'
searches, an update hiding the details panel, the label chips of a photo search, the language button, and one
input message per tab (or gr.skip() for each output it leaves as it is). A search's messages (notices, nothing
found) are part of its status line, so the next search replaces them; near-identical results are folded into one
tile ("+N similar"). An input mistake (no text, no photo, a file that is no image) leaves the results as they are
and says what to do in a calm line next to the tab's input, which the tab's next search clears; other failures are
errors (ui.messages).
"""

import dataclasses
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import singledispatch
from pathlib import Path

import gradio as gr

from search import (
    NAME_COLUMN,
    ComposedQuery,
    ImageQuery,
    InvalidQueryError,
    Query,
    QueryText,
    Scope,
    SearchEngine,
    SearchResponse,
    SearchResult,
    SimilarQuery,
    TextQuery,
)
from ui.language import language_button, searched_phrase, translation_model
from ui.messages import as_markdown_text
from ui.photo_files import ProductImages
from ui.settings import DETAIL_LABELS, UI_FILTERS
from ui.uploads import uploaded_path

NOTHING_FOUND = "Nothing found. Try other words, another photo or fewer filters."
SELECT_FIRST = "Select a product in the results first."
NOT_SHOWN = "That product is no longer among the results; select one again."
SHOWN_TEXT_CHARS = 80  # of a query text in the status line
# The fields whose zero-shot guess a photo search offers as a filter chip, in the order of the chips.
CHIP_FIELDS = ("articleType", "baseColour")
# The search tabs (their gr.Tab ids) and what the status line says while a tab has no search yet.
TAB_PROMPTS = {
    "text": "Describe what you are looking for, or pick an example.",
    "image": "Upload, paste or take a photo, or pick an example.",
    "composed": "Choose a photo, then say what to change.",
}
TABS = tuple(TAB_PROMPTS)
# gallery, status, ids, searches, details; chips row; one chip per field; the language button; one input message
# per tab
OUTPUTS = 5 + 1 + len(CHIP_FIELDS) + 1 + len(TABS)


def caption(result: SearchResult) -> str:
    """What a shopper reads under a tile: name, article type and colour (no score), and how many near-identical
    products the tile stands for."""
    parts = [result.name, result.metadata.get("articleType"), result.metadata.get("baseColour")]
    text = " · ".join(part for part in parts if part)
    return f"{text} · +{len(result.similar)} similar" if result.similar else text


def chips(response: SearchResponse) -> tuple:
    """The chips row (shown when some guess is confident) and one chip per field ("Tshirts ✓ filter")."""
    confident = {guess.field: guess for guess in response.labels if guess.confident}
    buttons = [
        gr.Button(f"{confident[field].label} · {confident[field].score:.0%}", visible=True)
        if field in confident
        else gr.Button(visible=False)
        for field in CHIP_FIELDS
    ]
    return (gr.Row(visible=bool(confident)), *buttons)


def hidden_chips() -> tuple:
    return (gr.Row(visible=False), *(gr.Button(visible=False) for _ in CHIP_FIELDS))


@singledispatch
def describe(query: Query, engine: SearchEngine, text: QueryText | None = None) -> str:
    """What the status line says the results are for, e.g. `for “red shirt”`; `text` is the engine's reading of
    the query's text (what was searched, translated from which language)."""
    raise TypeError(f"The page does not show {type(query).__name__} searches.")


@describe.register
def _describe_text(query: TextQuery, engine: SearchEngine, text: QueryText | None = None) -> str:
    mix = () if query.semantic_weight == 1.0 else (f"meaning weight {query.semantic_weight:.2f}",)
    return f"for {searched_phrase(query.text, text, mix, SHOWN_TEXT_CHARS)}"


@describe.register
def _describe_image(query: ImageQuery, engine: SearchEngine, text: QueryText | None = None) -> str:
    return "similar to your photo"


@describe.register
def _describe_composed(query: ComposedQuery, engine: SearchEngine, text: QueryText | None = None) -> str:
    if not query.text:
        return "for your photo"
    weight = (f"photo weight {query.image_weight:.2f}",)
    return f"for your photo + {searched_phrase(query.text, text, weight, SHOWN_TEXT_CHARS)}"


@describe.register
def _describe_similar(query: SimilarQuery, engine: SearchEngine, text: QueryText | None = None) -> str:
    return f"like “{engine.product(query.product_id)[NAME_COLUMN]}”"


def filters_from(values: Sequence[list[str] | str | None]) -> dict[str, list[str]]:
    """The filter dropdowns' selections as engine filters (empty selections constrain nothing; a single value, which
    a multiselect dropdown also accepts, is a selection of one). The engine checks every value."""
    return {
        name: [value] if isinstance(value, str) else value
        for name, value in zip(UI_FILTERS, values, strict=True)
        if value
    }


@dataclass(frozen=True)
class TabSearches:
    """The search tab in view and the last search made in each tab (a session's gr.State): filters re-run the
    search of the tab in view, never one from another tab."""

    tab: str = TABS[0]
    queries: dict[str, Query] = field(default_factory=dict)

    @property
    def current(self) -> Query | None:
        """The last search of the tab in view (None before its first)."""
        return self.queries.get(self.tab)

    def searched(self, tab: str, query: Query) -> "TabSearches":
        """`query` made in `tab`, which is then the tab in view."""
        return TabSearches(tab, {**self.queries, tab: query})

    def viewing(self, tab: str) -> "TabSearches":
        return TabSearches(tab, self.queries)


class Page:
    """The page's event handlers for one engine, grouped by the part of the page that fires them."""

    def __init__(self, engine: SearchEngine, photos: ProductImages) -> None:
        self.engine = engine
        self.photos = photos

    # The Text tab.

    def text_ui(
        self, searches: TabSearches, text: str, semantic_weight: float, k: int, *filter_values: list[str]
    ) -> tuple:
        return self.search("text", searches, lambda: TextQuery.parse(text, semantic_weight), k, filter_values)

    def text_on_change(
        self, searches: TabSearches, text: str, semantic_weight: float, k: int, *filter_values: list[str]
    ) -> tuple:
        if not (text or "").strip():
            return self.unchanged()
        return self.text_ui(searches, text, semantic_weight, k, *filter_values)

    # The Image tab.

    def image_ui(self, searches: TabSearches, image: dict | None, k: int, *filter_values: list[str]) -> tuple:
        if image is None:
            return self.unchanged()
        return self.search("image", searches, lambda: ImageQuery.parse(self.photo_path(image)), k, filter_values)

    # The Image + Text tab.

    def composed_ui(
        self,
        searches: TabSearches,
        image: dict | None,
        text: str,
        image_weight: float,
        k: int,
        *filter_values: list[str],
    ) -> tuple:
        def parse() -> ComposedQuery:
            path = self.photo_path(image)
            return ComposedQuery.parse(path, text, image_weight, self.engine.default_semantic_weight)

        return self.search("composed", searches, parse, k, filter_values)

    def composed_on_change(
        self,
        searches: TabSearches,
        image: dict | None,
        text: str,
        image_weight: float,
        k: int,
        *filter_values: list[str],
    ) -> tuple:
        if image is None:
            return self.unchanged()
        return self.composed_ui(searches, image, text, image_weight, k, *filter_values)

    def photo_path(self, image: dict | None) -> str:
        """The file of a photo the page sent: an upload, or one of the catalog's own photo files (an example)."""
        path = image.get("path") if isinstance(image, dict) else None
        if isinstance(path, str) and self.photos.contains(path):
            return str(Path(path).resolve())
        return uploaded_path(image)

    # The tabs, the results panel and the filters.

    def tab_ui(self, tab: str, searches: TabSearches, k: int, *filter_values: list[str]) -> tuple:
        """A tab selected: its own last search shown again with the filters as they are now, or, before its first
        search, an empty gallery and what to do in the status line."""
        viewing = searches.viewing(tab)
        current = viewing.current
        if current is not None:
            return self.search(tab, viewing, lambda: current, k, filter_values)
        return (
            gr.update(value=[], selected_index=None),
            TAB_PROMPTS[tab],
            [],
            viewing,
            gr.Row(visible=False),
            *hidden_chips(),
            gr.Button(visible=False),  # the language button
            *(gr.skip(),) * len(TABS),
        )

    def similar_ui(self, searches: TabSearches, product_id: int | None, k: int, *filter_values: list[str]) -> tuple:
        """More like the selected product, as the search of the tab in view."""
        if product_id is None:
            return self.input_mistake(searches.tab, SELECT_FIRST)
        return self.search(searches.tab, searches, lambda: SimilarQuery.parse(product_id), k, filter_values)

    def rerun_ui(self, searches: TabSearches, k: int, *filter_values: list[str]) -> tuple:
        """The search of the tab in view again, with new filters or a new number of results."""
        query = searches.current
        if query is None:
            return self.unchanged()
        return self.search(searches.tab, searches, lambda: query, k, filter_values)

    def language_ui(self, searches: TabSearches, k: int, *filter_values: list[str]) -> tuple:
        """The text search of the tab in view again, as typed if it was translated and translated if it was searched
        as typed."""
        query = searches.current
        if not isinstance(query, (TextQuery, ComposedQuery)):
            return self.unchanged()
        toggled = dataclasses.replace(query, translate=not query.translate)
        return self.search(searches.tab, searches, lambda: toggled, k, filter_values)

    def details_ui(self, ids: list[int], event: gr.SelectData) -> tuple:
        """The details panel shown, the product's photo, its metadata table and its id (for "More like this")."""
        index = event.index
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(ids):
            raise InvalidQueryError(NOT_SHOWN)
        product_id = ids[index]
        metadata = self.engine.product(product_id)
        rows = "".join(
            f"<tr><th>{label}</th><td>{html.escape(str(metadata.get(name) or '—'))}</td></tr>"
            for name, label in DETAIL_LABELS.items()
        )
        image = self.photos.path(product_id)
        heading = f"<h3>{html.escape(metadata[NAME_COLUMN] or str(product_id))}</h3>"
        return gr.Row(visible=True), image, f"{heading}<table class='product-details'>{rows}</table>", product_id

    def search(
        self,
        tab: str,
        searches: TabSearches,
        parse: Callable[[], Query],
        k: int,
        filter_values: Sequence[list[str] | None],
    ) -> tuple:
        """Parse and run a search of `tab` and show it; an input mistake (search.InvalidQueryError, raised while
        parsing or running) leaves the page as it is and is said next to the tab's input."""
        try:
            query = parse()
            return self.show(searches.searched(tab, query), query, k, *filter_values)
        except InvalidQueryError as error:
            return self.input_mistake(tab, str(error))

    def show(self, searches: TabSearches, query: Query, k: int, *filter_values: list[str] | None) -> tuple:
        """Run `query`, the search of the tab in view, and show its results, its messages in its own status line and
        its label chips; the tab's input message is cleared."""
        filters = filters_from(filter_values)
        response = self.engine.search(query, Scope.parse(k, filters, collapse_similar=True))
        gallery = [(self.photos.path(result.product_id), caption(result)) for result in response.results]
        described = describe(query, self.engine, response.query_text)
        status = f"**{len(response.results)} results** {as_markdown_text(described)}"
        if filters:
            chosen = "; ".join(f"{UI_FILTERS[name]}: {', '.join(values)}" for name, values in filters.items())
            status += f" · {as_markdown_text(chosen)}"
        status += f" · {response.elapsed_ms:.0f} ms"
        messages = response.notices or ([] if response.results else [NOTHING_FOUND])
        status += "".join(f"\n\n> {as_markdown_text(message)}" for message in messages)
        return (
            gr.update(value=gallery, selected_index=None),  # a new search selects no tile
            status,
            response.ids,
            searches,
            gr.Row(visible=False),
            *chips(response),
            language_button(response.query_text, translation_model(self.engine) is not None),
            *input_messages(searches.tab, ""),
        )

    @staticmethod
    def input_mistake(tab: str, message: str) -> tuple:
        """Everything as it is but the tab's input message, which says what to do."""
        return (*(gr.skip(),) * (OUTPUTS - len(TABS)), *input_messages(tab, message))

    @staticmethod
    def apply_chip(label: str, chosen: list[str] | str | None) -> tuple:
        """A chip's label ("Tshirts · 82%") added to its filter's selection, which re-runs the search, and the
        chips hidden."""
        if not isinstance(label, str) or " · " not in label:
            raise InvalidQueryError("That suggestion is no longer shown; search again.")
        selected = [chosen] if isinstance(chosen, str) else list(chosen or [])
        return sorted({*selected, label.rsplit(" · ", 1)[0]}), gr.Row(visible=False)

    @staticmethod
    def dismiss_chips() -> gr.Row:
        return gr.Row(visible=False)

    @staticmethod
    def unchanged() -> tuple:
        return (gr.skip(),) * OUTPUTS


def input_messages(tab: str, message: str) -> tuple:
    """The input message of each tab: `tab`'s set to `message` (hidden when empty), the others left as they are."""
    shown = gr.Markdown(as_markdown_text(message), visible=bool(message))
    return tuple(shown if name == tab else gr.skip() for name in TABS)
