"""The translator of the tiny MarianMT, loaded once for the language tests."""

from __future__ import annotations

import pytest
import torch

from search.language import Translator


@pytest.fixture(scope="session")
def translator(tiny_marian) -> Translator:
    return Translator.load(str(tiny_marian), device="cpu", num_beams=1)


def never_stops(translator: Translator) -> Translator:
    """The translator with its end-of-sentence token forbidden: every decode runs to its token cap (a random model
    that goes round in circles, as the adversarial pass used)."""
    with torch.no_grad():
        translator.model.final_logits_bias[..., translator.tokenizer.eos_token_id] = -1e4
    return translator


@pytest.fixture
def endless(tiny_marian) -> Translator:
    """A private 4-beam translator that never stops before its token cap."""
    return never_stops(Translator.load(str(tiny_marian), device="cpu", num_beams=4))
