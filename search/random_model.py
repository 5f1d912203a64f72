"""Random-weight CLIP checkpoints built from JSON configs, for offline tests and speed benchmarks.

The saved folder loads through the same `Encoder.load` path as a Hub checkpoint. Its tokenizer is a byte-level
BPE whose merges spell whole fashion words, so token counts resemble a real CLIP tokenizer's.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import torch
from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel, CLIPProcessor, CLIPTokenizer

CONFIG_DIR = Path(__file__).parent / "configs"
BOS, EOS = "<|startoftext|>", "<|endoftext|>"
WORDS = (
    "a an and the for with of in same but style men women boys girls unisex kids black white blue red green yellow "
    "pink purple grey navy brown beige maroon orange silver gold olive cream khaki teal shirt shirts tshirt tshirts "
    "top tops jeans trousers shorts skirt dress dresses kurta saree jacket sweater sweatshirt boots shoes sandals "
    "heels flats sneakers casual formal sports watch watches bag bags handbag backpack wallet belt cap socks "
    "leather cotton denim printed striped solid check round neck sleeve summer winter fall spring party ethnic "
    "nike puma adidas reebok"
).split()


@cache
def _byte_chars() -> tuple[str, ...]:
    """GPT-2 / CLIP byte-to-unicode table: the 256 symbols byte-level BPE starts from."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return tuple(chr(code) for code in codes)


def build_tokenizer(folder: Path) -> CLIPTokenizer:
    """A CLIP tokenizer with byte symbols plus merges for `WORDS`; writes vocab.json and merges.txt."""
    vocab: dict[str, int] = {}
    merges: list[str] = []
    for symbol in _byte_chars():
        vocab.setdefault(symbol, len(vocab))
        vocab.setdefault(symbol + "</w>", len(vocab))
    for word in WORDS:
        pieces = [*word[:-1], word[-1] + "</w>"]
        merged = pieces[0]
        for piece in pieces[1:]:
            merge = f"{merged} {piece}"
            merged += piece
            if merged not in vocab:
                merges.append(merge)
                vocab[merged] = len(vocab)
    vocab[BOS] = len(vocab)
    vocab[EOS] = len(vocab)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    return CLIPTokenizer(vocab=str(folder / "vocab.json"), merges=str(folder / "merges.txt"))


def save_random_clip(config_name: str, folder: Path | str, seed: int = 0) -> Path:
    """Save a random-weight CLIP of the named config (`search/configs/<name>.json`) with its processor."""
    folder = Path(folder)
    spec = json.loads((CONFIG_DIR / f"{config_name}.json").read_text())
    tokenizer = build_tokenizer(folder)
    special = {
        "vocab_size": len(tokenizer),
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    config = CLIPConfig(
        text_config={**spec["text_config"], **special},
        vision_config=spec["vision_config"],
        projection_dim=spec["projection_dim"],
    )
    torch.manual_seed(seed)
    CLIPModel(config).save_pretrained(folder)
    size = spec["image_size"]
    image_processor = CLIPImageProcessorPil(size={"shortest_edge": size}, crop_size={"height": size, "width": size})
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(folder)
    return folder
