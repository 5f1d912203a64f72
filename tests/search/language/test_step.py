"""The language step: English as typed, other languages by their translation, cached, and never blocking search."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from search.language import (
    MAX_SOURCE_TOKENS,
    LanguageDetector,
    QueryLanguage,
    QueryText,
    Translator,
    load_query_language,
)
from search.language.lane import TranslationLane


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


@pytest.fixture
def step(detector, translator) -> QueryLanguage:
    return QueryLanguage(detector, translator)


@pytest.mark.parametrize("text", ["red shirt for men", "black leather boots for men", "navy blue polo"])
def test_english_is_searched_as_typed(step, text):
    read = step.read(text)
    assert (read.original, read.searched, read.translated, read.notices) == (text, text, False, ())
    assert read.language.is_english


@pytest.mark.parametrize(
    ("text", "name"),
    [("áo sơ mi nam màu đỏ", "Vietnamese"), ("robe d'été rouge", "French"), ("पुरुषों के लिए लाल शर्ट", "Hindi")],
)
def test_other_languages_are_searched_by_their_translation(step, translator, text, name):
    read = step.read(text)
    assert read.translated
    assert read.original == text
    assert read.searched == translator.translate([text])[0].text
    assert read.searched != text
    assert read.language.name == name
    assert read.notices == ()


def test_the_original_can_be_searched_instead(step):
    read = step.read("áo sơ mi nam màu đỏ", translate=False)
    assert (read.searched, read.translated, read.notices) == ("áo sơ mi nam màu đỏ", False, ())
    assert read.language.code == "vi"  # still named, so a page can offer the translation back


def test_translations_are_cached(step):
    first = step.read("vestido rojo de verano")
    assert step.read("vestido rojo de verano") is first
    assert step.read("vestido rojo de verano", translate=False) is not first


@pytest.mark.parametrize("text", ["", "👗👠👜", "123"])
def test_text_without_letters_is_searched_as_typed_without_a_language(step, text):
    read = step.read(text)
    assert (read.searched, read.language, read.translated, read.notices) == (text, None, False, ())


def test_mixed_text_is_translated_when_mostly_foreign(step):
    read = step.read("áo sơ mi nam màu đỏ size XL")
    assert read.translated
    assert read.language.code == "vi"


def test_a_long_text_says_how_much_was_translated(step, translator):
    text = "Je cherche une robe rouge pour l'été, avec des manches courtes. " * 20
    read = step.read(text)
    assert read.translated
    assert read.notices == (
        f"The text has {translator.count_tokens(text)} tokens; only the first {MAX_SOURCE_TOKENS} were translated.",
    )


def test_without_a_translator_foreign_text_is_searched_as_typed_and_the_reason_told(detector):
    step = QueryLanguage(detector, None, "the translation model x could not be loaded")
    read = step.read("áo sơ mi nam màu đỏ")
    assert (read.searched, read.translated) == ("áo sơ mi nam màu đỏ", False)
    assert read.language.code == "vi"
    assert len(read.notices) == 1
    assert "Vietnamese" in read.notices[0]
    assert "the translation model x could not be loaded" in read.notices[0]
    assert step.read("red shirt for men").notices == ()
    assert step.model_id is None


def test_an_empty_translation_falls_back_to_the_text_as_typed(detector, tiny_marian):
    silent = Translator.load(str(tiny_marian), device="cpu", num_beams=1)
    with torch.no_grad():
        silent.model.final_logits_bias[..., silent.tokenizer.eos_token_id] = 1e4  # ends every output at once
    read = QueryLanguage(detector, silent).read("robe d'été rouge")
    assert (read.searched, read.translated) == ("robe d'été rouge", False)
    assert read.notices == ("The French text could not be translated, so it was searched as typed.",)


def test_loading_with_a_model_folder_translates(tiny_marian):
    step = load_query_language(str(tiny_marian), device="cpu", num_beams=1)
    assert step.model_id == str(tiny_marian)
    assert step.read("áo sơ mi nam màu đỏ").translated


@pytest.mark.parametrize(("model", "beams"), [("Helsinki-NLP/opus-mt-mul-en", 1), ("/no/such/folder", 1), ("tiny", 0)])
def test_a_model_that_cannot_be_loaded_leaves_detection_working(hub_cache, tiny_marian, model, beams, caplog):
    model = str(tiny_marian) if model == "tiny" else model
    step = load_query_language(model, device="cpu", num_beams=beams)
    assert step.model_id is None
    read = step.read("robe d'été rouge")
    assert not read.translated
    assert "the translation model could not be loaded" in read.notices[0] and model not in read.notices[0]
    assert "Queries will not be translated" in caplog.text and model in caplog.text


def kept(step: QueryLanguage, text: str, seconds: float = 120.0) -> QueryText:
    """The reading kept for `text` once its translation finished in the lane (polled: it finishes in its thread)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        reading = step._readings.lookup((text, True))
        if reading is not None:
            return reading
        time.sleep(0.01)
    raise AssertionError(f"{text!r} was never translated")


