"""The page's handlers called as functions: what the gallery, the status line and the details panel show, and the
immutable last query that filters and the number of results re-run."""

import dataclasses

import gradio as gr
import pytest

from search import (
    DEFAULT_IMAGE_WEIGHT,
    DEFAULT_K,
    DEFAULT_SEMANTIC_WEIGHT,
    ComposedQuery,
    ImageQuery,
    InvalidQueryError,
    QueryLanguage,
    SearchEngine,
    SimilarQuery,
    TextQuery,
    VectorQuery,
)
from search.language import LanguageDetector
from ui.language import SEARCH_ORIGINAL, SEARCH_TRANSLATION
from ui.messages import as_markdown_text
from ui.page import OUTPUTS, Page, caption, chips, describe
from ui.settings import UI_FILTERS

NO_FILTERS = [None] * len(UI_FILTERS)
VIETNAMESE = "áo sơ mi nam màu đỏ"


@pytest.fixture
def page(engine, photos) -> Page:
    return Page(engine, photos)


def filter_values(**chosen: list[str]) -> list[list[str] | None]:
    """The filter dropdowns' values in page order, as the page sends them."""
    return [chosen.get(name) for name in UI_FILTERS]


def same_query(stored, expected) -> bool:
    """The same kind of query with the same fields (photo queries compare by identity otherwise)."""
    return type(stored) is type(expected) and dataclasses.astuple(stored) == dataclasses.astuple(expected)


def assert_shows(page: Page, outputs: tuple, expected, status: str, query, button: str | None = None) -> None:
    """The gallery holds the engine's results with near-identical ones folded (photo file; name, article type and
    colour, no score), no tile selected; the status line says `status`, the shown ids and the stored query follow
    (the status as Markdown shows it), the details panel is hidden and the language button shows `button` (or is
    hidden)."""
    gallery, shown_status, ids, stored_query, details, *_, language = outputs
    assert gallery["selected_index"] is None
    assert gallery["value"] == [(page.photos.path(r.product_id), caption(r)) for r in expected]
    for result, (_, shown) in zip(expected, gallery["value"], strict=True):
        assert shown.startswith(" · ".join(p for p in (result.name, result.metadata["articleType"]) if p))
        assert result.metadata["baseColour"] in shown and f"{result.score:.2f}" not in shown.split(" · ")
    assert shown_status.startswith(f"**{len(expected)} results** ") and as_markdown_text(status) in shown_status
    assert " ms" in shown_status and ids == expected.ids
    assert same_query(stored_query, query)
    assert details.visible is False
    if button is None:
        assert language.visible is False, "English and photo searches offer no language button"
    else:
        assert language.visible is True and language.value == button


def test_text_search_shows_the_engines_results(page, engine):
    outputs = page.text_ui("red shirt", DEFAULT_SEMANTIC_WEIGHT, DEFAULT_K, *NO_FILTERS)
    expected = engine.search_text("red shirt", k=DEFAULT_K, collapse_similar=True)
    assert_shows(page, outputs, expected, "for “red shirt”", TextQuery("red shirt", DEFAULT_SEMANTIC_WEIGHT))


def test_filters_and_weight_are_applied_and_named_in_the_status(page, engine):
    outputs = page.text_ui("white sneakers", 0.4, 12, *filter_values(gender=["Women"], season=["Summer", "Fall"]))
    filters = {"gender": ["Women"], "season": ["Summer", "Fall"]}
    expected = engine.search_text("white sneakers", 12, filters, 0.4, collapse_similar=True)
    status = "for “white sneakers” (meaning weight 0.40) · Gender: Women; Season: Summer, Fall"
    assert_shows(page, outputs, expected, status, TextQuery("white sneakers", 0.4))


def test_the_status_shows_the_query_as_typed_not_as_markup(page):
    _, status, *_ = page.text_ui("<b>black</b> *boots*", 1.0, 3, *NO_FILTERS)
    assert r"for “&lt;b&gt;black&lt;/b&gt; \*boots\*”" in status


def test_the_last_query_reruns_with_new_filters_and_k(page, engine):
    query = page.text_ui("red shirt", 0.6, DEFAULT_K, *NO_FILTERS)[3]
    outputs = page.rerun_ui(query, 5, *filter_values(masterCategory=["Apparel"]))
    expected = engine.search_text("red shirt", 5, {"masterCategory": ["Apparel"]}, 0.6, collapse_similar=True)
    assert_shows(page, outputs, expected, "Category: Apparel", query)


