"""Keyword (BM25) index: built into the bundle, exact-name queries, stemming, exact filters, clear errors."""

import json
from dataclasses import replace

import numpy as np
import pytest

from search.bundle import Bundle, Components, read_manifest
from search.engine import SearchEngine
from search.errors import InvalidQueryError
from search.keyword import KEYWORD_DIR, KeywordIndex, keyword_text


def test_keyword_text_is_name_then_labels_without_missing_ones():
    record = {"productDisplayName": " Nike Men Blue Tshirt ", "gender": "Men", "articleType": "Tshirts", "usage": None}
    assert keyword_text(record) == "Nike Men Blue Tshirt Men Tshirts"


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


def test_filtered_keyword_search_is_exact(engine):
    frame = engine.products.frame
    allowed = ((frame.gender == "Women") & (frame.masterCategory == "Apparel")).to_numpy()
    scores = engine.keyword.scores("blue cotton shirt")
    order = sorted(np.flatnonzero(allowed & (scores > 0)), key=lambda row: (-scores[row], row))
    response = engine.search_keyword("blue cotton shirt", k=8, filters={"gender": "Women", "masterCategory": "Apparel"})
    assert response.ids == [int(frame.id[row]) for row in order[:8]]
    np.testing.assert_allclose([r.score for r in response], scores[order[:8]], rtol=1e-6)


def test_words_nobody_uses_give_an_empty_answer_with_a_notice(engine):
    response = engine.search_keyword("zzzqqq", k=5)
    assert response.results == [] and "No product name or label contains these words" in response.notices[0]
    with pytest.raises(InvalidQueryError, match="Type something to search for"):
        engine.search_keyword("  ")


def test_a_bundle_without_keyword_index_explains_itself(engine):
    bundle = engine.bundle
    manifest = replace(bundle.manifest, components=Components())
    legacy = SearchEngine(Bundle(manifest, bundle.index, bundle.products), engine.encoder)
    assert legacy.search_text("blue shirt", k=3).ids == engine.search_text("blue shirt", k=3).ids
    with pytest.raises(InvalidQueryError, match="has no keyword index"):
        legacy.search_keyword("blue shirt")
    with pytest.raises(InvalidQueryError, match="has no keyword index"):
        legacy.search_text("blue shirt", semantic_weight=0.5)


def test_the_vocabulary_is_stored_in_sorted_order_so_builds_are_reproducible(tmp_path):
    texts = ["Puma Women Red Shoes", "Nike Men Blue Tshirt", "Levis Men Navy Blue Jeans", "Fossil Women Watch"]
    KeywordIndex.build(texts).save(tmp_path / "a")
    KeywordIndex.build(texts).save(tmp_path / "b")
    vocabulary = list(json.loads((tmp_path / "a" / "vocab.index.json").read_text()))
    assert vocabulary == [*sorted(t for t in vocabulary if t), ""] and "shoe" in vocabulary
    for name in ("vocab.index.json", "data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
