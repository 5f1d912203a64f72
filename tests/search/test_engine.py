"""The engine facade: text, image, composed, more-like-this and vector search, filters and validation."""

import dataclasses
import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import index_build
import search.engine as engine_module
from search import NAME_COLUMN, Correction, QueryLanguage, QueryText, SearchEngine
from search.bundle import Bundle
from search.errors import InvalidImageError, InvalidQueryError
from search.fixtures.synthetic import generate_rows
from search.language import LanguageDetector
from search.query import MAX_K
from search.ranking.duplicates import DEFAULT_THRESHOLD
from search.ranking.hybrid import DEFAULT_SEMANTIC_WEIGHT
from search.understanding.reader import KEYWORDS_LEAD, MEANING_LEADS
from search.zero_shot import MIN_MARGIN
from tests.helpers import build_args, write_catalog


def brute_force_ids(engine, vector, k, allowed=None):
    vectors = engine.index.vectors(np.arange(len(engine.index)))
    scores = vectors @ vector
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)
    order = np.argsort(-scores, kind="stable")[:k]
    return [int(engine.products.ids[row]) for row in order if np.isfinite(scores[row])]


def same_ranking(a, b) -> None:
    assert a.ids == b.ids
    np.testing.assert_allclose([r.score for r in a], [r.score for r in b], atol=1e-5)


def test_text_search_returns_typed_results_best_first(engine):
    response = engine.search_text("red shirt for men", k=7, semantic_weight=1.0)
    assert len(response) == 7 and response.elapsed_ms > 0
    scores = [r.score for r in response]
    assert scores == sorted(scores, reverse=True)
    first = response.results[0]
    assert first.metadata["id"] == first.product_id and first.name == first.metadata["productDisplayName"]
    vector, _ = engine.embed_text("red shirt for men")
    assert set(response.ids) == set(brute_force_ids(engine, vector, 7))


def test_filtered_search_is_exact_and_full(engine):
    filters = {"gender": "Men", "articleType": ["Tshirts", "Shirts"]}
    frame = engine.products.frame
    allowed = ((frame.gender == "Men") & frame.articleType.isin(["Tshirts", "Shirts"])).to_numpy()
    k = 5
    assert allowed.sum() > k
    response = engine.search_text("blue", k=k, filters=filters, semantic_weight=1.0)
    assert len(response) == k
    assert all(r.metadata["gender"] == "Men" and r.metadata["articleType"] in {"Tshirts", "Shirts"} for r in response)
    vector, _ = engine.embed_text("blue")
    assert response.ids == brute_force_ids(engine, vector, k, allowed)


def test_filter_returning_fewer_than_k_returns_all_matches(engine):
    frame = engine.products.frame
    colour = frame.baseColour.value_counts().index[-1]
    gender = frame[frame.baseColour == colour].gender.iloc[0]
    matches = int(((frame.baseColour == colour) & (frame.gender == gender)).sum())
    response = engine.search_text("shirt", k=100, filters={"baseColour": colour, "gender": gender})
    assert len(response) == matches


def test_year_filter_and_no_match_notice(engine):
    response = engine.search_text("shirt", k=5, filters={"year": 2012})
    assert response.results and all(r.metadata["year"] == 2012 for r in response)
    empty = engine.search_text("shirt", k=5, filters={"articleType": "Boots", "masterCategory": "Apparel"})
    assert empty.results == () and "No product matches these filters" in empty.notices[0]


def test_unknown_filter_values_and_fields_are_explained(engine):
    with pytest.raises(InvalidQueryError, match="No product has baseColour 'Purpel'. Known values: Beige"):
        engine.search_text("shirt", filters={"baseColour": "Purpel"})
    with pytest.raises(InvalidQueryError, match="Unknown filter field\\(s\\) 'colour'"):
        engine.search_text("shirt", filters={"colour": "Red"})


def test_image_search_finds_the_product_itself(engine):
    product_id = int(engine.products.ids[17])
    response = engine.search_image(engine.product_image(product_id), k=5)
    assert math.isclose(response.results[0].score, 1.0, abs_tol=1e-4)
    assert product_id in response.ids[:5]


