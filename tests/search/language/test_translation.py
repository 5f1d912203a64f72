"""Translation models load like the CLIP model (folder or Hub cache, offline) and translate within bounds."""

from __future__ import annotations

import pytest
from transformers import MarianMTModel, MarianTokenizer

from search.errors import ModelLoadError
from search.language import MAX_SOURCE_TOKENS, Translator
from search.language.translation import MAX_NEW_TOKENS, max_new_tokens
from tests.helpers import put_in_hub_cache


def test_loads_a_real_marian_checkpoint_from_a_folder(translator, tiny_marian):
    assert isinstance(translator.model, MarianMTModel)
    assert isinstance(translator.tokenizer, MarianTokenizer)
    assert translator.ref.path == tiny_marian
    assert not translator.model.training


def test_translates_each_text_deterministically(translator):
    texts = ["áo sơ mi nam màu đỏ", "robe d'été rouge", "weiße Turnschuhe"]
    first = translator.translate(texts)
    assert len(first) == len(texts)
    assert all(isinstance(item.text, str) and item.text == item.text.strip() for item in first)
    assert [item.text for item in translator.translate(texts)] == [item.text for item in first]
    assert translator.translate(texts[1:2])[0] == first[1]  # batched as one, padding does not change it
    assert not any(item.truncated for item in first)


def test_a_long_text_is_translated_up_to_the_token_limit(translator):
    text = "áo sơ mi nam màu đỏ " * 40
    translation = translator.translate([text])[0]
    assert translation.source_tokens == translator.count_tokens(text) > MAX_SOURCE_TOKENS
    assert translation.tokens_read == MAX_SOURCE_TOKENS
    assert translation.truncated


def test_nothing_to_translate_gives_nothing(translator):
    assert translator.translate([]) == []


def test_beam_search_is_used_when_asked(tiny_marian):
    beams = Translator.load(str(tiny_marian), device="cpu", num_beams=3)
    assert beams.num_beams == 3
    assert len(beams.translate(["robe d'été rouge"])) == 1


def test_loads_a_hub_id_from_the_hub_cache_offline(tiny_marian, hub_cache):
    commit = "b" * 40
    put_in_hub_cache(hub_cache, "model", "tester/opus-mt-tiny", tiny_marian, commit)
    translator = Translator.load("tester/opus-mt-tiny", device="cpu", num_beams=1)
    assert translator.ref.name == "tester/opus-mt-tiny"
    assert translator.ref.revision == commit
    assert isinstance(translator.model, MarianMTModel)


def test_an_uncached_hub_id_offline_is_explained(hub_cache):
    with pytest.raises(ModelLoadError, match="Helsinki-NLP/opus-mt-mul-en"):
        Translator.load("Helsinki-NLP/opus-mt-mul-en", device="cpu")


def test_a_folder_that_is_not_a_model_is_explained(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelLoadError, match="Could not load translation model"):
        Translator.load(str(tmp_path), device="cpu")


def test_a_model_that_does_not_translate_is_refused(tiny_model):
    with pytest.raises(ModelLoadError, match="sequence-to-sequence"):
        Translator.load(str(tiny_model), device="cpu")


def test_fewer_than_one_beam_is_refused(tiny_marian):
    with pytest.raises(ModelLoadError, match="num_beams"):
        Translator.load(str(tiny_marian), device="cpu", num_beams=0)


@pytest.mark.parametrize("words", [1, 4, 30])
def test_the_output_is_capped_in_proportion_to_the_input(endless, words):
    text = " ".join(["robe"] * words)
    translation = endless.translate([text])[0]
    outputs = endless.tokenizer(translation.text)["input_ids"]
    assert len(outputs) <= max_new_tokens(translation.tokens_read) + 1
    assert max_new_tokens(translation.tokens_read) == min(MAX_NEW_TOKENS, 2 * translation.tokens_read + 8)
    assert not translation.timed_out


def test_a_decode_past_its_time_budget_is_stopped_and_said_unfinished(endless):
    text = "Je cherche une robe rouge pour l'été, avec des manches courtes. " * 20
    translation = endless.translate([text], time_budget=0.01)[0]
    assert translation.timed_out
    assert not endless.translate(["robe"], time_budget=None)[0].timed_out
