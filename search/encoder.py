"""CLIP-family encoder: text and images to L2-normalised float32 vectors in one shared space."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from huggingface_hub import snapshot_download
from PIL import Image
from transformers import AutoModel, AutoProcessor

from search.errors import ModelLoadError

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "patrickjohncyh/fashion-clip"
# "int8": float32 weights loaded, then every nn.Linear quantised to int8 with dynamic activation scales (CPU
# only). The transformer's matrix products dominate encoding on CPU; int8 reads a quarter of the weight bytes.
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16, "int8": torch.qint8}
# Weight formats transformers does not load into PyTorch; skipping them keeps downloads small.
_IGNORED_WEIGHTS = [
    "*.msgpack",
    "*.h5",
    "*.ot",
    "*.onnx",
    "*.tflite",
    "flax_model*",
    "tf_model*",
    "onnx/*",
    "openvino/*",
]
# Families trained with fixed-length text; the others use dynamic padding (shorter = faster).
_FIXED_LENGTH_TEXT = {"siglip", "siglip2"}


@dataclass(frozen=True)
class ModelRef:
    """A model as named by the user and the exact snapshot that was loaded."""

    name: str
    revision: str | None
    path: Path


def resolve_model(name: str, revision: str | None = None) -> ModelRef:
    """Find a model folder: a local path as is, else a Hub snapshot (cached, or downloaded)."""
    local = Path(name).expanduser()
    if local.is_dir():
        return ModelRef(name=name, revision=revision, path=local)
    try:
        path = Path(snapshot_download(name, revision=revision, ignore_patterns=[*_IGNORED_WEIGHTS, "*.bin"]))
        if not any(path.glob("*.safetensors")):
            path = Path(snapshot_download(name, revision=revision, ignore_patterns=_IGNORED_WEIGHTS))
    except Exception as error:  # huggingface_hub raises several types for offline / missing repos
        raise ModelLoadError(
            f"Could not get model '{name}'{f' at revision {revision}' if revision else ''} from the Hugging Face "
            f"Hub ({type(error).__name__}: {error}). Check the id and your network, or pass a local model folder."
        ) from error
    return ModelRef(name=name, revision=path.name, path=path)


def default_device() -> str:
    """CUDA when present, else CPU."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def default_dtype(device: str) -> str:
    """fp16 on CUDA, fp32 elsewhere."""
    return "float16" if device.startswith("cuda") else "float32"


def _features(output: torch.Tensor | object) -> torch.Tensor:
    """Transformers 5 returns an output object from get_*_features; older versions a tensor."""
    if isinstance(output, torch.Tensor):
        return output
    return output.pooler_output


class Encoder:
    """Encodes texts and images with one CLIP-family model (CLIP, SigLIP, ALIGN...) in inference mode."""

    def __init__(self, model: torch.nn.Module, processor: object, ref: ModelRef, device: str, dtype: str) -> None:
        self.model = model
        self.processor = processor
        self.ref = ref
        self.device = device
        self.dtype = dtype
        self.model_type = getattr(model.config, "model_type", "")
        text_config = getattr(model.config, "text_config", model.config)
        self.max_text_tokens = int(getattr(text_config, "max_position_embeddings", 77))
        self.dim = int(self.encode_text(["dimension probe"]).shape[1])

    @classmethod
    def load(
        cls,
        name: str,
        revision: str | None = None,
        device: str | None = None,
        dtype: str | None = None,
        trust_remote_code: bool = False,
    ) -> Encoder:
        """Load a model and its processor by Hub id or local folder; device and dtype default sensibly."""
        device = device or default_device()
        dtype = dtype or default_dtype(device)
        if dtype not in DTYPES:
            raise ModelLoadError(f"Unknown dtype '{dtype}'; choose one of {', '.join(DTYPES)}.")
        if dtype == "int8" and not device.startswith("cpu"):
            raise ModelLoadError(f"dtype int8 is for CPU encoding; on {device} use float16 or bfloat16.")
        ref = resolve_model(name, revision)
        try:
            model = AutoModel.from_pretrained(
                ref.path, dtype=_weights_dtype(dtype), trust_remote_code=trust_remote_code
            )
            processor = AutoProcessor.from_pretrained(ref.path, trust_remote_code=trust_remote_code)
        except Exception as error:  # transformers raises many types for a folder that is not a model
            raise ModelLoadError(f"Could not load model '{name}' from {ref.path}: {error}") from error
        if not (hasattr(model, "get_text_features") and hasattr(model, "get_image_features")):
            raise ModelLoadError(
                f"Model '{name}' ({type(model).__name__}) does not expose text and image features; "
                "use a CLIP-family checkpoint such as CLIP, SigLIP or ALIGN."
            )
        model = model.to(device).eval()
        if dtype == "int8":
            model = quantize_int8(model)
        logger.info("Loaded %s (%s) on %s as %s", name, ref.revision or "local", device, dtype)
        return cls(model, processor, ref, device, dtype)

    @property
    def logit_scale(self) -> float:
        """The model's learned temperature (CLIP's exp(logit_scale)); CLIP's initial 1/0.07 when it has none."""
        scale = getattr(self.model, "logit_scale", None)
        return float(scale.detach().exp()) if scale is not None else 1 / 0.07

    @property
    def tokenizer(self) -> object:
        return self.processor.tokenizer

    @property
    def image_processor(self) -> object:
        return self.processor.image_processor

    def count_tokens(self, text: str) -> int:
        """Number of tokens the text has before truncation, special tokens included."""
        return len(self.tokenizer(text, truncation=False)["input_ids"])

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        """Token ids for a batch, truncated to the model's maximum length."""
        padding = "max_length" if self.model_type in _FIXED_LENGTH_TEXT else True
        return self.tokenizer(
            list(texts), padding=padding, truncation=True, max_length=self.max_text_tokens, return_tensors="pt"
        )

    def preprocess(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """Pixel values for a batch of RGB images (resize, crop, normalise)."""
        return self.image_processor(images=list(images), return_tensors="pt")["pixel_values"]

    @torch.inference_mode()
    def encode_text(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 text vectors, one row per text."""
        inputs = {name: tensor.to(self.device) for name, tensor in self.tokenize(texts).items()}
        return _normalise(_features(self.model.get_text_features(**inputs)))

    @torch.inference_mode()
    def encode_pixels(self, pixel_values: torch.Tensor) -> np.ndarray:
        """L2-normalised float32 image vectors from preprocessed pixel values."""
        pixels = pixel_values.to(self.device, dtype=_weights_dtype(self.dtype), non_blocking=True)
        return _normalise(_features(self.model.get_image_features(pixel_values=pixels)))

    def encode_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """L2-normalised float32 image vectors, one row per RGB image."""
        return self.encode_pixels(self.preprocess(images))


def _weights_dtype(dtype: str) -> torch.dtype:
    """The dtype weights are loaded in and inputs are cast to (int8 models take float32 inputs)."""
    return torch.float32 if dtype == "int8" else DTYPES[dtype]


def quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """PyTorch's dynamic int8 quantisation of every nn.Linear (fbgemm kernels on x86 CPUs)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*deprecated.*", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*deprecated.*", category=UserWarning)
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def _normalise(features: torch.Tensor) -> np.ndarray:
    vectors = features.float()
    vectors = vectors / vectors.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return vectors.cpu().numpy().astype(np.float32, copy=False)