def test_notices_are_part_of_the_status_line_of_their_search(page):
    gallery, status, *_ = page.text_ui("shirt", 1.0, 1000, *NO_FILTERS)
    assert 0 < len(gallery["value"]) <= 100 and "k=1000 was reduced to 100" in status


def test_nothing_to_search_leaves_the_page_as_it_is(page):
    unchanged = (gr.skip(),) * OUTPUTS
    assert page.text_on_change("   ", 0.5, DEFAULT_K, *NO_FILTERS) == unchanged
    assert page.image_ui(None, DEFAULT_K, *NO_FILTERS) == unchanged
    assert page.composed_on_change(None, "in red", 0.5, DEFAULT_K, *NO_FILTERS) == unchanged
    assert page.rerun_ui(None, DEFAULT_K, *NO_FILTERS) == unchanged


def test_moving_the_slider_reruns_a_typed_query(page, engine):
    outputs = page.text_on_change("red shirt", 0.3, 6, *NO_FILTERS)
    assert_shows(
        page,
        outputs,
        engine.search_text("red shirt", 6, None, 0.3, collapse_similar=True),
        "meaning weight 0.30",
        outputs[3],
    )


def test_photo_and_photo_plus_text_searches(page, engine, upload, photo):
    stored = upload(photo)
    outputs = page.image_ui(stored, 8, *NO_FILTERS)
    assert_shows(
        page,
        outputs,
        engine.search_image(photo, k=8, collapse_similar=True),
        "similar to your photo",
        ImageQuery(stored["path"]),
    )
    outputs = page.composed_ui(stored, "in red", 0.3, 8, *NO_FILTERS)
    query = ComposedQuery(stored["path"], "in red", 0.3)
    expected = engine.search_composed(photo, "in red", 0.3, 8, collapse_similar=True)
    assert_shows(page, outputs, expected, "for your photo + “in red” (photo weight 0.30)", query)
    outputs = page.composed_on_change(stored, None, DEFAULT_IMAGE_WEIGHT, 8, *NO_FILTERS)
    assert outputs[1].split("** ")[1].startswith("for your photo ·"), "no text: the photo alone"


def test_photos_must_be_uploads(page, photo):
    with pytest.raises(InvalidQueryError, match="must be uploaded as files"):
        page.image_ui({"path": str(photo)}, DEFAULT_K, *NO_FILTERS)
    with pytest.raises(InvalidQueryError, match="No image was given"):
        page.composed_ui(None, "in red", 0.5, DEFAULT_K, *NO_FILTERS)


def test_details_then_more_like_this(page, engine):
    shown = engine.search_text("red shirt", k=6, collapse_similar=True)
    chosen = shown.results[2]
    details, image, info, product_id = page.details_ui(shown.ids, gr.SelectData(None, {"index": 2, "value": None}))
    assert details.visible is True and product_id == chosen.product_id
    assert image == page.photos.path(chosen.product_id)
    assert f"<h3>{chosen.name}</h3>" in info and f"<td>{chosen.metadata['articleType']}</td>" in info
    assert f"<th>Product id</th><td>{chosen.product_id}</td>" in info
    outputs = page.similar_ui(product_id, 5, *NO_FILTERS)
    expected = engine.more_like_this(chosen.product_id, k=5, collapse_similar=True)
    assert_shows(page, outputs, expected, f"like “{chosen.name}”", SimilarQuery(chosen.product_id))


def test_more_like_this_needs_a_selected_product(page):
    with pytest.raises(InvalidQueryError, match="Select a product in the results first"):
        page.similar_ui(None, DEFAULT_K, *NO_FILTERS)


def test_the_status_line_describes_only_the_pages_kinds_of_search(engine):
    with pytest.raises(TypeError, match="VectorQuery"):
        describe(VectorQuery.parse([1.0] * engine.index.dim, engine.index.dim), engine)


def test_messages_belong_to_their_search_and_zero_results_are_said_in_the_status(page):
    outputs = page.text_ui("zzzqqq", 0.0, 5, *NO_FILTERS)
    assert outputs[0]["value"] == [] and "No product name or label contains these words" in outputs[1]
    replaced = page.text_ui("red shirt", 0.0, 5, *NO_FILTERS)
    assert replaced[0]["value"] and "No product name or label" not in replaced[1]


