"""The page's handlers called as functions: the views they return (what the gallery, the status line, "About this
search" and the details panel show), each tab's immutable last query that filters and the number of results re-run,
and input mistakes said calmly next to the tab's input."""

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
)
from search.errors import InvalidQueryError, ModelLoadError
from search.language import LanguageDetector
from ui.language import SEARCH_ORIGINAL, SEARCH_TRANSLATION
from ui.messages import UNEXPECTED, as_markdown_text, page_errors
from ui.page import CHIP_GONE, Page, photo_chips
from ui.settings import UI_FILTERS
from ui.state import TAB_PROMPTS, TabSearches
from ui.views import Chip, DetailsView, MistakeView, PromptView, ResultsView, Tile
from ui.wording import caption

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


def assert_shows(page: Page, view, expected, status: str, query, button: str | None = None) -> None:
    """The view shows the engine's results with near-identical and same-name ones folded, each tile its photo
    (read at the result's row) and caption (no score); the status line says `status` (as Markdown shows it) and
    how many results, never the weights or the time (those are in "About this search"); the stored query of the
    tab in view follows; the language button shows `button` (or is hidden)."""
    assert isinstance(view, ResultsView)
    assert view.results == tuple(expected.results)
    assert view.tiles == tuple(Tile(page.photos.of(r), caption(r)) for r in expected)
    for result, tile in zip(expected, view.tiles, strict=True):
        assert tile.caption.startswith(result.name) and f"{result.score:.2f}" not in tile.caption
        assert Path(tile.photo).read_bytes() == page.engine.product_photo_bytes(result.product_id)
    assert view.status.startswith(f"**{count_of(expected)}** ") and as_markdown_text(status) in view.status
    assert " ms" not in view.status and "weight" not in view.status
    assert f"Time: {expected.elapsed_ms:,.0f}".split(":")[0] in view.about
    assert same_query(view.searches.current, query)
    assert view.language == button


def count_of(response) -> str:
    """What the status line counts: of a text search, the results shown that match its words or the attributes it
    names and the related rest; of others, the results."""
    shown, matched = len(response.results), sum(result.matched for result in response.results)
    if response.match_count is None or not shown:
        return f"{shown} result{'' if shown == 1 else 's'}"
    matches = f"{matched} match{'' if matched == 1 else 'es'}"
    return (
        f"{shown} related" if not matched else matches if matched == shown else f"{matches} · {shown - matched} related"
    )


def test_text_search_shows_the_engines_results(page, engine):
    view = page.text_ui(FRESH, "red shirt", DEFAULT_SEMANTIC_WEIGHT, DEFAULT_K, *NO_FILTERS)
    expected = engine.search_text("red shirt", k=DEFAULT_K, collapse_similar=True)
    assert_shows(page, view, expected, "for “red shirt”", TextQuery("red shirt", DEFAULT_SEMANTIC_WEIGHT))
    assert view.searches.tab == "text" and view.filters == {} and view.chips == ()


def test_filters_are_named_in_the_status_and_the_weight_in_about(page, engine):
    view = page.text_ui(FRESH, "white sneakers", 0.4, 12, *filter_values(gender=["Women"], season=["Summer", "Fall"]))
    filters = {"gender": ["Women"], "season": ["Summer", "Fall"]}
    expected = engine.search_text("white sneakers", 12, filters, 0.4, collapse_similar=True)
    status = "for “white sneakers” · Gender: Women; Season: Summer, Fall"
    assert_shows(page, view, expected, status, TextQuery("white sneakers", 0.4))
    assert view.filters == filters
    assert "Balance: exact words 60% · meaning 40%" in view.about and engine.model_id.split("/")[-1] in view.about


def test_the_status_shows_the_query_as_typed_not_as_markup(page):
    view = page.text_ui(FRESH, "<b>black</b> *boots*", 1.0, 3, *NO_FILTERS)
    assert r"for “&lt;b&gt;black&lt;/b&gt; \*boots\*”" in view.status


