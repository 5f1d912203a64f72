"""Shareable searches as URL query strings: what each search's link carries (defaults left out), what a query
string asks for (read leniently, checked by the search), and the inputs it sets (only what a control can show)."""

import pytest

from search import DEFAULT_IMAGE_WEIGHT, DEFAULT_K, ComposedQuery, ImageQuery, SimilarQuery, TextQuery
from ui.links import Link, link_to, number_in

CHOICES = {"gender": ["Men", "Women"], "baseColour": ["Red", "Navy Blue"]}


def test_a_text_search_carries_its_text_weight_k_and_filters():
    link = link_to("text", TextQuery("red shirt", 0.4), 12, {"gender": ["Men"], "baseColour": ["Red", "Navy Blue"]})
    assert link == "tab=text&q=red+shirt&w=0.4&k=12&gender=Men&baseColour=Red&baseColour=Navy+Blue"
    assert link_to("text", TextQuery("jupe", 0.3, translate=False), DEFAULT_K, {}) == "tab=text&q=jupe&w=0.3&typed=1"


def test_photo_searches_carry_what_a_link_can_hold():
    assert link_to("image", ImageQuery("/tmp/x.jpg"), DEFAULT_K, {"gender": ["Men"]}) == "tab=image&gender=Men"
    assert link_to("composed", ComposedQuery("/tmp/x.jpg", "in red", 0.2, 0.3), 5, {}) == (
        "tab=composed&q=in+red&iw=0.2&w=0.3&k=5"
    )
    assert link_to("composed", ComposedQuery("/tmp/x.jpg", "", 0.7), DEFAULT_K, {}) == "tab=composed&iw=0.7"
    assert link_to("image", SimilarQuery(15970), DEFAULT_K, {}) == "tab=image&like=15970"
    assert link_to("composed", None, DEFAULT_K, {}) == "tab=composed"


def test_a_link_reads_back_what_it_carries():
    text = "<b>robe d'été & jupe</b> 100%"
    link = Link.parse("?" + link_to("text", TextQuery(text, 0.45, translate=False), 7, {"gender": ["Men", "Women"]}))
    assert link == Link("text", text, "0.45", None, "7", None, False, {"gender": ["Men", "Women"]})
    assert link.filter_values()[0] == ["Men", "Women"]
    uncorrected = link_to("text", TextQuery("jeens", 0.3, correct=False), DEFAULT_K, {"brand": ["Nike"]})
    assert uncorrected == "tab=text&q=jeens&w=0.3&exact=1&brand=Nike"
    assert Link.parse(uncorrected) == Link("text", "jeens", "0.3", filters={"brand": ["Nike"]}, correct=False)


def test_a_query_string_is_read_leniently():
    assert Link.parse("") == Link()
    assert Link.parse("tab=nowhere&colour=Red&q=a&q=b&w=") == Link(text="a")
    assert Link.parse("tab=image&like=12&gender=Men").like == "12"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, 0.5), ("0.2", 0.2), ("1", 1.0), ("abc", 0.5), ("1.5", 0.5), ("-0", 0.0), ("nan", 0.5), ("inf", 0.5)],
)
def test_a_number_outside_a_controls_range_is_its_default(value, expected):
    assert number_in(value, 0.0, 1.0, 0.5) == expected


def test_the_inputs_a_link_sets_hold_only_what_the_controls_can_show():
    inputs = Link.parse("tab=composed&q=in+red&iw=2&w=0.1&k=12.5&gender=Men&gender=Martian").inputs(0.3, CHOICES)
    assert (inputs.tab, inputs.text, inputs.image_weight, inputs.semantic_weight) == (
        "composed",
        "in red",
        DEFAULT_IMAGE_WEIGHT,
        0.1,
    )
    assert inputs.k == DEFAULT_K and inputs.filters == {"gender": ["Men"]}
    assert Link.parse("k=7").inputs(0.3, CHOICES).k == 7
    assert (inputs.chosen_weight, Link.parse("q=a").inputs(0.3, CHOICES).chosen_weight) == (0.1, None)
    assert Link.parse("q=a&w=2").inputs(0.3, CHOICES).chosen_weight is None
    assert Link.parse("brand=Nike").inputs(0.3, CHOICES).filters == {"brand": []}, "a bundle without brands"
