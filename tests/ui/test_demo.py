"""The assembled Space without a server: which events run which handler, what the client API exposes, the shared
search concurrency group, and what the header and the filters show."""

import gradio as gr
import pytest

from tests.helpers import ENDPOINTS
from ui import build_demo
from ui.page import RECOGNISED_CHIPS
from ui.settings import SEARCH_GROUP, UI_FILTERS
from ui.state import TABS
from ui.wording import model_label

SEARCH_HANDLERS = {
    "text_ui",
    "text_on_change",
    "image_ui",
    "composed_ui",
    "composed_on_change",
    "similar_ui",
    "rerun_ui",
    "language_ui",
    "as_typed_ui",
    "recognised_clicked",
    "clear_filters_ui",
    "tab_selected",
    "chip_clicked",
    "open_ui",
}
WIRING = {
    ("text-search", "click"): "text_ui",
    ("text-query", "submit"): "text_ui",
    ("semantic-weight", "input"): "choose_balance",  # then the typed query again, at that balance
    ("image-query", "change"): "image_ui",
    ("composed-search", "click"): "composed_ui",
    ("composed-text", "submit"): "composed_ui",
    ("composed-image", "change"): "composed_on_change",
    ("image-weight", "input"): "composed_on_change",
    ("more-like-this", "click"): "similar_ui",
    ("language-toggle", "click"): "language_ui",
    ("as-typed", "click"): "as_typed_ui",
    **{(f"recognised-{index}", "click"): "recognised_clicked" for index in range(RECOGNISED_CHIPS)},
    ("clear-filters", "click"): "no_filters",  # then the search again, without them
    ("k", "release"): "rerun_ui",
    **{(f"filter-{name}", "input"): "rerun_ui" for name in UI_FILTERS},
    ("results", "select"): "details_ui",
    ("chip-articleType", "click"): "chip_clicked",
    ("chip-baseColour", "click"): "chip_clicked",
    ("chips-dismiss", "click"): "dismiss_chips",
    **{(f"tab-{tab}", "select"): "tab_selected" for tab in TABS},
    ("open-link", "click"): "open_ui",  # the browser's back / forward (and the page's load) open its URL
    ("link", "change"): None,  # each new link is pushed to the browser's history, in the browser
    ("details-close", "click"): "close_details",
    ("composed-examples", "click"): "load_example",  # Gradio's own: fills the photo and the text
}


@pytest.fixture(scope="module")
def demo(engine) -> gr.Blocks:
    return build_demo(engine)


def handlers_by_trigger(demo: gr.Blocks) -> dict[tuple[str, str], str]:
    return {
        (demo.blocks[block_id].elem_id, event): fn.name
        for fn in demo.fns.values()
        for block_id, event in fn.targets
        if block_id in demo.blocks and demo.blocks[block_id].elem_id
    }


def test_each_control_runs_its_handler(demo):
    assert handlers_by_trigger(demo) == WIRING
    loads = [fn.name for fn in demo.fns.values() if any(event == "load" for _, event in fn.targets)]
    assert "open_ui" in loads, "the page's URL is opened as it loads"


def test_only_the_named_endpoints_are_public(demo):
    assert set(demo.get_api_info()["named_endpoints"]) == ENDPOINTS
    page_events = [fn for fn in demo.fns.values() if fn.name in {*SEARCH_HANDLERS, "details_ui"}]
    assert page_events and all(fn.api_visibility == "private" for fn in page_events)


def test_every_search_of_the_page_and_the_api_shares_one_concurrency_group(demo):
    searches = SEARCH_HANDLERS | {name.strip("/") for name in ENDPOINTS} - {"filter_choices"}
    groups = {fn.name: fn.concurrency_id for fn in demo.fns.values() if fn.name in searches}
    assert set(groups) == searches and set(groups.values()) == {SEARCH_GROUP}
    others = [fn.concurrency_id for fn in demo.fns.values() if fn.name in {"details_ui", "filter_choices"}]
    assert len(others) == 2 and SEARCH_GROUP not in others


def test_filters_offer_the_catalogs_values(demo, engine):
    dropdowns = {block.elem_id: block for block in demo.blocks.values() if isinstance(block, gr.Dropdown)}
    choices = engine.filter_choices()
    for name in UI_FILTERS:
        assert [value for value, _ in dropdowns[f"filter-{name}"].choices] == choices[name]


def header_of(demo: gr.Blocks) -> str:
    return next(block for block in demo.blocks.values() if block.elem_id == "header").value


def test_the_header_names_the_catalog_size_not_the_model(demo, engine):
    header = header_of(demo)
    assert f"**{engine.num_products:,} products**" in header and engine.model_id not in header
    assert "translated" not in header, "no language step, no promise of translation"


def test_the_header_says_other_languages_are_translated_without_naming_the_model(multilingual_engine, tiny_marian):
    header = header_of(build_demo(multilingual_engine))
    assert "other languages are translated to English." in header and tiny_marian.name not in header


@pytest.mark.parametrize(
    ("model_id", "label"),
    [
        (
            "patrickjohncyh/fashion-clip",
            "[patrickjohncyh/fashion-clip](https://huggingface.co/patrickjohncyh/fashion-clip)",
        ),
        ("/models/clip<b>", "`clip&lt;b&gt;`"),
        ("./models/tiny", "`tiny`"),
    ],
)
def test_models_are_linked_when_on_the_hub_and_named_when_local(model_id, label):
    assert model_label(model_id) == label
