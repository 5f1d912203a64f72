"""The translator of the tiny MarianMT, loaded once for the language tests."""

from __future__ import annotations

import pytest

from search.language import Translator


@pytest.fixture(scope="session")
def translator(tiny_marian) -> Translator:
    return Translator.load(str(tiny_marian), device="cpu", num_beams=1)
