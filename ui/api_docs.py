"""What an agent reads about each search endpoint it may call as an MCP tool: what the tool is for, what each
argument means, the loaded catalog's filter values and every field that comes back. The answer of each tool is the
client API's JSON (ui/api.py), each photo given as its URL; tests compare these tables with real answers, so a
field added to the API must be described here too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from search import DEFAULT_IMAGE_WEIGHT, DEFAULT_K, MAX_K

# Each tool: what it is for, in the words an agent decides with.
PURPOSES = {
    "search_text": (
        "Search the fashion catalog by a description of what the shopper wants: type of product, colour, gender, "
        "brand, style, occasion or season, in any language (e.g. 'black leather boots for men', 'robe d'été "
        "rouge'). Exact words and meaning are both used. Use filters for hard constraints."
    ),
    "search_image": (
        "Find catalog products that look like a photo (same kind of product, colour and style), best first, and "
        "guess the photo's article type and colour."
    ),
    "search_composed": (
        "Find catalog products like a photo but changed as a text says, e.g. a photo of a shirt with 'same style "
        "but in blue' or 'for women'."
    ),
    "more_like_this": (
        "Find catalog products similar to one product of an earlier result (by its id), the product itself "
        "excluded: 'show me more like this one'."
    ),
    "filter_choices": (
        "List every value each filter field takes in this catalog (e.g. all article types and colours), to build "
        "the filters argument of the search tools. Returns an object of field -> list of values."
    ),
}

# Each argument, by name: the same name means the same thing in every tool.
ARGUMENTS = {
    "text": "What to look for, in the shopper's own words, any language (a non-English text is translated).",
    "image": (
        "The photo: an http(s) URL of a JPEG, PNG, WebP, GIF, BMP or TIFF image (a result's image URL works too), "
        "or the image itself as a data URI ('data:image/jpeg;base64,...'); at most 20 MB."
    ),
    "image_weight": (
        f"How much the photo counts against the text, 0 to 1: 0 = the text only, 1 = the photo only "
        f"(default {DEFAULT_IMAGE_WEIGHT})."
    ),
    "product_id": "The id of a catalog product: the 'id' of a result of an earlier search.",
    "k": f"How many products to return, 1 to {MAX_K} (default {DEFAULT_K}; more is cut to {MAX_K} with a notice).",
    "filters": (
        "Hard constraints: an object of filter field -> one value or a list of values (any of them), e.g. "
        '{"gender": "Women", "baseColour": ["Red", "Pink"]}. The fields and values are in the description; a '
        "value the catalog does not have is refused with the values it has. Leave out to search everything."
    ),
    "semantic_weight": (
        "Balance of meaning and exact words, 0 to 1: 1 = meaning only (CLIP), 0 = the query's exact words only "
        "(keywords). Leave out to let the search choose (exact words lead when the catalog knows every word, "
        "meaning when it does not); the answer's semantic_weight says which was used."
    ),
    "collapse_similar": (
        "True (the default, as on the page) folds near-identical products (e.g. one design in several listings) "
        "and products sold under one name (a size or colour run) into one result; the result's 'similar' lists "
        "the ids folded into it. False returns every product."
    ),
    "translate": "False searches a non-English text as typed instead of by its English translation.",
    "correct": (
        "False searches the words as typed instead of with misspelt words corrected to the catalog's (see the "
        "answer's correction)."
    ),
}

# Every field of a search answer and of each of its results: its JSON schema and what it means.
RESULT_FIELDS: dict[str, tuple[dict, str]] = {
    "id": ({"type": "integer"}, "product id (for more_like_this)"),
    "name": ({"type": "string"}, "display name, e.g. 'Nike Men Black Running Shoes'"),
    "score": ({"type": "number"}, "similarity to the query, higher is closer (compare within one answer only)"),
    "metadata": (
        {"type": "object"},
        "every catalog field of the product (gender, masterCategory, subCategory, articleType, baseColour, season, "
        "year, usage, productDisplayName)",
    ),
    "image": ({"type": "string", "format": "uri"}, "URL of the product photo"),
    "similar": (
        {"type": "array", "items": {"type": "integer"}},
        "ids of near-identical products folded into this one (with collapse_similar)",
    ),
    "matched": (
        {"type": "boolean"},
        "whether the product matches the query's words or the attributes it names; false = only related",
    ),
}
RESPONSE_FIELDS: dict[str, tuple[dict, str]] = {
    "results": (
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {field: schema for field, (schema, _) in RESULT_FIELDS.items()},
                "required": list(RESULT_FIELDS),
            },
        },
        "the products, best first; each has " + "; ".join(f"{k}: {text}" for k, (_, text) in RESULT_FIELDS.items()),
    ),
    "labels": (
        {"type": "object"},
        "photo searches: the photo's guessed articleType and baseColour, each {label, score: probability, margin: "
        "lead over the runner-up, confident: whether it is clearly ahead}; empty otherwise",
    ),
    "notices": (
        {"type": "array", "items": {"type": "string"}},
        "messages about the query to pass on, e.g. that a long text was cut or k was lowered",
    ),
    "elapsed_ms": ({"type": "number"}, "time the search took on the server"),
    "language": (
        {"type": ["object", "null"]},
        "the text's language as {code, name, confidence}, or null (no text, or no letters)",
    ),
    "searched_text": (
        {"type": ["string", "null"]},
        "the text actually searched (the English translation of a non-English text), or null",
    ),
    "translated": ({"type": "boolean"}, "whether searched_text is a translation"),
    "correction": (
        {"type": ["object", "null"]},
        "the spelling correction made, as {typed, searched, changes: [[typed word, searched word], ...]}, or null "
        "(nothing corrected); search again with correct=false for the words as typed",
    ),
    "recognised": (
        {"type": "array", "items": {"type": "object"}},
        "attributes the text names, each {field, value, words} (e.g. baseColour Red from 'red'): products carrying "
        "them rank first; a value is a valid filter of that field",
    ),
    "semantic_weight": (
        {"type": ["number", "null"]},
        "the balance of meaning (1) and exact words (0) used, or null for a photo alone",
    ),
    "match_count": (
        {"type": ["integer", "null"]},
        "how many products within the filters match the text's words or attributes (null for a photo alone); "
        "results after them are related, not matching",
    ),
    "facets": (
        {"type": "object"},
        "each filter field -> [[value, count], ...] among the matching products (or the candidates when none "
        "matches), most frequent first: the filter values worth offering next",
    ),
}
# Fields with at most this many values are listed whole in a description; longer lists are sampled.
LISTED_VALUES = 12
SAMPLED_VALUES = 8


def filters_text(choices: Mapping[str, Sequence[str]]) -> str:
    """The catalog's filter fields and values, for a search tool's description."""
    fields = []
    for field, values in choices.items():
        if len(values) <= LISTED_VALUES:
            fields.append(f"{field}: {', '.join(map(str, values))}")
        else:
            sample = ", ".join(map(str, values[:SAMPLED_VALUES]))
            fields.append(f"{field}: {len(values)} values, e.g. {sample}, … (all of them: filter_choices)")
    return "Filter fields and this catalog's values — " + "; ".join(fields) + "."


def describe_tool(name: str, choices: Mapping[str, Sequence[str]]) -> str:
    """A tool's description: its purpose, then for a search its filters and what comes back."""
    if name == "filter_choices":
        return PURPOSES[name]
    returns = "; ".join(f"{field}: {text}" for field, (_, text) in RESPONSE_FIELDS.items())
    return f"{PURPOSES[name]}\n\n{filters_text(choices)}\n\nReturns an object — {returns}."


def output_schema(name: str) -> dict:
    """The JSON schema of a tool's structured answer (open to fields added later)."""
    if name == "filter_choices":
        return {"type": "object", "additionalProperties": {"type": "array"}}
    properties = {field: {**schema, "description": text} for field, (schema, text) in RESPONSE_FIELDS.items()}
    return {"type": "object", "properties": properties, "required": list(RESPONSE_FIELDS)}
