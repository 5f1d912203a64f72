"""The named endpoints called as functions: the engine's results as JSON with the product photos as files, uploads
only from Gradio's upload folder, and /embed given exactly one input."""

import numpy as np
import pytest

from search import InvalidImageError, InvalidQueryError
from tests.helpers import assert_same_results
from ui.api import SearchApi


@pytest.fixture
def api(engine, photos) -> SearchApi:
    return SearchApi(engine, photos)


def assert_json_of(payload: dict, expected, engine) -> None:
    assert_same_results(payload, expected, engine, image_path=lambda image: image["path"])


def test_text_search_with_filters_and_weight(api, engine):
    filters = {"gender": ["Men", "Boys"], "masterCategory": "Apparel"}
    payload = api.search_text("red shirt", 6, filters, 0.4)
    assert_json_of(payload, engine.search_text("red shirt", 6, filters, 0.4, collapse_similar=True), engine)
    assert payload["results"]


def test_large_k_is_clamped_with_the_engines_notice(api):
    payload = api.search_text("shirt", k=1000)
    assert len(payload["results"]) == 100 and "reduced to 100" in payload["notices"][0]


def test_image_and_composed_search_read_the_upload(api, engine, upload, photo):
    stored = upload(photo)
    assert_json_of(api.search_image(stored, k=5), engine.search_image(photo, k=5, collapse_similar=True), engine)
    expected = engine.search_composed(photo, "same but in red", 0.3, 7, {"season": "Summer"}, collapse_similar=True)
    assert_json_of(api.search_composed(stored, "same but in red", 0.3, 7, {"season": "Summer"}), expected, engine)


def test_composed_search_takes_the_texts_semantic_weight(api, engine, upload, photo):
    stored = upload(photo)
    ranked = []
    for weight in (0.0, 1.0):
        expected = engine.search_composed(photo, "red shirt", 0.2, 6, None, weight, collapse_similar=True)
        payload = api.search_composed(stored, "red shirt", 0.2, 6, semantic_weight=weight)
        assert_json_of(payload, expected, engine)
        ranked.append([result["id"] for result in payload["results"]])
    assert ranked[0] != ranked[1], "the weight changes the ranking"


def test_the_api_folds_similar_results_by_default_as_the_page_does(api, engine):
    counts = engine.catalog_labels(["productDisplayName"])["productDisplayName"].value_counts()
    name = next(name for name, count in counts.items() if name and count > 1)
    folded = api.search_text(name, 20, None, 0.0)
    assert [r["name"] for r in folded["results"]].count(name) == 1
    every = api.search_text(name, 20, None, 0.0, collapse_similar=False)
    assert [r["name"] for r in every["results"]].count(name) == counts[name]
    assert all(r["similar"] == [] for r in every["results"])


@pytest.mark.parametrize("call", ["search_image", "search_composed", "embed"])
def test_server_paths_are_refused_by_every_image_endpoint(api, photo, call):
    image = {"path": str(photo), "meta": {}}
    arguments = {"search_image": (image,), "search_composed": (image, "in red"), "embed": (None, image)}[call]
    with pytest.raises(InvalidImageError, match="must be uploaded as files"):
        getattr(api, call)(*arguments)


def test_more_like_this_and_search_by_embedding(api, engine):
    product_id = int(engine.products.ids[42])
    assert_json_of(
        api.more_like_this(product_id, k=4), engine.more_like_this(product_id, k=4, collapse_similar=True), engine
    )
    vector, _ = engine.embed_text("black leather boots")
    payload = api.search_embedding([float(v) for v in vector], 5, {"usage": "Casual"})
    assert_json_of(payload, engine.search_vector(vector, 5, {"usage": "Casual"}, collapse_similar=True), engine)


def test_embed_a_text_or_an_image(api, engine, upload, photo):
    text = api.embed(text="black leather boots")
    np.testing.assert_allclose(text["embedding"], engine.embed_text("black leather boots")[0], atol=1e-6)
    assert (text["dim"], text["model"], text["input"]) == (engine.index.dim, engine.model_id, "text")
    assert text["notices"] == []
    image = api.embed(image=upload(photo))
    np.testing.assert_allclose(image["embedding"], engine.embed_image(photo), atol=1e-6)
    assert image["input"] == "image"


@pytest.mark.parametrize("text", [None, "", "   "])
def test_embed_refuses_neither(api, text):
    with pytest.raises(InvalidQueryError, match="Give either a text or an image"):
        api.embed(text=text)


