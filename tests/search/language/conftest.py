"""A tiny random-weight MarianMT, saved like a Hub checkpoint, for the translation tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.language import Translator
from search.random_marian import save_random_marian


@pytest.fixture(scope="session")
def tiny_marian(tmp_path_factory) -> Path:
    return save_random_marian("marian-tiny", tmp_path_factory.mktemp("models") / "tiny-marian")


@pytest.fixture(scope="session")
def translator(tiny_marian) -> Translator:
    return Translator.load(str(tiny_marian), device="cpu", num_beams=1)
