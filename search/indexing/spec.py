"""How every encoder of a build loads and what it encodes: one spec, made from the build's settings, for both engines
(this process, or Ray actors)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from search.encoding.encoder import Encoder
from search.indexing.config import BuildConfig


@dataclass(frozen=True)
class EncoderSpec:
    """How every encoder of a build loads and what it encodes."""

    model: str
    revision: str | None
    device: str | None
    dtype: str | None
    runtime: str | None
    trust_remote_code: bool
    batch_size: int
    encode_names: bool

    @classmethod
    def from_config(cls, config: BuildConfig) -> EncoderSpec:
        return cls(
            model=config.model,
            revision=config.model_revision,
            device=config.device,
            dtype=config.dtype,
            runtime=config.runtime,
            trust_remote_code=config.trust_remote_code,
            batch_size=config.batch_size,
            encode_names=config.encodes_names,
        )

    def on(self, device: str, dtype: str) -> EncoderSpec:
        """The same spec on another device and precision (a cluster's)."""
        return replace(self, device=device, dtype=dtype)

    def load(self) -> Encoder:
        return Encoder.load(self.model, self.revision, self.device, self.dtype, self.trust_remote_code, self.runtime)

    def encode(
        self, encoder: Encoder, pixels: torch.Tensor | np.ndarray, texts: list[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """A batch's image vectors and, when names are encoded, text vectors (else 0 columns)."""
        image = encoder.encode_pixels(pixels)
        text = encoder.encode_text(texts) if self.encode_names else np.empty((len(image), 0), dtype=np.float32)
        return image, text
