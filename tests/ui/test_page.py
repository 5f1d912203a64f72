"""The page's handlers called as functions: what the gallery, the status line and the details panel show, each
tab's immutable last query that filters and the number of results re-run, and input mistakes said calmly next to
the tab's input."""

import dataclasses
from pathlib import Path

import gradio as gr
import pytest

from search import (
    DEFAULT_IMAGE_WEIGHT,
    DEFAULT_K,
    DEFAULT_SEMANTIC_WEIGHT,
    ComposedQuery,
    ImageQuery,
    QueryLanguage,
    SearchEngine,
    SimilarQuery,
    TextQuery,
    VectorQuery,
)
from search.errors import ModelLoadError
from search.language import LanguageDetector
from ui.language import SEARCH_ORIGINAL, SEARCH_TRANSLATION
from ui.messages import UNEXPECTED, as_markdown_text, page_errors
from ui.page import OUTPUTS, TAB_PROMPTS, TABS, Page, TabSearches, caption, chips, describe
from ui.settings import UI_FILTERS

NO_FILTERS = [None] * len(UI_FILTERS)
VIETNAMESE = "áo sơ mi nam màu đỏ"
FRESH = TabSearches()


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
    colour, no score), no tile selected; the status line says `status`, the shown ids and the stored query of the
    tab in view follow (the status as Markdown shows it), the details panel is hidden, the language button shows
    `button` (or is hidden) and the tab's input message is cleared."""
    gallery, shown_status, ids, searches, details, *_ = outputs
    language = language_of(outputs)
    stored_query = searches.current
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
    assert message_of(outputs, searches.tab).visible is False


def language_of(outputs: tuple):
    """The language button's output."""
    return outputs[OUTPUTS - len(TABS) - 1]


def message_of(outputs: tuple, tab: str):
    """The input message output of one tab (gr.skip() leaves it as it is)."""
    return outputs[OUTPUTS - len(TABS) + TABS.index(tab)]


def assert_input_mistake(outputs: tuple, tab: str, message: str) -> None:
    """Nothing changes but the tab's input message, which says what to do; the other tabs' messages stay."""
    assert outputs[: OUTPUTS - len(TABS)] == (gr.skip(),) * (OUTPUTS - len(TABS))
    shown = message_of(outputs, tab)
    assert shown.visible is True and message in shown.value
    assert all(message_of(outputs, other) == gr.skip() for other in TABS if other != tab)


def test_text_search_shows_the_engines_results(page, engine):
    outputs = page.text_ui(FRESH, "red shirt", DEFAULT_SEMANTIC_WEIGHT, DEFAULT_K, *NO_FILTERS)
    expected = engine.search_text("red shirt", k=DEFAULT_K, collapse_similar=True)
    assert_shows(page, outputs, expected, "for “red shirt”", TextQuery("red shirt", DEFAULT_SEMANTIC_WEIGHT))


def test_filters_and_weight_are_applied_and_named_in_the_status(page, engine):
    outputs = page.text_ui(
        FRESH, "white sneakers", 0.4, 12, *filter_values(gender=["Women"], season=["Summer", "Fall"])
    )
    filters = {"gender": ["Women"], "season": ["Summer", "Fall"]}
    expected = engine.search_text("white sneakers", 12, filters, 0.4, collapse_similar=True)
    status = "for “white sneakers” (meaning weight 0.40) · Gender: Women; Season: Summer, Fall"
    assert_shows(page, outputs, expected, status, TextQuery("white sneakers", 0.4))


def test_the_status_shows_the_query_as_typed_not_as_markup(page):
    _, status, *_ = page.text_ui(FRESH, "<b>black</b> *boots*", 1.0, 3, *NO_FILTERS)
    assert r"for “&lt;b&gt;black&lt;/b&gt; \*boots\*”" in status


