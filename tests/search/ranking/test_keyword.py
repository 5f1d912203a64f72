"""Keyword (BM25) index: built into the bundle, exact-name queries, stemming, exact filters, clear errors."""

import json
from dataclasses import replace

import numpy as np
import pytest

from search.bundle import Bundle, Components, read_manifest
from search.engine import SearchEngine
from search.errors import InvalidQueryError
from search.ranking.hybrid import DEFAULT_SEMANTIC_WEIGHT
from search.ranking.keyword import KEYWORD_DIR, KeywordIndex, keyword_text


def test_keyword_text_is_name_then_labels_without_missing_ones():
    record = {"productDisplayName": " Nike Men Blue Tshirt ", "gender": "Men", "articleType": "Tshirts", "usage": None}
    assert keyword_text(record) == "Nike Men Blue Tshirt | Men | Tshirts"


def test_the_bundle_holds_the_keyword_index_and_describes_it(bundle_dir, engine):
    manifest = read_manifest(bundle_dir)
    described = manifest.components.keyword
    assert described.library == "bm25s" and described.folder == KEYWORD_DIR
    assert described.num_docs == 240 and described.stemmer == "english"
    assert "keyword/params.index.json" in manifest.files and "keyword/vocab.index.json" in manifest.files
    rebuilt = KeywordIndex.build([keyword_text(r) for r in engine.products.frame.to_dict("records")])
    for query in ("blue jeans", "Nike women", "watches"):
        np.testing.assert_allclose(engine.keyword.scores(query), rebuilt.scores(query), rtol=1e-6)


def test_exact_product_name_ranks_that_product_first(engine):
    frame = engine.products.frame
    names = frame.productDisplayName
    unique = names[(names != "") & ~names.duplicated(keep=False)]
    for row in unique.index[::12]:
        response = engine.search_keyword(names[row], k=5)
        assert response.results[0].product_id == int(frame.id[row]), names[row]
        assert response.results[0].score > response.results[1].score


def test_stemming_matches_plural_labels(engine):
    response = engine.search_keyword("dress", k=10)
    assert response.results and all(r.metadata["articleType"] == "Dresses" for r in response)


def test_filtered_keyword_search_is_exact(plain_engine):
    engine = plain_engine
    frame = engine.products.frame
    allowed = ((frame.gender == "Women") & (frame.masterCategory == "Apparel")).to_numpy()
    scores = engine.keyword.scores("blue cotton shirt")
    order = sorted(np.flatnonzero(allowed & (scores > 0)), key=lambda row: (-scores[row], row))
    response = engine.search_keyword("blue cotton shirt", k=8, filters={"gender": "Women", "masterCategory": "Apparel"})
    assert response.ids == [int(frame.id[row]) for row in order[:8]]
    np.testing.assert_allclose([r.score for r in response], scores[order[:8]], rtol=1e-6)


def test_words_nobody_uses_give_an_empty_answer_with_a_notice(engine):
    response = engine.search_keyword("zzzqqq", k=5)
    assert response.results == () and "No product name or label contains these words" in response.notices[0]
    with pytest.raises(InvalidQueryError, match="Type something to search for"):
        engine.search_keyword("  ")


def test_a_bundle_without_keyword_index_explains_itself(engine):
    bundle = engine.bundle
    manifest = replace(bundle.manifest, components=Components())
    legacy = SearchEngine(Bundle(manifest, bundle.index, bundle.products), engine.encoder)
    assert legacy.default_semantic_weight == 1.0 and engine.default_semantic_weight == DEFAULT_SEMANTIC_WEIGHT
    assert legacy.search_text("blue shirt", k=3).ids == engine.search_text("blue shirt", k=3, semantic_weight=1.0).ids
    with pytest.raises(InvalidQueryError, match="has no keyword index"):
        legacy.search_keyword("blue shirt")
    with pytest.raises(InvalidQueryError, match="has no keyword index"):
        legacy.search_text("blue shirt", semantic_weight=0.5)


def test_the_vocabulary_is_stored_in_sorted_order_so_builds_are_reproducible(tmp_path):
    texts = ["Puma Women Red Shoes", "Nike Men Blue Tshirt", "Levis Men Navy Blue Jeans", "Fossil Women Watch"]
    KeywordIndex.build(texts).save(tmp_path / "a")
    KeywordIndex.build(texts).save(tmp_path / "b")
    vocabulary = list(json.loads((tmp_path / "a" / KEYWORD_DIR / "vocab.index.json").read_text()))
    assert vocabulary == [*sorted(t for t in vocabulary if t), ""] and "shoe" in vocabulary
    for name in ("vocab.index.json", "data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy"):
        assert (tmp_path / "a" / KEYWORD_DIR / name).read_bytes() == (tmp_path / "b" / KEYWORD_DIR / name).read_bytes()