def test_confident_label_guesses_become_chips_that_filter(page, engine, monkeypatch):
    guesser = engine.label_guesser
    monkeypatch.setattr(guesser, "margin", 0.0)  # every top guess counts as clearly ahead
    response = engine.search_image(engine.product_image(int(engine.products.ids[0])), k=3)
    row, *buttons = chips(response)
    assert row.visible is True
    for guess, button in zip(response.labels, buttons, strict=True):
        assert button.value == f"{guess.label} · {guess.score:.0%}" and button.visible is True
    chosen, hidden = page.apply_chip(buttons[0].value, ["Shirts"])
    assert chosen == sorted({"Shirts", response.labels[0].label}) and hidden.visible is False
    monkeypatch.setattr(guesser, "margin", 1.01)  # nothing is ever clearly ahead
    row, *buttons = chips(engine.search_image(engine.product_image(int(engine.products.ids[0])), k=3))
    assert row.visible is False and all(button.visible is False for button in buttons)


# --- queries in other languages ---------------------------------------------------------------------------------


@pytest.fixture
def multilingual_page(multilingual_engine, photos) -> Page:
    return Page(multilingual_engine, photos)


def test_a_translated_search_says_so_and_offers_the_original(multilingual_page, multilingual_engine):
    outputs = multilingual_page.text_ui(VIETNAMESE, 0.6, 8, *NO_FILTERS)
    expected = multilingual_engine.search_text(VIETNAMESE, 8, None, 0.6, collapse_similar=True)
    status = f"for “{expected.query_text.searched}” (translated from Vietnamese; meaning weight 0.60)"
    assert_shows(multilingual_page, outputs, expected, status, TextQuery(VIETNAMESE, 0.6), SEARCH_ORIGINAL)


def test_the_language_button_switches_between_the_original_and_the_translation(multilingual_page, multilingual_engine):
    translated = multilingual_page.text_ui(VIETNAMESE, 1.0, 8, *NO_FILTERS)[3]
    outputs = multilingual_page.language_ui(translated, 8, *NO_FILTERS)
    as_typed = TextQuery(VIETNAMESE, 1.0, translate=False)
    expected = multilingual_engine.search_text(VIETNAMESE, 8, None, 1.0, translate=False, collapse_similar=True)
    status = f"for “{VIETNAMESE}” (Vietnamese, as typed)"
    assert_shows(multilingual_page, outputs, expected, status, as_typed, SEARCH_TRANSLATION)
    back = multilingual_page.language_ui(outputs[3], 8, *NO_FILTERS)
    assert same_query(back[3], TextQuery(VIETNAMESE, 1.0)) and back[-1].value == SEARCH_ORIGINAL


def test_the_language_button_applies_to_text_searches_only(multilingual_page):
    unchanged = (gr.skip(),) * OUTPUTS
    assert multilingual_page.language_ui(None, DEFAULT_K, *NO_FILTERS) == unchanged
    assert multilingual_page.language_ui(SimilarQuery(1), DEFAULT_K, *NO_FILTERS) == unchanged


def test_a_translated_photo_plus_text_search_says_so(multilingual_page, multilingual_engine, upload, photo):
    stored = upload(photo)
    weight = multilingual_engine.default_semantic_weight
    outputs = multilingual_page.composed_ui(stored, "robe d'été rouge", 0.3, 8, *NO_FILTERS)
    expected = multilingual_engine.search_composed(
        photo, "robe d'été rouge", 0.3, 8, None, weight, collapse_similar=True
    )
    status = f"for your photo + “{expected.query_text.searched}” (translated from French; photo weight 0.30)"
    query = ComposedQuery(stored["path"], "robe d'été rouge", 0.3, weight)
    assert_shows(multilingual_page, outputs, expected, status, query, SEARCH_ORIGINAL)


def test_without_a_translation_model_no_button_and_the_reason_is_told(engine, photos):
    language = QueryLanguage(LanguageDetector(), None, "the translation model x could not be loaded")
    page = Page(SearchEngine(engine.bundle, engine.encoder, language=language), photos)
    outputs = page.text_ui(VIETNAMESE, 1.0, 5, *NO_FILTERS)
    assert as_markdown_text(f"for “{VIETNAMESE}” (Vietnamese, as typed)") in outputs[1]
    assert as_markdown_text("the translation model x could not be loaded") in outputs[1]
    assert outputs[-1].visible is False