def test_the_last_query_reruns_with_new_filters_and_k(page, engine):
    searches = page.text_ui(FRESH, "red shirt", 0.6, DEFAULT_K, *NO_FILTERS)[3]
    query = searches.current
    outputs = page.rerun_ui(searches, 5, *filter_values(masterCategory=["Apparel"]))
    expected = engine.search_text("red shirt", 5, {"masterCategory": ["Apparel"]}, 0.6, collapse_similar=True)
    assert_shows(page, outputs, expected, "Category: Apparel", query)


def test_notices_are_part_of_the_status_line_of_their_search(page):
    gallery, status, *_ = page.text_ui(FRESH, "shirt", 1.0, 1000, *NO_FILTERS)
    assert 0 < len(gallery["value"]) <= 100 and "k=1000 was reduced to 100" in status


def test_nothing_to_search_leaves_the_page_as_it_is(page):
    unchanged = (gr.skip(),) * OUTPUTS
    assert page.text_on_change(FRESH, "   ", 0.5, DEFAULT_K, *NO_FILTERS) == unchanged
    assert page.image_ui(FRESH, None, DEFAULT_K, *NO_FILTERS) == unchanged
    assert page.composed_on_change(FRESH, None, "in red", 0.5, DEFAULT_K, *NO_FILTERS) == unchanged
    assert page.rerun_ui(FRESH, DEFAULT_K, *NO_FILTERS) == unchanged


def test_moving_the_slider_reruns_a_typed_query(page, engine):
    outputs = page.text_on_change(FRESH, "red shirt", 0.3, 6, *NO_FILTERS)
    assert_shows(
        page,
        outputs,
        engine.search_text("red shirt", 6, None, 0.3, collapse_similar=True),
        "meaning weight 0.30",
        outputs[3].current,
    )


def test_photo_and_photo_plus_text_searches(page, engine, upload, photo):
    stored = upload(photo)
    outputs = page.image_ui(FRESH, stored, 8, *NO_FILTERS)
    assert_shows(
        page,
        outputs,
        engine.search_image(photo, k=8, collapse_similar=True),
        "similar to your photo",
        ImageQuery(stored["path"]),
    )
    outputs = page.composed_ui(FRESH, stored, "in red", 0.3, 8, *NO_FILTERS)
    query = ComposedQuery(stored["path"], "in red", 0.3)
    expected = engine.search_composed(photo, "in red", 0.3, 8, collapse_similar=True)
    assert_shows(page, outputs, expected, "for your photo + “in red” (photo weight 0.30)", query)
    outputs = page.composed_on_change(FRESH, stored, None, DEFAULT_IMAGE_WEIGHT, 8, *NO_FILTERS)
    assert outputs[1].split("** ")[1].startswith("for your photo ·"), "no text: the photo alone"


def test_input_mistakes_are_said_next_to_the_tabs_input(page, photo, upload):
    assert_input_mistake(page.text_ui(FRESH, "  ", 0.5, DEFAULT_K, *NO_FILTERS), "text", "the text is empty")
    outputs = page.image_ui(FRESH, {"path": str(photo)}, DEFAULT_K, *NO_FILTERS)
    assert_input_mistake(outputs, "image", "must be uploaded as files")
    outputs = page.composed_ui(FRESH, None, "in red", 0.5, DEFAULT_K, *NO_FILTERS)
    assert_input_mistake(outputs, "composed", "No image was given")
    not_a_photo = upload(Path(__file__))
    assert_input_mistake(page.image_ui(FRESH, not_a_photo, DEFAULT_K, *NO_FILTERS), "image", "image")
    outputs = page.text_ui(FRESH, "<b>x</b>", 0.5, 0, *NO_FILTERS)
    assert_input_mistake(outputs, "text", r"k \(the number of results\) must be at least 1")


def test_the_next_search_of_the_tab_clears_its_message(page):
    assert message_of(page.text_ui(FRESH, "", 0.5, DEFAULT_K, *NO_FILTERS), "text").visible is True
    outputs = page.text_ui(FRESH, "red shirt", 0.5, DEFAULT_K, *NO_FILTERS)
    assert message_of(outputs, "text").visible is False
    assert all(message_of(outputs, tab) == gr.skip() for tab in TABS if tab != "text")


