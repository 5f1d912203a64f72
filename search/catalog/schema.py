"""The product catalog: loading, schema validation and the text that describes a product."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import huggingface_hub
import pyarrow.parquet as pq

from search.catalog.ids import MAX_LISTED, id_problems
from search.catalog.values import image_problems, value_problems
from search.errors import CatalogError

logger = logging.getLogger(__name__)

DEFAULT_DATASET = "ashraq/fashion-product-images-small"

# Columns of ashraq/fashion-product-images-small, in its order.
ID_COLUMN = "id"
NAME_COLUMN = "productDisplayName"
IMAGE_COLUMN = "image"
LABEL_COLUMNS = ("gender", "masterCategory", "subCategory", "articleType", "baseColour", "season", "usage")
YEAR_COLUMN = "year"
CATALOG_COLUMNS = (
    ID_COLUMN,
    "gender",
    "masterCategory",
    "subCategory",
    "articleType",
    "baseColour",
    "season",
    YEAR_COLUMN,
    "usage",
    NAME_COLUMN,
    IMAGE_COLUMN,
)
METADATA_COLUMNS = (ID_COLUMN, *LABEL_COLUMNS, YEAR_COLUMN, NAME_COLUMN)
LABEL_TEXT_COLUMNS = ("gender", "baseColour", "articleType")
HF_SCHEME = "hf://"


@dataclass(frozen=True)
class CatalogSource:
    """Where a catalog comes from, as recorded in a bundle's manifest."""

    dataset: str
    split: str
    revision: str | None
    num_rows: int
    root: Path | None = None  # the local folder that relative image paths are read from

    def describe(self) -> dict[str, object]:
        """The bundle manifest's dataset section as far as the catalog knows it (where it comes from, its size)."""
        return {"id": self.dataset, "revision": self.revision, "split": self.split, "num_rows": self.num_rows}


def validate_columns(columns: list[str]) -> None:
    """Refuse a table that lacks any column of the catalog schema, naming the missing ones."""
    missing = [name for name in CATALOG_COLUMNS if name not in columns]
    if missing:
        raise CatalogError(
            f"The dataset is missing column(s) {', '.join(missing)}. Expected the schema of "
            f"{DEFAULT_DATASET}: {', '.join(CATALOG_COLUMNS)}; found: {', '.join(columns) or 'no columns'}."
        )