def test_one_result_is_one_result(page, engine):
    assert page.text_ui(FRESH, "shirt", 1.0, 1, *NO_FILTERS).status.startswith("**1 match** for")
    assert page.text_ui(FRESH, "zzzqqq", 1.0, 1, *NO_FILTERS).status.startswith("**1 related** for")
    photo = {"path": str(page.photos.of(page.text_ui(FRESH, "shirt", 1.0, 1, *NO_FILTERS).results[0]))}
    assert page.image_ui(FRESH, photo, 1, *NO_FILTERS).status.startswith("**1 result** similar")


def test_the_words_decide_the_balance_until_the_visitor_sets_it(page, engine):
    decided = page.text_ui(FRESH, "something warm for a winter wedding", None, DEFAULT_K, *NO_FILTERS)
    expected = engine.search_text("something warm for a winter wedding", DEFAULT_K, collapse_similar=True)
    assert_shows(page, decided, expected, "for “something warm", TextQuery("something warm for a winter wedding", None))
    assert decided.balance == expected.semantic_weight is not None, "the slider shows the balance the words chose"
    meaning = f"meaning {expected.semantic_weight:.0%}"
    assert meaning in decided.about and "as the words decided" in decided.about
    assert decided.link == "tab=text&q=something+warm+for+a+winter+wedding", "no balance in its link"
    chosen = page.text_ui(FRESH, "something warm for a winter wedding", 0.1, DEFAULT_K, *NO_FILTERS)
    assert chosen.balance is None and "meaning 10%" in chosen.about and "decided" not in chosen.about


def test_counts_say_how_many_match_and_how_many_are_related(page, engine):
    mixed = page.text_ui(FRESH, "red shirt", 0.3, DEFAULT_K, *NO_FILTERS)
    matched = sum(result.matched for result in mixed.results)
    assert 0 < matched < len(mixed.results), "the tiny catalog has one red shirt; the rest is related"
    related = len(mixed.results) - matched
    assert mixed.status.startswith(f"**{matched} match{'' if matched == 1 else 'es'} · {related} related** for")
    nothing = page.text_ui(FRESH, "zzzqqq", 1.0, DEFAULT_K, *NO_FILTERS)
    assert nothing.status.startswith(f"**{len(nothing.results)} related** for “zzzqqq”")
    assert "Nothing matches 'zzzqqq'" in nothing.status


def test_a_corrected_text_says_what_was_searched_and_searches_it_as_typed_on_a_click(page, engine):
    view = page.text_ui(FRESH, "jeens", 0.3, DEFAULT_K, *NO_FILTERS)
    expected = engine.search_text("jeens", DEFAULT_K, None, 0.3, collapse_similar=True)
    assert expected.correction is not None and expected.correction.searched == "jeans"
    assert_shows(page, view, expected, "for “jeans”", TextQuery("jeens", 0.3))
    assert view.correction == "Search for “jeens” instead"
    as_typed = page.as_typed_ui(view.searches, DEFAULT_K, *NO_FILTERS)
    expected = engine.search_text("jeens", DEFAULT_K, None, 0.3, collapse_similar=True, correct=False)
    assert_shows(page, as_typed, expected, "for “jeens”", TextQuery("jeens", 0.3, correct=False))
    assert as_typed.correction is None and "exact=1" in as_typed.link
    assert page.as_typed_ui(page.image_ui(FRESH, {"path": view.tiles[0].photo}, 3, *NO_FILTERS).searches, 3) is None


