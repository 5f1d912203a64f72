"""A CLIP-family model's two towers as plain modules: token ids → features, pixels → features.

One definition serves PyTorch inference and the ONNX export, so both runtimes compute the same graph. Features
are the model's projected embeddings before L2 normalisation (the encoder normalises them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, cast

import numpy as np
import torch

# Token tensors a CLIP-family tokenizer may return (CLIP: ids + mask, SigLIP: ids, ALIGN/BERT: + token types).
TEXT_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class PooledOutput(Protocol):
    pooler_output: torch.Tensor


class FeatureModel(Protocol):
    """The two methods every CLIP-family model (CLIP, SigLIP, ALIGN...) has and no transformers base class declares
    (the encoder's loader refuses a model without them)."""

    def get_text_features(self, input_ids: torch.Tensor, **tokens: torch.Tensor) -> torch.Tensor | PooledOutput: ...

    def get_image_features(self, pixel_values: torch.Tensor) -> torch.Tensor | PooledOutput: ...


def features(output: torch.Tensor | PooledOutput) -> torch.Tensor:
    """Transformers 5 returns an output object from get_*_features; older versions a tensor."""
    if isinstance(output, torch.Tensor):
        return output
    return output.pooler_output


def text_features(model: torch.nn.Module, input_ids: torch.Tensor, **tokens: torch.Tensor) -> torch.Tensor:
    """A CLIP-family model's text features (projected, before normalisation)."""
    return features(cast(FeatureModel, model).get_text_features(input_ids=input_ids, **tokens))


def image_features(model: torch.nn.Module, pixel_values: torch.Tensor) -> torch.Tensor:
    """A CLIP-family model's image features (projected, before normalisation)."""
    return features(cast(FeatureModel, model).get_image_features(pixel_values=pixel_values))


def logit_scale(model: torch.nn.Module) -> float | None:
    """The model's learned temperature exp(logit_scale), or None when it has none."""
    scale = getattr(model, "logit_scale", None)
    return float(scale.detach().float().exp()) if isinstance(scale, torch.Tensor) else None


class TextTower(torch.nn.Module):
    """Text features of a CLIP-family model; optional token tensors may be omitted."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        given = {"attention_mask": attention_mask, "token_type_ids": token_type_ids}
        extra = {name: tensor for name, tensor in given.items() if tensor is not None}
        return text_features(self.model, input_ids, **extra)


class ImageTower(torch.nn.Module):
    """Image features of a CLIP-family model from preprocessed pixel values."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return image_features(self.model, pixel_values)


class TorchTowers:
    """Text and image features (before normalisation) from a PyTorch model on its device: CUDA builds, half
    precision, int8, and the fallback runtime on the CPU."""

    def __init__(self, model: torch.nn.Module, device: str) -> None:
        self.model = model
        self.device = device
        self.text = TextTower(model).eval()
        self.image = ImageTower(model).eval()
        # Inputs take the dtype of the weights (an int8 model keeps float32 embeddings and takes float32 pixels).
        self.input_dtype = next(parameter.dtype for parameter in model.parameters() if parameter.is_floating_point())

    @property
    def logit_scale(self) -> float | None:
        return logit_scale(self.model)

    @torch.inference_mode()
    def text_features(self, tokens: Mapping[str, torch.Tensor | np.ndarray]) -> np.ndarray:
        inputs = {name: torch.as_tensor(tokens[name]).to(self.device) for name in TEXT_INPUTS if name in tokens}
        return self.text(**inputs).float().cpu().numpy()

    @torch.inference_mode()
    def image_features(self, pixel_values: torch.Tensor | np.ndarray) -> np.ndarray:
        pixels = torch.as_tensor(pixel_values).to(self.device, dtype=self.input_dtype, non_blocking=True)
        return self.image(pixels).float().cpu().numpy()