def test_composed_endpoints_equal_pure_searches(engine):
    image = engine.product_image(int(engine.products.ids[3]))
    same_ranking(engine.search_composed(image, "in red", 1.0, k=10), engine.search_image(image, k=10))
    same_ranking(engine.search_composed(image, "in red", 0.0, k=10), engine.search_text("in red", k=10))
    dense = {"k": 10, "semantic_weight": 1.0}
    same_ranking(engine.search_composed(image, "in red", 0.0, **dense), engine.search_text("in red", **dense))


def test_composed_vector_is_the_normalised_weighted_sum(engine):
    image = engine.product_image(int(engine.products.ids[3]))
    image_vector = engine.embed_image(image)
    text_vector, _ = engine.embed_text("same but in red")
    mixed = 0.3 * image_vector + 0.7 * text_vector
    expected = engine.search_vector(mixed, k=10)
    same_ranking(engine.search_composed(image, "same but in red", 0.3, k=10, semantic_weight=1.0), expected)


def test_composed_with_empty_text_uses_the_image_and_says_so(engine):
    image = engine.product_image(int(engine.products.ids[3]))
    response = engine.search_composed(image, "   ", 0.4, k=5)
    assert response.ids == engine.search_image(image, k=5).ids
    assert "used the image alone" in response.notices[0]


def test_more_like_this_uses_the_stored_vector_and_excludes_the_product(engine):
    product_id = int(engine.products.ids[42])
    response = engine.more_like_this(product_id, k=8, filters={"gender": engine.product(product_id)["gender"]})
    assert product_id not in response.ids and len(response) == 8
    stored = engine.index.vectors(np.array([42]))[0]
    expected = engine.search_vector(stored, k=9, filters={"gender": engine.product(product_id)["gender"]})
    assert response.ids == [i for i in expected.ids if i != product_id][:8]


def test_more_like_this_unknown_product(engine):
    with pytest.raises(InvalidQueryError, match="No product with id 999"):
        engine.more_like_this(999)


@pytest.mark.parametrize(
    ("k", "message"),
    [
        (0, "at least 1"),
        (-3, "at least 1"),
        (2.5, "whole number"),
        ("many", "whole number"),
        (float("nan"), "whole number"),
    ],
)
def test_bad_k_is_refused(engine, k, message):
    with pytest.raises(InvalidQueryError, match=message):
        engine.search_text("shirt", k=k)


def test_huge_k_is_clamped_with_a_notice(engine):
    response = engine.search_text("shirt", k=10**9)
    assert len(response) == MAX_K and "reduced to 100" in response.notices[0]


@pytest.mark.parametrize("weight", [-0.1, 1.5, float("nan"), "heavy", None])
def test_bad_weights_are_refused(engine, weight):
    image = engine.product_image(int(engine.products.ids[0]))
    with pytest.raises(InvalidQueryError, match="image_weight must be"):
        engine.search_composed(image, "red", weight)


@pytest.mark.parametrize("text", ["", "   \n\t ", "\x00\x01\x02"])
def test_empty_text_asks_for_input(engine, text):
    with pytest.raises(InvalidQueryError, match="Type something to search for"):
        engine.search_text(text)


@pytest.mark.parametrize("text", ["áo sơ mi đỏ cho nam", "👗👠 red dress", "赤いシャツ", "red\u0000 shirt\u200b"])
def test_non_latin_emoji_and_control_characters_work(engine, text):
    response = engine.search_text(text, k=3)
    assert len(response) == 3


def test_very_long_text_is_truncated_with_a_notice(engine):
    response = engine.search_text("red shirt " * 1000, k=3)
    assert len(response) == 3
    assert any("first 2,000 were used" in n for n in response.notices)
    assert any("the model reads at most 77" in n for n in response.notices)


def test_text_embeddings_are_cached(engine):
    first, _ = engine.embed_text("navy blue jeans")
    second, _ = engine.embed_text("  navy   blue jeans ")
    assert first is second and not first.flags.writeable


def test_search_vector_validates_its_input(engine):
    with pytest.raises(InvalidQueryError, match="has 3 values; this index needs 32"):
        engine.search_vector([0.1, 0.2, 0.3])
    with pytest.raises(InvalidQueryError, match="NaN or infinite"):
        engine.search_vector([float("nan")] * 32)
    with pytest.raises(InvalidQueryError, match="all zeros"):
        engine.search_vector([0.0] * 32)


