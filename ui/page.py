"""The page's handlers: each search is parsed once into the engine's immutable query object (search.TextQuery,
ImageQuery, ComposedQuery or SimilarQuery), which the page keeps as the last query of the tab it was made in
(ui.state.TabSearches): filters and the number of results re-run the search of the tab in view, the language button
runs it translated / as typed, and selecting a tab shows that tab's own last search.

Every handler returns a frozen view of what it changes (ui.views), or None when nothing changes. A search's messages
(notices, nothing found) are part of its status line, so the next search replaces them. An input mistake (no text,
no photo, a file that is no image) says what to do in a calm line next to the tab's input, which the tab's next
search clears; the results stay, except those of a photo that was replaced by a file that is no image. Other
failures are errors (ui.messages).
"""

import dataclasses
import html
from collections.abc import Callable, Sequence
from pathlib import Path

import gradio as gr

from search import (
    DEFAULT_K,
    NAME_COLUMN,
    ComposedQuery,
    ImageQuery,
    InvalidImageError,
    InvalidQueryError,
    Query,
    Scope,
    SearchEngine,
    SearchResponse,
    SearchResult,
    SimilarQuery,
    TextQuery,
)
from ui.language import language_button_label, translation_model
from ui.links import Link, link_to
from ui.photo_files import ProductImages
from ui.settings import COLLAPSE_SIMILAR, DETAIL_LABELS, UI_FILTERS
from ui.state import TAB_PROMPTS, TabSearches
from ui.uploads import uploaded_path
from ui.views import Chip, DetailsView, MistakeView, OpenedView, PromptView, ResultsView, Tile, View
from ui.wording import about, as_typed_label, caption, facet_label, plural, status_line

SELECT_FIRST = "Select a product in the results first."
NOT_SHOWN = "That product is no longer among the results; select one again."
CHIP_GONE = "That suggestion is no longer shown; search again."
# The fields whose zero-shot guess a photo search offers as a filter chip, in the order of the chips.
CHIP_FIELDS = ("articleType", "baseColour")
# At most this many attributes a text names are offered as filter chips ("Men · Red · Tshirts").
RECOGNISED_CHIPS = 4
PHOTO_TABS = {"image", "composed"}


def filters_from(values: Sequence[list[str] | str | None]) -> dict[str, list[str]]:
    """The filter dropdowns' selections as engine filters (empty selections constrain nothing; a single value, which
    a multiselect dropdown also accepts, is a selection of one). The engine checks every value."""
    return {
        name: [value] if isinstance(value, str) else value
        for name, value in zip(UI_FILTERS, values, strict=True)
        if value
    }


def photo_chips(response: SearchResponse, filters: dict[str, list[str]]) -> tuple[Chip, ...]:
    """A photo search's confident guesses as chips ("Tshirts · 82%"), in the order of CHIP_FIELDS, except those
    already chosen as filters."""
    confident = {
        guess.field: guess
        for guess in response.labels
        if guess.confident and guess.label not in filters.get(guess.field, [])
    }
    return tuple(
        Chip(field, confident[field].label, f"{confident[field].label} · {confident[field].score:.0%}")
        for field in CHIP_FIELDS
        if field in confident
    )


def recognised_chips(
    response: SearchResponse, filters: dict[str, list[str]], catalog: dict[str, list[str]]
) -> tuple[Chip, ...]:
    """The attributes the text names that the page can filter by (a value of a filter it offers, not chosen yet),
    as chips in the query's order, each value once, at most RECOGNISED_CHIPS."""
    chips = {
        (item.field, item.value): Chip(item.field, item.value, item.value)
        for item in response.recognised
        if item.field in UI_FILTERS
        and item.value in catalog.get(item.field, ())
        and item.value not in filters.get(item.field, [])
    }
    return tuple(chips.values())[:RECOGNISED_CHIPS]


def filter_choices(
    response: SearchResponse, filters: dict[str, list[str]], catalog: dict[str, list[str]]
) -> dict[str, tuple[tuple[str, str], ...]]:
    """Each filter's (label, value) choices for a search: its values among the search's candidates with their
    counts, most frequent first, then the chosen values they lack; the catalog's values where the search has no
    facet for the field."""
    choices = {}
    for name in UI_FILTERS:
        facet = response.facets.get(name)
        if facet is None:
            choices[name] = tuple((value, value) for value in catalog.get(name, ()))
            continue
        counted = {value for value, _ in facet}
        lacking = [value for value in filters.get(name, []) if value not in counted]
        choices[name] = (
            *((facet_label(value, count), value) for value, count in facet),
            *((facet_label(value, 0), value) for value in lacking),
        )
    return choices


def prompt(searches: TabSearches) -> PromptView:
    """The tab in view without a search: what to do, and a link to the tab."""
    return PromptView(searches, TAB_PROMPTS[searches.tab], link_to(searches.tab, None, DEFAULT_K, {}))


