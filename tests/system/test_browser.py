"""The page in a real browser (Debian's Chromium driven by Playwright) at desktop and phone widths: text search,
examples, filters (re-running the search of the tab in view), image upload, image + text with the slider, details and
"More like this", input mistakes said next to the input, a page that fits a 360 px phone, and a query in another
language searched by its translation, then as typed.

Screenshot mode (`make screenshots`): SCREENSHOTS_DIR=docs refreshes the screenshots in docs/ (otherwise they go to a
temporary folder), writing a PNG only when its pixels changed, and SCREENSHOTS_BUNDLE=<bundle folder> or =demo (the
README's screenshots: the demo's real products and trained model) serves that bundle instead of the generated test
catalog. The tests hold on any bundle: they compare the page with the engine's own answers.
"""

import base64
import io
import os
import re
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from playwright.sync_api import Page, expect, sync_playwright

from search import DEFAULT_IMAGE_WEIGHT, DEFAULT_K, DEFAULT_SEMANTIC_WEIGHT, RAW_TEXT_LIMIT, SearchEngine
from search.indexing.default_index import DEMO_INDEX
from search.query import MAX_TEXT_CHARS
from tests.helpers import free_port
from ui import build_demo, launch
from ui.examples import catalog_examples
from ui.language import SEARCH_ORIGINAL, SEARCH_TRANSLATION
from ui.photo_files import ProductImages
from ui.settings import ASSETS, UI_FILTERS
from ui.state import TAB_PROMPTS
from ui.wording import caption, counted

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",  # a generated camera picture for the webcam source
    "--use-fake-ui-for-media-stream",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 360, "height": 740}
VIEWPORTS = [pytest.param(SMALL_PHONE, id="360px"), pytest.param(PHONE, id="390px"), pytest.param(DESKTOP, id="1280px")]
TIMEOUT_MS = 60_000
expect.set_options(timeout=TIMEOUT_MS)
pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} is missing: apt-get install -y chromium chromium-driver"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    folder = os.environ.get("SCREENSHOTS_DIR")
    return Path(folder) if folder else tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def engine(engine: SearchEngine, request) -> SearchEngine:
    """The session's test engine, or in screenshot mode the bundle named by SCREENSHOTS_BUNDLE (`demo`: the demo)."""
    bundle = os.environ.get("SCREENSHOTS_BUNDLE")
    if bundle == DEMO_INDEX:
        return request.getfixturevalue("demo_engine")
    return SearchEngine.load(bundle) if bundle else engine


# Screenshots differing by dithering noise only (a 256-colour palette chosen anew each time) count as unchanged: the
# mean colour of every 8×8 block moves by 1 level between two takes of the same page, by up to 249 when it changed.
BLOCK_PX, SAME_LEVELS = 8, 8


def looks_the_same(old: Image.Image, new: Image.Image) -> bool:
    """Whether two screenshots show the same page: same size, every 8×8 block's mean colour within SAME_LEVELS."""
    if old.size != new.size:
        return False
    size = (max(1, old.width // BLOCK_PX), max(1, old.height // BLOCK_PX))
    blocks = [image.convert("RGB").resize(size, Image.Resampling.BOX) for image in (old, new)]
    return max(high for _, high in ImageChops.difference(*blocks).getextrema()) <= SAME_LEVELS


def screenshot(page: Page, path: Path) -> None:
    """A PNG of the page in at most 256 colours (a few hundred KB at most for the docs), written only when it looks
    different from the file's, so refreshing unchanged screenshots leaves the work tree clean."""
    page.mouse.move(0, 0)  # no hover highlight where the last click left the pointer
    paletted = (
        Image.open(io.BytesIO(page.screenshot()))
        .convert("RGB")
        .quantize(colors=256, dither=Image.Dither.FLOYDSTEINBERG)
    )
    if path.is_file():
        with Image.open(path) as old:
            if looks_the_same(old, paletted):
                return
    paletted.save(path, optimize=True)


def open_page(browser, app_url: str, viewport: dict, permissions: list[str] | None = None) -> Page:
    page = browser.new_context(viewport=viewport, permissions=permissions or []).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app_url)
    expect(page.locator("#text-query textarea")).to_be_visible()
    return page


def expect_results(page: Page, status: str, response) -> None:
    """The status line says `status` and the gallery shows exactly the engine's results (near-identical ones
    folded), in order, captioned with name, article type and colour."""
    expect(page.locator("#status")).to_contain_text(status)
    captions = [caption(r) for r in response]
    expect(page.locator("#results .caption-label")).to_have_text(captions)
    wait_for_photo(page, "#results img")


def wait_for_photo(page: Page, selector: str) -> None:
    photo = page.locator(selector).first
    photo.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())


def upload(page: Page, component: str, path: Path) -> None:
    page.locator(f"{component} input[type=file]").set_input_files(str(path))


