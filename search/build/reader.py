"""Build stage 1: read catalog rows, decode and preprocess images in DataLoader worker processes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import datasets
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from search.catalog import IMAGE_COLUMN, product_text
from search.errors import InvalidImageError
from search.images import decode_image

logger = logging.getLogger(__name__)

PLACEHOLDER_SIZE = (60, 80)


def product_image(row: dict[str, Any]) -> tuple[Image.Image, bool]:
    """The row's decoded image, or a white placeholder (and False) when it is missing or unreadable."""
    data = (row.get(IMAGE_COLUMN) or {}).get("bytes")
    if data:
        try:
            return decode_image(data), True
        except InvalidImageError as error:
            logger.warning("Product %s: %s Using a blank image.", row.get("id"), error)
    return Image.new("RGB", PLACEHOLDER_SIZE, "white"), False


ProductBatch = tuple[list[int], torch.Tensor, list[str], int]


class ProductBatchSource(Dataset):
    """Batches of catalog rows as (row numbers, pixel values, product texts, unreadable image count).

    The DataLoader calls `__getitems__` once per batch inside a worker: one columnar read of the rows and one
    image-processor call per batch instead of a Python round trip per row.
    """

    def __init__(self, table: datasets.Dataset, rows: Sequence[int], image_processor: Any) -> None:
        self.table = table
        self.rows = list(rows)
        self.image_processor = image_processor

    def __len__(self) -> int:
        return len(self.rows)

    def __getitems__(self, positions: list[int]) -> ProductBatch:
        row_numbers = [self.rows[position] for position in positions]
        columns = self.table[row_numbers]
        records = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
        decoded = [product_image(record) for record in records]
        pixels = self.image_processor(images=[image for image, _ in decoded], return_tensors="pt")["pixel_values"]
        bad = sum(1 for _, ok in decoded if not ok)
        return row_numbers, pixels, [product_text(record) for record in records], bad


def _as_collated(batch: ProductBatch) -> ProductBatch:
    """`__getitems__` already returns a whole batch (a module-level function, so workers can pickle it)."""
    return batch


def batch_loader(
    table: datasets.Dataset,
    rows: Sequence[int],
    image_processor: Any,
    batch_size: int,
    num_workers: int,
    pin_memory: bool,
) -> DataLoader:
    """Batches in row order (never shuffled, so batch boundaries are the same on every run)."""
    return DataLoader(
        ProductBatchSource(table, rows, image_processor),
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=_as_collated,
        pin_memory=pin_memory,
        persistent_workers=False,
        prefetch_factor=4 if num_workers > 0 else None,
    )
