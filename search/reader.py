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


class ProductBatchSource(Dataset):
    """Rows of the catalog as (row number, pixel values, product text, image ok); runs inside workers."""

    def __init__(self, table: datasets.Dataset, rows: Sequence[int], image_processor: Any) -> None:
        self.table = table
        self.rows = list(rows)
        self.image_processor = image_processor

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, position: int) -> tuple[int, torch.Tensor, str, bool]:
        row_number = self.rows[position]
        row = self.table[row_number]
        image, ok = product_image(row)
        pixels = self.image_processor(images=[image], return_tensors="pt")["pixel_values"][0]
        return row_number, pixels, product_text(row), ok


def _collate(items: list[tuple[int, torch.Tensor, str, bool]]) -> tuple[list[int], torch.Tensor, list[str], int]:
    rows, pixels, texts, oks = zip(*items, strict=True)
    return list(rows), torch.stack(pixels), list(texts), sum(1 for ok in oks if not ok)


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
        collate_fn=_collate,
        pin_memory=pin_memory,
        persistent_workers=False,
        prefetch_factor=4 if num_workers > 0 else None,
    )