def open_tab(page: Page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()


def choose_filter(page: Page, field: str, value: str) -> None:
    """Pick a value in a filter dropdown (the filters are open on a desktop, folded on a phone)."""
    if not page.locator(f"#filter-{field}").is_visible():
        page.locator("#filters").get_by_text("Filters and number of results").click()
    page.locator(f"#filter-{field} input").click()
    option(page, value).click()
    page.keyboard.press("Escape")


def option(page: Page, value: str):
    """A filter list's option of `value`, listed with its count among the search's candidates ("Women (12)") or,
    before a search, alone."""
    return page.get_by_role("option", name=re.compile(rf"^{re.escape(value)}( \([\d,]+\))?$"))


def no_error_badges_or_toasts(page: Page) -> None:
    """Gradio marks a failed event with red "Error" badges on its outputs and a toast; none of them is shown."""
    expect(page.locator(".toast-body")).to_have_count(0)
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)


def test_text_search_details_and_more_like_this_on_desktop(browser, app_url, engine, screenshots):
    page = open_page(browser, app_url, DESKTOP)
    page.locator("#text-query textarea").fill("red shirt for men")
    page.locator("#text-query textarea").press("Enter")
    expected = engine.search_text("red shirt for men", k=DEFAULT_K, collapse_similar=True)
    expect_results(page, f"{counted(expected)} for “red shirt for men”", expected)
    query_box, results_box = page.locator("#text-query").bounding_box(), page.locator("#results").bounding_box()
    assert results_box["x"] > query_box["x"] + query_box["width"], "results sit beside the query on a desktop"
    columns = page.locator("#results .grid-container").evaluate("e => getComputedStyle(e).gridTemplateColumns")
    assert len(columns.split()) == 5

    page.locator("#results .thumbnail-item").nth(2).click()
    chosen = expected.results[2]
    expect(page.locator("#detail-info")).to_contain_text(str(chosen.product_id))
    expect(page.locator("#detail-info")).to_contain_text(chosen.metadata["articleType"])
    wait_for_photo(page, "#detail-image img")
    screenshot(page, screenshots / "screenshot-text.png")

    page.locator("#more-like-this").click()
    expect(page.locator("#details")).to_be_hidden()
    similar = engine.more_like_this(chosen.product_id, k=DEFAULT_K, collapse_similar=True)
    expect_results(page, f"like “{chosen.name}”", similar)


def test_example_query_runs_and_filters_rerun_it(browser, app_url, engine):
    page = open_page(browser, app_url, DESKTOP)
    example = catalog_examples(engine, ProductImages(engine)).queries[0]
    page.get_by_role("button", name=example).click()
    shown = engine.search_text(example, k=DEFAULT_K, collapse_similar=True)
    expect_results(page, f"for “{example}”", shown)

    gender = shown.facets["gender"][0][0]  # a value the filter lists for this search
    choose_filter(page, "gender", gender)
    filtered = engine.search_text(
        example,
        k=DEFAULT_K,
        filters={"gender": [gender]},
        collapse_similar=True,
    )
    expect_results(page, f"Gender: {gender}", filtered)

    page.locator("#semantic-weight input[type=range]").fill("0.4")
    mixed = engine.search_text(
        example, k=DEFAULT_K, filters={"gender": [gender]}, semantic_weight=0.4, collapse_similar=True
    )
    expect_results(page, f"Gender: {gender}", mixed)
    page.locator("#about-fold").get_by_text("About this search").click()
    expect(page.locator("#about")).to_contain_text("Balance: exact words 60% · meaning 40%")


def test_image_upload_searches_by_the_photo(browser, app_url, engine):
    page = open_page(browser, app_url, DESKTOP)
    open_tab(page, "Image")
    photo = ASSETS / "yellow-dress.jpg"
    upload(page, "#image-query", photo)
    expect_results(page, "similar to your photo", engine.search_image(photo, k=DEFAULT_K, collapse_similar=True))


def test_webcam_and_clipboard_photos_are_searched(browser, app_url, engine):
    page = open_page(browser, app_url, DESKTOP, permissions=["camera", "clipboard-read", "clipboard-write"])
    open_tab(page, "Image")
    page.locator("#image-query button[aria-label='Capture from camera']").click()
    page.get_by_text("Click to Access Webcam").click()
    page.wait_for_function("() => document.querySelector('#image-query video')?.videoWidth > 0")
    page.locator("#image-query button[aria-label='capture photo']").click()
    expect(page.locator("#status")).to_contain_text("similar to your photo")
    captured = page.request.get(page.locator("#image-query img").first.get_attribute("src")).body()
    expect_results(page, "similar to your photo", engine.search_image(captured, k=DEFAULT_K, collapse_similar=True))

    pasted = io.BytesIO()
    Image.open(ASSETS / "brown-handbag.jpg").save(pasted, format="PNG")
    page.evaluate(
        """async (data) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            await navigator.clipboard.write([new ClipboardItem({"image/png": new Blob([bytes], {type: "image/png"})})]);
        }""",
        base64.b64encode(pasted.getvalue()).decode(),
    )
    page.locator("#image-query button[aria-label='Remove Image']").click()
    page.locator("#image-query button[aria-label='Paste from clipboard']").click()
    expect_results(
        page, "similar to your photo", engine.search_image(pasted.getvalue(), k=DEFAULT_K, collapse_similar=True)
    )


