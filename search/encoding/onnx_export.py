"""Export a CLIP-family model's towers to ONNX once, check them against PyTorch, and cache them on disk.

An export takes ~20 s for ViT-B/32 here and depends on the exact weights and on the exporter (torch,
transformers, onnxscript), so it is cached under a key of the model's content and those versions; the build can put
an export into the bundle so a Space never exports at start. Uses `torch.onnx.export(dynamo=True)`: the
torch.export-based exporter that torch ≥ 2.9 defaults to (the TorchScript one is deprecated).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch

from search.encoding.onnx_files import EXPORT_FORMAT, IMAGE_FILE, INFO_FILE, TEXT_FILE, OnnxExport, copy_export
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
_WEIGHT_SUFFIXES = {".safetensors", ".bin"}
# The loggers of torch.onnx.export(dynamo=True) and of the onnxscript / onnx_ir passes it runs.
_EXPORTER_LOGGERS = ("torch.onnx", "onnxscript", "onnx_ir")


def library_versions() -> dict[str, str]:
    """Versions of the packages that shape an export's graph, without local build labels ("2.13.0+cpu" and a
    CUDA wheel's "2.13.0" export the same graph)."""
    versions = {}
    for package in _EXPORTER_PACKAGES:
        try:
            versions[package] = version(package).split("+")[0]
        except PackageNotFoundError:
            versions[package] = "missing"
    return versions


def model_digest(folder: Path) -> str:
    """SHA-256 over the model's configuration and weight files (names and contents): the same model gives the same
    digest whatever path names it (relative, absolute, a copy, a Hub snapshot). A Hub snapshot's large files link to
    blobs named by their own SHA-256, which is taken as is instead of reading the file again."""
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.suffix in _WEIGHT_SUFFIXES or path.name == "config.json":
            digest.update(f"{path.name}\0{_file_sha256(path)}\n".encode())
    return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    blob = path.resolve().name
    if path.is_symlink() and re.fullmatch(r"[0-9a-f]{64}", blob):
        return blob
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def export_key(folder: Path) -> str:
    """Cache key: the model's content (not its name or path), the exporter's versions and this format."""
    payload = json.dumps([EXPORT_FORMAT, model_digest(folder), library_versions()], sort_keys=True)
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
    """The cached export of this model's content, exporting it first when missing (the model is loaded only then)."""
    target = (cache_dir or export_cache_dir()) / export_key(folder)
    if (target / INFO_FILE).is_file():
        return OnnxExport.open(target).named(model_id, revision)
    logger.info("Exporting %s to ONNX (once; cached in %s)", model_id, target)
    return export_towers(load_model(), text_inputs, pixel_values, target, model_id, revision).named(model_id, revision)


def adopt_export(source: Path, model_folder: Path, cache_dir: Path | None = None) -> bool:
    """Put a shipped export of the model in `model_folder` (e.g. the demo model's onnx/) into the cache, so that it
    is not exported again; refused (False: the model is exported as usual) when made by other exporter versions."""
    target = (cache_dir or export_cache_dir()) / export_key(model_folder)
    if (target / INFO_FILE).is_file():
        return True
    export = OnnxExport.open(source)
    if export.info.get("versions") != library_versions():
        logger.info("The export in %s was made by other library versions; exporting %s again.", source, model_folder)
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        copy_export(export, work)
        os.replace(work, target)
    except OSError:  # another process adopted it first: keep theirs
        if not (target / INFO_FILE).is_file():
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return True


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
    """One tower to ONNX. The exporter's INFO lines (≈ 250 per tower: every optimiser pass) and warnings (about
    optional operators such as torchvision's) are muted unless this module logs at DEBUG (--verbose)."""
    with _exporter_quiet(not logger.isEnabledFor(logging.DEBUG)), warnings.catch_warnings():
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


@contextmanager
def _exporter_quiet(quiet: bool) -> Iterator[None]:
    """The exporter's loggers at ERROR for the duration (when `quiet`), their own levels restored after."""
    loggers = [logging.getLogger(name) for name in _EXPORTER_LOGGERS]
    levels = [log.level for log in loggers]
    if quiet:
        for log in loggers:
            log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for log, level in zip(loggers, levels, strict=True):
            log.setLevel(level)


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
