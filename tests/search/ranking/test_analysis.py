"""Keyword text analysis on the catalog's real vocabulary: compounds, hyphens, single letters, spellings."""

import Stemmer

from search.ranking.analysis import FIELD_SEPARATOR, Analyzer, compounds, phrases

STEM = Stemmer.Stemmer("english").stemWord
# Real product names and labels of the catalog (KAGL ground truth).
CATALOG = [
    "ADIDAS Women's Who Was That Yellow T-shirt | Apparel | Topwear | Tshirts | Yellow",
    "Ed Hardy Men Eagle Print Blue Tshirts | Apparel | Topwear | Tshirts | Blue",
    "Arrow Sport Men Check Yellow Shirts | Apparel | Topwear | Shirts | Yellow",
    "ADIDAS Men's Slide Grey Orange Flip Flop | Footwear | Flip Flops | Flip Flops | Grey",
    "Vans Men Slip-on Black Casual Shoes | Footwear | Shoes | Casual Shoes | Black",
    "Lee Women V Neck White T-shirt | Apparel | Topwear | Tshirts | White",
    "Adrika Pink Earrings | Accessories | Jewellery | Earrings | Pink",
    "Lencia Sterling Silver Ring | Accessories | Jewellery | Ring | Silver",
    "Fastrack Unisex Sunglasses | Accessories | Eyewear | Sunglasses | Black",
]


def analyzer() -> Analyzer:
    return Analyzer(STEM, compounds(CATALOG, STEM).__contains__)


def test_hyphens_and_slashes_tie_words_and_single_letters_stay():
    assert phrases("Men's V-Neck T-shirt 3/4th") == [
        [("men", False), ("v", False), ("neck", True), ("t", False), ("shirt", True), ("3", False), ("4th", True)]
    ]


def test_fields_and_punctuation_end_phrases():
    words = phrases(f"Green & White Kurta{FIELD_SEPARATOR}Women")
    assert [[word for word, _ in phrase] for phrase in words] == [["green"], ["white", "kurta"], ["women"]]


def test_spelling_variants_become_the_catalog_words():
    assert [word for word, _ in phrases("gray tee jewelry, tee shirts")[0]] == ["grey", "tshirt", "jewellery"]
    assert [word for word, _ in phrases("tee shirts")[0]] == ["tshirts"]


def test_the_catalog_compounds_are_its_words_and_hyphenated_pairs():
    known = compounds(CATALOG, STEM)
    assert {"tshirt", "slipon", "earring", "sunglass"} <= known
    assert "flipflop" not in known  # the catalog always writes "Flip Flops" apart


def test_documents_keep_every_word_and_add_compounds():
    document = analyzer().document("Lee Women V Neck White T-shirt")
    assert document.split()[:7] == ["lee", "women", "v", "neck", "white", "t", "shirt"]
    assert "tshirt" in document.split()
    assert "vneck" not in document.split()  # no name of this catalog writes "V-Neck"
    assert "tshirt" in analyzer().document("Nike T Shirt").split()  # spaced, but a known compound


def test_queries_prefer_compounds_the_catalog_knows():
    query = analyzer().query
    for text in ("t-shirt", "t shirt", "T-Shirts", "tee", "tshirt"):
        assert STEM(query(text).split()[0]) == "tshirt", text
    assert query("ear rings") == "earrings"
    assert query("slip on shoes") == "slipon shoes"
    assert query("sun glasses") == "sunglasses"


def test_a_pair_that_only_stems_like_one_of_its_words_is_not_a_compound():
    assert analyzer().query("silver ring") == "silver ring"  # "silverring" stems to "silver"


def test_unknown_joined_words_are_split_into_known_ones():
    query = analyzer().query
    assert query("flipflops") == "flip flops"
    assert query("earrings") == "earrings"  # known words stay whole
    assert query("zzzqqq") == "zzzqqq"
