"""Export a CLIP-family model's towers to ONNX once, check them against PyTorch, and cache them on disk.

An export takes ~20 s for ViT-B/32 here and depends on the exact weights and on the exporter (torch,
transformers, onnxscript), so it is cached under a key of the model snapshot and those versions; the build can put
an export into the bundle so a Space never exports at start. Uses `torch.onnx.export(dynamo=True)`: the
torch.export-based exporter that torch ≥ 2.9 defaults to (the TorchScript one is deprecated).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch

from search.encoding.onnx_files import EXPORT_FORMAT, IMAGE_FILE, INFO_FILE, TEXT_FILE, OnnxExport
from search.encoding.onnx_runtime import OnnxTowers
from search.encoding.towers import TEXT_INPUTS, ImageTower, TextTower, logit_scale
from search.encoding.vectors import normalise
from search.errors import ModelLoadError
from search.paths import user_cache_dir

logger = logging.getLogger(__name__)

OPSET = 18
# The exported graph must reproduce PyTorch: the same bound as the tests (cosine per vector).
MIN_COSINE = 0.9999
_EXPORTER_PACKAGES = ("torch", "transformers", "onnx", "onnxscript")


def library_versions() -> dict[str, str]:
    """Versions of the packages that shape an export's graph."""
    versions = {}
    for package in _EXPORTER_PACKAGES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "missing"
    return versions


def weights_fingerprint(folder: Path) -> str:
    """Names, sizes and modification times of a local model's weight files: changes when the weights do."""
    parts = [
        f"{path.name}:{path.stat().st_size}:{path.stat().st_mtime_ns}"
        for path in sorted(folder.iterdir())
        if path.suffix in {".safetensors", ".bin"}
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def export_key(model_id: str, revision: str | None, folder: Path) -> str:
    """Cache key: model id and revision (or the local weight files), exporter versions and this format."""
    snapshot = revision or weights_fingerprint(folder)
    payload = json.dumps([EXPORT_FORMAT, model_id, snapshot, library_versions()], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def export_cache_dir() -> Path:
    """Where exports are cached: <user cache>/onnx."""
    return user_cache_dir() / "onnx"


def cached_export(
    model_id: str,
    revision: str | None,
    folder: Path,
    load_model: Callable[[], torch.nn.Module],
    text_inputs: Mapping[str, torch.Tensor],
    pixel_values: torch.Tensor,
    cache_dir: Path | None = None,
) -> OnnxExport:
    """The cached export of this model snapshot, exporting it first when missing (the model is loaded only then)."""
    target = (cache_dir or export_cache_dir()) / export_key(model_id, revision, folder)
    if (target / INFO_FILE).is_file():
        return OnnxExport.open(target)
    logger.info("Exporting %s to ONNX (once; cached in %s)", model_id, target)
    return export_towers(load_model(), text_inputs, pixel_values, target, model_id, revision)


def export_towers(
    model: torch.nn.Module,
    text_inputs: Mapping[str, torch.Tensor],
    pixel_values: torch.Tensor,
    target: Path,
    model_id: str,
    revision: str | None,
) -> OnnxExport:
    """Export both towers (batch and sequence length dynamic), check them against PyTorch, then move the folder
    into place in one rename, so a reader never sees half an export and a failed check leaves nothing behind.

    The example inputs need a batch of at least 2 and, for the text, more tokens than texts: torch.export
    specialises sizes 0 and 1 and may merge equal ones.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    model = model.float().eval()
    text_names = [name for name in text_inputs if name in TEXT_INPUTS]
    work = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        batch, tokens = torch.export.Dim("batch"), torch.export.Dim("tokens")
        text_example = {name: text_inputs[name] for name in text_names}
        _export(TextTower(model), text_example, {name: {0: batch, 1: tokens} for name in text_names}, work / TEXT_FILE)
        _export(ImageTower(model), {"pixel_values": pixel_values}, {"pixel_values": {0: batch}}, work / IMAGE_FILE)
        info = {
            "format": EXPORT_FORMAT,
            "model": model_id,
            "revision": revision,
            "family": getattr(model.config, "model_type", ""),
            "text_inputs": text_names,
            "logit_scale": logit_scale(model),
            "opset": OPSET,
            "versions": library_versions(),
        }
        (work / INFO_FILE).write_text(json.dumps(info, indent=2))
        _check_against_torch(model, OnnxExport.open(work), text_example, pixel_values)
        try:
            os.replace(work, target)
        except OSError:  # another process finished the same export first: keep theirs
            if not (target / INFO_FILE).is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return OnnxExport.open(target)


def _export(module: torch.nn.Module, inputs: dict[str, torch.Tensor], shapes: dict, path: Path) -> None:
    """One tower to ONNX; the exporter's warnings (about optional operators such as torchvision's) are muted."""
    registry_log = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registry_log.level
    registry_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module.eval(),
                (),
                str(path),
                kwargs=inputs,
                input_names=list(inputs),
                output_names=["features"],
                dynamic_shapes=shapes,
                opset_version=OPSET,
                external_data=True,
                dynamo=True,
                verbose=False,
            )
    finally:
        registry_log.setLevel(level)


def _check_against_torch(
    model: torch.nn.Module, export: OnnxExport, text_inputs: dict[str, torch.Tensor], pixel_values: torch.Tensor
) -> None:
    """Refuse an export whose towers do not reproduce PyTorch on the example inputs."""
    towers = OnnxTowers.load(export, threads=1)
    with torch.inference_mode():
        expected_text = TextTower(model)(**text_inputs).numpy()
        expected_image = ImageTower(model)(pixel_values).numpy()
    got_text = towers.text_features({name: tensor.numpy() for name, tensor in text_inputs.items()})
    got_image = towers.image_features(pixel_values.numpy())
    for tower, expected, got in (("text", expected_text, got_text), ("image", expected_image, got_image)):
        worst = float((normalise(expected) * normalise(got)).sum(axis=1).min())
        if not worst >= MIN_COSINE:
            raise ModelLoadError(
                f"The ONNX export of the {tower} tower does not reproduce PyTorch (cosine {worst:.6f} < {MIN_COSINE}); "
                "use the PyTorch runtime for this model (SEARCH_RUNTIME=torch)."
            )
