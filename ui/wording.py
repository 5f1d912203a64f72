"""What the page says about a search, in a shopper's words: the tiles' captions, the status line and the "About this
search" fold, which keeps what only a curious visitor or a developer wants (the keyword/meaning balance, the photo
weight, the time taken, the models)."""

import dataclasses
import html
import itertools
import re
from functools import singledispatch
from pathlib import Path

from search import (
    ComposedQuery,
    ImageQuery,
    Query,
    QueryText,
    SearchEngine,
    SearchResponse,
    SearchResult,
    SimilarQuery,
    TextQuery,
    looks_like_repo_id,
)
from ui.language import searched_phrase, translation_model
from ui.messages import as_markdown_text
from ui.settings import UI_FILTERS

SHOWN_TEXT_CHARS = 80  # of a query text in the status line
NOTHING_FOUND = "Nothing found. Try other words, another photo or fewer filters."
WORD = re.compile(r"\w+")


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """ "1 result", "2 results", "0 results"."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


def caption(result: SearchResult) -> str:
    """What a shopper reads under a tile: the name, then the article type and colour only where the name does not
    already say them (no score), and how many more products the tile stands for."""
    said = words_of(result.name)
    labels = [result.metadata.get("articleType"), result.metadata.get("baseColour")]
    unsaid = [label for label in labels if label and not says(said, label)]
    text = " · ".join(part for part in (result.name, *unsaid) if part)
    return f"{text} · +{len(result.similar)} similar" if result.similar else text


def words_of(text: str) -> set[str]:
    """A text's words in the one form a name and a label share: lower case, singular ("Tshirts" and "TShirt" say
    the same), with each pair of neighbours also written together ("T-shirt" says "tshirt")."""
    words = [singular(word) for word in WORD.findall(text.lower())]
    return {*words, *(singular(first + second) for first, second in itertools.pairwise(words))}


def says(said: set[str], label: str) -> bool:
    """Whether words (words_of a name) say a label: each of its words, or all of them written together."""
    words = [singular(word) for word in WORD.findall(label.lower())]
    return set(words) <= said or singular("".join(words)) in said


def singular(word: str) -> str:
    """The English singular of a catalog word: "dresses" → "dress", "watches" → "watch", "shoes" → "shoe"."""
    if word.endswith(("sses", "ches", "shes", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


@singledispatch
def describe(query: Query, text: QueryText | None, named: str = "") -> str:
    """What the status line says the results are for, e.g. `for “red shirt”`; `text` is the engine's reading of
    the query's text (what was searched, translated from which language), `named` the name of a "More like this"
    product."""
    raise TypeError(f"The page does not show {type(query).__name__} searches.")


@describe.register
def _describe_text(query: TextQuery, text: QueryText | None, named: str = "") -> str:
    return f"for {searched_phrase(query.text, text, (), SHOWN_TEXT_CHARS)}"


@describe.register
def _describe_image(query: ImageQuery, text: QueryText | None, named: str = "") -> str:
    return "similar to your photo"


@describe.register
def _describe_composed(query: ComposedQuery, text: QueryText | None, named: str = "") -> str:
    if not query.text:
        return "for your photo"
    return f"for your photo + {searched_phrase(query.text, text, (), SHOWN_TEXT_CHARS)}"


@describe.register
def _describe_similar(query: SimilarQuery, text: QueryText | None, named: str = "") -> str:
    return f"like “{named or query.product_id}”"


def counted(response: SearchResponse) -> str:
    """How many results, honestly: for a text, how many of those shown match its words or the attributes it names
    and how many are only related ("12 matches · 12 related", "24 related" when none match); else "24 results"."""
    shown = len(response.results)
    if response.match_count is None or not shown:
        return plural(shown, "result")
    matched = sum(result.matched for result in response.results)
    if not matched:
        return f"{shown:,} related"
    matches = plural(matched, "match", "matches")
    return matches if matched == shown else f"{matches} · {shown - matched:,} related"


def searched_text(response: SearchResponse) -> QueryText | None:
    """The engine's reading of the query's text with its spelling correction applied: what was searched."""
    correction, text = response.correction, response.query_text
    if correction is None:
        return text
    if text is None:
        return QueryText.as_typed(correction.searched)
    return dataclasses.replace(text, searched=correction.searched)


def as_typed_label(response: SearchResponse) -> str | None:
    """The label of the button that searches the words as typed after a spelling correction ("Search for “jeens”
    instead"); None (hidden) when nothing was corrected."""
    if response.correction is None:
        return None
    return f"Search for “{response.correction.typed[:SHOWN_TEXT_CHARS]}” instead"


def facet_label(value: str, count: int) -> str:
    """A filter value as its list shows it: with how many of the search's candidates have it ("Women (12)")."""
    return f"{value} ({count:,})"


def status_line(query: Query, response: SearchResponse, filters: dict[str, list[str]], named: str = "") -> str:
    """The status line (Markdown): how many results (matching or related) for what was searched, within which
    filters, and the search's own messages (notices, or that nothing was found) on lines of their own, so the next
    search replaces them."""
    described = describe(query, searched_text(response), named)
    status = f"**{counted(response)}** {as_markdown_text(described)}"
    if filters:
        chosen = "; ".join(f"{UI_FILTERS[name]}: {', '.join(values)}" for name, values in filters.items())
        status += f" · {as_markdown_text(chosen)}"
    messages = response.notices or ([] if response.results else [NOTHING_FOUND])
    return status + "".join(f"\n\n> {as_markdown_text(message)}" for message in messages)


@singledispatch
def balance(query: Query) -> str:
    """How the search weighed its parts, for the "About this search" fold ("" when it has one part)."""
    return ""


@balance.register
def _text_balance(query: TextQuery) -> str:
    return weights_said("exact words", "meaning", query.semantic_weight)


@balance.register
def _composed_balance(query: ComposedQuery) -> str:
    if not query.text:
        return ""
    words = weights_said("exact words", "meaning", query.semantic_weight).lower()
    return f"{weights_said('text', 'photo', query.image_weight)}; the text's {words}"


def weights_said(left: str, right: str, weight: float | None) -> str:
    """ "Balance: exact words 70 % · meaning 30 %" for a weight of `right` (None: the query's words decided)."""
    if weight is None:
        return f"Balance: {left} and {right}, as the query's words decide"
    return f"Balance: {left} {1 - weight:.0%} · {right} {weight:.0%}"


def about(query: Query, response: SearchResponse, engine: SearchEngine) -> str:
    """The "About this search" fold (Markdown): the balance of the search (the one its words chose, when they did),
    its time and the models behind it."""
    said, used = balance(query), response.semantic_weight
    if isinstance(query, (TextQuery, ComposedQuery)) and query.semantic_weight is None and used is not None:
        said = f"{balance(dataclasses.replace(query, semantic_weight=used))}, as the words decided"
    lines = [said, f"Time: {response.elapsed_ms:,.0f} ms", f"Model: {model_label(engine.model_id)}"]
    translator = translation_model(engine)
    if translator and response.query_text is not None and response.query_text.translated:
        lines.append(f"Translated to English by {model_label(translator)}")
    return "\n\n".join(line for line in lines if line)


def model_label(model_id: str) -> str:
    """A Hub model as a link to its card; a local model folder by its name only (its path means nothing here)."""
    if looks_like_repo_id(model_id) and not Path(model_id).exists():
        return f"[{model_id}](https://huggingface.co/{model_id})"
    return f"`{html.escape(Path(model_id).name)}`"