def test_the_attributes_a_text_names_are_chips_that_become_filters_on_a_click(page, engine):
    view = page.text_ui(FRESH, "red shirt", 0.3, DEFAULT_K, *NO_FILTERS)
    assert view.recognised == (Chip("baseColour", "Red", "Red"), Chip("articleType", "Shirts", "Shirts"))
    filtered = page.recognised_ui(view.searches, view.recognised, 1, DEFAULT_K, *NO_FILTERS)
    expected = engine.search_text("red shirt", DEFAULT_K, {"articleType": ["Shirts"]}, 0.3, collapse_similar=True)
    assert_shows(page, filtered, expected, "Article type: Shirts", view.searches.current)
    assert filtered.recognised == (Chip("baseColour", "Red", "Red"),), "a chosen value is no chip any more"
    with pytest.raises(InvalidQueryError, match="no longer shown"):
        page.recognised_ui(view.searches, view.recognised, 5, DEFAULT_K, *NO_FILTERS)


def test_filters_list_the_searchs_values_with_counts_and_clear_at_once(page, engine):
    chosen = filter_values(baseColour=["Purple"], gender=["Men"])
    view = page.text_ui(FRESH, "jeans", 0.3, DEFAULT_K, *chosen)
    expected = engine.search_text("jeans", DEFAULT_K, {"gender": ["Men"], "baseColour": ["Purple"]}, 0.3)
    for name in UI_FILTERS:
        facet = expected.facets[name]
        assert [count for _, count in facet] == sorted((count for _, count in facet), reverse=True)
        listed = [(f"{value} ({count:,})", value) for value, count in facet]
        lacking = [value for value in view.filters.get(name, []) if value not in dict(facet)]
        assert view.choices[name] == (*listed, *((f"{value} (0)", value) for value in lacking))
    assert view.choices.get("brand"), "the tiny catalog's names carry brands"
    cleared = page.clear_filters_ui(view.searches, DEFAULT_K, *chosen)
    assert_shows(
        page,
        cleared,
        engine.search_text("jeans", DEFAULT_K, None, 0.3, collapse_similar=True),
        "",
        view.searches.current,
    )
    assert cleared.filters == {}


def test_the_last_query_reruns_with_new_filters_and_k(page, engine):
    searches = page.text_ui(FRESH, "red shirt", 0.6, DEFAULT_K, *NO_FILTERS).searches
    view = page.rerun_ui(searches, 5, *filter_values(masterCategory=["Apparel"]))
    expected = engine.search_text("red shirt", 5, {"masterCategory": ["Apparel"]}, 0.6, collapse_similar=True)
    assert_shows(page, view, expected, "Category: Apparel", searches.current)


def test_notices_are_part_of_the_status_line_of_their_search(page):
    view = page.text_ui(FRESH, "shirt", 1.0, 1000, *NO_FILTERS)
    assert 0 < len(view.tiles) <= 100 and "k=1000 was reduced to 100" in view.status


def test_nothing_to_search_changes_nothing(page):
    assert page.text_on_change(FRESH, "   ", 0.5, DEFAULT_K, *NO_FILTERS) is None
    assert page.image_ui(FRESH, None, DEFAULT_K, *NO_FILTERS) is None
    assert page.composed_on_change(FRESH, None, "in red", 0.5, DEFAULT_K, *NO_FILTERS) is None
    assert page.rerun_ui(FRESH, DEFAULT_K, *NO_FILTERS) is None


def test_moving_the_slider_reruns_a_typed_query(page, engine):
    view = page.text_on_change(FRESH, "red shirt", 0.3, 6, *NO_FILTERS)
    expected = engine.search_text("red shirt", 6, None, 0.3, collapse_similar=True)
    assert_shows(page, view, expected, "for “red shirt”", TextQuery("red shirt", 0.3))


def test_photo_and_photo_plus_text_searches(page, engine, upload, photo):
    stored = upload(photo)
    view = page.image_ui(FRESH, stored, 8, *NO_FILTERS)
    expected = engine.search_image(photo, k=8, collapse_similar=True)
    assert_shows(page, view, expected, "similar to your photo", ImageQuery(stored["path"]))
    view = page.composed_ui(FRESH, stored, "in red", 0.3, 8, *NO_FILTERS)
    query = ComposedQuery(stored["path"], "in red", 0.3)
    expected = engine.search_composed(photo, "in red", 0.3, 8, collapse_similar=True)
    assert_shows(page, view, expected, "for your photo + “in red”", query)
    assert "Balance: text 70% · photo 30%" in view.about
    view = page.composed_on_change(FRESH, stored, None, DEFAULT_IMAGE_WEIGHT, 8, *NO_FILTERS)
    assert view.status.split("** ")[1].startswith("for your photo"), "no text: the photo alone"


