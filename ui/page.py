"""The page's handlers and their state: each search is parsed once into the engine's immutable query object
(search.TextQuery, ImageQuery, ComposedQuery or SimilarQuery), which the page keeps as its last query and runs
again with new filters, a new number of results, or translated / as typed.

Every search handler returns the same outputs: the gallery, the status line, the shown ids, the query, an
update hiding the details panel, the label chips of a photo search and the language button (or gr.skip() for
each when there is nothing to search yet). A search's messages (notices, nothing found) are part of its status
line, so the next search replaces them; near-identical results are folded into one tile ("+N similar").
"""

import dataclasses
import html
from collections.abc import Sequence
from functools import singledispatch

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
from ui.photos import ProductImages
from ui.settings import DETAIL_LABELS, UI_FILTERS
from ui.uploads import uploaded_path

NOTHING_FOUND = "Nothing found. Try other words, another photo or fewer filters."
SHOWN_TEXT_CHARS = 80  # of a query text in the status line
# The fields whose zero-shot guess a photo search offers as a filter chip, in the order of the chips.
CHIP_FIELDS = ("articleType", "baseColour")
# gallery, status, ids, query, details; chips row; one chip per field; the language button
OUTPUTS = 5 + 1 + len(CHIP_FIELDS) + 1


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


def filters_from(values: Sequence[list[str] | None]) -> dict[str, list[str]]:
    """The filter dropdowns' selections as engine filters (empty selections constrain nothing)."""
    return {name: list(value) for name, value in zip(UI_FILTERS, values, strict=True) if value}


class Page:
    """The page's event handlers for one engine, grouped by the part of the page that fires them."""

    def __init__(self, engine: SearchEngine, photos: ProductImages) -> None:
        self.engine = engine
        self.photos = photos

    # The Text tab.

    def text_ui(self, text: str, semantic_weight: float, k: int, *filter_values: list[str]) -> tuple:
        return self.show(TextQuery.parse(text, semantic_weight), k, *filter_values)

    def text_on_change(self, text: str, semantic_weight: float, k: int, *filter_values: list[str]) -> tuple:
        if not (text or "").strip():
            return self._unchanged()
        return self.text_ui(text, semantic_weight, k, *filter_values)

    # The Image tab.

    def image_ui(self, image: dict | None, k: int, *filter_values: list[str]) -> tuple:
        if image is None:
            return self._unchanged()
        return self.show(ImageQuery.parse(uploaded_path(image)), k, *filter_values)

    # The Image + Text tab.

    def composed_ui(
        self, image: dict | None, text: str, image_weight: float, k: int, *filter_values: list[str]
    ) -> tuple:
        query = ComposedQuery.parse(uploaded_path(image), text, image_weight, self.engine.default_semantic_weight)
        return self.show(query, k, *filter_values)

    def composed_on_change(
        self, image: dict | None, text: str, image_weight: float, k: int, *filter_values: list[str]
    ) -> tuple:
        if image is None:
            return self._unchanged()
        return self.composed_ui(image, text, image_weight, k, *filter_values)

    # The results panel and the filters.

    def similar_ui(self, product_id: int | None, k: int, *filter_values: list[str]) -> tuple:
        if product_id is None:
            raise InvalidQueryError("Select a product in the results first.")
        return self.show(SimilarQuery.parse(product_id), k, *filter_values)

    def rerun_ui(self, query: Query | None, k: int, *filter_values: list[str]) -> tuple:
        if query is None:
            return self._unchanged()
        return self.show(query, k, *filter_values)

    def language_ui(self, query: Query | None, k: int, *filter_values: list[str]) -> tuple:
        """The last text search again, as typed if it was translated and translated if it was searched as typed."""
        if not isinstance(query, (TextQuery, ComposedQuery)):
            return self._unchanged()
        return self.show(dataclasses.replace(query, translate=not query.translate), k, *filter_values)

    def details_ui(self, ids: list[int], event: gr.SelectData) -> tuple:
        """The details panel shown, the product's photo, its metadata table and its id (for "More like this")."""
        product_id = ids[event.index]
        metadata = self.engine.product(product_id)
        rows = "".join(
            f"<tr><th>{label}</th><td>{html.escape(str(metadata.get(name) or '—'))}</td></tr>"
            for name, label in DETAIL_LABELS.items()
        )
        image = self.photos.path(product_id)
        heading = f"<h3>{html.escape(metadata[NAME_COLUMN] or str(product_id))}</h3>"
        return gr.Row(visible=True), image, f"{heading}<table class='product-details'>{rows}</table>", product_id

    def show(self, query: Query, k: int, *filter_values: list[str]) -> tuple:
        """Run the query and show its results, its messages in its own status line, and its label chips."""
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
            query,
            gr.Row(visible=False),
            *chips(response),
            language_button(response.query_text, translation_model(self.engine) is not None),
        )

    @staticmethod
    def apply_chip(label: str, chosen: list[str] | None) -> tuple:
        """A chip's label ("Tshirts · 82%") added to its filter's selection, which re-runs the search, and the
        chips hidden."""
        return sorted({*(chosen or []), label.rsplit(" · ", 1)[0]}), gr.Row(visible=False)

    @staticmethod
    def dismiss_chips() -> gr.Row:
        return gr.Row(visible=False)

    @staticmethod
    def _unchanged() -> tuple:
        return (gr.skip(),) * OUTPUTS