def test_image_and_text_with_the_weight_slider(browser, app_url, engine):
    page = open_page(browser, app_url, DESKTOP)
    open_tab(page, "Image + Text")
    photo = ASSETS / "red-tshirt.jpg"
    page.locator("#composed-text textarea").fill("same style but in blue")
    upload(page, "#composed-image", photo)
    expected = engine.search_composed(
        photo,
        "same style but in blue",
        DEFAULT_IMAGE_WEIGHT,
        k=DEFAULT_K,
        collapse_similar=True,
        semantic_weight=DEFAULT_SEMANTIC_WEIGHT,
    )
    expect_results(page, "for your photo + “same style but in blue”", expected)

    weight = 0.2 if DEFAULT_IMAGE_WEIGHT > 0.5 else 0.8
    page.locator("#image-weight input[type=range]").fill(str(weight))
    moved = engine.search_composed(
        photo,
        "same style but in blue",
        weight,
        k=DEFAULT_K,
        collapse_similar=True,
        semantic_weight=DEFAULT_SEMANTIC_WEIGHT,
    )
    expect_results(page, "for your photo + “same style but in blue”", moved)


def test_phone_layout_stacks_and_fits_the_screen(browser, app_url, engine, screenshots):
    page = open_page(browser, app_url, PHONE)
    typed = "<b>black</b> *leather* [boots](x)"
    page.locator("#text-query textarea").fill(typed)
    page.locator("#text-search").click()
    expect_results(
        page,
        f"for “{typed}”",
        engine.search_text(typed, k=DEFAULT_K, collapse_similar=True),
    )
    columns = page.locator("#results .grid-container").evaluate("e => getComputedStyle(e).gridTemplateColumns")
    assert len(columns.split()) == 2
    query_box, results_box = page.locator("#text-query").bounding_box(), page.locator("#results").bounding_box()
    assert results_box["y"] > query_box["y"] + query_box["height"], "results stack below the query on a phone"
    expect(page.locator("#status")).to_be_in_viewport()
    page.locator("#text-query textarea").fill("black leather boots for men")
    page.locator("#text-search").click()
    expect_results(
        page,
        "for “black leather boots for men”",
        engine.search_text("black leather boots for men", k=24, collapse_similar=True),
    )
    screenshot(page, screenshots / "screenshot-phone.png")

    page.locator("#results .thumbnail-item").first.click()
    expect(page.locator("#more-like-this")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "nothing overflows sideways"


@pytest.mark.parametrize("viewport", [pytest.param(PHONE, id="390px"), pytest.param(DESKTOP, id="1280px")])
def test_filters_and_k_rerun_the_search_of_the_tab_in_view(browser, app_url, engine, viewport):
    page = open_page(browser, app_url, viewport)
    page.locator("#text-query textarea").fill("red shirt")
    page.locator("#text-query textarea").press("Enter")
    expect_results(
        page,
        "for “red shirt”",
        engine.search_text("red shirt", k=DEFAULT_K, collapse_similar=True),
    )

    open_tab(page, "Image + Text")  # no search there yet: nothing from the Text tab is shown or re-run
    expect(page.locator("#status")).to_have_text(TAB_PROMPTS["composed"])
    expect(page.locator("#results .thumbnail-item")).to_have_count(0)
    choose_filter(page, "masterCategory", "Apparel")
    page.wait_for_timeout(1000)  # time for a re-run to show, if one ran
    expect(page.locator("#status")).to_have_text(TAB_PROMPTS["composed"])

    open_tab(page, "Image")
    photo = ASSETS / "yellow-dress.jpg"
    upload(page, "#image-query", photo)
    apparel = {"masterCategory": ["Apparel"]}
    expect_results(page, "similar to your photo", engine.search_image(photo, DEFAULT_K, apparel, collapse_similar=True))

    open_tab(page, "Text")  # its own last search, with the filters as they are now
    filtered = engine.search_text("red shirt", k=DEFAULT_K, filters=apparel, collapse_similar=True)
    expect_results(page, "for “red shirt”", filtered)
    if not page.locator("#k").is_visible():  # a phone folds the filters once one is chosen
        page.locator("#filters").get_by_text("Filters and number of results").click()
    page.locator("#k input[type=range]").fill("5")
    page.locator("#k input[type=range]").dispatch_event("pointerup")
    fewer = engine.search_text("red shirt", k=5, filters=apparel, collapse_similar=True)
    expect_results(page, f"{counted(fewer)} for “red shirt”", fewer)

    open_tab(page, "Image")
    expect_results(page, "similar to your photo", engine.search_image(photo, 5, apparel, collapse_similar=True))


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_input_mistakes_are_a_calm_message_next_to_the_input(browser, app_url, engine, viewport):
    page = open_page(browser, app_url, viewport)
    for _ in range(3):
        page.locator("#text-search").click()
    message = page.locator("#text-message")
    expect(message).to_have_text("Type something to search for: the text is empty.")
    query_box, message_box = page.locator("#text-query").bounding_box(), message.bounding_box()
    gap = message_box["y"] - (query_box["y"] + query_box["height"])
    assert 0 <= gap < 40, f"the message sits right under the input ({gap:.0f} px below it)"
    expect(message).to_be_in_viewport()
    expect(page.locator("#status")).to_have_text(TAB_PROMPTS["text"])
    no_error_badges_or_toasts(page)

    open_tab(page, "Image + Text")
    page.locator("#composed-text textarea").fill("in blue")
    page.locator("#composed-search").click()
    expect(page.locator("#composed-message")).to_have_text("No image was given. Upload, paste or take a photo first.")
    expect(page.locator("#composed-message")).to_be_in_viewport()
    no_error_badges_or_toasts(page)

    open_tab(page, "Text")
    page.locator("#text-query textarea").fill("white sneakers")
    page.locator("#text-search").click()
    expect_results(
        page,
        "for “white sneakers”",
        engine.search_text("white sneakers", k=DEFAULT_K, collapse_similar=True),
    )
    expect(message).to_be_hidden()


def test_a_paste_beyond_the_text_limit_is_cut_by_the_page_and_searched(browser, app_url, engine):
    """A 1.2 MB paste would exceed the request body limit (a bare connection error); the box keeps the first
    RAW_TEXT_LIMIT characters, and the search says it used only the beginning."""
    page = open_page(browser, app_url, DESKTOP)
    pasted = "red shirt " * 120_000
    page.locator("#text-query textarea").fill(pasted)
    kept = page.locator("#text-query textarea").input_value()
    assert kept == pasted[:RAW_TEXT_LIMIT]
    page.locator("#text-search").click()
    expect_results(
        page,
        "for “red shirt",
        engine.search_text(kept, k=DEFAULT_K, collapse_similar=True),
    )
    expect(page.locator("#status")).to_contain_text(f"only the first {MAX_TEXT_CHARS:,} were used")
    no_error_badges_or_toasts(page)


@pytest.mark.parametrize("viewport", [pytest.param(SMALL_PHONE, id="360px"), pytest.param(PHONE, id="390px")])
def test_no_tab_overflows_a_phone(browser, app_url, engine, viewport):
    page = open_page(browser, app_url, viewport)
    page.locator("#text-query textarea").fill("blue denim jeans")
    page.locator("#text-search").click()
    expect_results(
        page,
        "for “blue denim jeans”",
        engine.search_text("blue denim jeans", k=DEFAULT_K, collapse_similar=True),
    )
    page.locator("#results .thumbnail-item").first.click()
    expect(page.locator("#more-like-this")).to_be_visible()
    for tab in ("Text", "Image", "Image + Text"):
        open_tab(page, tab)
        page.wait_for_timeout(300)
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= viewport["width"], f"the {tab} tab is {width} px wide on a {viewport['width']} px phone"


def test_desktop_keeps_results_count_and_filters_in_view(browser, app_url, engine):
    page = open_page(browser, app_url, DESKTOP)
    page.locator("#text-query textarea").fill("black leather boots for men")
    page.locator("#text-query textarea").press("Enter")
    expected = engine.search_text("black leather boots for men", k=DEFAULT_K, collapse_similar=True)
    expect_results(page, counted(expected), expected)
    page.evaluate("window.scrollTo(0, 0)")
    for part in ("#status", "#k", *(f"#filter-{name}" for name in UI_FILTERS)):
        expect(page.locator(part)).to_be_in_viewport(ratio=1)
    second_row = page.locator("#results .thumbnail-item").nth(5)  # five tiles a row on a desktop
    expect(second_row).to_be_in_viewport(ratio=1)  # more than one row of results above the fold

    page.locator("#semantic-weight input[type=range]").fill("0")  # exact words only: nothing contains "zzzqqq"
    page.locator("#about-fold").get_by_text("About this search").click()
    expect(page.locator("#about")).to_contain_text("exact words 100%")
    page.locator("#text-query textarea").fill("zzzqqq")
    page.locator("#text-query textarea").press("Enter")
    status = page.locator("#status")
    expect(status).to_contain_text("0 results for “zzzqqq”")
    expect(status).to_contain_text("No product name or label contains these words")
    expect(status).to_be_in_viewport(ratio=1)
    expect(page.locator("#results .thumbnail-item")).to_have_count(0)
    no_error_badges_or_toasts(page)


@pytest.mark.parametrize("viewport", [pytest.param(SMALL_PHONE, id="360px"), pytest.param(PHONE, id="390px")])
def test_filters_are_folded_on_a_phone_and_open_on_a_tap(browser, app_url, engine, viewport):
    page = open_page(browser, app_url, viewport)
    expect(page.locator("#filters .label-wrap")).not_to_have_class(re.compile(r"\bopen\b"))  # folded once loaded
    expect(page.locator("#filter-gender")).to_be_hidden()
    choose_filter(page, "gender", "Women")
    expect(page.locator("#filter-gender")).to_be_visible()
    page.locator("#text-query textarea").fill("white sneakers")
    page.locator("#text-search").click()
    women = {"gender": ["Women"]}
    expect_results(
        page,
        "Gender: Women",
        engine.search_text("white sneakers", k=DEFAULT_K, filters=women, collapse_similar=True),
    )


@pytest.fixture(scope="module")
def multilingual_url(multilingual_engine):
    """The real app with the query-language step (the tiny MarianMT translating)."""
    demo = build_demo(multilingual_engine)
    url = launch(demo, "127.0.0.1", free_port(), block=False)
    yield url
    demo.close()


def test_a_query_in_another_language_is_translated_and_its_original_is_one_click_away(
    browser, multilingual_url, multilingual_engine, screenshots
):
    vietnamese = "áo sơ mi nam màu đỏ"
    page = open_page(browser, multilingual_url, DESKTOP)
    expect(page.locator("#header")).to_contain_text("other languages are translated to English")
    expect(page.locator("#language-toggle")).to_be_hidden()
    page.locator("#text-query textarea").fill(vietnamese)
    page.locator("#text-query textarea").press("Enter")
    translated = multilingual_engine.search_text(vietnamese, k=DEFAULT_K, collapse_similar=True)
    expect_results(page, f"for “{translated.query_text.searched}” (translated from Vietnamese", translated)
    expect(page.locator("#language-toggle")).to_have_text(SEARCH_ORIGINAL)
    screenshot(page, screenshots / "screenshot-translated.png")

    page.locator("#language-toggle").click()
    as_typed = multilingual_engine.search_text(vietnamese, k=DEFAULT_K, translate=False, collapse_similar=True)
    expect_results(page, f"for “{vietnamese}” (Vietnamese, as typed", as_typed)
    expect(page.locator("#language-toggle")).to_have_text(SEARCH_TRANSLATION)

    page.locator("#text-query textarea").fill("red shirt for men")
    page.locator("#text-query textarea").press("Enter")
    expect(page.locator("#status")).to_contain_text("for “red shirt for men”")
    expect(page.locator("#language-toggle")).to_be_hidden()


def example_product_ids(page: Page, tab: str) -> list[int]:
    """The product ids of a tab's example photos (files named by product id in the bundle's photo folder)."""
    sources = page.locator(f"#tab-{tab} .gallery-item img, #tab-{tab} .tr-body img").evaluate_all(
        "images => images.map(image => image.getAttribute('src'))"
    )
    assert sources, f"the {tab} tab shows example photos"
    return [int(Path(source).stem) for source in sources]


@pytest.mark.parametrize("viewport", [pytest.param(PHONE, id="390px"), pytest.param(DESKTOP, id="1280px")])
def test_example_photos_are_catalog_products_and_search_on_a_click(browser, app_url, engine, viewport, screenshots):
    page = open_page(browser, app_url, viewport)
    open_tab(page, "Image")
    ids = example_product_ids(page, "image")
    categories = {engine.product(product_id)["masterCategory"] for product_id in ids}
    assert len(categories) > 1, "examples from several categories"
    wait_for_photo(page, "#tab-image .gallery-item img")
    page.locator("#tab-image .gallery-item").first.click()
    photo = engine.product_photo_bytes(ids[0])
    expect_results(page, "similar to your photo", engine.search_image(photo, k=DEFAULT_K, collapse_similar=True))
    if viewport == DESKTOP:
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, screenshots / "screenshot-image.png")

    open_tab(page, "Image + Text")
    composed_ids = example_product_ids(page, "composed")
    assert composed_ids == ids[: len(composed_ids)]
    page.locator("#tab-composed .tr-body td").first.click()
    expect(page.locator("#composed-text textarea")).to_have_value(re.compile("^same style but in "))
    text = page.locator("#composed-text textarea").input_value()
    expected = engine.search_composed(
        engine.product_photo_bytes(composed_ids[0]),
        text,
        DEFAULT_IMAGE_WEIGHT,
        k=DEFAULT_K,
        collapse_similar=True,
        semantic_weight=DEFAULT_SEMANTIC_WEIGHT,
    )
    expect_results(page, f"for your photo + “{text}”", expected)
    if viewport == DESKTOP:
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, screenshots / "screenshot-image-text.png")