def assert_mistake(view, tab: str, message: str) -> None:
    """An input mistake of `tab` saying `message`; nothing else changes."""
    assert isinstance(view, MistakeView) and view.tab == tab and message in view.message and view.cleared is None


def test_input_mistakes_are_said_next_to_the_tabs_input(page):
    assert_mistake(page.text_ui(FRESH, "  ", 0.5, DEFAULT_K, *NO_FILTERS), "text", "the text is empty")
    view = page.text_ui(FRESH, "<b>x</b>", 0.5, 0, *NO_FILTERS)
    assert_mistake(view, "text", "k (the number of results) must be at least 1")


@pytest.mark.parametrize("tab", ["image", "composed"])
def test_a_photo_that_is_no_image_clears_the_photo_and_takes_back_its_results(page, upload, photo, tab):
    stored = upload(photo)
    search = {
        "image": lambda searches, image: page.image_ui(searches, image, DEFAULT_K, *NO_FILTERS),
        "composed": lambda searches, image: page.composed_ui(searches, image, "in red", 0.5, DEFAULT_K, *NO_FILTERS),
    }[tab]
    searches = search(FRESH, stored).searches
    assert searches.queries.keys() == {tab}
    view = search(searches, upload(Path(__file__)))
    assert isinstance(view, MistakeView) and view.tab == tab and "image" in view.message
    assert view.cleared == PromptView(TabSearches(tab, {}), TAB_PROMPTS[tab], f"tab={tab}")
    missing = search(FRESH, None if tab == "composed" else {"path": str(photo)})
    assert isinstance(missing, MistakeView) and missing.cleared is not None


def test_other_failures_are_not_input_mistakes(page, monkeypatch):
    def broken(*args):
        raise ModelLoadError("The model cannot be loaded.")

    monkeypatch.setattr(page.engine, "search", broken)
    with pytest.raises(ModelLoadError):
        page.text_ui(FRESH, "red shirt", 0.5, DEFAULT_K, *NO_FILTERS)


def select(index: object) -> gr.SelectData:
    return gr.SelectData(None, {"index": index, "value": None})


def test_details_come_from_the_shown_result_then_more_like_this(page, engine, monkeypatch):
    view = page.text_ui(FRESH, "red shirt", 1.0, 6, *NO_FILTERS)
    index = next(i for i, result in enumerate(view.results) if i and not result.similar)
    chosen = view.results[index]
    monkeypatch.setattr(engine, "product", lambda product_id: pytest.fail("no second lookup by id"))
    details = page.details_ui(view.results, select(index))
    monkeypatch.undo()
    assert isinstance(details, DetailsView) and details.result == chosen
    assert Path(details.photo).read_bytes() == engine.product_photo_bytes(chosen.product_id)
    assert details.heading == f"<h3>{chosen.name}</h3>" and f"<td>{chosen.metadata['articleType']}</td>" in details.info
    assert f"<th>Product id</th><td>{chosen.product_id}</td>" in details.info
    similar = page.similar_ui(view.searches, details.result, 5, *NO_FILTERS)
    expected = engine.more_like_this(chosen.product_id, k=5, collapse_similar=True)
    assert_shows(page, similar, expected, f"like “{chosen.name}”", SimilarQuery(chosen.product_id))


