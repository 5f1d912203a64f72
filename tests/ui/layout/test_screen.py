"""Views rendered into component updates: every view changes only components wired as outputs of every page event,
a search clears the selection (its details and the gallery's selected tile), and a refused photo is cleared."""

import gradio as gr
import pytest

from search import DEFAULT_K, DEFAULT_SEMANTIC_WEIGHT
from ui.layout.filters import filters_panel
from ui.layout.results import input_message, results_panel
from ui.layout.screen import Screen
from ui.page import Page
from ui.settings import UI_FILTERS
from ui.state import TABS, TabSearches
from ui.views import MistakeView

NO_FILTERS = [None] * len(UI_FILTERS)


@pytest.fixture
def screen(engine) -> Screen:
    with gr.Blocks():
        filters = filters_panel(engine.filter_choices())
        results = results_panel()
        messages = {tab: input_message(f"{tab}-message") for tab in TABS}
        photos = {tab: gr.Image(elem_id=f"{tab}-image") for tab in ("image", "composed")}
    return Screen(results, filters, messages, photos)


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
    assert all(updates[dropdown] == [] for dropdown in screen.filters.dropdowns)
    assert updates[screen.messages["text"]].visible is False


def test_a_refused_photo_is_cleared_with_its_results(screen, page, upload, photo):
    view = views(page, upload, photo)["refused photo"]
    assert isinstance(view, MistakeView) and view.cleared is not None
    updates = screen.render(view)
    assert updates[screen.photos["image"]] is None and updates[screen.results.gallery].value == []
    assert updates[screen.messages["image"]].visible is True
    assert screen.messages["text"] not in updates