def dropdown_values(page: Page, field: str) -> list[str]:
    """The values chosen in a filter dropdown, as its tokens show them (without their counts)."""
    tokens = page.locator(f"#filter-{field} .token > span").all_inner_texts()
    return [re.sub(r" \([\d,]+\)$", "", token) for token in tokens]


@pytest.mark.parametrize("viewport", [pytest.param(PHONE, id="390px"), pytest.param(DESKTOP, id="1280px")])
def test_each_search_is_a_link_that_opens_it_and_back_and_forward_walk_the_searches(browser, app_url, engine, viewport):
    page = open_page(browser, app_url, viewport)
    page.locator("#text-query textarea").fill("red shirt")
    page.locator("#text-query textarea").press("Enter")
    plain = engine.search_text("red shirt", k=DEFAULT_K, collapse_similar=True)
    expect_results(page, "for “red shirt”", plain)
    expect(page).to_have_url(re.compile(r"\?tab=text&q=red\+shirt$"))  # the words decide the balance
    gender = plain.facets["gender"][0][0]  # a value the filter lists for this search
    choose_filter(page, "gender", gender)
    women = engine.search_text("red shirt", k=DEFAULT_K, filters={"gender": [gender]}, collapse_similar=True)
    expect_results(page, f"Gender: {gender}", women)
    expect(page).to_have_url(re.compile(rf"&gender={gender}$"))

    shared = open_page(browser, page.url, viewport)  # a copied link, opened elsewhere
    expect_results(shared, f"Gender: {gender}", women)
    expect(shared.locator("#text-query textarea")).to_have_value("red shirt")
    assert dropdown_values(shared, "gender") == [gender]
    expect(shared).to_have_url(page.url)

    page.go_back()
    expect_results(page, "for “red shirt”", plain)
    expect(page.locator("#status")).not_to_contain_text("Gender")
    assert dropdown_values(page, "gender") == []
    page.go_forward()
    expect_results(page, f"Gender: {gender}", women)
    page.go_back()
    page.go_back()  # the page as it first opened: no search
    expect(page.locator("#status")).to_have_text(TAB_PROMPTS["text"])
    expect(page.locator("#results .thumbnail-item")).to_have_count(0)
    expect(page.locator("#text-query textarea")).to_have_value("")
    no_error_badges_or_toasts(page)