def test_other_failures_are_not_input_mistakes(page, monkeypatch):
    def broken(*args):
        raise ModelLoadError("The model cannot be loaded.")

    monkeypatch.setattr(page.engine, "search", broken)
    with pytest.raises(ModelLoadError):
        page.text_ui(FRESH, "red shirt", 0.5, DEFAULT_K, *NO_FILTERS)


def test_details_then_more_like_this(page, engine):
    shown = engine.search_text("red shirt", k=6, collapse_similar=True)
    chosen = shown.results[2]
    details, image, info, product_id = page.details_ui(shown.ids, gr.SelectData(None, {"index": 2, "value": None}))
    assert details.visible is True and product_id == chosen.product_id
    assert image == page.photos.path(chosen.product_id)
    assert f"<h3>{chosen.name}</h3>" in info and f"<td>{chosen.metadata['articleType']}</td>" in info
    assert f"<th>Product id</th><td>{chosen.product_id}</td>" in info
    outputs = page.similar_ui(FRESH, product_id, 5, *NO_FILTERS)
    expected = engine.more_like_this(chosen.product_id, k=5, collapse_similar=True)
    assert_shows(page, outputs, expected, f"like “{chosen.name}”", SimilarQuery(chosen.product_id))


def test_more_like_this_needs_a_selected_product(page):
    assert_input_mistake(page.similar_ui(FRESH, None, DEFAULT_K, *NO_FILTERS), "text", "Select a product")


def test_the_status_line_describes_only_the_pages_kinds_of_search(engine):
    with pytest.raises(TypeError, match="VectorQuery"):
        describe(VectorQuery.parse([1.0] * engine.index.dim, engine.index.dim), engine)


def test_messages_belong_to_their_search_and_zero_results_are_said_in_the_status(page):
    outputs = page.text_ui(FRESH, "zzzqqq", 0.0, 5, *NO_FILTERS)
    assert outputs[0]["value"] == [] and "No product name or label contains these words" in outputs[1]
    replaced = page.text_ui(FRESH, "red shirt", 0.0, 5, *NO_FILTERS)
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
    outputs = multilingual_page.text_ui(FRESH, VIETNAMESE, 0.6, 8, *NO_FILTERS)
    expected = multilingual_engine.search_text(VIETNAMESE, 8, None, 0.6, collapse_similar=True)
    status = f"for “{expected.query_text.searched}” (translated from Vietnamese; meaning weight 0.60)"
    assert_shows(multilingual_page, outputs, expected, status, TextQuery(VIETNAMESE, 0.6), SEARCH_ORIGINAL)


def test_the_language_button_switches_between_the_original_and_the_translation(multilingual_page, multilingual_engine):
    translated = multilingual_page.text_ui(FRESH, VIETNAMESE, 1.0, 8, *NO_FILTERS)[3]
    outputs = multilingual_page.language_ui(translated, 8, *NO_FILTERS)
    as_typed = TextQuery(VIETNAMESE, 1.0, translate=False)
    expected = multilingual_engine.search_text(VIETNAMESE, 8, None, 1.0, translate=False, collapse_similar=True)
    status = f"for “{VIETNAMESE}” (Vietnamese, as typed)"
    assert_shows(multilingual_page, outputs, expected, status, as_typed, SEARCH_TRANSLATION)
    back = multilingual_page.language_ui(outputs[3], 8, *NO_FILTERS)
    assert same_query(back[3].current, TextQuery(VIETNAMESE, 1.0)) and language_of(back).value == SEARCH_ORIGINAL


def test_the_language_button_applies_to_text_searches_only(multilingual_page):
    unchanged = (gr.skip(),) * OUTPUTS
    assert multilingual_page.language_ui(FRESH, DEFAULT_K, *NO_FILTERS) == unchanged
    similar = FRESH.searched("text", SimilarQuery(1))
    assert multilingual_page.language_ui(similar, DEFAULT_K, *NO_FILTERS) == unchanged