class Page:
    """The page's event handlers for one engine, grouped by the part of the page that fires them."""

    def __init__(self, engine: SearchEngine, photos: ProductImages) -> None:
        self.engine = engine
        self.photos = photos

    # The Text tab.

    def text_ui(
        self, searches: TabSearches, text: str, semantic_weight: float | None, k: int, *filter_values: list[str]
    ) -> View:
        return self.search("text", searches, lambda: TextQuery.parse(text, semantic_weight), k, filter_values)

    def text_on_change(
        self, searches: TabSearches, text: str, semantic_weight: float | None, k: int, *filter_values: list[str]
    ) -> View | None:
        if not (text or "").strip():
            return None
        return self.text_ui(searches, text, semantic_weight, k, *filter_values)

    # The Image tab.

    def image_ui(self, searches: TabSearches, image: dict | None, k: int, *filter_values: list[str]) -> View | None:
        if image is None:
            return None
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
    ) -> View:
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
    ) -> View | None:
        if image is None:
            return None
        return self.composed_ui(searches, image, text, image_weight, k, *filter_values)

    def photo_path(self, image: dict | None) -> str:
        """The file of a photo the page sent: an upload, or one of the catalog's own photo files (an example)."""
        path = image.get("path") if isinstance(image, dict) else None
        if isinstance(path, str) and self.photos.contains(path):
            return str(Path(path).resolve())
        return uploaded_path(image)

    # The tabs, the results panel and the filters.

    def tab_ui(self, tab: str, searches: TabSearches, k: int, *filter_values: list[str]) -> View | None:
        """A tab selected: its own last search shown again with the filters as they are now, or, before its first
        search, an empty gallery and what to do in the status line. The tab already in view changes nothing: Gradio
        also selects the first tab as the page loads, and the tab a link opened, which already shows its search."""
        if tab == searches.tab:
            return None
        viewing = searches.viewing(tab)
        current = viewing.current
        if current is None:
            return prompt(viewing)
        return self.search(tab, viewing, lambda: current, k, filter_values)

    def open_ui(self, searches: TabSearches, query_string: str) -> OpenedView | None:
        """A link opened (the page's URL as it loads, or after the browser's back / forward): the inputs set as it
        says and its search run, or its tab shown without a search when it asks for none (a photo cannot travel in a
        link). No link at all ("" as the page loads) changes nothing; "?" is the page without a search."""
        if not isinstance(query_string, str) or not query_string:
            return None
        link = Link.parse(query_string)
        inputs = link.inputs(self.engine.default_semantic_weight, self.engine.filter_choices())
        parse = self.link_query(link)
        if parse is None:
            view: ResultsView | PromptView | MistakeView = prompt(searches.forgetting(link.tab))
        else:
            view = self.search(link.tab, searches, parse, DEFAULT_K if link.k is None else link.k, link.filter_values())
        return OpenedView(inputs, view, query_string.removeprefix("?"))

    def link_query(self, link: Link) -> Callable[[], Query] | None:
        """How to parse the search a link asks for: more like a product, or a text; None for a photo search."""
        if link.like is not None:
            return lambda: SimilarQuery.parse(link.like)
        if link.tab == "text" and link.text:  # no balance in the link: the words decide
            return lambda: TextQuery.parse(link.text, link.semantic_weight, link.translate, link.correct)
        return None

    def similar_ui(
        self, searches: TabSearches, selected: SearchResult | None, k: int, *filter_values: list[str]
    ) -> View:
        """More like the selected product, as the search of the tab in view."""
        if not isinstance(selected, SearchResult):
            return MistakeView(searches.tab, SELECT_FIRST)
        return self.search(searches.tab, searches, lambda: SimilarQuery.parse(selected.product_id), k, filter_values)

    def rerun_ui(self, searches: TabSearches, k: int, *filter_values: list[str]) -> View | None:
        """The search of the tab in view again, with new filters or a new number of results."""
        query = searches.current
        if query is None:
            return None
        return self.search(searches.tab, searches, lambda: query, k, filter_values)

    def as_typed_ui(self, searches: TabSearches, k: int, *filter_values: list[str]) -> View | None:
        """The text search of the tab in view again with its words as typed, not spelling-corrected."""
        query = searches.current
        if not isinstance(query, (TextQuery, ComposedQuery)):
            return None
        as_typed = dataclasses.replace(query, correct=False)
        return self.search(searches.tab, searches, lambda: as_typed, k, filter_values)

    def clear_filters_ui(self, searches: TabSearches, k: int, *filter_values: list[str]) -> View | None:
        """The search of the tab in view again without filters."""
        return self.rerun_ui(searches, k, *([] for _ in filter_values))

    def language_ui(self, searches: TabSearches, k: int, *filter_values: list[str]) -> View | None:
        """The text search of the tab in view again, as typed if it was translated and translated if it was searched
        as typed."""
        query = searches.current
        if not isinstance(query, (TextQuery, ComposedQuery)):
            return None
        toggled = dataclasses.replace(query, translate=not query.translate)
        return self.search(searches.tab, searches, lambda: toggled, k, filter_values)

    def details_ui(self, shown: Sequence[SearchResult], event: gr.SelectData) -> DetailsView:
        """The selected result's photo and its metadata table, read from the result the page shows."""
        index = event.index
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(shown):
            raise InvalidQueryError(NOT_SHOWN)
        result = shown[index]
        rows = "".join(
            f"<tr><th>{label}</th><td>{html.escape(str(result.metadata.get(name) or '—'))}</td></tr>"
            for name, label in DETAIL_LABELS.items()
        )
        heading = f"<h3>{html.escape(result.name or str(result.product_id))}</h3>"
        table = f"<table class='product-details'>{rows}</table>"
        return DetailsView(result, self.photos.of(result), heading, table + self.folded(result))

    def folded(self, result: SearchResult) -> str:
        """What a tile folds besides its product (HTML): each other product's name where it differs, colour and id."""
        if not result.similar:
            return ""
        items = []
        for product_id in result.similar:
            product = self.engine.product(product_id)
            name = product.get(NAME_COLUMN)
            parts = [name if name and name != result.name else None, product.get("baseColour"), f"id {product_id}"]
            items.append(f"<li>{html.escape(' · '.join(part for part in parts if part))}</li>")
        intro = f"<p class='folded-intro'>This tile also holds {plural(len(items), 'product')}:</p>"
        return f"{intro}<ul class='folded'>{''.join(items)}</ul>"

    def search(
        self,
        tab: str,
        searches: TabSearches,
        parse: Callable[[], Query],
        k: object,
        filter_values: Sequence[list[str] | None],
    ) -> ResultsView | MistakeView:
        """Parse and run a search of `tab` and show it; an input mistake (search.InvalidQueryError, raised while
        parsing or running) is said next to the tab's input. A photo tab's photo that is no image is a mistake that
        also takes back that tab's results: they no longer belong to a photo shown."""
        try:
            query = parse()
            return self.show(searches.searched(tab, query), query, k, filter_values)
        except InvalidImageError as error:
            if tab in PHOTO_TABS:
                return MistakeView(tab, str(error), prompt(searches.forgetting(tab)))
            return MistakeView(tab, str(error))
        except InvalidQueryError as error:
            return MistakeView(tab, str(error))

    def show(
        self, searches: TabSearches, query: Query, k: object, filter_values: Sequence[list[str] | None]
    ) -> ResultsView:
        """Run `query`, the search of the tab in view, and show it: its results, its status line and "About this
        search", its label chips, the language button and its link."""
        filters = filters_from(filter_values)
        scope = Scope.parse(k, filters, collapse_similar=COLLAPSE_SIMILAR)
        response = self.engine.search(query, scope)
        named = self.engine.product(query.product_id)[NAME_COLUMN] if isinstance(query, SimilarQuery) else ""
        catalog = self.engine.filter_choices()
        return ResultsView(
            searches=searches,
            results=tuple(response.results),
            tiles=tuple(Tile(self.photos.of(result), caption(result)) for result in response.results),
            status=status_line(query, response, filters, named),
            about=about(query, response, self.engine),
            chips=photo_chips(response, filters),
            language=language_button_label(response.query_text, translation_model(self.engine) is not None),
            filters=filters,
            link=link_to(searches.tab, query, scope.k, filters),
            recognised=recognised_chips(response, filters, catalog),
            correction=as_typed_label(response),
            choices=filter_choices(response, filters, catalog),
            balance=response.semantic_weight
            if isinstance(query, TextQuery) and query.semantic_weight is None
            else None,
        )

    def recognised_ui(
        self, searches: TabSearches, chips: Sequence[Chip], index: int, k: int, *filter_values: list[str]
    ) -> View | None:
        """The `index`th chip of an attribute the text names clicked: its value added to its filter, and the search
        of the tab in view re-run with it."""
        if not isinstance(index, int) or not 0 <= index < len(chips):
            raise InvalidQueryError(CHIP_GONE)
        return self.rerun_ui(searches, k, *with_value(filter_values, chips[index].field, chips[index].value))

    def chip_ui(self, field: str, searches: TabSearches, label: str, k: int, *filter_values: list[str]) -> View | None:
        """A chip of `field` clicked: its label ("Tshirts · 82%") added to that filter, and the search of the tab in
        view re-run with it."""
        if not isinstance(label, str) or " · " not in label:
            raise InvalidQueryError(CHIP_GONE)
        return self.rerun_ui(searches, k, *with_value(filter_values, field, label.rsplit(" · ", 1)[0]))


def with_value(filter_values: Sequence[list[str] | str | None], field: str, value: str) -> list:
    """The filter dropdowns' values with `value` added to the `field` filter."""
    values = list(filter_values)
    position = list(UI_FILTERS).index(field)
    chosen = values[position]
    values[position] = sorted({*([chosen] if isinstance(chosen, str) else chosen or []), value})
    return values
