"""How the page shows a query's language: the text searched and the language it was translated from, and the
button that searches a translated text as typed (or a text searched as typed translated)."""

from search import QueryText, SearchEngine

SEARCH_ORIGINAL = "Search the original text instead"
SEARCH_TRANSLATION = "Search it translated to English"


def translation_model(engine: SearchEngine) -> str | None:
    """The model that translates non-English queries, or None when the engine searches every text as typed."""
    return engine.language.model_id if engine.language is not None else None


def searched_phrase(typed: str, text: QueryText | None, notes: tuple[str, ...], limit: int) -> str:
    """`“what was searched”` (cut to `limit` characters) with notes in brackets, the first saying which language
    it was translated from or that it was searched as typed in another language."""
    if text is not None and text.language is not None and text.translated:
        notes = (f"translated from {text.language.name}", *notes)
    elif text is not None and text.language is not None and not text.language.is_english:
        notes = (f"{text.language.name}, as typed", *notes)
    searched = text.searched if text is not None else typed
    return f"“{searched[:limit]}”" + (f" ({'; '.join(notes)})" if notes else "")


def language_button_label(text: QueryText | None, can_translate: bool) -> str | None:
    """The language button's label after a translated search (search the original) and after a non-English one
    searched as typed when a model can translate it (search the translation); None (hidden) for English, texts
    without letters and photos."""
    if text is not None and text.language is not None and text.translated:
        return SEARCH_ORIGINAL
    if can_translate and text is not None and text.language is not None and not text.language.is_english:
        return SEARCH_TRANSLATION
    return None
