"""The random MarianMT fixture is laid out like an opus-mt checkpoint on the Hub."""

from __future__ import annotations

import json

from transformers import MarianTokenizer

from search.random_marian import SENTENCES, build_tokenizer, save_random_marian


def test_the_fixture_has_the_files_of_an_opus_mt_checkpoint(tmp_path):
    folder = save_random_marian("marian-tiny", tmp_path / "marian")
    for name in ("config.json", "model.safetensors", "source.spm", "target.spm", "vocab.json"):
        assert (folder / name).is_file()
    vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    assert vocab["</s>"] == 0
    assert vocab["<pad>"] == len(vocab) - 1
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == "marian"
    assert config["decoder_start_token_id"] == vocab["<pad>"]


def test_the_tokenizer_is_trained_on_the_given_sentences_without_unknown_pieces(tmp_path):
    tokenizer = build_tokenizer(tmp_path / "tokenizer")
    assert isinstance(tokenizer, MarianTokenizer)
    for sentence in SENTENCES:
        ids = tokenizer(sentence)["input_ids"]
        assert tokenizer.unk_token_id not in ids
        assert ids[-1] == tokenizer.eos_token_id


def test_the_vocabulary_can_be_padded_to_a_real_model_size(tmp_path):
    tokenizer = build_tokenizer(tmp_path / "tokenizer", vocab_size=1_000)
    assert len(tokenizer) == 1_000
    assert tokenizer.pad_token_id == 999