def test_missing_image_is_explained(engine):
    with pytest.raises(InvalidImageError, match="No image was given"):
        engine.search_image(None)


def test_filter_choices_come_from_the_catalog(engine):
    choices = engine.filter_choices()
    assert choices["gender"] == sorted(set(engine.products.frame.gender) - {""})
    assert "" not in choices["usage"] and choices["year"][0] == "2010"


def test_catalog_labels_are_a_copy_of_the_products_labels_in_catalog_order(engine):
    labels = engine.catalog_labels(["masterCategory", "baseColour"])
    assert list(labels.columns) == ["id", "masterCategory", "baseColour"]
    assert labels["id"].tolist() == engine.products.ids.tolist()
    first = engine.product(int(labels["id"].iloc[0]))
    assert labels.iloc[0]["masterCategory"] == first["masterCategory"]
    labels.loc[labels.index[0], "masterCategory"] = "changed"
    assert engine.product(int(labels["id"].iloc[0]))["masterCategory"] == first["masterCategory"]


def test_repeated_text_searches_come_from_the_result_cache(engine):
    engine.clear_caches()
    first = engine.search_text("grey cotton tshirt", k=6, filters={"gender": ["Men", "Boys"], "usage": "Casual"})
    again = engine.search_text("grey cotton tshirt", k=6, filters={"usage": ["Casual"], "gender": ["Boys", "Men"]})
    assert engine.cache_info()["text_searches"]["hits"] == 1
    assert again.ids == first.ids and again.notices == first.notices and again.results is first.results
    other_k = engine.search_text("grey cotton tshirt", k=3, filters={"gender": ["Men", "Boys"], "usage": "Casual"})
    assert other_k.ids == first.ids[:3]


def test_the_result_cache_is_keyed_by_the_cleaned_text(engine):
    engine.clear_caches()
    first = engine.search_text("navy  blue\tjeans", k=5)
    again = engine.search_text(" navy blue jeans\u200b", k=5)
    info = engine.cache_info()["text_searches"]
    assert (info["hits"], info["misses"], info["currsize"]) == (1, 1, 1)
    assert again.ids == first.ids


def test_the_result_cache_is_bounded_by_bytes(engine, monkeypatch):
    monkeypatch.setattr(engine_module, "RESULT_CACHE_BYTES", 200_000)
    bounded = SearchEngine(engine.bundle, engine.encoder)
    words = ["red", "blue", "shirt", "jeans", "watch", "boots", "summer", "casual"]
    for first in words:
        for second in words:
            bounded.search_text(f"{first} {second}", k=24)  # ~23 KB each
    info = bounded.cache_info()["text_searches"]
    assert 0 < info["bytes"] <= info["max_bytes"] == 200_000
    assert 1 < info["currsize"] < len(words) ** 2


def test_unhashable_text_is_explained(engine):
    with pytest.raises(InvalidQueryError, match="must be a string"):
        engine.search_text(["red", "shirt"])


# --- the query-language step (search.language) ---------------------------------------------------------------

VIETNAMESE = "áo sơ mi nam màu đỏ"


@pytest.fixture(scope="module")
def multilingual(multilingual_engine, tiny_marian):
    assert multilingual_engine.language.model_id == str(tiny_marian)
    return multilingual_engine


@pytest.mark.parametrize("semantic_weight", [1.0, 0.5, 0.0])
def test_non_english_text_is_searched_by_its_translation_on_both_sides(engine, multilingual, semantic_weight):
    response = multilingual.search_text(VIETNAMESE, k=8, semantic_weight=semantic_weight)
    text = response.query_text
    assert text.translated and text.original == VIETNAMESE
    assert text.language.code == "vi"
    assert text.searched == multilingual.language.translator.translate([VIETNAMESE])[0].text != VIETNAMESE
    expected = engine.search_text(text.searched, k=8, semantic_weight=semantic_weight)
    same_ranking(response, expected)
    assert response.notices == expected.notices


