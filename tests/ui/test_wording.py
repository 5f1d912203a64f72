"""What the page says in a shopper's words: captions that do not repeat what the name says, counts in the right
number, and the balance of a search said for the "About this search" fold."""

import pytest

from search import ComposedQuery, ImageQuery, SearchResult, TextQuery
from ui.wording import balance, caption, plural, says, words_of


def result(name: str, article_type: str | None, colour: str | None, similar: tuple[int, ...] = ()) -> SearchResult:
    metadata = {"articleType": article_type, "baseColour": colour}
    return SearchResult(1, 0.5, name, metadata, 0, similar)


@pytest.mark.parametrize(
    ("name", "article_type", "colour", "shown"),
    [
        ("Puma Men Black Shoe Accessories", "Shoe Accessories", "Black", "Puma Men Black Shoe Accessories"),
        ("ADIDAS Originals Men Blue Tshirt", "Tshirts", "Blue", "ADIDAS Originals Men Blue Tshirt"),
        ("Basics Men Blue Striped Polo T-shirt", "Tshirts", "Blue", "Basics Men Blue Striped Polo T-shirt"),
        ("Puma Men Dress", "Dresses", "Navy Blue", "Puma Men Dress · Navy Blue"),
        ("Titan Men Watch", "Watches", "Tan", "Titan Men Watch · Tan"),
        ("Nike Men Running", "Sports Shoes", None, "Nike Men Running · Sports Shoes"),
        ("", "Jeans", "Blue", "Jeans · Blue"),
    ],
)
def test_a_caption_adds_only_the_labels_its_name_does_not_say(name, article_type, colour, shown):
    assert caption(result(name, article_type, colour)) == shown


def test_a_folded_tile_says_how_many_more_it_holds():
    assert caption(result("Deni Yo Men Washed Blue Jeans", "Jeans", "Blue", (2, 3, 4))).endswith(" · +3 similar")


def test_singular_forms_and_joined_words_say_a_label():
    assert says(words_of("Casual Black Shoes"), "Casual Shoes") and says(words_of("T Shirt"), "Tshirts")
    assert not says(words_of("Shirt"), "Tshirts") and not says(words_of("Glass Bottle"), "Sunglasses")


def test_counts_are_singular_or_plural():
    assert [plural(n, "result") for n in (0, 1, 2, 1200)] == ["0 results", "1 result", "2 results", "1,200 results"]
    assert plural(1, "match", "matches") == "1 match" and plural(3, "match", "matches") == "3 matches"


def test_the_balance_of_each_kind_of_search():
    assert balance(TextQuery("red shirt", 0.3)) == "Balance: exact words 70% · meaning 30%"
    composed = balance(ComposedQuery("x.jpg", "in red", 0.25, 0.3))
    assert composed == "Balance: text 75% · photo 25%; the text's balance: exact words 70% · meaning 30%"
    assert balance(ComposedQuery("x.jpg", "", 0.5)) == "" and balance(ImageQuery("x.jpg")) == ""