def test_without_a_place_to_wait_a_new_text_is_searched_as_typed_and_translated_for_the_next_search(
    detector, translator
):
    step = QueryLanguage(detector, translator, waiting_places=0)
    first = step.read("áo sơ mi nam màu đỏ")
    assert (first.searched, first.translated) == ("áo sơ mi nam màu đỏ", False)
    assert first.notices == (
        "This Vietnamese text was searched as typed this time: its translation is not ready yet. Search again in a "
        "moment to search its English translation.",
    )
    assert kept(step, "áo sơ mi nam màu đỏ").translated
    assert step.read("áo sơ mi nam màu đỏ").searched == translator.translate(["áo sơ mi nam màu đỏ"])[0].text


def test_english_queries_never_wait_for_the_lane(detector, endless):
    step = QueryLanguage(detector, endless, waiting_places=0)
    long_texts = [
        f"Je cherche une robe rouge numéro {n} pour l'été, avec des manches courtes et un col." for n in range(8)
    ]
    for text in long_texts:
        step.read(text)
    english = step.read("red shirt for men")
    assert step.lane.pending() > 0  # the lane is still decoding when the English reading is back
    assert (english.searched, english.notices) == ("red shirt for men", ())


def test_only_the_waiting_places_wait_and_for_at_most_the_wait(detector, endless):
    step = QueryLanguage(detector, endless, waiting_places=1, wait_seconds=60.0)
    text = "Je cherche une robe rouge pour l'été, avec des manches courtes et un col. " * 3
    waited: list[QueryText] = []
    waiter = threading.Thread(target=lambda: waited.append(step.read(text)))
    waiter.start()
    while step._waiting._value:  # until the waiter holds the one place
        time.sleep(0.001)
    other = step.read("robe d'été rouge")
    assert waiter.is_alive() and not other.translated and "not ready yet" in other.notices[0]
    waiter.join()
    assert waited[0].translated
    impatient = QueryLanguage(detector, endless, waiting_places=1, wait_seconds=0.0)
    assert "not ready yet" in impatient.read(text + " encore").notices[0]


def test_a_full_lane_is_told(detector, endless):
    step = QueryLanguage(detector, endless, waiting_places=0, lane=TranslationLane(endless, max_pending=1))
    with step.lane._ready:  # the worker holds still, as it does while decoding a batch
        step.read("robe d'été rouge")
        full = step.read("vestido rojo de verano")
    assert full.notices[0].endswith(
        "searched as typed this time: many other translations are waiting. Search again in a moment to search its "
        "English translation."
    )


def test_a_translation_out_of_time_is_searched_as_typed_and_tried_again_next_time(detector, endless):
    step = QueryLanguage(detector, endless, lane=TranslationLane(endless, time_budget=0.01))
    text = "Je cherche une robe rouge pour l'été, avec des manches courtes. " * 5
    read = step.read(text)
    assert (read.searched, read.translated) == (text, False)
    assert read.notices == ("The French text could not be translated in time, so it was searched as typed.",)
    batches = len(step.lane.batch_sizes)
    again = step.read(text)
    assert again.notices == read.notices and len(step.lane.batch_sizes) == batches + 1
