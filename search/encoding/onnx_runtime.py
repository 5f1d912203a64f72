"""ONNX Runtime sessions for an exported model's two towers: the CPU inference path.

On 2 CPU cores ONNX Runtime runs the ViT-B/32 text tower ~3× and the image tower ~2× faster than PyTorch eager at
batch 1 (docs/BENCHMARKS.md), with the same vectors (cosine ≥ 0.9999, checked at export and in the tests).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import onnxruntime as ort

from search.encoding.onnx_files import OnnxExport
from search.encoding.threads import thread_count
from search.errors import ModelLoadError

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)


def session_options(threads: int, spinning: bool = False) -> ort.SessionOptions:
    """One intra-op pool of `threads`, run sequentially. Idle workers do not busy-wait unless `spinning`: on a
    shared or 2-core machine spinning threads take the cores the web server and FAISS need between requests."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    options.log_severity_level = 3
    return options


class OnnxTowers:
    """Text and image features (before normalisation) from an ONNX export, on the CPU."""

    def __init__(self, text: ort.InferenceSession, image: ort.InferenceSession, export: OnnxExport) -> None:
        self.text = text
        self.image = image
        self.export = export
        self.text_inputs = [node.name for node in text.get_inputs()]

    @classmethod
    def load(cls, export: OnnxExport, threads: int | None = None, spinning: bool = False) -> OnnxTowers:
        """Open both towers with `threads` intra-op threads (default: the project's thread setting)."""
        options = session_options(threads or thread_count(), spinning)
        providers = ["CPUExecutionProvider"]
        try:
            text = ort.InferenceSession(str(export.text_path), options, providers=providers)
            image = ort.InferenceSession(str(export.image_path), options, providers=providers)
        except Exception as error:  # onnxruntime raises its own exception types for unreadable graphs
            raise ModelLoadError(f"ONNX Runtime cannot open the export in {export.folder}: {error}") from error
        logger.info("ONNX Runtime %s: towers from %s", ort.__version__, export.folder)
        return cls(text, image, export)

    @property
    def logit_scale(self) -> float | None:
        """The exported model's learned temperature (recorded at export)."""
        return self.export.info.get("logit_scale")

    def text_features(self, tokens: Mapping[str, torch.Tensor | np.ndarray]) -> np.ndarray:
        """Features of tokenised texts; token arrays the graph does not take are left out."""
        feed = {name: np.asarray(tokens[name], dtype=np.int64) for name in self.text_inputs}
        return self.text.run(None, feed)[0]

    def image_features(self, pixel_values: torch.Tensor | np.ndarray) -> np.ndarray:
        """Features of preprocessed pixel values (batch, channels, height, width)."""
        return self.image.run(None, {"pixel_values": np.asarray(pixel_values, dtype=np.float32)})[0]