def test_a_folded_tiles_details_list_what_it_holds(page, engine):
    counts = engine.catalog_labels(["productDisplayName"])["productDisplayName"].value_counts()
    name = next(name for name, count in counts.items() if name and count > 1)
    view = page.text_ui(FRESH, name, 0.0, 10, *NO_FILTERS)
    index, folded = next((i, r) for i, r in enumerate(view.results) if r.name == name)
    assert folded.similar and view.tiles[index].caption.endswith(f" · +{len(folded.similar)} similar")
    info = page.details_ui(view.results, select(index)).info
    holds = "product" if len(folded.similar) == 1 else "products"
    assert f"This tile also holds {len(folded.similar)} {holds}:" in info
    for product_id in folded.similar:
        assert f"{engine.product(product_id)['baseColour']} · id {product_id}</li>" in info


def test_more_like_this_needs_a_selected_product(page):
    assert_mistake(page.similar_ui(FRESH, None, DEFAULT_K, *NO_FILTERS), "text", "Select a product")


def test_messages_belong_to_their_search_and_zero_results_are_said_in_the_status(page):
    view = page.text_ui(FRESH, "zzzqqq", 0.0, 5, *NO_FILTERS)
    assert view.tiles == () and "No product name or label contains these words" in view.status
    replaced = page.text_ui(FRESH, "red shirt", 0.0, 5, *NO_FILTERS)
    assert replaced.tiles and "No product name or label" not in replaced.status


def test_confident_label_guesses_become_chips_that_filter_and_rerun(page, engine, monkeypatch, upload, photo):
    guesser = engine.label_guesser
    monkeypatch.setattr(guesser, "margin", 0.0)  # every top guess counts as clearly ahead
    view = page.image_ui(FRESH, upload(photo), 6, *NO_FILTERS)
    guesses = {guess.field: guess for guess in engine.search_image(photo, k=3).labels}
    assert [chip.field for chip in view.chips] == ["articleType", "baseColour"]
    for chip in view.chips:
        assert chip.label == f"{guesses[chip.field].label} · {guesses[chip.field].score:.0%}"
    chip = view.chips[0]
    filtered = page.chip_ui("articleType", view.searches, chip.label, 6, *filter_values(articleType=["Watches"]))
    wanted = sorted({"Watches", chip.value})
    expected = engine.search_image(photo, 6, {"articleType": wanted}, collapse_similar=True)
    assert filtered.filters == {"articleType": wanted} and filtered.results == tuple(expected.results)
    assert [c.field for c in filtered.chips] == ["baseColour"], "a chosen chip is no longer offered"
    monkeypatch.setattr(guesser, "margin", 1.01)  # nothing is ever clearly ahead
    assert photo_chips(engine.search_image(photo, k=3), {}) == ()


@pytest.mark.parametrize("label", [None, 7, "Tshirts", ["Tshirts · 80%"]])
def test_a_chip_with_an_unexpected_label_is_explained(page, label):
    searches = page.text_ui(FRESH, "shirt", 1.0, 3, *NO_FILTERS).searches
    with pytest.raises(gr.Error, match=CHIP_GONE.split(";")[0]):
        page_errors(page.chip_ui)("articleType", searches, label, 3, *NO_FILTERS)


def test_a_chip_adds_its_label_to_a_single_selected_value(page):
    searches = page.text_ui(FRESH, "shirt", 1.0, 3, *NO_FILTERS).searches
    one = filter_values()
    one[list(UI_FILTERS).index("articleType")] = "Shirts"
    assert page.chip_ui("articleType", searches, "Tshirts · 82%", 3, *one).filters == {
        "articleType": ["Shirts", "Tshirts"]
    }


# --- queries in other languages ---------------------------------------------------------------------------------


@pytest.fixture
def multilingual_page(multilingual_engine, photos) -> Page:
    return Page(multilingual_engine, photos)


def test_a_translated_search_says_so_and_offers_the_original(multilingual_page, multilingual_engine, tiny_marian):
    view = multilingual_page.text_ui(FRESH, VIETNAMESE, 0.6, 8, *NO_FILTERS)
    expected = multilingual_engine.search_text(VIETNAMESE, 8, None, 0.6, collapse_similar=True)
    status = f"for “{expected.query_text.searched}” (translated from Vietnamese)"
    assert_shows(multilingual_page, view, expected, status, TextQuery(VIETNAMESE, 0.6), SEARCH_ORIGINAL)
    assert str(tiny_marian) not in view.status and f"Translated to English by `{tiny_marian.name}`" in view.about


