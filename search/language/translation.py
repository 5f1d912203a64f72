"""Translation of queries into English with a transformers sequence-to-sequence model (MarianMT opus-mt)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, GenerationMixin, PreTrainedTokenizerBase

from search.encoding.encoder import ModelRef, default_device, resolve_model
from search.errors import ModelLoadError

logger = logging.getLogger(__name__)

# One model for many source languages into English (the catalog's language); any model that translates into
# English works, e.g. Helsinki-NLP/opus-mt-vi-en for one language (better quality, same cost).
DEFAULT_TRANSLATION_MODEL = "Helsinki-NLP/opus-mt-mul-en"
# Queries are short; a long text is translated up to here. The CLIP text tower reads 77 tokens, and translating
# more costs time in proportion (the decoder runs once per output token).
MAX_SOURCE_TOKENS = 64
# An output longer than this is a model going round in circles, not a translation of a query: at most twice the
# source's tokens and a few more (an English query is rarely longer than its source), never more than MAX_NEW_TOKENS.
NEW_TOKENS_PER_SOURCE_TOKEN = 2
NEW_TOKENS_SLACK = 8
MAX_NEW_TOKENS = 2 * MAX_SOURCE_TOKENS
# opus-mt models are published to decode with 4 to 6 beams; 4 beams cost about twice greedy decoding on a short
# query (docs/MULTILINGUAL.md), still only for its first search (translations are cached).
DEFAULT_BEAMS = 4


@dataclass(frozen=True)
class Translation:
    """English text for one source text, and how many of its tokens were read (the rest was cut)."""

    text: str
    source_tokens: int
    tokens_read: int
    # The decode was stopped by the time budget: the text is unfinished, not a translation.
    timed_out: bool = False

    @property
    def truncated(self) -> bool:
        return self.tokens_read < self.source_tokens


class Translator:
    """Translates texts into English with one seq2seq model in inference mode."""

    def __init__(
        self,
        model: GenerationMixin,
        tokenizer: PreTrainedTokenizerBase,
        ref: ModelRef,
        device: str,
        num_beams: int = DEFAULT_BEAMS,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.ref = ref
        self.device = device
        self.num_beams = num_beams

    @classmethod
    def load(
        cls, name: str, revision: str | None = None, device: str | None = None, num_beams: int = DEFAULT_BEAMS
    ) -> Translator:
        """Load a translation model and its tokenizer by Hub id (cached; HF_HUB_OFFLINE respected) or local folder,
        as the encoder is loaded. Raises ModelLoadError saying why when that is not possible."""
        if num_beams < 1:
            raise ModelLoadError(f"num_beams must be at least 1, got {num_beams}.")
        device = device or default_device()
        ref = resolve_model(name, revision)
        try:
            tokenizer = AutoTokenizer.from_pretrained(ref.path)
            model = AutoModelForSeq2SeqLM.from_pretrained(ref.path)
        except Exception as error:  # transformers raises many types for a folder that is not a model
            raise ModelLoadError(
                f"Could not load translation model '{name}' from {ref.path} (a sequence-to-sequence model that "
                f"translates into English is needed, such as {DEFAULT_TRANSLATION_MODEL}): {error}"
            ) from error
        model = model.to(device).eval()
        logger.info("Loaded translation model %s (%s) on %s", name, ref.revision or "local", device)
        return cls(model, tokenizer, ref, device, num_beams)

    def count_tokens(self, text: str) -> int:
        """Source tokens of a text before truncation, the end-of-sentence token included."""
        return len(self.tokenizer(text, truncation=False)["input_ids"])

    @torch.inference_mode()
    def translate(self, texts: Sequence[str], time_budget: float | None = None) -> list[Translation]:
        """English translations, one per text, each read up to MAX_SOURCE_TOKENS tokens and decoded up to its
        `max_new_tokens`; a decode still running after `time_budget` seconds is stopped and its unfinished
        translations marked timed out."""
        if not texts:
            return []
        inputs = self.tokenizer(
            list(texts), truncation=True, max_length=MAX_SOURCE_TOKENS, padding=True, return_tensors="pt"
        )
        read = inputs["attention_mask"].sum(dim=1).tolist()
        started = time.perf_counter()
        caps = [max_new_tokens(tokens) for tokens in read]
        outputs = self.model.generate(
            **{name: tensor.to(self.device) for name, tensor in inputs.items()},
            num_beams=self.num_beams,
            max_new_tokens=max(caps),
            max_time=time_budget,
        )
        out_of_time = time_budget is not None and time.perf_counter() - started >= time_budget
        # Each output cut at its own text's cap, so a translation does not depend on the texts batched with it.
        sequences = [output[: 1 + cap] for output, cap in zip(outputs, caps, strict=True)]
        decoded = self.tokenizer.batch_decode(sequences, skip_special_tokens=True)
        # Stopped by the clock: shorter than its cap and without its end-of-sentence token.
        unfinished = [
            out_of_time and len(sequence) - 1 < cap and self.tokenizer.eos_token_id not in sequence[1:].tolist()
            for sequence, cap in zip(sequences, caps, strict=True)
        ]
        return [
            Translation(text.strip(), self.count_tokens(source), int(tokens), stopped)
            for source, text, tokens, stopped in zip(texts, decoded, read, unfinished, strict=True)
        ]


def max_new_tokens(source_tokens: int) -> int:
    """The longest translation decoded for a source of this many tokens: in proportion, capped."""
    return min(MAX_NEW_TOKENS, NEW_TOKENS_PER_SOURCE_TOKEN * source_tokens + NEW_TOKENS_SLACK)