def test_english_text_is_searched_as_typed(engine, multilingual):
    response = multilingual.search_text("red shirt for men", k=8, semantic_weight=0.5)
    assert not response.query_text.translated
    assert response.query_text.searched == "red shirt for men"
    assert response.query_text.language.is_english
    same_ranking(response, engine.search_text("red shirt for men", k=8, semantic_weight=0.5))


def test_the_original_text_can_be_searched_instead(engine, multilingual):
    response = multilingual.search_text(VIETNAMESE, k=8, translate=False)
    assert (response.query_text.searched, response.query_text.translated) == (VIETNAMESE, False)
    assert response.query_text.language.code == "vi"
    same_ranking(response, engine.search_text(VIETNAMESE, k=8))


def test_composed_text_is_translated_and_a_photo_alone_needs_no_text(engine, multilingual):
    image = engine.product_image(int(engine.products.ids[3]))
    response = multilingual.search_composed(image, VIETNAMESE, 0.4, k=8)
    assert response.query_text.translated
    same_ranking(response, engine.search_composed(image, response.query_text.searched, 0.4, k=8))
    photo_only = multilingual.search_composed(image, VIETNAMESE, 1.0, k=8)
    assert photo_only.query_text is None
    same_ranking(photo_only, engine.search_image(image, k=8))


def test_translations_are_cached(multilingual):
    multilingual.search_text("robe d'été rouge", k=3)
    before = multilingual.cache_info()["query_languages"]["hits"]
    multilingual.search_text("robe d'été rouge", k=5, semantic_weight=0.3)
    assert multilingual.cache_info()["query_languages"]["hits"] == before + 1


def test_without_the_step_texts_are_reported_as_typed(engine):
    response = engine.search_text(VIETNAMESE, k=3)
    assert response.query_text == QueryText(VIETNAMESE, VIETNAMESE, None)
    assert engine.search_image(engine.product_image(int(engine.products.ids[3])), k=3).query_text is None
    assert engine.more_like_this(int(engine.products.ids[3]), k=3).query_text is None


def test_without_a_translation_model_foreign_text_runs_with_a_notice(engine):
    untranslated = SearchEngine(engine.bundle, engine.encoder, language=QueryLanguage(LanguageDetector(), None, "x"))
    response = untranslated.search_text(VIETNAMESE, k=5)
    same_ranking(response, engine.search_text(VIETNAMESE, k=5))
    assert not response.query_text.translated
    assert "Vietnamese" in response.notices[0] and "translation is unavailable (x)" in response.notices[0]


@pytest.mark.parametrize("flag", ["yes", 1, None])
def test_translate_must_be_a_boolean(multilingual, flag):
    with pytest.raises(InvalidQueryError, match="translate must be true or false"):
        multilingual.search_text(VIETNAMESE, translate=flag)


def twin_photos(engine) -> tuple[int, int]:
    """Two products of the generated catalog with byte-identical photos (like 243 of the 9,583 real ones)."""
    seen: dict[bytes, int] = {}
    for product_id in engine.products.ids:
        photo = engine.product_photo_bytes(int(product_id))
        if photo in seen:
            return seen[photo], int(product_id)
        seen[photo] = int(product_id)
    raise AssertionError("the generated catalog has no identical photos")


def test_collapse_similar_folds_identical_photos_into_the_best_one(engine):
    first, twin = twin_photos(engine)
    photo = engine.product_image(first)
    plain = engine.search_image(photo, k=8)
    assert {first, twin} <= set(plain.ids) and all(r.similar == () for r in plain)
    collapsed = engine.search_image(photo, k=8, collapse_similar=True)
    assert len(collapsed) == 8
    leader = next(r for r in collapsed if first in (r.product_id, *r.similar))
    assert twin in (leader.product_id, *leader.similar) and len({leader.product_id, *leader.similar}) > 1
    vectors = {r.product_id: engine.index.vectors(np.array([r.row]))[0] for r in plain}
    names = {r.product_id: r.name for r in plain}
    leaders = [engine.index.vectors(np.array([r.row]))[0] for r in collapsed]
    similarity = np.stack(leaders) @ np.stack(leaders).T
    assert (similarity[np.triu_indices(len(leaders), 1)] < DEFAULT_THRESHOLD).all()
    for result, vector in zip(collapsed, leaders, strict=True):
        assert all(
            vectors[m] @ vector >= DEFAULT_THRESHOLD or names[m] == result.name for m in result.similar if m in vectors
        )


