"""One thread setting for PyTorch, FAISS and ONNX Runtime."""

from __future__ import annotations

import os

import faiss
import pytest
import torch

from search.encoding.threads import THREADS_ENV, available_cores, parse_threads, set_threads, thread_count


@pytest.fixture
def restore_threads(monkeypatch):
    """Undo the test's thread setting: the environment through monkeypatch, the libraries' pools here."""
    monkeypatch.setenv(THREADS_ENV, "1")
    before = (torch.get_num_threads(), faiss.omp_get_max_threads())
    yield
    torch.set_num_threads(before[0])
    faiss.omp_set_num_threads(before[1])


def test_default_is_the_available_cores(monkeypatch, restore_threads):
    monkeypatch.delenv(THREADS_ENV)
    assert thread_count() == available_cores() >= 1


def test_environment_variable_sets_every_library(monkeypatch, restore_threads):
    monkeypatch.setenv(THREADS_ENV, "1")
    assert set_threads() == 1
    assert torch.get_num_threads() == 1 and faiss.omp_get_max_threads() == 1 and thread_count() == 1


def test_option_overrides_the_environment(monkeypatch, restore_threads):
    monkeypatch.setenv(THREADS_ENV, "1")
    assert set_threads(3) == 3
    assert os.environ[THREADS_ENV] == "3"  # worker processes inherit it
    assert torch.get_num_threads() == 3 and faiss.omp_get_max_threads() == 3 and thread_count() == 3


@pytest.mark.parametrize("value", ["0", "-2", "two", "", "1.5"])
def test_bad_counts_are_refused_with_their_source(value):
    with pytest.raises(ValueError, match=f"{THREADS_ENV} must be a positive whole number of threads"):
        parse_threads(value, THREADS_ENV)
