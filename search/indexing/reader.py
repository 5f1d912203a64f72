"""Build stage 1: read catalog rows, decode and preprocess images in DataLoader worker processes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import datasets
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from transformers.image_processing_utils import BaseImageProcessor

from search.catalog.ids import shown
from search.catalog.images import decode_image, processor_edge, read_image_file
from search.catalog.schema import IMAGE_COLUMN, product_text
from search.errors import InvalidImageError

PLACEHOLDER_SIZE = (60, 80)
# What a batch reports for the rows whose photo could not be read: row number → the reason, in words.
Unreadable = dict[int, str]


def stored_image(cell: object, root: Path | None) -> tuple[bytes | None, str | None]:
    """The encoded photo of a catalog row, or None and why there is none: the stored bytes, else the file the
    row's path names inside the dataset's folder `root` (see `catalog_file`)."""
    if not isinstance(cell, dict):
        return None, "no image"
    data = cell.get("bytes")
    if data:
        return bytes(data), None
    if data is not None:
        return None, "the image is empty (0 bytes)"
    name = cell.get("path")
    if not name:
        return None, "no image"
    try:
        return read_image_file(catalog_file(name, root), shown(name, quoted=False)), None
    except InvalidImageError as error:
        return None, str(error)


def catalog_file(name: object, root: Path | None) -> Path:
    """The file an image path of the catalog names, confined to the dataset's folder: the path must be relative,
    without '..', and lead (symbolic links followed) to a file inside `root`. A catalog only names its own photos;
    otherwise a catalog could copy any file the build can read (a key, /etc/shadow) into the bundle, which the app
    serves and --push-to uploads. A Hub dataset has no folder (`root` None): its photos must be stored as bytes."""
    if not isinstance(name, str) or "\0" in name:
        raise InvalidImageError(f"The image path {shown(name)} is not a file name.")
    path, label = Path(name), shown(name)
    if path.is_absolute():
        raise InvalidImageError(
            f"The image path {label} is absolute: a catalog names its photos relative to the dataset's folder."
        )
    if ".." in path.parts:
        raise InvalidImageError(
            f"The image path {label} has '..': a catalog names only photos inside the dataset's folder."
        )
    if root is None:
        raise InvalidImageError(
            f"The image path {label} is relative, but the dataset is not a local folder: store the photos' bytes."
        )
    base = root.resolve()
    try:
        resolved = (base / path).resolve()
    except (OSError, RuntimeError) as error:  # a loop of symbolic links
        raise InvalidImageError(f"The image path {label} cannot be followed ({error}).") from error
    if not resolved.is_relative_to(base):
        raise InvalidImageError(f"The image path {label} leads outside the dataset's folder (a symbolic link).")
    return resolved


def product_image(
    row: dict[str, Any], root: Path | None = None, edge: int | None = None
) -> tuple[Image.Image, str | None]:
    """The row's photo decoded at the model's input size `edge`, and None; when it has none that can be read, a
    white placeholder and the reason. The placeholder only fills the batch: the build keeps such products out of
    the vector search, so one bad photo never stops a build."""
    data, problem = stored_image(row.get(IMAGE_COLUMN), root)
    if data is not None:
        try:
            return decode_image(data, edge), None
        except InvalidImageError as error:
            problem = str(error)
        except MemoryError:
            problem = "there was not enough memory to decode the image"
    return Image.new("RGB", PLACEHOLDER_SIZE, "white"), problem


ProductBatch = tuple[list[int], torch.Tensor, list[str], Unreadable]


class ProductBatchSource(Dataset):
    """Batches of catalog rows as (row numbers, pixel values, product texts, rows whose photo is unreadable).

    The DataLoader calls `__getitems__` once per batch inside a worker: one columnar read of the rows and one
    image-processor call per batch instead of a Python round trip per row.
    """

    def __init__(
        self,
        table: datasets.Dataset,
        rows: Sequence[int],
        image_processor: BaseImageProcessor,
        root: Path | None = None,
    ) -> None:
        self.table = table
        self.rows = list(rows)
        self.image_processor = image_processor
        self.root = root

    def __len__(self) -> int:
        return len(self.rows)

    def __getitems__(self, positions: list[int]) -> ProductBatch:
        row_numbers = [self.rows[position] for position in positions]
        columns = self.table[row_numbers]
        records = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
        edge = processor_edge(self.image_processor)
        decoded = [product_image(record, self.root, edge) for record in records]
        pixels = self.image_processor(images=[image for image, _ in decoded], return_tensors="pt")["pixel_values"]
        unreadable = {row: problem for row, (_, problem) in zip(row_numbers, decoded, strict=True) if problem}
        return row_numbers, pixels, [product_text(record) for record in records], unreadable


def _as_collated(batch: ProductBatch) -> ProductBatch:
    """`__getitems__` already returns a whole batch (a module-level function, so workers can pickle it)."""
    return batch


def batch_loader(
    table: datasets.Dataset,
    rows: Sequence[int],
    image_processor: BaseImageProcessor,
    batch_size: int,
    num_workers: int,
    pin_memory: bool,
    root: Path | None = None,
) -> DataLoader:
    """Batches in row order (never shuffled, so batch boundaries are the same on every run)."""
    return DataLoader(
        ProductBatchSource(table, rows, image_processor, root),
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=_as_collated,  # type: ignore[arg-type]  # __getitems__ gives it the whole batch, not a list
        pin_memory=pin_memory,
        persistent_workers=False,
        prefetch_factor=4 if num_workers > 0 else None,
    )