def test_collapse_similar_folds_a_run_of_products_with_one_name(engine):
    counts = engine.catalog_labels([NAME_COLUMN])[NAME_COLUMN].value_counts()
    name = next(name for name, count in counts.items() if name and count > 1)
    plain = engine.search_keyword(name, k=20)
    run = [r.product_id for r in plain if r.name == name]
    assert len(run) > 1
    collapsed = engine.search_keyword(name, k=20, collapse_similar=True)
    folded = [r for r in collapsed if r.name == name]
    assert len(folded) == 1 and set(run) <= {folded[0].product_id, *folded[0].similar}


def test_collapse_similar_must_be_a_boolean(engine):
    with pytest.raises(InvalidQueryError, match="collapse_similar must be true or false"):
        engine.search_text("shirt", collapse_similar="yes")


def test_a_photo_search_guesses_its_article_type_and_colour(engine):
    response = engine.search_image(engine.product_image(int(engine.products.ids[0])), k=3)
    choices = engine.filter_choices()
    assert [guess.field for guess in response.labels] == ["articleType", "baseColour"]
    for guess in response.labels:
        assert guess.label in choices[guess.field] and 0 < guess.score <= 1 and 0 <= guess.margin <= guess.score
        assert guess.confident == (guess.margin >= MIN_MARGIN)
    assert engine.search_text("shirt", k=3).labels == ()


