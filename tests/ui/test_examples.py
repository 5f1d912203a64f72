"""The page's example photos: taken from the catalog once per bundle (one product with a photo per major group, the
categories taking turns), paired with a sensible change for Image + Text, and the drawn pictures only without
catalog photos."""

from pathlib import Path

import pytest

from ui.examples import (
    COMPOSED_EXAMPLES,
    IMAGE_EXAMPLES,
    MAJOR_SHARE,
    TEXT_EXAMPLES,
    Examples,
    catalog_examples,
    change_text,
)
from ui.photo_files import ProductImages
from ui.settings import ASSETS


@pytest.fixture
def labels(engine):
    return engine.catalog_labels(["masterCategory", "articleType", "baseColour", "gender"])


def picked_ids(examples: Examples) -> list[int]:
    return [int(Path(path).stem) for path in examples.images]


def test_example_photos_are_catalog_photos_one_per_group(engine, photos, labels):
    examples = catalog_examples(engine, photos)
    ids = picked_ids(examples)
    assert len(ids) == IMAGE_EXAMPLES
    for product_id, path in zip(ids, examples.images, strict=True):
        assert Path(path).parent == photos.folder and Path(path).read_bytes() == engine.product_photo_bytes(product_id)
    groups = [tuple(labels.loc[labels["id"] == i, ["masterCategory", "articleType"]].iloc[0]) for i in ids]
    assert len(set(groups)) == len(groups), "one product per (masterCategory, articleType) group"
    for product_id, (category, kind) in zip(ids, groups, strict=True):
        group = labels[(labels["masterCategory"] == category) & (labels["articleType"] == kind)]
        assert product_id == group["id"].min(), "the group's first product by id (all have photos here)"


def test_the_major_categories_take_turns(engine, photos, labels):
    sizes = labels["masterCategory"].value_counts()
    major = sorted(sizes[sizes >= MAJOR_SHARE * len(labels)].index, key=lambda name: (-sizes[name], name))
    ids = picked_ids(catalog_examples(engine, photos))
    first_round = [labels.loc[labels["id"] == i, "masterCategory"].iloc[0] for i in ids[: len(major)]]
    assert first_round == major
    assert len(major) > 1, "the generated catalog has several major categories"


def test_the_same_bundle_gets_the_same_examples(engine, photos, tmp_path):
    again = catalog_examples(engine, ProductImages(engine, tmp_path / "another"))
    assert picked_ids(again) == picked_ids(catalog_examples(engine, photos))
    assert [text for _, text in again.composed] == [text for _, text in catalog_examples(engine, photos).composed]


def test_a_product_without_a_photo_gives_way_to_the_next_of_its_group(engine, photos, tmp_path, monkeypatch):
    first = picked_ids(catalog_examples(engine, photos))[0]
    stored = engine.product_photo_bytes
    monkeypatch.setattr(engine, "product_photo_bytes", lambda pid: None if pid == first else stored(pid))
    ids = picked_ids(catalog_examples(engine, ProductImages(engine, tmp_path / "fresh")))
    assert first not in ids and len(ids) == IMAGE_EXAMPLES


def test_composed_examples_ask_for_a_colour_the_product_is_not(engine, photos):
    examples = catalog_examples(engine, photos)
    assert [path for path, _ in examples.composed] == examples.images[:COMPOSED_EXAMPLES]
    catalog_colours = {colour.lower() for colour in engine.filter_choices()["baseColour"]}
    asked = []
    for path, text in examples.composed:
        colour = text.removeprefix("same style but in ")
        assert text.startswith("same style but in ") and colour in catalog_colours
        assert colour != (engine.product(int(Path(path).stem))["baseColour"] or "").lower()
        asked.append(colour)
    assert len(set(asked)) > 1, "the examples ask for different colours"


def test_change_text_skips_the_products_own_colour():
    assert change_text("Black", ["Black", "White", "Blue"], 0) == "same style but in white"
    assert change_text("Blue", ["Black", "White", "Blue"], 2) == "same style but in black"
    assert change_text("Black", ["Black"], 0) == "same style in another colour"


def test_a_catalog_without_photos_falls_back_to_the_drawn_pictures(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "product_photo_bytes", lambda product_id: None)
    examples = catalog_examples(engine, ProductImages(engine, tmp_path))
    assert examples == Examples.drawn(examples.queries) and examples.queries
    assert all(Path(path).parent == ASSETS and Path(path).is_file() for path in examples.images)
    assert all(Path(path).is_file() and text for path, text in examples.composed)


def test_example_queries_name_colours_and_article_types_the_catalog_has(engine, photos, labels):
    queries = catalog_examples(engine, photos).queries
    assert len(set(queries)) == len(queries) == TEXT_EXAMPLES
    kinds = []
    for query in queries:
        named = labels[
            [
                query.startswith(f"{colour} {kind}".lower())
                for colour, kind in zip(labels.baseColour, labels.articleType, strict=True)
            ]
        ]
        assert not named.empty, f"{query!r} names a colour and an article type of the catalog together"
        if query.endswith((" for men", " for women")):
            gender = query.rsplit(" ", 1)[1].capitalize()
            assert (named["gender"] == gender).any()
        kinds.append(named["articleType"].iloc[0])
        assert engine.search_keyword(query, k=1).results, "the catalog's own words find products"
    assert len(set(kinds)) == len(kinds), "one query per article type"
    assert any(query.endswith((" for men", " for women")) for query in queries)