def test_a_link_to_more_like_this_and_to_a_photo_tab(browser, app_url, engine):
    product = engine.search_text("shirt", k=1, collapse_similar=True).results[0]
    page = open_page(browser, f"{app_url}?tab=image&like={product.product_id}&k=6", DESKTOP)
    expect_results(page, f"like “{product.name}”", engine.more_like_this(product.product_id, 6, collapse_similar=True))
    expect(page.get_by_role("tab", name="Image", exact=True)).to_have_attribute("aria-selected", "true")
    expect(page.locator("#k input[type=number]")).to_have_value("6")
    page = open_page(browser, f"{app_url}?tab=composed&q=same+style+but+in+red&iw=0.2", DESKTOP)
    expect(page.locator("#composed-text textarea")).to_have_value("same style but in red")
    expect(page.locator("#status")).to_have_text(TAB_PROMPTS["composed"])
    page = open_page(browser, f"{app_url}?q=shirt&gender=Martian", DESKTOP)
    expect(page.locator("#text-message")).to_contain_text("No product has gender 'Martian'")
    no_error_badges_or_toasts(page)


# --- the rough edges of issue 20, each at 360, 390 and 1280 px ----------------------------------------------------


def search_for(page: Page, text: str) -> None:
    page.locator("#text-query textarea").fill(text)
    page.locator("#text-query textarea").press("Enter")


