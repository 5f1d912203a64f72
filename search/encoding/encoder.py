"""CLIP-family encoder: text and images to L2-normalised float32 vectors in one shared space."""

from __future__ import annotations

import functools
import logging
import os
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from huggingface_hub import snapshot_download
from PIL import Image
from transformers import AutoConfig, AutoModel, AutoProcessor, PretrainedConfig, PreTrainedTokenizerBase
from transformers.image_processing_utils import BaseImageProcessor

from search.catalog.images import processor_edge
from search.encoding.onnx_export import cached_export
from search.encoding.onnx_files import OnnxExport
from search.encoding.onnx_runtime import OnnxTowers
from search.encoding.towers import TorchTowers
from search.encoding.vectors import normalise
from search.errors import ModelLoadError

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "patrickjohncyh/fashion-clip"
# "int8": float32 weights loaded, then every nn.Linear quantised to int8 with dynamic activation scales (CPU
# only). The transformer's matrix products dominate encoding on CPU; int8 reads a quarter of the weight bytes.
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16, "int8": torch.qint8}
# "auto": ONNX Runtime for float32 on the CPU (2-3× faster than PyTorch eager there, same vectors), PyTorch
# otherwise (CUDA, half precision, int8). $SEARCH_RUNTIME sets it process-wide, e.g. `torch` as a fallback.
RUNTIMES = ("auto", "onnx", "torch")
RUNTIME_ENV = "SEARCH_RUNTIME"
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
_PYTORCH_WEIGHTS = ["*.safetensors", "*.bin", "*.pt", "*.pth"]
# Families trained with fixed-length text; the others use dynamic padding (shorter = faster).
_FIXED_LENGTH_TEXT = {"siglip", "siglip2"}
# Export examples: batch 2 and more tokens than texts (torch.export specialises sizes 0 and 1, may merge equals).
_EXAMPLE_TEXTS = ["a photo of a red summer dress", "black leather boots"]


@dataclass(frozen=True)
class ModelRef:
    """A model as named by the user and the exact snapshot that was loaded."""

    name: str
    revision: str | None
    path: Path


def resolve_model(name: str, revision: str | None = None, weights: bool = True) -> ModelRef:
    """Find a model folder: a local path as is, else a Hub snapshot (cached, or downloaded). Without `weights`
    only the configuration and processor files are fetched (for a bundle that carries its ONNX towers)."""
    local = Path(name).expanduser()
    if local.is_dir():
        return ModelRef(name=name, revision=revision, path=local)
    try:
        if not weights:
            path = Path(snapshot_download(name, revision=revision, ignore_patterns=_IGNORED_WEIGHTS + _PYTORCH_WEIGHTS))
        else:
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


def choose_runtime(runtime: str | None, device: str, dtype: str) -> str:
    """The runtime for this device and dtype: the argument, else $SEARCH_RUNTIME, else auto."""
    requested = runtime or os.environ.get(RUNTIME_ENV) or "auto"
    if requested not in RUNTIMES:
        source = "runtime" if runtime else RUNTIME_ENV
        raise ModelLoadError(f"Unknown {source} '{requested}'; choose one of {', '.join(RUNTIMES)}.")
    onnx_fits = device == "cpu" and dtype == "float32"
    if requested == "auto":
        return "onnx" if onnx_fits else "torch"
    if requested == "onnx" and not onnx_fits:
        raise ModelLoadError(
            f"The ONNX runtime encodes in float32 on the CPU; for {dtype} on {device} use the torch runtime."
        )
    return requested


def max_text_tokens(config: PretrainedConfig) -> int:
    """The longest text, in tokens, the model reads."""
    text_config = getattr(config, "text_config", config)
    return int(getattr(text_config, "max_position_embeddings", 77))


class Processor(Protocol):
    """What the code uses of a CLIP-family processor (AutoProcessor's return type is untyped)."""

    tokenizer: PreTrainedTokenizerBase
    image_processor: BaseImageProcessor

    def save_pretrained(self, save_directory: str | os.PathLike[str]) -> object: ...


def tokenize(
    tokenizer: PreTrainedTokenizerBase, model_type: str, max_tokens: int, texts: Sequence[str]
) -> dict[str, torch.Tensor]:
    """Token ids for a batch, truncated to `max_tokens`; padded to the longest text, or to `max_tokens` for the
    families trained with fixed-length text."""
    padding = "max_length" if model_type in _FIXED_LENGTH_TEXT else True
    return tokenizer(list(texts), padding=padding, truncation=True, max_length=max_tokens, return_tensors="pt")