def test_embed_refuses_both(api, upload, photo):
    with pytest.raises(InvalidQueryError, match="not both"):
        api.embed(text="boots", image=upload(photo))


def test_filter_choices_are_the_catalogs(api, engine):
    assert api.filter_choices() == engine.filter_choices()


# --- queries in other languages ---------------------------------------------------------------------------------


@pytest.fixture
def multilingual_api(multilingual_engine, photos) -> SearchApi:
    return SearchApi(multilingual_engine, photos)


def test_responses_say_the_language_and_the_text_searched(api, upload, photo):
    payload = api.search_text("red shirt for men", 5)
    assert payload["language"] is None, "no language step: nothing detected"
    assert (payload["searched_text"], payload["translated"]) == ("red shirt for men", False)
    image = api.search_image(upload(photo), k=3)
    assert (image["language"], image["searched_text"], image["translated"]) == (None, None, False)


def test_a_foreign_text_is_searched_translated_or_as_typed(multilingual_api, multilingual_engine):
    payload = multilingual_api.search_text("áo sơ mi nam màu đỏ", 6, None, 0.5)
    expected = multilingual_engine.search_text("áo sơ mi nam màu đỏ", 6, None, 0.5, collapse_similar=True)
    assert_json_of(payload, expected, multilingual_engine)
    assert payload["translated"] and payload["searched_text"] == expected.query_text.searched
    assert payload["language"]["code"] == "vi" and payload["language"]["name"] == "Vietnamese"
    assert 0.5 <= payload["language"]["confidence"] <= 1.0
    as_typed = multilingual_api.search_text("áo sơ mi nam màu đỏ", 6, None, 0.5, translate=False)
    assert_json_of(
        as_typed,
        multilingual_engine.search_text("áo sơ mi nam màu đỏ", 6, None, 0.5, translate=False, collapse_similar=True),
        multilingual_engine,
    )
    assert (as_typed["translated"], as_typed["searched_text"]) == (False, "áo sơ mi nam màu đỏ")
    assert as_typed["language"]["code"] == "vi"
    english = multilingual_api.search_text("red shirt for men", 3)
    assert english["language"]["code"] == "en" and not english["translated"]


def test_a_foreign_photo_plus_text_is_translated(multilingual_api, multilingual_engine, upload, photo):
    stored = upload(photo)
    payload = multilingual_api.search_composed(stored, "robe d'été rouge", 0.3, 7)
    expected = multilingual_engine.search_composed(photo, "robe d'été rouge", 0.3, 7, collapse_similar=True)
    assert_json_of(payload, expected, multilingual_engine)
    assert payload["translated"] and payload["language"]["code"] == "fr"
    as_typed = multilingual_api.search_composed(stored, "robe d'été rouge", 0.3, 7, None, translate=False)
    assert (as_typed["translated"], as_typed["searched_text"]) == (False, "robe d'été rouge")


@pytest.mark.parametrize("flag", ["no", 0, None])
def test_translate_must_be_true_or_false(multilingual_api, flag):
    with pytest.raises(InvalidQueryError, match="translate must be true or false"):
        multilingual_api.search_text("robe rouge", 5, None, 1.0, translate=flag)


def test_text_search_is_corrected_unless_told_not_to(api, engine):
    payload = api.search_text("levis jeens", 5)
    assert payload["correction"] == {"typed": "levis jeens", "searched": "levis jeans", "changes": [["jeens", "jeans"]]}
    assert payload["recognised"][0] == {"field": "brand", "value": "Levis", "words": "levis"}
    assert payload["match_count"] > 0 and payload["results"][0]["matched"] and "brand" in payload["facets"]
    assert_json_of(payload, engine.search_text("levis jeens", 5, collapse_similar=True), engine)
    as_typed = api.search_text("levis jeens", 5, correct=False)
    assert as_typed["correction"] is None and as_typed["match_count"] == 0
    assert_json_of(as_typed, engine.search_text("levis jeens", 5, correct=False, collapse_similar=True), engine)


def test_composed_search_is_corrected_unless_told_not_to(api, engine, upload, photo):
    stored = upload(photo)
    payload = api.search_composed(stored, "in rde", 0.5, 4)
    assert payload["correction"]["changes"] == [["rde", "red"]]
    assert_json_of(payload, engine.search_composed(photo, "in rde", 0.5, 4, collapse_similar=True), engine)
    assert api.search_composed(stored, "in rde", 0.5, 4, correct=False)["correction"] is None