def test_the_language_button_switches_between_the_original_and_the_translation(multilingual_page, multilingual_engine):
    translated = multilingual_page.text_ui(FRESH, VIETNAMESE, 1.0, 8, *NO_FILTERS).searches
    view = multilingual_page.language_ui(translated, 8, *NO_FILTERS)
    as_typed = TextQuery(VIETNAMESE, 1.0, translate=False)
    expected = multilingual_engine.search_text(VIETNAMESE, 8, None, 1.0, translate=False, collapse_similar=True)
    status = f"for “{VIETNAMESE}” (Vietnamese, as typed)"
    assert_shows(multilingual_page, view, expected, status, as_typed, SEARCH_TRANSLATION)
    back = multilingual_page.language_ui(view.searches, 8, *NO_FILTERS)
    assert same_query(back.searches.current, TextQuery(VIETNAMESE, 1.0)) and back.language == SEARCH_ORIGINAL


def test_the_language_button_applies_to_text_searches_only(multilingual_page):
    assert multilingual_page.language_ui(FRESH, DEFAULT_K, *NO_FILTERS) is None
    similar = FRESH.searched("text", SimilarQuery(1))
    assert multilingual_page.language_ui(similar, DEFAULT_K, *NO_FILTERS) is None


def test_a_translated_photo_plus_text_search_says_so(multilingual_page, multilingual_engine, upload, photo):
    stored = upload(photo)
    weight = multilingual_engine.default_semantic_weight
    view = multilingual_page.composed_ui(FRESH, stored, "robe d'été rouge", 0.3, 8, *NO_FILTERS)
    expected = multilingual_engine.search_composed(
        photo, "robe d'été rouge", 0.3, 8, None, weight, collapse_similar=True
    )
    status = f"for your photo + “{expected.query_text.searched}” (translated from French)"
    query = ComposedQuery(stored["path"], "robe d'été rouge", 0.3, weight)
    assert_shows(multilingual_page, view, expected, status, query, SEARCH_ORIGINAL)


def test_without_a_translation_model_no_button_and_the_reason_is_told(engine, photos):
    language = QueryLanguage(LanguageDetector(), None, "the translation model could not be loaded")
    page = Page(SearchEngine(engine.bundle, engine.encoder, language=language), photos)
    view = page.text_ui(FRESH, VIETNAMESE, 1.0, 5, *NO_FILTERS)
    assert as_markdown_text(f"for “{VIETNAMESE}” (Vietnamese, as typed)") in view.status
    assert as_markdown_text("the translation model could not be loaded") in view.status
    assert view.language is None


def test_filters_rerun_the_search_of_the_tab_in_view(page, engine, upload, photo):
    stored = upload(photo)
    after_text = page.text_ui(FRESH, "red shirt", 0.6, 8, *NO_FILTERS).searches
    after_photo = page.image_ui(after_text, stored, 8, *NO_FILTERS).searches
    assert after_photo.tab == "image" and isinstance(after_photo.current, ImageQuery)
    back_to_text = page.tab_ui("text", after_photo, 5, *filter_values(masterCategory=["Apparel"]))
    expected = engine.search_text("red shirt", 5, {"masterCategory": ["Apparel"]}, 0.6, collapse_similar=True)
    assert_shows(page, back_to_text, expected, "Category: Apparel", TextQuery("red shirt", 0.6))
    rerun = page.rerun_ui(back_to_text.searches, 3, *NO_FILTERS)
    text_query = TextQuery("red shirt", 0.6)
    assert_shows(page, rerun, engine.search_text("red shirt", 3, None, 0.6, collapse_similar=True), "", text_query)
    photo_again = page.tab_ui("image", rerun.searches, 4, *NO_FILTERS)
    expected = engine.search_image(photo, k=4, collapse_similar=True)
    assert_shows(page, photo_again, expected, "similar to your photo", ImageQuery(stored["path"]))


