"""Views rendered into component updates: every view changes only components wired as outputs of every page event,
a search clears the selection (its details and the gallery's selected tile), and a refused photo is cleared."""

import gradio as gr
import pytest

from search import DEFAULT_K, DEFAULT_SEMANTIC_WEIGHT
from ui.layout.filters import filters_panel
from ui.layout.results import input_message, results_panel
from ui.layout.screen import Controls, Screen, link_controls
from ui.page import Page
from ui.settings import UI_FILTERS
from ui.state import TABS, TabSearches
from ui.views import MistakeView

NO_FILTERS = [None] * len(UI_FILTERS)


@pytest.fixture
def screen(engine) -> Screen:
    with gr.Blocks():
        with gr.Tabs() as tabs:
            for tab in TABS:
                with gr.Tab(tab, id=tab):
                    gr.Markdown(tab)
        text, composed_text = gr.Textbox(), gr.Textbox()
        semantic_weight, image_weight = gr.Slider(), gr.Slider()
        filters = filters_panel(engine.filter_choices())
        results = results_panel()
        messages = {tab: input_message(f"{tab}-message") for tab in TABS}
        photos = {tab: gr.Image(elem_id=f"{tab}-image") for tab in ("image", "composed")}
        chosen_weight = gr.State(None)
        controls = Controls(tabs, text, semantic_weight, composed_text, image_weight, *link_controls(), chosen_weight)
    return Screen(results, filters, messages, photos, controls)


@pytest.fixture
def page(engine, photos) -> Page:
    return Page(engine, photos)


def views(page: Page, upload, photo) -> dict[str, object]:
    """One view of each kind, from the page's own handlers."""
    shown = page.text_ui(TabSearches(), "red shirt", DEFAULT_SEMANTIC_WEIGHT, DEFAULT_K, *NO_FILTERS)
    return {
        "results": shown,
        "prompt": page.tab_ui("image", shown.searches, DEFAULT_K, *NO_FILTERS),
        "mistake": page.text_ui(shown.searches, " ", DEFAULT_SEMANTIC_WEIGHT, DEFAULT_K, *NO_FILTERS),
        "refused photo": page.image_ui(shown.searches, {"path": "/etc/hostname"}, DEFAULT_K, *NO_FILTERS),
        "details": page.details_ui(shown.results, gr.SelectData(None, {"index": 1, "value": None})),
        "opened link": page.open_ui(shown.searches, "?tab=text&q=blue+jeans&gender=Men"),
        "opened photo tab": page.open_ui(shown.searches, "?tab=composed&q=in+red&iw=0.2"),
        "opened bad link": page.open_ui(shown.searches, "?q=shirt&k=zero"),
    }


def test_every_view_changes_only_the_screens_outputs(screen, page, upload, photo):
    outputs = set(screen.outputs)
    for name, view in views(page, upload, photo).items():
        updates = screen.render(view)
        assert updates and set(updates) <= outputs, name
    assert screen.render(None) == gr.skip()


def test_a_search_clears_the_selection_and_sets_the_filters(screen, page, upload, photo):
    shown = views(page, upload, photo)["results"]
    updates = screen.render(shown)
    r = screen.results
    assert updates[r.gallery].selected_index is None and updates[r.selected] is None
    assert updates[r.details].visible is False and updates[r.shown] == shown.results
    for name, dropdown in screen.filters.by_field.items():
        assert updates[dropdown].value == [] and updates[dropdown].choices == [
            (label, value) for label, value in shown.choices[name]
        ], "the search's own values with their counts"
    assert [updates[button].value for button in r.recognised[:2]] == ["Red", "Shirts"]
    assert updates[r.recognised_shown] == shown.recognised and updates[r.recognised_row].visible is True
    assert updates[screen.messages["text"]].visible is False
    assert updates[screen.controls.link] == shown.link and updates[screen.controls.push] is True


def test_a_refused_photo_is_cleared_with_its_results(screen, page, upload, photo):
    view = views(page, upload, photo)["refused photo"]
    assert isinstance(view, MistakeView) and view.cleared is not None
    updates = screen.render(view)
    assert updates[screen.photos["image"]] is None and updates[screen.results.gallery].value == []
    assert updates[screen.messages["image"]].visible is True
    assert screen.messages["text"] not in updates


def test_an_opened_link_sets_the_inputs_and_keeps_the_url_as_opened(screen, page, upload, photo):
    opened = views(page, upload, photo)["opened photo tab"]
    updates = screen.render(opened)
    c = screen.controls
    assert updates[c.tabs].selected == "composed" and updates[c.composed_text] == "in red"
    assert c.text not in updates and updates[c.image_weight] == 0.2
    assert updates[c.link] == "tab=composed&q=in+red&iw=0.2" and updates[c.push] is False
    assert (
        updates[c.chosen_weight] is None
        and screen.render(page.open_ui(TabSearches(), "?q=a&w=0.6"))[c.chosen_weight] == 0.6
    )
    shown = screen.render(views(page, upload, photo)["opened link"])
    assert updates[screen.filters.k] == DEFAULT_K and shown[screen.filters.by_field["gender"]].value == ["Men"]
    assert shown[c.text] == "blue jeans" and shown[c.link] == "tab=text&q=blue+jeans&gender=Men"