def box_of(locator) -> dict:
    return locator.bounding_box()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_details_open_in_view_without_moving_the_tiles_and_belong_to_one_search(browser, app_url, engine, viewport):
    page = open_page(browser, app_url, viewport)
    search_for(page, "red shirt")
    expected = engine.search_text("red shirt", k=DEFAULT_K, collapse_similar=True)
    expect_results(page, "for “red shirt”", expected)
    tiles, details = page.locator("#results .thumbnail-item"), page.locator("#details")
    for index in (0, 11):  # a tile of the first row, and one further down
        tile = tiles.nth(index)
        tile.scroll_into_view_if_needed()
        before = tile.evaluate("e => e.getBoundingClientRect().y + window.scrollY")
        tile.click()
        expect(page.locator("#detail-heading")).to_contain_text(expected.results[index].name)
        expect(details).to_be_in_viewport()
        expect(page.locator("#more-like-this")).to_be_in_viewport(ratio=1)
        expect(tile).to_have_class(re.compile(r"\bselected\b"))
        page.wait_for_timeout(800)  # the page's scroll, on a phone, that lifts the tile above the details sheet
        after = tile.evaluate("e => e.getBoundingClientRect().y + window.scrollY")
        assert abs(after - before) < 1, "opening the details moves no tile within the page"
        expect(tile).to_be_in_viewport(ratio=1)
        shown, sheet = box_of(tile), box_of(details)
        beside = shown["x"] >= sheet["x"] + sheet["width"] - 1 or shown["y"] + shown["height"] <= sheet["y"] + 1
        assert beside, f"the details ({sheet}) leave the selected tile ({shown}) in sight"
        page.keyboard.press("Escape")
        expect(details).to_be_hidden()
    tiles.nth(2).click()
    expect(page.locator("#details")).to_be_visible()
    search_for(page, "blue jeans")  # a new search: the selection was the old one's
    expect_results(
        page,
        "for “blue jeans”",
        engine.search_text("blue jeans", k=DEFAULT_K, collapse_similar=True),
    )
    expect(page.locator("#details")).to_be_hidden()
    expect(page.locator("#results .thumbnail-item.selected")).to_have_count(0)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_filters_show_their_results_keep_whole_words_and_reopen_after_escape(browser, app_url, engine, viewport):
    page = open_page(browser, app_url, viewport)
    search_for(page, "shirt")
    shirts = engine.search_text("shirt", k=DEFAULT_K, collapse_similar=True)
    expect_results(page, "for “shirt”", shirts)
    page.evaluate("window.scrollTo(0, 0)")
    gender, count = shirts.facets["gender"][0]  # the most frequent, listed first
    choose_filter(page, "gender", gender)
    chosen = {"gender": [gender]}
    expected = engine.search_text("shirt", k=DEFAULT_K, filters=chosen, collapse_similar=True)
    expect_results(page, f"Gender: {gender}", expected)
    expect(page.locator("#status")).to_be_in_viewport(ratio=1)  # on a phone too: the filters fold
    expect(page.locator("#results .thumbnail-item").first).to_be_in_viewport()

    if not page.locator("#filter-gender").is_visible():
        page.locator("#filters").get_by_text("Filters and number of results").click()
    token = page.locator("#filter-gender .token > span").first
    expect(token).to_have_text(f"{gender} ({count})")
    height, line = token.evaluate("e => [e.getBoundingClientRect().height, parseFloat(getComputedStyle(e).lineHeight)]")
    assert height < 1.5 * line, "a chosen value stays on one line"

    category = expected.facets["masterCategory"][0][0]
    field = page.locator("#filter-masterCategory input")
    field.click()
    expect(option(page, category)).to_be_visible()
    page.keyboard.press("Escape")
    expect(option(page, category)).to_be_hidden()
    field.click()
    expect(option(page, category)).to_be_visible()
    page.keyboard.press("Escape")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_enter_in_the_number_of_results_reruns_the_search(browser, app_url, engine, viewport):
    page = open_page(browser, app_url, viewport)
    search_for(page, "red shirt")
    expect_results(
        page,
        "for “red shirt”",
        engine.search_text("red shirt", k=DEFAULT_K, collapse_similar=True),
    )
    if not page.locator("#k").is_visible():
        page.locator("#filters").get_by_text("Filters and number of results").click()
    number = page.locator("#k input[type=number]")
    number.fill("5")
    number.press("Enter")
    five = engine.search_text("red shirt", k=5, collapse_similar=True)
    expect_results(page, f"{counted(five)} for “red shirt”", five)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_file_that_is_no_image_clears_the_photo_and_its_results(browser, app_url, engine, viewport, tmp_path):
    page = open_page(browser, app_url, viewport)
    open_tab(page, "Image")
    photo = ASSETS / "yellow-dress.jpg"
    upload(page, "#image-query", photo)
    expect_results(
        page,
        "similar to your photo",
        engine.search_image(photo, k=DEFAULT_K, collapse_similar=True),
    )
    text = tmp_path / "notes.jpg"  # named like a photo, as a browser lets it through
    text.write_text("not a photo")
    upload(page, "#image-query", text)
    expect(page.locator("#image-message")).to_contain_text("image")
    expect(page.locator("#status")).to_have_text(TAB_PROMPTS["image"])
    expect(page.locator("#results .thumbnail-item")).to_have_count(0)
    expect(page.locator("#image-query img")).to_have_count(0)
    no_error_badges_or_toasts(page)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_image_and_text_examples_fit_and_keep_the_photo_and_status_in_view(browser, app_url, engine, viewport):
    page = open_page(browser, app_url, viewport)
    open_tab(page, "Image + Text")
    headers = page.locator("#tab-composed th")
    expect(headers).to_have_count(2)
    spills = headers.evaluate_all(
        """headers => headers.map(header => {
            const text = document.createRange();
            text.selectNodeContents(header);
            const [words, cell] = [text.getBoundingClientRect(), header.getBoundingClientRect()];
            return words.left < cell.left - 1 || words.right > cell.right + 1;
        })"""
    )
    assert spills == [False, False], "each example header stays in its own column"
    wait_for_photo(page, "#tab-composed .tr-body img")
    page.locator("#tab-composed .tr-body td").first.click()
    expect(page.locator("#composed-text textarea")).to_have_value(re.compile("^same style but in "))
    expect(page.locator("#status")).to_contain_text("for your photo + “same style but in ")
    page.wait_for_timeout(800)  # the page's scroll after the search
    expect(page.locator("#composed-image img")).to_be_in_viewport()
    expect(page.locator("#status")).to_be_in_viewport(ratio=1)