def test_a_translated_photo_plus_text_search_says_so(multilingual_page, multilingual_engine, upload, photo):
    stored = upload(photo)
    weight = multilingual_engine.default_semantic_weight
    outputs = multilingual_page.composed_ui(FRESH, stored, "robe d'été rouge", 0.3, 8, *NO_FILTERS)
    expected = multilingual_engine.search_composed(
        photo, "robe d'été rouge", 0.3, 8, None, weight, collapse_similar=True
    )
    status = f"for your photo + “{expected.query_text.searched}” (translated from French; photo weight 0.30)"
    query = ComposedQuery(stored["path"], "robe d'été rouge", 0.3, weight)
    assert_shows(multilingual_page, outputs, expected, status, query, SEARCH_ORIGINAL)


def test_without_a_translation_model_no_button_and_the_reason_is_told(engine, photos):
    language = QueryLanguage(LanguageDetector(), None, "the translation model x could not be loaded")
    page = Page(SearchEngine(engine.bundle, engine.encoder, language=language), photos)
    outputs = page.text_ui(FRESH, VIETNAMESE, 1.0, 5, *NO_FILTERS)
    assert as_markdown_text(f"for “{VIETNAMESE}” (Vietnamese, as typed)") in outputs[1]
    assert as_markdown_text("the translation model x could not be loaded") in outputs[1]
    assert language_of(outputs).visible is False


def test_filters_rerun_the_search_of_the_tab_in_view(page, engine, upload, photo):
    stored = upload(photo)
    after_text = page.text_ui(FRESH, "red shirt", 0.6, 8, *NO_FILTERS)[3]
    after_photo = page.image_ui(after_text, stored, 8, *NO_FILTERS)[3]
    assert after_photo.tab == "image" and isinstance(after_photo.current, ImageQuery)
    back_to_text = page.tab_ui("text", after_photo, 5, *filter_values(masterCategory=["Apparel"]))
    expected = engine.search_text("red shirt", 5, {"masterCategory": ["Apparel"]}, 0.6, collapse_similar=True)
    assert_shows(page, back_to_text, expected, "Category: Apparel", TextQuery("red shirt", 0.6))
    rerun = page.rerun_ui(back_to_text[3], 3, *NO_FILTERS)
    text_query = TextQuery("red shirt", 0.6)
    assert_shows(page, rerun, engine.search_text("red shirt", 3, None, 0.6, collapse_similar=True), "", text_query)
    photo_again = page.tab_ui("image", rerun[3], 4, *NO_FILTERS)
    expected = engine.search_image(photo, k=4, collapse_similar=True)
    assert_shows(page, photo_again, expected, "similar to your photo", ImageQuery(stored["path"]))


def test_a_tab_without_a_search_shows_what_to_do_and_filters_leave_it_so(page):
    searches = page.text_ui(FRESH, "red shirt", 0.6, 8, *NO_FILTERS)[3]
    outputs = page.tab_ui("composed", searches, 8, *NO_FILTERS)
    gallery, status, ids, viewing, details, chips_row, *chip_buttons = outputs[: OUTPUTS - len(TABS)]
    assert gallery["value"] == [] and ids == [] and status == TAB_PROMPTS["composed"]
    assert all(button.visible is False for button in chip_buttons)
    assert viewing.tab == "composed" and viewing.current is None and viewing.queries == searches.queries
    assert details.visible is False and chips_row.visible is False
    assert page.rerun_ui(viewing, 5, *filter_values(gender=["Women"])) == (gr.skip(),) * OUTPUTS


def test_more_like_this_is_the_search_of_the_tab_in_view(page, engine, upload, photo):
    searches = page.image_ui(FRESH, upload(photo), 6, *NO_FILTERS)[3]
    product_id = engine.search_image(photo, k=1).ids[0]
    outputs = page.similar_ui(searches, product_id, 6, *NO_FILTERS)
    assert outputs[3].tab == "image" and outputs[3].current == SimilarQuery(product_id)
    assert (
        page.rerun_ui(outputs[3], 3, *NO_FILTERS)[2] == engine.more_like_this(product_id, 3, collapse_similar=True).ids
    )


