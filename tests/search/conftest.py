"""Encoders of the tiny model on both runtimes, and its ONNX export (made once per test session)."""

from __future__ import annotations

import pytest

from search.encoding.encoder import Encoder
from search.encoding.onnx_files import OnnxExport


@pytest.fixture(scope="session")
def torch_encoder(tiny_model) -> Encoder:
    return Encoder.load(str(tiny_model), device="cpu", runtime="torch")


@pytest.fixture(scope="session")
def onnx_encoder(tiny_model) -> Encoder:
    """Exports the tiny model through the real exporter into the session's user cache on first use."""
    return Encoder.load(str(tiny_model), device="cpu", runtime="onnx")


@pytest.fixture(scope="session")
def tiny_export(onnx_encoder) -> OnnxExport:
    return onnx_encoder.towers.export