# Real names and labels of the catalog (KAGL ground truth): name | masterCategory | articleType | baseColour | usage.
REAL_PRODUCTS = [
    "ADIDAS Women's Who Was That Yellow T-shirt | Apparel | Tshirts | Yellow | Casual",
    "Gini and Jony Boys Polo Black T-Shirt | Apparel | Tshirts | Black | Casual",
    "Ed Hardy Men Eagle Print Blue Tshirts | Apparel | Tshirts | Blue | Casual",
    "Apparel | Tshirts | Grey | Sports",
    "Arrow Sport Men Check Yellow Shirts | Apparel | Shirts | Yellow | Formal",
    "United Colors of Benetton Men Light Blue Shirts | Apparel | Shirts | Blue | Casual",
    "ADIDAS Men's Slide Grey Orange Flip Flop | Footwear | Flip Flops | Grey | Casual",
    "Footwear | Flip Flops | Black | Casual",
    "Vans Men Slip-on Black Casual Shoes | Footwear | Casual Shoes | Black | Casual",
    "Puma Men Faas 300 Blue Sports Shoes | Footwear | Sports Shoes | Blue | Sports",
    "Lee Women V-Neck White Top | Apparel | Tops | White | Casual",
    "Adrika Pink Earrings | Accessories | Earrings | Pink | Casual",
    "Accessories | Earrings | Gold | Ethnic",
    "Lencia Sterling Silver Ring | Accessories | Ring | Silver | Casual",
    "Accessories | Ring | Silver | Casual",
    "Fastrack Unisex Sunglasses | Accessories | Sunglasses | Black | Casual",
    "Wrangler Women Navy Blue Jeggings | Apparel | Jeggings | Navy Blue | Casual",
    "Puma Men Grey Track Pants | Apparel | Track Pants | Grey | Sports",
]


@pytest.fixture(scope="module")
def real_vocabulary() -> KeywordIndex:
    return KeywordIndex.build(REAL_PRODUCTS)


def found(index: KeywordIndex, query: str, k: int = 4) -> list[str]:
    return [REAL_PRODUCTS[row].split(" | ")[-3] for row in index.search(query, k)[1]]


@pytest.mark.parametrize("query", ["t-shirt", "T-Shirts", "t shirt", "tshirt", "tee", "tee shirt", "Tshirts"])
def test_every_way_of_writing_t_shirt_finds_t_shirts_and_no_shirts(real_vocabulary, query):
    assert found(real_vocabulary, query) == ["Tshirts"] * 4


@pytest.mark.parametrize("query", ["flip flops", "flip-flops", "flipflops", "flip flop"])
def test_flip_flops_in_any_form(real_vocabulary, query):
    assert found(real_vocabulary, query, 2) == ["Flip Flops"] * 2


@pytest.mark.parametrize(
    ("query", "label"),
    [
        ("slip-on", "Casual Shoes"),
        ("slip on", "Casual Shoes"),
        ("slipon", "Casual Shoes"),
        ("v-neck", "Tops"),
        ("v neck", "Tops"),
        ("ear rings", "Earrings"),
        ("sun glasses", "Sunglasses"),
        ("trackpants", "Track Pants"),
        ("navyblue", "Navy Blue"),
    ],
)
def test_hyphenated_spaced_and_joined_forms_meet(real_vocabulary, query, label):
    top = REAL_PRODUCTS[real_vocabulary.search(query, 1)[1][0]]
    assert label in top.split(" | "), (query, top)


def test_a_word_that_stems_into_another_is_not_taken_for_a_compound(real_vocabulary):
    assert found(real_vocabulary, "silver ring", 2) == ["Ring", "Ring"]


@pytest.mark.parametrize(
    ("query", "label"),
    [("gray", "Grey"), ("navy", "Navy Blue"), ("jegging", "Jeggings"), ("casual shoe", "Casual Shoes")],
)
def test_a_query_word_naming_a_label_finds_products_carrying_it(real_vocabulary, query, label):
    scores = real_vocabulary.scores(query)
    carrying = [row for row, text in enumerate(REAL_PRODUCTS) if label in text.split(" | ")]
    assert all(scores[row] > 0 for row in carrying), query
    assert set(np.argsort(-scores, kind="stable")[: len(carrying)]) == set(carrying)


def test_a_bundle_built_before_the_analysis_is_queried_as_it_was_built(tmp_path):
    legacy = {"analyzer": None, "token_pattern": r"(?u)\b\w\w+\b"}
    index = KeywordIndex.build(REAL_PRODUCTS, legacy)
    index.save(tmp_path)
    loaded = KeywordIndex.load(tmp_path, {**index.describe(), "analyzer": None})
    np.testing.assert_array_equal(loaded.scores("t-shirt"), index.scores("t-shirt"))
    assert [REAL_PRODUCTS[row].split(" | ")[-3] for row in loaded.search("t-shirt", 2)[1]] == ["Shirts", "Shirts"]


@pytest.mark.parametrize(
    ("text", "only"),
    [("the and of", True), ("for the with", True), ("shirt for the", False), ("👗👠", False), ("!!!", False)],
)
def test_a_text_of_stop_words_only_is_recognised(real_vocabulary, text, only):
    assert real_vocabulary.only_stop_words(text) == only


def test_a_search_of_stop_words_only_says_its_results_are_not_specific(engine):
    for weight in (1.0, 0.5, 0.0):
        response = engine.search_text("the and of", k=5, semantic_weight=weight)
        assert any("only common words" in notice for notice in response.notices)
    assert not any("only common words" in notice for notice in engine.search_text("shirt for men", k=5).notices)


def test_query_tokens_are_what_bm25s_makes_of_the_analysed_text(engine):
    keyword = engine.keyword
    texts = [keyword_text(r) for r in engine.products.frame.to_dict("records")[:60]]
    texts += ["Men's T-shirt, the BEST!", "flipflops for a beach", "3/4 sleeve", "🙂 ünïcode naïve", ""]
    for text in texts:
        assert keyword.query_tokens(text) == keyword.tokenize([keyword.analyse(text)])[0], text