def test_a_tab_without_a_search_shows_what_to_do_and_filters_leave_it_so(page):
    searches = page.text_ui(FRESH, "red shirt", 0.6, 8, *NO_FILTERS).searches
    view = page.tab_ui("composed", searches, 8, *NO_FILTERS)
    assert view == PromptView(searches.viewing("composed"), TAB_PROMPTS["composed"], "tab=composed")
    assert view.searches.current is None and view.searches.queries == searches.queries
    assert page.rerun_ui(view.searches, 5, *filter_values(gender=["Women"])) is None
    assert page.tab_ui("composed", view.searches, 8, *NO_FILTERS) is None, "the tab in view (as the page loads)"


def test_more_like_this_is_the_search_of_the_tab_in_view(page, engine, upload, photo):
    view = page.image_ui(FRESH, upload(photo), 6, *NO_FILTERS)
    chosen = view.results[0]
    similar = page.similar_ui(view.searches, chosen, 6, *NO_FILTERS)
    assert similar.searches.tab == "image" and similar.searches.current == SimilarQuery(chosen.product_id)
    rerun = page.rerun_ui(similar.searches, 3, *NO_FILTERS)
    assert rerun.results == tuple(engine.more_like_this(chosen.product_id, 3, collapse_similar=True).results)


def test_the_catalogs_own_photo_files_are_searchable_other_server_paths_are_not(page, engine, tmp_path):
    product_id = int(engine.products.ids[5])
    example = {"path": page.photos.photo(product_id)}
    view = page.image_ui(FRESH, example, 4, *NO_FILTERS)
    expected = engine.search_image(engine.product_photo_bytes(product_id), k=4, collapse_similar=True)
    assert_shows(page, view, expected, "similar to your photo", ImageQuery(example["path"]))
    outside = tmp_path / "elsewhere" / "photo.jpg"
    outside.parent.mkdir()
    outside.write_bytes(engine.product_photo_bytes(product_id))
    sneaky = {"path": f"{page.photos.folder}/../elsewhere/photo.jpg"}
    for payload in ({"path": str(outside)}, sneaky, {"path": str(page.photos.folder / "404.jpg")}):
        refused = page.image_ui(FRESH, payload, 4, *NO_FILTERS)
        assert isinstance(refused, MistakeView) and "must be uploaded as files" in refused.message


PAGE_BAD_VALUES = [None, True, 7, 2.5, 10**400, "", "x" * 50_000, [1], [[1]], {"a": 1}, {"path": ["a"]}]


