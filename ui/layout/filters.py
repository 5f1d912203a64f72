"""The filters panel above the results: one multi-select per filter field (its values among the current search's
candidates with their counts, the catalog's before a search), "Clear filters" and the number of results. Open on a
desktop, where it sits in view with the status line and the first results; folded on a phone, where it would push the
results below the screen."""

from dataclasses import dataclass
from typing import Any

import gradio as gr

from search import DEFAULT_K, MAX_K, shown
from ui.settings import UI_FILTERS

PHONE_MAX_WIDTH = 640  # px; the page's CSS (assets/app.css) switches to the phone layout at the same width
FOLD_ON_PHONES_JS = f"""() => {{
  const label = document.querySelector("#filters .label-wrap");
  if (window.innerWidth <= {PHONE_MAX_WIDTH} && label && label.classList.contains("open")) label.click();
}}"""


def refusing_unoffered_values(dropdown: gr.Dropdown) -> gr.Dropdown:
    """The dropdown, refusing a value that is not one of its labels with a message naming it cut short: Gradio's
    own refusal echoes the whole value and every choice (a 900 KB value came back whole). Its `preprocess` is
    wrapped, not subclassed: Gradio writes a stub file next to the module of every Component subclass."""
    preprocess = dropdown.preprocess

    def checked(payload: Any) -> Any:
        values = payload if isinstance(payload, list) else [payload]
        offered = {value for _, value in dropdown.choices}
        wrong = [value for value in values if value is not None and value not in offered]
        if wrong:
            raise gr.Error(
                f"{shown(dropdown.label)} has no value {shown(wrong[0])}; choose among its {len(offered)} values."
            )
        return preprocess(payload)

    setattr(dropdown, "preprocess", checked)  # noqa: B010 (an instance's method, replaced)
    return dropdown


@dataclass
class FiltersPanel:
    accordion: gr.Accordion
    k: gr.Slider
    dropdowns: list[gr.Dropdown]
    clear: gr.Button
    catalog: dict[str, list[str]]  # each filter's values in the whole catalog, its choices before a search

    @property
    def inputs(self) -> list[gr.components.Component]:
        """The values every search handler takes after its own: k, then one selection per filter field."""
        return [self.k, *self.dropdowns]

    @property
    def changes(self) -> list:
        """The visitor's changes after which the search of the tab in view runs again with the new values (a search
        that sets the dropdowns itself, e.g. a chip's, does not run twice)."""
        return [self.k.release, *(dropdown.input for dropdown in self.dropdowns)]

    @property
    def by_field(self) -> dict[str, gr.Dropdown]:
        return dict(zip(UI_FILTERS, self.dropdowns, strict=True))

    def choices(self, choices: dict[str, tuple[tuple[str, str], ...]], filters: dict[str, list[str]]) -> dict:
        """The dropdowns' updates for a search: its choices (the catalog's where it has none) and its filters."""
        return {
            dropdown: gr.Dropdown(
                choices=list(choices.get(name) or [(value, value) for value in self.catalog.get(name, [])]),
                value=filters.get(name, []),
                multiselect=True,
            )
            for name, dropdown in self.by_field.items()
        }

    def connect(self, demo: gr.Blocks) -> None:
        """Fold the panel when the page opens on a phone."""
        demo.load(None, js=FOLD_ON_PHONES_JS)


def filters_panel(choices: dict[str, list[str]]) -> FiltersPanel:
    with (
        gr.Accordion("Filters and number of results", open=True, elem_id="filters") as accordion,
        gr.Row(elem_id="filter-row"),
    ):
        dropdowns = [
            refusing_unoffered_values(
                gr.Dropdown(
                    choices.get(name, []),
                    multiselect=True,
                    label=label,
                    min_width=100,
                    visible=bool(choices.get(name)),  # a bundle without brands has no brand filter
                    elem_id=f"filter-{name}",
                )
            )
            for name, label in UI_FILTERS.items()
        ]
        k = gr.Slider(1, MAX_K, value=DEFAULT_K, step=1, label="Number of results", min_width=160, elem_id="k")
        clear = gr.Button("Clear filters", size="sm", variant="secondary", min_width=0, elem_id="clear-filters")
    return FiltersPanel(accordion, k, dropdowns, clear, {name: list(choices.get(name, [])) for name in UI_FILTERS})