def test_the_catalogs_own_photo_files_are_searchable_other_server_paths_are_not(page, engine, tmp_path):
    product_id = int(engine.products.ids[5])
    example = {"path": page.photos.path(product_id)}
    outputs = page.image_ui(FRESH, example, 4, *NO_FILTERS)
    expected = engine.search_image(engine.product_photo_bytes(product_id), k=4, collapse_similar=True)
    assert_shows(page, outputs, expected, "similar to your photo", ImageQuery(example["path"]))
    outside = tmp_path / "elsewhere" / "photo.jpg"
    outside.parent.mkdir()
    outside.write_bytes(engine.product_photo_bytes(product_id))
    sneaky = {"path": f"{page.photos.folder}/../elsewhere/photo.jpg"}
    for payload in ({"path": str(outside)}, sneaky, {"path": str(page.photos.folder / "404.jpg")}):
        assert_input_mistake(page.image_ui(FRESH, payload, 4, *NO_FILTERS), "image", "must be uploaded as files")


PAGE_BAD_VALUES = [None, True, 7, 2.5, 10**400, "", "x" * 50_000, [1], [[1]], {"a": 1}, {"path": ["a"]}]


def test_no_value_a_client_sends_to_a_page_event_reaches_the_generic_error(page, upload, photo, engine):
    """Each argument of each search handler (the ones a browser sends: texts, photos, sliders, dropdowns) gets
    every bad value; the page answers with results, a message under the input or a specific error."""
    picture = upload(photo)
    handlers = {
        page.text_ui: ["shirt", DEFAULT_SEMANTIC_WEIGHT, DEFAULT_K, *NO_FILTERS],
        page.image_ui: [picture, DEFAULT_K, *NO_FILTERS],
        page.composed_ui: [picture, "in red", DEFAULT_IMAGE_WEIGHT, DEFAULT_K, *NO_FILTERS],
        page.similar_ui: [int(engine.products.ids[3]), DEFAULT_K, *NO_FILTERS],
    }
    generic = []
    for handler, valid in handlers.items():
        for position in range(len(valid)):
            for value in PAGE_BAD_VALUES:
                arguments = [*valid[:position], value, *valid[position + 1 :]]
                try:
                    page_errors(handler)(FRESH, *arguments)
                except gr.Error as error:
                    if UNEXPECTED in str(error):
                        generic.append(f"{handler.__name__} argument {position} = {repr(value)[:30]}")
    assert generic == []


@pytest.mark.parametrize("index", [-1, 999, None, True, "2", [1]])
def test_selecting_a_tile_that_is_not_shown_is_explained(page, engine, index):
    ids = engine.search_text("shirt", k=5).ids
    with pytest.raises(gr.Error, match="no longer among the results"):
        page_errors(page.details_ui)(ids, gr.SelectData(None, {"index": index, "value": None}))


def test_a_single_selected_filter_value_is_a_selection_of_one(page, engine):
    one = filter_values(gender="Men")
    one[list(UI_FILTERS).index("gender")] = "Men"
    outputs = page.text_ui(FRESH, "shirt", 1.0, 5, *one)
    expected = engine.search_text("shirt", 5, {"gender": ["Men"]}, 1.0, collapse_similar=True)
    assert outputs[2] == expected.ids


@pytest.mark.parametrize("label", [None, 7, "Tshirts", ["Tshirts · 80%"]])
def test_a_chip_with_an_unexpected_label_is_explained(label):
    with pytest.raises(gr.Error, match="suggestion is no longer shown"):
        page_errors(Page.apply_chip)(label, None)


def test_a_chip_adds_its_label_to_a_single_selected_value():
    assert Page.apply_chip("Tshirts · 82%", "Shirts")[0] == ["Shirts", "Tshirts"]
