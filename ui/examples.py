"""The page's example photos, taken from the loaded catalog so that a visitor starts from real products.

They are chosen once per bundle and deterministically: the major categories (masterCategory holding at least
MAJOR_SHARE of the catalog) take turns, each offering its most common article types in order, and each group gives
its first product (by id) with a readable photo, written as a file by ui.photo_files. Image + Text examples pair such a
photo with a change a shopper would ask for: the same style in a common catalog colour the product is not. The
drawn pictures in assets/ are only the fallback for a catalog without photos.
"""

from dataclasses import dataclass

import pandas as pd

from search import SearchEngine
from ui.photo_files import ProductImages
from ui.settings import ASSETS

IMAGE_EXAMPLES = 6
COMPOSED_EXAMPLES = 4
MAJOR_SHARE = 0.05
CANDIDATES = 20  # products of a group tried for a readable photo before the group is skipped
CHANGE = "same style but in {colour}"
COLOUR_CHOICES = 6  # the catalog's most common colours that composed examples ask for
GROUPS = ("masterCategory", "articleType")
DRAWN_IMAGES = ["red-tshirt.jpg", "yellow-dress.jpg", "black-boots.jpg", "brown-handbag.jpg", "gold-watch.jpg"]
DRAWN_COMPOSED = [
    ("red-tshirt.jpg", "same style but in blue"),
    ("yellow-dress.jpg", "black, for a party"),
    ("white-sneakers.jpg", "leather boots"),
    ("blue-jeans.jpg", "shorts"),
]


@dataclass(frozen=True)
class Examples:
    """The Image tab's example photos and the Image + Text tab's (photo, text) pairs, as files Gradio serves."""

    images: list[str]
    composed: list[tuple[str, str]]

    @classmethod
    def drawn(cls) -> "Examples":
        """The drawn pictures of assets/ (for a catalog without photos)."""
        return cls(
            [str(ASSETS / name) for name in DRAWN_IMAGES],
            [(str(ASSETS / name), text) for name, text in DRAWN_COMPOSED],
        )


def catalog_examples(engine: SearchEngine, photos: ProductImages) -> Examples:
    """Example photos of the catalog's major groups with composed texts, or the drawn ones when it has no photos."""
    picks = example_products(engine, photos, IMAGE_EXAMPLES)
    if not picks:
        return Examples.drawn()
    colours = common_colours(engine)
    composed = [
        (path, change_text(engine.product(product_id).get("baseColour"), colours, turn))
        for turn, (product_id, path) in enumerate(picks[:COMPOSED_EXAMPLES])
    ]
    return Examples([path for _, path in picks], composed)


def example_products(engine: SearchEngine, photos: ProductImages, count: int) -> list[tuple[int, str]]:
    """Up to `count` (product id, photo file) pairs, one per (masterCategory, articleType) group, the major
    categories taking turns."""
    frame = engine.catalog_labels(list(GROUPS)).dropna(subset=list(GROUPS))
    if frame.empty:
        return []
    categories = by_size(frame["masterCategory"])
    major = [name for name, size in categories if size >= MAJOR_SHARE * len(frame)] or [categories[0][0]]
    turns = {
        name: [kind for kind, _ in by_size(frame.loc[frame["masterCategory"] == name, "articleType"])] for name in major
    }
    picks: list[tuple[int, str]] = []
    while len(picks) < count and any(turns.values()):
        for category in major:
            if not turns[category] or len(picks) == count:
                continue
            kind = turns[category].pop(0)
            group = frame[(frame["masterCategory"] == category) & (frame["articleType"] == kind)]
            for product_id in sorted(group["id"].tolist())[:CANDIDATES]:
                path = photos.photo(product_id)
                if path:
                    picks.append((product_id, path))
                    break
    return picks


def by_size(labels: pd.Series) -> list[tuple[str, int]]:
    """Each label with its number of products, most common first (ties by name, so the order is fixed)."""
    return sorted(labels.value_counts().items(), key=lambda item: (-item[1], item[0]))


def common_colours(engine: SearchEngine) -> list[str]:
    return [name for name, _ in by_size(engine.catalog_labels(["baseColour"])["baseColour"].dropna())][:COLOUR_CHOICES]


def change_text(colour: str | None, colours: list[str], turn: int) -> str:
    """ "same style but in {a common colour}", the colours taken in turn and never the product's own."""
    others = [name for name in colours[turn:] + colours[:turn] if name != colour]
    return CHANGE.format(colour=others[0].lower()) if others else "same style in another colour"