def run_together(calls):
    """Run the calls from as many threads, released at once; each call's result or exception."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        try:
            return call()
        except Exception as error:  # the test inspects each request's own error
            return error

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_concurrent_text_searches_get_their_own_results_and_notices(engine):
    texts = [f"{colour} {item}" for colour in ("red", "blue", "black", "white") for item in ("shirt", "boots", "bag")]
    texts.append("red shirt " * 60)  # over the model's 77 tokens: only this request is told so
    engine.clear_caches()
    encoded_before = sum(size * count for sizes in engine.batch_sizes().values() for size, count in sizes.items())
    together = run_together([lambda text=text: engine.search_text(text, k=5) for text in texts])
    encoded = sum(size * count for sizes in engine.batch_sizes().values() for size, count in sizes.items())
    assert encoded - encoded_before == len(texts)
    engine.clear_caches()
    for text, response in zip(texts, together, strict=True):
        alone = engine.search_text(text, k=5)
        same_ranking(response, alone)
        assert response.notices == alone.notices
        assert any("reads at most 77" in notice for notice in response.notices) == (text == texts[-1])


def test_a_bad_image_fails_alone_among_concurrent_image_searches(engine):
    photos = [engine.product_photo_bytes(int(product_id)) for product_id in engine.products.ids[:12]]
    uploads = [*photos[:6], b"\xff\xd8\xff\xe0 not really a jpeg", *photos[6:]]
    together = run_together([lambda data=data: engine.search_image(data, k=5) for data in uploads])
    bad = together.pop(6)
    assert isinstance(bad, InvalidImageError)
    for data, response in zip(photos, together, strict=True):
        same_ranking(response, engine.search_image(data, k=5))


def test_the_same_photo_is_encoded_once(engine):
    photo = engine.product_photo_bytes(int(engine.products.ids[5]))
    engine.clear_caches()
    first = engine.search_image(photo, k=5)
    again = engine.search_composed(photo, "", k=5)  # the same upload, another search
    info = engine.cache_info()["image_vectors"]
    assert (info["hits"], info["misses"]) == (1, 1)
    assert again.ids == first.ids
    engine.search_image(engine.product_photo_bytes(int(engine.products.ids[6])), k=5)
    assert engine.cache_info()["image_vectors"]["misses"] == 2


@pytest.fixture(scope="module")
def shared_photo_engine(tiny_model, tmp_path_factory) -> SearchEngine:
    """400 products of which the first 200 (all of them "Boys") share one photo."""
    folder = tmp_path_factory.mktemp("shared-photo")
    rows = generate_rows(400, seed=3)
    shared = rows[0]["image"]
    for row in rows[:200]:
        row["image"], row["gender"] = dict(shared), "Boys"
    for row in rows[200:]:
        row["gender"] = "Men" if row["gender"] == "Boys" else row["gender"]
    catalog = write_catalog(rows, folder / "catalog")
    assert index_build.main(build_args(catalog, tiny_model, folder / "out")) == 0
    return SearchEngine.load(folder / "out")


def test_collapse_similar_reads_deeper_until_it_has_k_groups(shared_photo_engine):
    engine = shared_photo_engine
    shared, other = int(engine.products.ids[0]), int(engine.products.ids[300])
    for response in (
        engine.search_image(engine.product_photo_bytes(shared), k=24, collapse_similar=True),
        engine.more_like_this(shared, k=24, collapse_similar=True),
        engine.more_like_this(other, k=24, collapse_similar=True),
        engine.search_text("shirt", k=24, semantic_weight=1.0, collapse_similar=True),
    ):
        assert len(response) == 24 and not any("Only" in notice for notice in response.notices)
        assert len(set(response.ids)) == 24
    folded = engine.search_image(engine.product_photo_bytes(shared), k=24, collapse_similar=True).results[0]
    assert len(folded.similar) == 199


def test_fewer_groups_than_k_are_explained(shared_photo_engine, monkeypatch):
    engine = shared_photo_engine
    photo = engine.product_photo_bytes(int(engine.products.ids[0]))
    boys = engine.search_image(photo, k=24, filters={"gender": "Boys"}, collapse_similar=True)
    assert len(boys) == 1 and len(boys.results[0].similar) == 199
    assert "Only 1 distinct product among the 200 matching products: the other 199" in boys.notices[-1]
    monkeypatch.setattr(engine_module, "COLLAPSE_MAX_DEPTH", 96)
    capped = engine.more_like_this(int(engine.products.ids[1]), k=24, collapse_similar=True)
    assert len(capped) < 24 and "among the best 96 results" in capped.notices[-1]


def test_every_matching_product_is_a_result_or_folded_into_one(shared_photo_engine):
    engine = shared_photo_engine
    filters = {"gender": "Girls"}
    plain = engine.search_text("shirt", k=100, filters=filters, semantic_weight=1.0)
    collapsed = engine.search_text("shirt", k=100, filters=filters, semantic_weight=1.0, collapse_similar=True)
    assert len(plain) < 100
    assert sorted(collapsed.ids + [i for r in collapsed for i in r.similar]) == sorted(plain.ids)
    folded = len(plain) - len(collapsed)
    assert (folded > 0) == any(f"among the {len(plain)} matching products" in n for n in collapsed.notices)


def test_a_text_response_says_what_was_searched_recognised_and_counted(engine):
    response = engine.search_text("levis jeens for women", k=5)
    assert response.correction == Correction("levis jeens for women", "levis jeans for women", (("jeens", "jeans"),))
    assert [(r.field, r.value) for r in response.recognised] == [
        ("brand", "Levis"),
        ("articleType", "Jeans"),
        ("gender", "Women"),
    ]
    assert response.semantic_weight == KEYWORDS_LEAD and response.match_count > 0
    assert all(r.matched for r in response.results[: response.match_count])
    assert all(r.name.startswith("Levis Women") and r.name.endswith("Jeans") for r in response if r.matched)
    as_typed = engine.search_text("levis jeens for women", k=5, correct=False)
    assert as_typed.correction is None and as_typed.match_count == 0
    assert engine.search_text("levis jeens", k=5, semantic_weight=0.6).semantic_weight == 0.6
    with pytest.raises(dataclasses.FrozenInstanceError):
        response.notices = ()


def test_a_query_nothing_matches_says_so(engine):
    response = engine.search_text("leather zzqx", k=6)
    assert response.match_count == 0 and len(response) == 6 and not any(r.matched for r in response)
    assert response.semantic_weight == MEANING_LEADS
    assert response.notices == ("Nothing matches 'leather zzqx'; showing the closest by meaning.",)
    partial = engine.search_text("leather zzqx", k=6, semantic_weight=0.2)
    assert partial.notices == ("Nothing matches 'leather zzqx' in full; showing the products that match part of it.",)
    named = engine.search_text("blue jeans zzqx", k=6)
    assert named.notices == (
        "Nothing matches 'blue jeans zzqx' in full; showing first the products that are Blue · Jeans.",
    )
    frame = engine.products.frame
    carrying = int(((frame.baseColour == "Blue") & (frame.articleType == "Jeans")).sum())
    first = [r.metadata["baseColour"] == "Blue" and r.metadata["articleType"] == "Jeans" for r in named]
    assert carrying > 0 and first == [True] * min(carrying, 6) + [False] * (6 - min(carrying, 6))


def test_photo_searches_have_no_balance_or_count_but_facets_of_their_results(engine, photo):
    for response in (engine.search_image(photo, k=8), engine.more_like_this(int(engine.products.ids[3]), k=8)):
        assert response.semantic_weight is None and response.match_count is None and response.correction is None
        assert sum(count for _, count in response.facets["masterCategory"]) == len(response) == 8


def test_composed_search_reads_its_text(engine, photo):
    response = engine.search_composed(photo, "in rde", 0.5, k=5)
    assert response.correction.changes == (("rde", "red"),) and response.recognised[0].value == "Red"
    assert response.semantic_weight == KEYWORDS_LEAD and response.match_count is not None
    assert engine.search_composed(photo, "in rde", 0.5, k=5, correct=False).correction is None
    assert engine.search_composed(photo, "in red", 1.0, k=5).match_count is None


def test_brand_is_a_filter_when_the_bundle_knows_brands(engine):
    choices = engine.filter_choices()
    assert choices["brand"] == sorted(set(engine.bundle.vocabulary.brands))
    response = engine.search_text("shirt", k=10, filters={"brand": "Puma"})
    assert response.results and all(r.name.startswith("Puma ") for r in response)
    with pytest.raises(InvalidQueryError, match="No product has brand 'Gucci'"):
        engine.search_text("shirt", filters={"brand": "Gucci"})


def test_a_bundle_without_a_vocabulary_searches_as_before(engine):
    bundle = engine.bundle
    components = dataclasses.replace(bundle.manifest.components, vocabulary=None)
    manifest = dataclasses.replace(bundle.manifest, components=components)
    legacy = SearchEngine(
        Bundle(manifest, bundle.index, bundle.products, bundle.keyword, content=bundle.content), engine.encoder
    )
    response = legacy.search_text("levis jeens", k=5)
    assert response.correction is None and response.recognised == () and response.match_count is None
    assert response.semantic_weight == DEFAULT_SEMANTIC_WEIGHT and "brand" not in legacy.filter_choices()
    with pytest.raises(InvalidQueryError, match="knows no brands"):
        legacy.search_text("shirt", filters={"brand": "Puma"})


# --- ranking quality, judged with the demo: real products and the small CLIP trained on real photos --------------
# (the generated catalog and random weights above test the mechanics; only a trained model can be judged on what it
# finds). Chance here is the share of the catalog a label covers: 0.04 on average over these article types.


def article_types_with(engine: SearchEngine, at_least: int) -> list[str]:
    counts = engine.catalog_labels(["articleType"])["articleType"].value_counts()
    return [label for label, count in counts.items() if count >= at_least]


def test_the_trained_model_alone_finds_the_article_type_a_text_names(demo_engine):
    precision = [
        np.mean([r.metadata["articleType"] == label for r in demo_engine.search_text(label, k=10, semantic_weight=1)])
        for label in article_types_with(demo_engine, 6)
    ]
    assert np.mean(precision) >= 0.5, "meaning alone (no keywords) puts the named type in most of the top 10"


def test_the_trained_model_finds_more_of_the_same_article_type_like_a_product(demo_engine):
    labels = demo_engine.catalog_labels(["articleType"])
    same = [
        np.mean([r.metadata["articleType"] == label for r in demo_engine.more_like_this(product, k=10)])
        for product, label in zip(labels["id"], labels["articleType"], strict=True)
    ]
    chance = (labels["articleType"].value_counts(normalize=True) ** 2).sum()
    assert np.mean(same) >= max(0.35, 4 * chance), "a product's nearest photos are mostly of its own type"
