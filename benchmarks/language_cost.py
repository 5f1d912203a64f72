"""What the query-language step costs a visitor: English queries with the step off and on, the detection alone,
and non-English queries translated (greedy and beam search) and repeated (translation cached).

The translator is a random-weight MarianMT of opus-mt-mul-en's architecture (search/fixtures/configs): its speed
does not depend on the weights, but a random model's output length does, so every translation is made exactly
OUTPUT_TOKENS long (about what a short query's English translation takes).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import cast

import torch
from transformers import MarianMTModel

from benchmarks.common import Report, interleaved, percentiles
from benchmarks.fixtures import text_queries
from search.bundle import Bundle
from search.engine import SearchEngine
from search.fixtures.random_marian import save_random_marian
from search.language import LanguageDetector, QueryLanguage, Translator

logger = logging.getLogger(__name__)

K = 24
QUERIES = Path(__file__).parent / "data" / "multilingual_queries.json"
OUTPUT_TOKENS = 10


def translator_folder(config: str, root: Path) -> Path:
    """A saved random-weight MarianMT of a config in search/fixtures/configs (built once, then reused)."""
    folder = root / "models" / config
    if not (folder / "model.safetensors").is_file():
        logger.info("Saving a random-weight %s to %s", config, folder)
        save_random_marian(config, folder)
    return folder


def fixed_length(translator: Translator, tokens: int = OUTPUT_TOKENS) -> Translator:
    """Make every translation exactly `tokens` long: end-of-sentence is forbidden before, and certain after."""
    with torch.no_grad():
        cast(MarianMTModel, translator.model).final_logits_bias[..., translator.tokenizer.eos_token_id] = 1e4
    translator.model.generation_config.min_new_tokens = tokens
    return translator


def foreign_queries() -> list[str]:
    """The hand-written non-English queries of benchmarks/data (17 languages)."""
    queries = json.loads(QUERIES.read_text(encoding="utf-8"))["queries"]
    return [text for language, texts in queries.items() if language != "en" for text in texts]


def run(bundle_folder: Path, model: Path, translator_config: str, work: Path, repeats: int) -> Report:
    """English and non-English text search latency at k=24 through SearchEngine, with and without the step."""
    bundle = Bundle.load(bundle_folder)
    plain = SearchEngine.load(bundle_folder)
    encoder = plain.encoder
    folder = translator_folder(translator_config, work)
    greedy = QueryLanguage(LanguageDetector(), fixed_length(Translator.load(str(folder), device="cpu", num_beams=1)))
    beams = QueryLanguage(LanguageDetector(), fixed_length(Translator.load(str(folder), device="cpu", num_beams=4)))
    with_step = SearchEngine(bundle, encoder, bundle_folder, greedy)
    with_beams = SearchEngine(bundle, encoder, bundle_folder, beams)
    english = text_queries(3 * repeats, seed=7)
    foreign = foreign_queries()
    repeats = min(repeats, len(foreign) // 2)
    report = Report(
        "language_cost",
        f"Query-language step, {plain.num_products:,} products, k={K}",
        ["query", "p50_ms", "p95_ms", "n"],
        settings={
            "translator": f"random-weight {translator_config}, {OUTPUT_TOKENS} output tokens",
            "products": plain.num_products,
            "repeats": repeats,
        },
    )
    for engine in (plain, with_step, with_beams):
        engine.search_text("warm up query", K)
    with_step.search_text("robe d'été rouge", K)
    with_beams.search_text("vestido rojo de verano", K)
    detector = greedy.detector
    samples = interleaved(
        {
            "English, step off": lambda i: plain.search_text(english[i], K),
            "English, step on": lambda i: with_step.search_text(english[repeats + i], K),
            "English, detection alone": lambda i: detector.detect(english[2 * repeats + i]),
            "non-English, translated greedily": lambda i: with_step.search_text(foreign[i], K),
            "non-English, translated with 4 beams": lambda i: with_beams.search_text(foreign[repeats + i], K),
            "non-English, repeated with other filters (translation cached)": lambda i: with_step.search_text(
                foreign[i], K, {"gender": "Men"}
            ),
        },
        repeats,
    )
    for name, values in samples.items():
        report.add(query=name, **percentiles(values))
    report.notes.append(
        "Every query is distinct except in the 'repeated' row, which repeats the query of the greedy row with a "
        "filter (so the translation, not the whole search, comes from a cache)."
    )
    return report