def clean_label(value: object) -> str:
    """A metadata label as a stripped string; missing values (None, NaN) become ''."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def clean_year(value: Any) -> int | None:
    """The year as an int, or None when missing or not a number."""
    try:
        year = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(year) else int(year)


def label_text(row: Mapping[str, object]) -> str:
    """The labels a shopper would type for the product ("Men Navy Blue Tshirts"); '' when it has none."""
    return " ".join(word for word in (clean_label(row.get(column)) for column in LABEL_TEXT_COLUMNS) if word)


def product_text(row: Mapping[str, object]) -> str:
    """Text that describes a product to the text encoder: its name, else its labels."""
    return clean_label(row.get(NAME_COLUMN)) or label_text(row) or "product"


def _is_saved_dataset(path: Path) -> bool:
    return (path / "dataset_dict.json").exists() or (path / "state.json").exists()


def local_parquet_files(path: Path) -> list[str] | None:
    """A local catalog's parquet files in the order they are loaded; None for a save_to_disk folder (Arrow files).
    The Ray build reads the same files in the same order."""
    if _is_saved_dataset(path):
        return None
    if path.is_file():
        return [str(path)] if path.suffix == ".parquet" else []
    return sorted(str(p) for p in path.rglob("*.parquet"))


def parquet_files(source: str, split: str, revision: str | None) -> tuple[list[str], Any] | None:
    """The catalog's parquet files in the order `load_catalog` loads them, and the filesystem that reads them (None:
    local or shared paths), for readers other than `datasets` (the Ray build's cluster); None when the catalog is not
    stored as parquet (a save_to_disk folder)."""
    path = Path(source).expanduser()
    if path.exists():
        files = local_parquet_files(path)
        return (files, None) if files else None
    builder = datasets.load_dataset_builder(source, revision=revision)
    files = [str(file) for file in (builder.config.data_files or {}).get(split, [])]
    if not files or not all(file.startswith(HF_SCHEME) and file.endswith(".parquet") for file in files):
        return None
    return [file.removeprefix(HF_SCHEME) for file in files], huggingface_hub.HfFileSystem()


def _load_local(path: Path, split: str) -> datasets.Dataset:
    files = local_parquet_files(path)
    if files is None:
        if _saved_without_rows(path, split):
            raise CatalogError(f"Dataset '{path}' (split '{split}') has no rows.")
        loaded = datasets.load_from_disk(str(path))
        if isinstance(loaded, datasets.DatasetDict):
            if split not in loaded:
                raise CatalogError(f"Split '{split}' not in {path}; available: {', '.join(loaded)}.")
            return loaded[split]
        return loaded
    if not files:
        raise CatalogError(
            f"No dataset found in {path}: expected parquet files or a folder written by Dataset.save_to_disk."
        )
    if sum(pq.ParquetFile(file).metadata.num_rows for file in files) == 0:
        raise CatalogError(f"Dataset '{path}' (split '{split}') has no rows: its parquet files are empty.")
    return datasets.load_dataset("parquet", data_files={split: files}, split=split)


def _saved_without_rows(path: Path, split: str) -> bool:
    """Whether a save_to_disk folder holds no data files (datasets saves an empty table as none, then cannot
    load it)."""
    state = path / split / "state.json" if (path / "dataset_dict.json").exists() else path / "state.json"
    try:
        return json.loads(state.read_text())["_data_files"] == []
    except (OSError, ValueError, KeyError, TypeError):
        return False


def check_product_ids(table: datasets.Dataset) -> None:
    """Refuse missing, non-whole and repeated product ids, naming the rows, before anything is encoded: every part
    of a bundle finds a product by its id, and a bundle with bad ids would not load."""
    values = table.select_columns([ID_COLUMN]).with_format("arrow")[:][ID_COLUMN].to_pylist()
    listed, total = id_problems(values)
    if total:
        more = f"; and {total - len(listed)} more" if total > len(listed) else ""
        raise CatalogError(
            f"Product ids must be present, whole numbers and unique; {total} problem(s) in the catalog (rows "
            f"counted from 0): {'; '.join(listed)}{more}. Fix these rows and build again."
        )


def check_catalog_values(table: datasets.Dataset) -> None:
    """Refuse photos, labels, names and years the products table cannot hold as they are (search.catalog.values), naming
    the column and row of each, before anything is encoded."""
    columns = table.select_columns([*LABEL_COLUMNS, NAME_COLUMN, YEAR_COLUMN, IMAGE_COLUMN]).with_format("arrow")[:]
    listed, total = image_problems(IMAGE_COLUMN, columns[IMAGE_COLUMN])
    for name in (*LABEL_COLUMNS, NAME_COLUMN, YEAR_COLUMN):
        found, count = value_problems(name, columns[name], year=name == YEAR_COLUMN)
        listed += found
        total += count
    if total:
        more = f"; and {total - MAX_LISTED} more" if total > MAX_LISTED else ""
        raise CatalogError(
            f"Photos must be bytes or paths, labels and names text, years whole numbers; {total} problem(s) in "
            f"the catalog (rows "
            f"counted from 0): {'; '.join(listed[:MAX_LISTED])}{more}. Fix these rows and build again."
        )


def load_catalog(
    source: str = DEFAULT_DATASET, split: str = "train", revision: str | None = None, limit: int | None = None
) -> tuple[datasets.Dataset, CatalogSource]:
    """Load the catalog from a Hub dataset id or a local folder, validated, images left undecoded.

    Images stay as encoded bytes so they can be decoded in worker processes and stored as they are.
    """
    path = Path(source).expanduser()
    try:
        if path.exists():
            table = _load_local(path, split)
            resolved_revision = None
        else:
            _check_hub_schema(source, revision)
            table = datasets.load_dataset(source, split=split, revision=revision)
            resolved_revision = _hub_dataset_sha(source, revision) or revision
    except CatalogError:
        raise
    except Exception as error:  # datasets raises many types for an unreachable Hub or a bad id
        raise CatalogError(
            f"Could not load dataset '{source}' (split '{split}'): {error}. Give a Hub dataset id that can be "
            "reached, or a local folder of parquet files / save_to_disk output."
        ) from error
    validate_columns(table.column_names)
    if limit is not None:
        if limit < 1:
            raise CatalogError(f"--limit must be at least 1, got {limit}.")
        table = table.select(range(min(limit, len(table))))
    if len(table) == 0:
        raise CatalogError(f"Dataset '{source}' (split '{split}') has no rows.")
    check_product_ids(table)
    check_catalog_values(table)
    table = table.cast_column(IMAGE_COLUMN, datasets.Image(decode=False))
    logger.info("Loaded %d products from %s (split %s)", len(table), source, split)
    root = (path if path.is_dir() else path.parent).resolve() if path.exists() else None
    return table, CatalogSource(source, split, resolved_revision, len(table), root)


def _check_hub_schema(source: str, revision: str | None) -> None:
    """Validate a Hub dataset's declared features before downloading its data files, when it declares them."""
    features = datasets.load_dataset_builder(source, revision=revision).info.features
    if features is not None:
        validate_columns(list(features))


def _hub_dataset_sha(repo_id: str, revision: str | None) -> str | None:
    """The commit sha a Hub dataset revision resolves to, or None when the Hub cannot be asked."""
    try:
        return huggingface_hub.HfApi().dataset_info(repo_id, revision=revision).sha
    except Exception as error:  # offline mode or no network: the given revision is recorded instead
        logger.warning("Could not resolve the dataset revision on the Hub (%s); recording %s", error, revision)
        return None