# --- issue 20: what the engine understood, said and offered on the page, at 360, 390 and 1280 px ------------------


def text_search(engine: SearchEngine, text: str, **options):
    return engine.search_text(text, k=DEFAULT_K, collapse_similar=True, **options)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_misspelt_word_is_corrected_and_searched_as_typed_on_a_click(browser, app_url, engine, viewport):
    page = open_page(browser, app_url, viewport)
    search_for(page, "jeens")
    corrected = text_search(engine, "jeens")
    expect_results(page, f"{counted(corrected)} for “jeans”", corrected)
    button = page.locator("#as-typed")
    expect(button).to_have_text("Search for “jeens” instead")
    expect(button).to_be_in_viewport(ratio=1)
    button.click()
    as_typed = text_search(engine, "jeens", correct=False)
    expect_results(page, f"{counted(as_typed)} for “jeens”", as_typed)
    expect(button).to_be_hidden()
    expect(page).to_have_url(re.compile(r"&exact=1$"))
    no_error_badges_or_toasts(page)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_named_attributes_become_filters_listed_with_counts_and_clear_at_once(browser, app_url, engine, viewport):
    page = open_page(browser, app_url, viewport)
    search_for(page, "red shirt")
    named = text_search(engine, "red shirt")
    matched = sum(result.matched for result in named.results)
    assert 0 < matched < len(named.results), "the tiny catalog has a red shirt and many related products"
    expect_results(
        page, f"{matched} match{'' if matched == 1 else 'es'} · {len(named.results) - matched} related", named
    )
    chips = page.locator("#recognised button:visible")
    expect(chips).to_have_text(["Red", "Shirts"])
    expect(page.locator("#recognised")).to_be_in_viewport(ratio=1)
    chips.nth(1).click()
    shirts = text_search(engine, "red shirt", filters={"articleType": ["Shirts"]})
    expect_results(page, "Article type: Shirts", shirts)
    expect(chips).to_have_text(["Red"])

    if not page.locator("#filter-brand").is_visible():
        page.locator("#filters").get_by_text("Filters and number of results").click()
    assert dropdown_values(page, "articleType") == ["Shirts"]
    page.locator("#filter-brand input").click()
    listed = [re.compile(rf"{re.escape(value)} \({count}\)$") for value, count in shirts.facets["brand"]]
    expect(page.get_by_role("option")).to_have_text(listed)  # the search's brands, most frequent first
    option(page, shirts.facets["brand"][0][0]).click()
    page.keyboard.press("Escape")
    brand = shirts.facets["brand"][0][0]
    both = {"articleType": ["Shirts"], "brand": [brand]}
    expect_results(page, f"Article type: Shirts; Brand: {brand}", text_search(engine, "red shirt", filters=both))

    if not page.locator("#clear-filters").is_visible():
        page.locator("#filters").get_by_text("Filters and number of results").click()
    page.locator("#clear-filters").click()
    expect_results(page, "for “red shirt”", named)
    expect(page.locator("#status")).not_to_contain_text("Article type")
    assert dropdown_values(page, "articleType") == [] and dropdown_values(page, "brand") == []
    expect(page.locator("#status")).to_be_in_viewport(ratio=1)
    no_error_badges_or_toasts(page)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_text_nothing_matches_says_so_and_shows_related_products(browser, app_url, engine, viewport):
    page = open_page(browser, app_url, viewport)
    search_for(page, "zzzqqq")
    related = text_search(engine, "zzzqqq")
    assert related.results and related.match_count == 0 and related.semantic_weight != DEFAULT_SEMANTIC_WEIGHT
    expect_results(page, f"{len(related.results)} related for “zzzqqq”", related)
    expect(page.locator("#status")).to_contain_text("Nothing matches 'zzzqqq'")
    balance = page.locator("#semantic-weight input[type=number]")  # the balance the words chose, shown
    expect(balance).to_have_value(f"{related.semantic_weight:g}")
    expect(page.locator("#recognised")).to_be_hidden()
    expect(page.locator("#as-typed")).to_be_hidden()