class Encoder:
    """Encodes texts and images with one CLIP-family model (CLIP, SigLIP, ALIGN...) in inference mode.

    Its towers run on ONNX Runtime or PyTorch (`choose_runtime`); tokenising, preprocessing and normalising are
    the same for both.
    """

    def __init__(
        self,
        towers: TorchTowers | OnnxTowers,
        processor: Processor,
        config: PretrainedConfig,
        ref: ModelRef,
        device: str,
        dtype: str,
    ) -> None:
        self.towers = towers
        self.processor = processor
        self.ref = ref
        self.device = device
        self.dtype = dtype
        self.runtime = "onnx" if isinstance(towers, OnnxTowers) else "torch"
        self.model_type = getattr(config, "model_type", "")
        self.max_text_tokens = max_text_tokens(config)
        # A fast tokenizer keeps its truncation and padding settings between calls: one thread counting tokens
        # untruncated while another tokenises a batch would see the other's settings (a lost truncation notice).
        self._tokenizer_lock = threading.Lock()
        self.dim = int(self.encode_text(["dimension probe"]).shape[1])

    @classmethod
    def load(
        cls,
        name: str,
        revision: str | None = None,
        device: str | None = None,
        dtype: str | None = None,
        trust_remote_code: bool = False,
        runtime: str | None = None,
        onnx_export: OnnxExport | None = None,
    ) -> Encoder:
        """Load a model by Hub id or local folder; device, dtype and runtime default sensibly. The ONNX runtime
        uses `onnx_export` (e.g. a bundle's) when it was made from this snapshot, else the cached export of the
        model, made on first use."""
        device = device or default_device()
        dtype = dtype or default_dtype(device)
        if dtype not in DTYPES:
            raise ModelLoadError(f"Unknown dtype '{dtype}'; choose one of {', '.join(DTYPES)}.")
        if dtype == "int8" and not device.startswith("cpu"):
            raise ModelLoadError(f"dtype int8 is for CPU encoding; on {device} use float16 or bfloat16.")
        runtime = choose_runtime(runtime, device, dtype)
        bundled = onnx_export if runtime == "onnx" and onnx_export and onnx_export.matches(name, revision) else None
        ref = resolve_model(name, revision, weights=bundled is None)
        config, processor = _load_processor(ref, trust_remote_code)
        if runtime == "onnx":
            export = bundled or _cached_export(
                ref,
                processor,
                getattr(config, "model_type", ""),
                max_text_tokens(config),
                lambda: _load_model(ref, torch.float32, trust_remote_code),
            )
            towers: TorchTowers | OnnxTowers = OnnxTowers.load(export)
        else:
            model = _load_model(ref, DTYPES[dtype] if dtype != "int8" else torch.float32, trust_remote_code)
            model = model.to(device)
            towers = TorchTowers(quantize_int8(model) if dtype == "int8" else model, device)
        logger.info("Loaded %s (%s) on %s as %s, runtime %s", name, ref.revision or "local", device, dtype, runtime)
        return cls(towers, processor, config, ref, device, dtype)

    @property
    def model(self) -> torch.nn.Module:
        """The PyTorch model (the torch runtime only: training and anything else that needs its parameters)."""
        if not isinstance(self.towers, TorchTowers):
            raise ModelLoadError(
                f"The encoder of '{self.ref.name}' runs on ONNX Runtime and holds no PyTorch model; load it with "
                "runtime='torch' to train or inspect the model."
            )
        return self.towers.model

    @property
    def logit_scale(self) -> float:
        """The model's learned temperature (CLIP's exp(logit_scale)); CLIP's initial 1/0.07 when it has none."""
        return self.towers.logit_scale or 1 / 0.07

    @property
    def tokenizer(self) -> PreTrainedTokenizerBase:
        return self.processor.tokenizer

    @property
    def image_processor(self) -> BaseImageProcessor:
        return self.processor.image_processor

    @functools.cached_property
    def image_edge(self) -> int | None:
        """The short side, in px, the image processor resizes photos to: they are decoded at that size."""
        return processor_edge(self.image_processor)

    def count_tokens(self, text: str) -> int:
        """Number of tokens the text has before truncation, special tokens included."""
        with self._tokenizer_lock:
            return len(self.tokenizer(text, truncation=False)["input_ids"])

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        """Token ids for a batch, truncated to the model's maximum length."""
        with self._tokenizer_lock:
            return tokenize(self.tokenizer, self.model_type, self.max_text_tokens, texts)

    def preprocess(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """Pixel values for a batch of RGB images (resize, crop, normalise)."""
        return self.image_processor(images=list(images), return_tensors="pt")["pixel_values"]

    def encode_text(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 text vectors, one row per text."""
        return normalise(self.towers.text_features(self.tokenize(texts)))

    def encode_pixels(self, pixel_values: torch.Tensor | np.ndarray) -> np.ndarray:
        """L2-normalised float32 image vectors from preprocessed pixel values."""
        return normalise(self.towers.image_features(pixel_values))

    def encode_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """L2-normalised float32 image vectors, one row per RGB image."""
        return self.encode_pixels(self.preprocess(images))


def model_export(name: str, revision: str | None = None, trust_remote_code: bool = False) -> OnnxExport:
    """A model snapshot's ONNX export (cached; made now if missing), where no encoder of it is loaded (e.g. the
    Ray build's driver, whose encoders run on the cluster)."""
    ref = resolve_model(name, revision)
    config, processor = _load_processor(ref, trust_remote_code)
    return _cached_export(
        ref,
        processor,
        getattr(config, "model_type", ""),
        max_text_tokens(config),
        lambda: _load_model(ref, torch.float32, trust_remote_code),
    )


def encoder_export(encoder: Encoder, trust_remote_code: bool = False) -> OnnxExport:
    """The ONNX export of a loaded encoder's snapshot (e.g. to put into a bundle), from what is loaded: the towers
    it runs on (ONNX runtime), else its own float32 CPU model, else the snapshot's float32 weights. The snapshot is
    not resolved nor the processor loaded a second time."""
    if isinstance(encoder.towers, OnnxTowers):
        return encoder.towers.export
    own = encoder.towers.model if encoder.device == "cpu" and encoder.dtype == "float32" else None

    def load_model() -> torch.nn.Module:
        return own if own is not None else _load_model(encoder.ref, torch.float32, trust_remote_code)

    return _cached_export(encoder.ref, encoder.processor, encoder.model_type, encoder.max_text_tokens, load_model)


def _load_processor(ref: ModelRef, trust_remote_code: bool) -> tuple[PretrainedConfig, Processor]:
    """The model's configuration and processor (tokenizer + image processor): all a bundled export needs."""
    try:
        config = AutoConfig.from_pretrained(ref.path, trust_remote_code=trust_remote_code)
        processor = AutoProcessor.from_pretrained(ref.path, trust_remote_code=trust_remote_code)
    except Exception as error:  # transformers raises many types for a folder that is not a model
        raise ModelLoadError(f"Could not load model '{ref.name}' from {ref.path}: {error}") from error
    return config, processor


def _load_model(ref: ModelRef, dtype: torch.dtype, trust_remote_code: bool) -> torch.nn.Module:
    """The PyTorch model in inference mode; refused when it lacks the text and image feature methods."""
    try:
        model = AutoModel.from_pretrained(ref.path, dtype=dtype, trust_remote_code=trust_remote_code)
    except Exception as error:  # transformers raises many types for a folder that is not a model
        raise ModelLoadError(f"Could not load model '{ref.name}' from {ref.path}: {error}") from error
    if not (hasattr(model, "get_text_features") and hasattr(model, "get_image_features")):
        raise ModelLoadError(
            f"Model '{ref.name}' ({type(model).__name__}) does not expose text and image features; "
            "use a CLIP-family checkpoint such as CLIP, SigLIP or ALIGN."
        )
    return model.eval()


def _cached_export(
    ref: ModelRef, processor: Processor, model_type: str, max_tokens: int, load_model: Callable[[], torch.nn.Module]
) -> OnnxExport:
    """The cached ONNX export of this snapshot; `load_model` gives the float32 PyTorch model, called only to make
    it."""
    tokens = tokenize(processor.tokenizer, model_type, max_tokens, _EXAMPLE_TEXTS)
    blank = [Image.new("RGB", (60, 80), colour) for colour in ("white", "navy")]
    pixels = processor.image_processor(images=blank, return_tensors="pt")["pixel_values"]
    return cached_export(ref.name, ref.revision, ref.path, load_model, tokens, pixels)


def quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """PyTorch's dynamic int8 quantisation of every nn.Linear (fbgemm kernels on x86 CPUs)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*deprecated.*", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*deprecated.*", category=UserWarning)
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
