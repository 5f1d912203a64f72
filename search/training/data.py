"""Training data: the held-out split by product, the text fields of a product, and photo/text batches.

Batches are fixed by (seed, epoch) alone — the order, the flips and the texts — so a resumed run sees exactly
the batches an uninterrupted one would, whatever the number of DataLoader workers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
import torch
from PIL import ImageOps
from torch.utils.data import DataLoader, Dataset
from transformers.image_processing_utils import BaseImageProcessor

from search.catalog.images import processor_edge
from search.catalog.schema import ID_COLUMN, NAME_COLUMN, clean_label, label_text
from search.errors import TrainingError
from search.indexing.reader import product_image
from search.training.config import LABELS_FIELD, TextField


@dataclass(frozen=True)
class Split:
    """Catalog row numbers used for training and held out (never trained on), both sorted."""

    train: np.ndarray
    heldout: np.ndarray


def split_rows(table: datasets.Dataset, heldout_share: float, seed: int) -> Split:
    """Hold out about `heldout_share` of the products, chosen by the seed.

    Products that share a name (the catalog lists one article in several sizes or shots under one name) go to
    the same side, so no held-out name query was ever seen as training text.
    """
    names = table[NAME_COLUMN]
    ids = table[ID_COLUMN]
    groups: dict[str, list[int]] = {}
    for row, (name, product_id) in enumerate(zip(names, ids, strict=True)):
        key = clean_label(name).casefold() or f"\0id:{product_id}"
        groups.setdefault(key, []).append(row)
    order = np.random.default_rng(seed).permutation(len(groups))
    keys = sorted(groups)
    wanted = round(heldout_share * len(table))
    heldout: list[int] = []
    for position in order:
        if len(heldout) >= wanted:
            break
        heldout.extend(groups[keys[position]])
    held = np.zeros(len(table), dtype=bool)
    held[heldout] = True
    split = Split(train=np.flatnonzero(~held), heldout=np.flatnonzero(held))
    if len(split.heldout) == 0 or len(split.train) < 2:
        raise TrainingError(
            f"A catalog of {len(table)} products cannot be split into at least 2 training products and a held-out "
            f"share of {heldout_share:g}; use more products (--limit) or another --heldout-share."
        )
    return split


def field_text(record: Mapping[str, object], text_field: TextField) -> str:
    """The product's text for one field; '' when the product lacks it (that term then skips the product)."""
    if text_field.name == LABELS_FIELD:
        return label_text(record)
    return clean_label(record.get(text_field.column))


def unique_texts(texts: Sequence[str], valid: Sequence[bool]) -> tuple[list[str], torch.Tensor]:
    """Distinct non-empty texts of the valid products, and each product's position among them (-1: none).

    A label such as "Tshirts" is shared by many products of a batch: encoded once, it is one text whose
    positives are all of those products (see `loss.info_nce`).
    """
    unique: dict[str, int] = {}
    index = [unique.setdefault(text, len(unique)) if text and ok else -1 for text, ok in zip(texts, valid, strict=True)]
    return list(unique), torch.tensor(index, dtype=torch.long)


@dataclass
class PairBatch:
    """Product photos (preprocessed), their texts per field, and which photos could be read."""

    rows: list[int]
    pixel_values: torch.Tensor
    texts: dict[str, list[str]]
    valid: torch.Tensor

    def pin_memory(self) -> PairBatch:
        """Called by the DataLoader when pinning is on (CUDA): page-locked pixels copy to the GPU asynchronously."""
        self.pixel_values = self.pixel_values.pin_memory()
        return self


class PairSource(Dataset):
    """One epoch's batches of (photo, texts): `__getitems__` reads a batch's rows in one columnar read and
    preprocesses its photos in one image-processor call, inside a DataLoader worker. Photos stored by a relative
    path are read from `root`, the catalog's folder; a product whose photo cannot be read takes no part."""

    def __init__(
        self,
        table: datasets.Dataset,
        fields: Sequence[TextField],
        image_processor: BaseImageProcessor,
        flip: bool,
        seed: int,
        epoch: int,
        root: Path | None = None,
    ) -> None:
        self.table = table
        self.root = root
        self.fields = tuple(fields)
        self.image_processor = image_processor
        self.flip = flip
        self.seed = seed
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.table)

    def __getitems__(self, rows: list[int]) -> PairBatch:
        columns = self.table[rows]
        records = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
        images, valid = [], []
        edge = processor_edge(self.image_processor)
        for row, record in zip(rows, records, strict=True):
            image, problem = product_image(record, self.root, edge)
            if self.flip and np.random.default_rng([self.seed, self.epoch, row]).random() < 0.5:
                image = ImageOps.mirror(image)
            images.append(image)
            valid.append(problem is None)
        pixels = self.image_processor(images=images, return_tensors="pt")["pixel_values"]
        texts = {f.name: [field_text(record, f) for record in records] for f in self.fields}
        return PairBatch(list(rows), pixels, texts, torch.tensor(valid, dtype=torch.bool))


def epoch_batches(rows: Sequence[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """The epoch's batches of catalog rows: a seeded shuffle cut into `batch_size` pieces; a last piece of a
    single product (no negatives to contrast with) joins the one before it."""
    order = np.asarray(rows)[np.random.default_rng([seed, epoch]).permutation(len(rows))].tolist()
    batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    if len(batches) > 1 and len(batches[-1]) == 1:
        batches[-2].extend(batches.pop())
    return batches


def _as_batch(batch: PairBatch) -> PairBatch:
    """`__getitems__` already returns the whole batch (module level, so workers can pickle it)."""
    return batch


def batch_stream(
    source: PairSource, batches: Sequence[Sequence[int]], num_workers: int, pin_memory: bool
) -> Iterator[PairBatch]:
    """The given batches in order, decoded by `num_workers` processes (0: in this process)."""
    loader = DataLoader(
        source,
        batch_sampler=[list(batch) for batch in batches],
        num_workers=num_workers,
        collate_fn=_as_batch,  # type: ignore[arg-type]  # __getitems__ gives it the whole batch, not a list
        pin_memory=pin_memory,
        prefetch_factor=2 if num_workers > 0 else None,
    )
    return iter(loader)
