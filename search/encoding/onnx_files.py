"""The on-disk format of an ONNX export: a folder with the two towers and export.json saying what they came from.

Its own module so that the runtime (which opens exports) and the exporter (which writes and checks them) both depend
on it and not on each other.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from search.errors import ModelLoadError

EXPORT_FORMAT = 2  # 2: records the model's logit_scale
TEXT_FILE = "text.onnx"
IMAGE_FILE = "image.onnx"
INFO_FILE = "export.json"
BUNDLE_FOLDER = "onnx"  # where a bundle keeps the towers of its model


@dataclass(frozen=True)
class OnnxExport:
    """A folder holding the two exported towers and what they were exported from (export.json)."""

    folder: Path
    info: dict[str, Any]

    @property
    def text_path(self) -> Path:
        return self.folder / TEXT_FILE

    @property
    def image_path(self) -> Path:
        return self.folder / IMAGE_FILE

    @property
    def text_inputs(self) -> list[str]:
        return list(self.info["text_inputs"])

    @classmethod
    def open(cls, folder: Path) -> OnnxExport:
        """Read an export folder; a missing file or an unknown format is a clear ModelLoadError."""
        folder = Path(folder)
        try:
            info = json.loads((folder / INFO_FILE).read_text())
        except (OSError, ValueError) as error:
            raise ModelLoadError(f"{folder} is not an ONNX export ({INFO_FILE} unreadable: {error}).") from error
        if not isinstance(info, dict) or info.get("format") != EXPORT_FORMAT:
            raise ModelLoadError(f"{folder / INFO_FILE} is not an ONNX export of format {EXPORT_FORMAT}.")
        if not isinstance(info.get("text_inputs"), list) or not info["text_inputs"]:
            raise ModelLoadError(f"{folder / INFO_FILE} lists no text input of the text tower.")
        missing = [name for name in (TEXT_FILE, IMAGE_FILE) if not (folder / name).is_file()]
        if missing:
            raise ModelLoadError(f"The ONNX export in {folder} lacks {', '.join(missing)}.")
        return cls(folder, info)

    def matches(self, model_id: str, revision: str | None) -> bool:
        """Whether this export was made from that model snapshot."""
        return self.info.get("model") == model_id and self.info.get("revision") == revision

    def named(self, model_id: str, revision: str | None) -> OnnxExport:
        """The same towers described as exported from `model_id` at `revision`: the export cache is keyed by the
        model's content, so one export serves every name and path of the same model."""
        return replace(self, info={**self.info, "model": model_id, "revision": revision})

    def describe(self) -> dict[str, Any]:
        """The manifest's section for these towers stored in a bundle (BUNDLE_FOLDER): what they came from."""
        info = self.info
        return {
            "folder": BUNDLE_FOLDER,
            "model": info["model"],
            "revision": info["revision"],
            "text_inputs": list(info["text_inputs"]),
            "opset": info["opset"],
            "format": info["format"],
        }

    def save(self, folder: Path) -> None:
        """Copy the export's files into its own folder (BUNDLE_FOLDER) of the bundle folder `folder`."""
        copy_export(self, Path(folder) / BUNDLE_FOLDER)


def copy_export(export: OnnxExport, folder: Path) -> None:
    """Copy an export's towers into `folder` (e.g. a bundle component), with its description as named."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in export.folder.iterdir():
        if path.name != INFO_FILE:
            shutil.copy2(path, folder / path.name)
    (folder / INFO_FILE).write_text(json.dumps(export.info, indent=2))
