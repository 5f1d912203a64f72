"""The page's examples, taken from the loaded catalog so that a visitor starts from real products and words.

They are chosen once per bundle and deterministically: the major categories (masterCategory holding at least
MAJOR_SHARE of the catalog) take turns, each offering its most common article types in order. Each group gives its
first product (by id) with a readable photo, written as a file by ui.photo_files, and a text query in the catalog's
own labels: the group's most common colour and article type ("black casual shoes"), every other one with the
group's most common gender when it is Men or Women ("for men"). Image + Text examples pair such a photo with a change
a shopper would ask for: the same style in a common catalog colour the product is not. The drawn pictures in assets/
are only the fallback for a catalog without photos.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

import pandas as pd

from search import SearchEngine
from ui.photo_files import ProductImages
from ui.settings import ASSETS

IMAGE_EXAMPLES = 6
COMPOSED_EXAMPLES = 4
TEXT_EXAMPLES = 6
MAJOR_SHARE = 0.05
CANDIDATES = 20  # products of a group tried for a readable photo before the group is skipped
CHANGE = "same style but in {colour}"
COLOUR_CHOICES = 6  # the catalog's most common colours that composed examples ask for
GROUPS = ("masterCategory", "articleType")
GENDERS_SAID = {"Men": "for men", "Women": "for women"}
DRAWN_IMAGES = ["red-tshirt.jpg", "yellow-dress.jpg", "black-boots.jpg", "brown-handbag.jpg", "gold-watch.jpg"]
DRAWN_COMPOSED = [
    ("red-tshirt.jpg", "same style but in blue"),
    ("yellow-dress.jpg", "black, for a party"),
    ("white-sneakers.jpg", "leather boots"),
    ("blue-jeans.jpg", "shorts"),
]


@dataclass(frozen=True)
class Examples:
    """The Text tab's example queries, the Image tab's example photos and the Image + Text tab's (photo, text)
    pairs, as files Gradio serves."""

    queries: list[str]
    images: list[str]
    composed: list[tuple[str, str]]

    @classmethod
    def drawn(cls, queries: list[str]) -> "Examples":
        """The drawn pictures of assets/ (for a catalog without photos) with the catalog's queries."""
        return cls(
            queries,
            [str(ASSETS / name) for name in DRAWN_IMAGES],
            [(str(ASSETS / name), text) for name, text in DRAWN_COMPOSED],
        )


def catalog_examples(engine: SearchEngine, photos: ProductImages) -> Examples:
    """Example queries and photos of the catalog's major groups with composed texts (the drawn photos when it has
    none)."""
    frame = engine.catalog_labels([*GROUPS, "baseColour", "gender"]).dropna(subset=list(GROUPS))
    queries = example_queries(frame, TEXT_EXAMPLES)
    picks = example_products(frame, photos, IMAGE_EXAMPLES)
    if not picks:
        return Examples.drawn(queries)
    colours = common_colours(frame)
    composed = [
        (path, change_text(frame.loc[frame["id"] == product_id, "baseColour"].iloc[0], colours, turn))
        for turn, (product_id, path) in enumerate(picks[:COMPOSED_EXAMPLES])
    ]
    return Examples(queries, [path for _, path in picks], composed)


def groups_in_turn(frame: pd.DataFrame) -> Iterator[pd.DataFrame]:
    """The products of each (masterCategory, articleType) group, the major categories taking turns, each giving its
    most common article types first."""
    if frame.empty:
        return
    categories = by_size(frame["masterCategory"])
    major = [name for name, size in categories if size >= MAJOR_SHARE * len(frame)] or [categories[0][0]]
    turns = {
        name: [kind for kind, _ in by_size(frame.loc[frame["masterCategory"] == name, "articleType"])] for name in major
    }
    while any(turns.values()):
        for category in major:
            if turns[category]:
                kind = turns[category].pop(0)
                yield frame[(frame["masterCategory"] == category) & (frame["articleType"] == kind)]


def example_products(frame: pd.DataFrame, photos: ProductImages, count: int) -> list[tuple[int, str]]:
    """Up to `count` (product id, photo file) pairs, one per group (groups_in_turn)."""
    picks: list[tuple[int, str]] = []
    for group in groups_in_turn(frame):
        for product_id in sorted(group["id"].tolist())[:CANDIDATES]:
            path = photos.photo(product_id)
            if path:
                picks.append((product_id, path))
                break
        if len(picks) == count:
            break
    return picks


def example_queries(frame: pd.DataFrame, count: int) -> list[str]:
    """Up to `count` queries in the catalog's own words, one per group (groups_in_turn): its most common colour and
    its article type, every other one for the group's most common gender when that is Men or Women."""
    queries: list[str] = []
    for turn, group in enumerate(islice(groups_in_turn(frame), count)):
        colours = by_size(group["baseColour"].dropna())
        words = [colours[0][0] if colours else "", group["articleType"].iloc[0]]
        genders = by_size(group.loc[group["baseColour"] == words[0], "gender"].dropna()) if colours else []
        if turn % 2 and genders and genders[0][0] in GENDERS_SAID:
            words.append(GENDERS_SAID[genders[0][0]])
        queries.append(" ".join(word for word in words if word).lower())
    return queries


def by_size(labels: pd.Series) -> list[tuple[str, int]]:
    """Each label with its number of products, most common first (ties by name, so the order is fixed)."""
    return sorted(labels.value_counts().items(), key=lambda item: (-item[1], item[0]))


def common_colours(frame: pd.DataFrame) -> list[str]:
    return [name for name, _ in by_size(frame["baseColour"].dropna())][:COLOUR_CHOICES]


def change_text(colour: str | None, colours: list[str], turn: int) -> str:
    """ "same style but in {a common colour}", the colours taken in turn and never the product's own."""
    others = [name for name in colours[turn:] + colours[:turn] if name != colour]
    return CHANGE.format(colour=others[0].lower()) if others else "same style in another colour"