def test_no_value_a_client_sends_to_a_page_event_reaches_the_generic_error(page, upload, photo, engine):
    """Each argument of each search handler (the ones a browser sends: texts, photos, sliders, dropdowns) gets
    every bad value; the page answers with results, a message under the input or a specific error."""
    picture = upload(photo)
    shown = engine.search_text("shirt", k=3).results[0]
    handlers = {
        page.text_ui: ["shirt", DEFAULT_SEMANTIC_WEIGHT, DEFAULT_K, *NO_FILTERS],
        page.image_ui: [picture, DEFAULT_K, *NO_FILTERS],
        page.composed_ui: [picture, "in red", DEFAULT_IMAGE_WEIGHT, DEFAULT_K, *NO_FILTERS],
        page.similar_ui: [shown, DEFAULT_K, *NO_FILTERS],
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
    shown = tuple(engine.search_text("shirt", k=5).results)
    with pytest.raises(gr.Error, match="no longer among the results"):
        page_errors(page.details_ui)(shown, select(index))


def test_a_single_selected_filter_value_is_a_selection_of_one(page, engine):
    one = filter_values()
    one[list(UI_FILTERS).index("gender")] = "Men"
    view = page.text_ui(FRESH, "shirt", 1.0, 5, *one)
    expected = engine.search_text("shirt", 5, {"gender": ["Men"]}, 1.0, collapse_similar=True)
    assert view.results == tuple(expected.results)


# --- shareable searches -----------------------------------------------------------------------------------------


def test_no_link_as_the_page_loads_changes_nothing(page):
    assert page.open_ui(FRESH, "") is None


def test_a_link_opens_its_search_and_sets_the_inputs(page, engine):
    opened = page.open_ui(FRESH, "?tab=text&q=red+shirt&w=0.4&k=5&gender=Men")
    expected = engine.search_text("red shirt", 5, {"gender": ["Men"]}, 0.4, collapse_similar=True)
    assert_shows(page, opened.view, expected, "for “red shirt” · Gender: Men", TextQuery("red shirt", 0.4))
    assert opened.link == "tab=text&q=red+shirt&w=0.4&k=5&gender=Men" == opened.view.link
    inputs = opened.inputs
    assert (inputs.tab, inputs.text, inputs.semantic_weight, inputs.k) == ("text", "red shirt", 0.4, 5)
    assert inputs.filters == {"gender": ["Men"]}


def test_every_search_shown_has_a_link_that_opens_it_again(page, engine, upload, photo):
    searches = page.text_ui(FRESH, "blue jeans", 0.7, 9, *filter_values(season=["Summer", "Fall"])).searches
    chosen = page.text_ui(FRESH, "shirt", 1.0, 3, *NO_FILTERS).results[0]
    for view in (
        page.text_ui(FRESH, "blue jeans", 0.7, 9, *filter_values(season=["Summer", "Fall"])),
        page.text_ui(FRESH, "jupe", 0.3, DEFAULT_K, *NO_FILTERS),
        page.similar_ui(searches, chosen, 4, *filter_values(gender=["Men"])),
    ):
        opened = page.open_ui(FRESH, view.link)
        assert opened.view.results == view.results and opened.view.link == view.link
        assert same_query(opened.view.searches.current, view.searches.current)
    photo_view = page.image_ui(FRESH, upload(photo), 6, *NO_FILTERS)
    opened = page.open_ui(FRESH, photo_view.link)
    assert opened.view == PromptView(TabSearches("image", {}), TAB_PROMPTS["image"], "tab=image")


def test_a_photo_tabs_link_opens_the_tab_with_its_text_and_weight(page):
    opened = page.open_ui(FRESH, "tab=composed&q=in+red&iw=0.2&w=0.1")
    assert isinstance(opened.view, PromptView) and opened.view.searches.tab == "composed"
    assert (opened.inputs.text, opened.inputs.image_weight, opened.inputs.semantic_weight) == ("in red", 0.2, 0.1)


@pytest.mark.parametrize(
    ("query_string", "message"),
    [
        ("q=shirt&k=zero", "k (the number of results) must be a whole number"),
        ("q=shirt&w=2", "semantic_weight must be between 0 and 1"),
        ("q=shirt&gender=Martian", "No product has gender 'Martian'"),
        ("tab=image&like=abc", "The product id must be a whole number"),
    ],
)
def test_a_link_with_a_wrong_value_says_what_is_wrong_next_to_the_tabs_input(page, query_string, message):
    opened = page.open_ui(FRESH, query_string)
    assert isinstance(opened.view, MistakeView) and message in opened.view.message
    assert opened.inputs.k == DEFAULT_K and opened.inputs.filters.get("gender", []) == []


def test_the_page_without_a_search_is_a_link_too(page):
    searches = page.text_ui(FRESH, "red shirt", 0.5, 5, *NO_FILTERS).searches
    opened = page.open_ui(searches, "?")
    assert opened.view == PromptView(TabSearches(), TAB_PROMPTS["text"], "tab=text") and opened.link == ""
    assert (opened.inputs.text, opened.inputs.k) == ("", DEFAULT_K)
