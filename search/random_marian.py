"""Random-weight MarianMT translation models built from JSON configs, for offline tests and speed benchmarks.

The saved folder has what an opus-mt checkpoint on the Hub has (config, weights, source.spm, target.spm,
vocab.json) and loads through the same `Translator.load` path. Its SentencePiece tokenizer is trained here, in
memory, on a few fashion queries in several languages, so nothing is downloaded.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import sentencepiece
import torch
from transformers import MarianConfig, MarianMTModel, MarianTokenizer

CONFIG_DIR = Path(__file__).parent / "configs"
EOS, UNK, PAD = "</s>", "<unk>", "<pad>"
SENTENCES = (
    "red shirt for men",
    "black leather boots for women",
    "blue denim jeans and white sneakers",
    "áo sơ mi nam màu đỏ",
    "váy mùa hè màu vàng",
    "robe d'été rouge pour femme",
    "chaussures de sport blanches",
    "vestido rojo de verano",
    "camisa blanca para hombre",
    "rotes Sommerkleid für Damen",
    "weiße Turnschuhe",
    "पुरुषों के लिए लाल शर्ट",
    "красное летнее платье",
    "白色运动鞋",
)
VOCAB_SIZE = 160


def train_sentencepiece(sentences: tuple[str, ...] = SENTENCES, vocab_size: int = VOCAB_SIZE) -> bytes:
    """A unigram SentencePiece model trained in memory (every character of `sentences` kept)."""
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences * 3),
        model_writer=model,
        vocab_size=vocab_size,
        hard_vocab_limit=False,
        model_type="unigram",
        character_coverage=1.0,
        unk_id=0,
        eos_id=1,
        bos_id=-1,
        pad_id=-1,
        minloglevel=2,
    )
    return model.getvalue()


def build_tokenizer(folder: Path, vocab_size: int | None = None) -> MarianTokenizer:
    """A Marian tokenizer like opus-mt's: one SentencePiece model for both sides, vocab.json with </s> = 0,
    <unk> = 1 and <pad> last; `vocab_size` pads the vocabulary with unused entries to a real model's size."""
    folder.mkdir(parents=True, exist_ok=True)
    proto = train_sentencepiece()
    for name in ("source.spm", "target.spm"):
        (folder / name).write_bytes(proto)
    processor = sentencepiece.SentencePieceProcessor(model_proto=proto)
    vocab = {EOS: 0, UNK: 1}
    for index in range(processor.get_piece_size()):
        vocab.setdefault(processor.id_to_piece(index), len(vocab))
    while vocab_size is not None and len(vocab) < vocab_size - 1:
        vocab[f"<unused{len(vocab)}>"] = len(vocab)
    vocab[PAD] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    return MarianTokenizer(str(folder / "source.spm"), str(folder / "target.spm"), str(folder / "vocab.json"))


def save_random_marian(config_name: str, folder: Path | str, seed: int = 0) -> Path:
    """Save a random-weight MarianMT of the named config (`search/configs/<name>.json`) with its tokenizer."""
    folder = Path(folder)
    spec = json.loads((CONFIG_DIR / f"{config_name}.json").read_text())
    tokenizer = build_tokenizer(folder, spec["vocab_size"])
    pad = tokenizer.pad_token_id
    config = MarianConfig(
        **spec["model"],
        vocab_size=len(tokenizer),
        pad_token_id=pad,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=pad,
        forced_eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(seed)
    MarianMTModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
