"""The page's title and what it searches: the catalog's size and whether other languages are understood (the models
behind a search are named in its "About this search" fold, ui.wording)."""

import gradio as gr

from search import SearchEngine
from ui.language import translation_model


def header(engine: SearchEngine, notice: str | None = None) -> gr.Markdown:
    """The title and what can be searched; `notice` (Markdown), when given, as a line of its own under it (e.g. that
    this is the demo catalog and how to load a full index)."""
    languages = (
        " Write in your language: other languages are translated to English." if translation_model(engine) else ""
    )
    return gr.Markdown(
        "# Fashion product search\n"
        f"Search **{engine.num_products:,} products** by words, by a photo, or by a photo plus words that "
        f"change it.{languages} Select a result to see its details and find more like it."
        + (f"\n\n<span id='notice'>{notice}</span>" if notice else ""),
        elem_id="header",
    )
