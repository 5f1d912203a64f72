"""Build stage 2: decode and preprocess the photos of the rows to encode, in DataLoader worker processes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from transformers.image_processing_utils import BaseImageProcessor

from search.catalog.ids import shown
from search.catalog.images import decode_image, processor_edge, read_image_file
from search.catalog.schema import IMAGE_COLUMN
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
    return decoded_photo(*stored_image(row.get(IMAGE_COLUMN), root), edge)


def decoded_photo(data: bytes | None, problem: str | None, edge: int | None = None) -> tuple[Image.Image, str | None]:
    """Stored photo bytes decoded at the model's input size `edge`, or the placeholder and why there is no photo
    (`problem`, or the decoder's)."""
    if data is not None:
        try:
            return decode_image(data, edge), None
        except InvalidImageError as error:
            problem = str(error)
        except MemoryError:
            problem = "there was not enough memory to decode the image"
    return Image.new("RGB", PLACEHOLDER_SIZE, "white"), problem


class CatalogRows(Protocol):
    """What the reader needs of a catalog (search.indexing.source.ScannedCatalog): photo bytes and texts by row."""

    def photo(self, row: int) -> tuple[bytes | None, str | None]: ...

    def texts(self, rows: list[int]) -> list[str]: ...


ProductBatch = tuple[list[int], torch.Tensor, list[str], Unreadable]


class ProductBatchSource(Dataset):
    """Batches of catalog rows as (row numbers, pixel values, product texts, rows whose photo is unreadable).

    The DataLoader calls `__getitems__` once per batch inside a worker: the photos come from the catalog's photo
    files (read once from the catalog, search.indexing.source), the texts in one columnar read, and one
    image-processor call per batch instead of a Python round trip per row.
    """

    def __init__(self, catalog: CatalogRows, rows: Sequence[int], image_processor: BaseImageProcessor) -> None:
        self.catalog = catalog
        self.rows = list(rows)
        self.image_processor = image_processor

    def __len__(self) -> int:
        return len(self.rows)

    def __getitems__(self, positions: list[int]) -> ProductBatch:
        row_numbers = [self.rows[position] for position in positions]
        edge = processor_edge(self.image_processor)
        decoded = [decoded_photo(*self.catalog.photo(row), edge) for row in row_numbers]
        pixels = self.image_processor(images=[image for image, _ in decoded], return_tensors="pt")["pixel_values"]
        unreadable = {row: problem for row, (_, problem) in zip(row_numbers, decoded, strict=True) if problem}
        return row_numbers, pixels, self.catalog.texts(row_numbers), unreadable


def _as_collated(batch: ProductBatch) -> ProductBatch:
    """`__getitems__` already returns a whole batch (a module-level function, so workers can pickle it)."""
    return batch


def batch_loader(
    catalog: CatalogRows,
    rows: Sequence[int],
    image_processor: BaseImageProcessor,
    batch_size: int,
    num_workers: int,
    pin_memory: bool,
) -> DataLoader:
    """Batches in row order (never shuffled, so batch boundaries are the same on every run)."""
    return DataLoader(
        ProductBatchSource(catalog, rows, image_processor),
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=_as_collated,  # type: ignore[arg-type]  # __getitems__ gives it the whole batch, not a list
        pin_memory=pin_memory,
        persistent_workers=False,
        prefetch_factor=4 if num_workers > 0 else None,
    )
