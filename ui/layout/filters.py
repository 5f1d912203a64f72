"""The filters panel: the number of results and one multi-select per filter field, with the catalog's values."""

from dataclasses import dataclass

import gradio as gr

from search import DEFAULT_K, MAX_K
from ui.settings import UI_FILTERS


@dataclass
class FiltersPanel:
    k: gr.Slider
    dropdowns: list[gr.Dropdown]

    @property
    def inputs(self) -> list[gr.components.Component]:
        """The values every search handler takes after its own: k, then one selection per filter field."""
        return [self.k, *self.dropdowns]

    @property
    def changes(self) -> list:
        """The events after which the last search runs again with the new values."""
        return [self.k.release, *(dropdown.change for dropdown in self.dropdowns)]


def filters_panel(choices: dict[str, list[str]]) -> FiltersPanel:
    with gr.Accordion("Filters and number of results", open=False, elem_id="filters"):
        k = gr.Slider(1, MAX_K, value=DEFAULT_K, step=1, label="Number of results", elem_id="k")
        dropdowns = [
            gr.Dropdown(choices[name], multiselect=True, label=label, elem_id=f"filter-{name}")
            for name, label in UI_FILTERS.items()
        ]
    return FiltersPanel(k, dropdowns)
