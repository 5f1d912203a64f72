"""The page's title and what it searches: the catalog's size, the model and the translation of other languages."""

import html
from pathlib import Path

import gradio as gr

from search import SearchEngine, looks_like_repo_id
from ui.language import translation_model


def model_label(model_id: str) -> str:
    """A Hub model as a link to its card; a local model folder by its name only (its path means nothing here)."""
    if looks_like_repo_id(model_id) and not Path(model_id).exists():
        return f"[{model_id}](https://huggingface.co/{model_id})"
    return f"`{html.escape(Path(model_id).name)}`"


def header(engine: SearchEngine) -> gr.Markdown:
    translator = translation_model(engine)
    languages = (
        f" Write in your language: other languages are translated to English by {model_label(translator)}."
        if translator
        else ""
    )
    return gr.Markdown(
        "# Fashion product search\n"
        f"Search **{engine.num_products:,} products** by words, by a photo, or by a photo plus words that "
        f"change it. Model: {model_label(engine.model_id)}.{languages} Select a result to see its details and "
        "find more like it.",
        elem_id="header",
    )
