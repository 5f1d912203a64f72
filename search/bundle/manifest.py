"""The bundle manifest: a typed record of how a bundle was built, validated field by field when it is read.

The manifest crosses a trust boundary (build → Hub → app), so it is parsed strictly: every field's presence, type
and range, with no coercion ("3" is not a dimension) and no unknown fields. A malformed or lying manifest becomes a
BundleError naming the field, never a KeyError deep inside the engine.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic.dataclasses import dataclass

from search.errors import BundleError, BundleMismatchError
from search.ranking.analysis import AnalyzerName
from search.ranking.index import IndexType
from search.understanding.vocabulary import VocabularyInfo
from search.version import __version__

FORMAT_VERSION = 1
PROBE_TEXT = "a photo of a fashion product"

# Lax when code builds a manifest (a list becomes a tuple), strict when a file is read (see Manifest.from_json).
_STRICT = ConfigDict(extra="forbid", frozen=True)
Positive = Annotated[int, Field(ge=1)]
Count = Annotated[int, Field(ge=0)]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
Text = Annotated[str, Field(min_length=1)]


def relative_path(value: str) -> str:
    """A path inside the bundle: relative, POSIX, no '..' and no empty parts, so no file outside it is ever read."""
    path = PurePosixPath(value)
    if not value or path.is_absolute() or "\\" in value or any(part in ("..", ".", "") for part in value.split("/")):
        raise ValueError(f"must be a relative path inside the bundle, got {value!r}")
    return value


# A path inside the bundle, checked wherever the manifest names one (component folders, file names).
BundlePath = Annotated[str, AfterValidator(relative_path)]


@dataclass(config=_STRICT)
class Probe:
    """A fixed text and the vector the build's encoder gave it: a different model cannot reproduce it."""

    text: Text
    vector: tuple[float, ...]

    @field_validator("vector")
    @classmethod
    def _finite(cls, vector: tuple[float, ...]) -> tuple[float, ...]:
        if not vector or not all(math.isfinite(value) for value in vector):
            raise ValueError("must be a non-empty list of finite numbers")
        return vector


@dataclass(config=_STRICT)
class ModelInfo:
    """The encoder the vectors come from; the app loads exactly this model."""

    id: Text
    revision: str | None
    dim: Positive
    probe: Probe
    family: str = ""
    build_device: str = ""
    build_dtype: str = ""

    @model_validator(mode="after")
    def _probe_has_dim(self) -> ModelInfo:
        if len(self.probe.vector) != self.dim:
            raise ValueError(f"probe.vector has {len(self.probe.vector)} values but dim is {self.dim}")
        return self


@dataclass(config=_STRICT)
class DatasetInfo:
    """Where the products come from; `num_rows` is the number of products in every part of the bundle."""

    id: Text
    revision: str | None
    split: Text
    num_rows: Positive
    unreadable_images: Count = 0


@dataclass(config=_STRICT)
class IndexInfo:
    """The FAISS index: its type and parameters, and what a product vector is (see search.encoding.vectors.mix)."""

    type: IndexType
    metric: Literal["inner_product"]
    params: dict[str, Positive]
    document: Text = "image"
    doc_image_weight: Share = 1.0
    # Rows whose product has no vector (its photo could not be read at build time): never returned by a dense
    # search, found by keywords and filters only.
    rows_without_vectors: tuple[Count, ...] = ()

    @field_validator("rows_without_vectors")
    @classmethod
    def _increasing(cls, rows: tuple[int, ...]) -> tuple[int, ...]:
        if any(later <= earlier for earlier, later in itertools.pairwise(rows)):
            raise ValueError("must list each row once, in increasing order")
        return rows


@dataclass(config=_STRICT)
class KeywordInfo:
    """The BM25 keyword index's folder and the text analysis it was built with (queries must use the same)."""

    folder: BundlePath
    library: Literal["bm25s"]
    fields: tuple[Text, ...]
    method: Text
    k1: Annotated[float, Field(gt=0.0)]
    b: Share
    lower: bool
    token_pattern: Text
    stopwords: str | None
    stemmer: str | None
    num_docs: Positive
    vocabulary_size: Count
    library_version: str = ""
    # search.ranking.analysis; None for a bundle built before it, whose queries are tokenized as its products were.
    analyzer: AnalyzerName | None = None


@dataclass(config=_STRICT)
class PhotosInfo:
    """Product photos kept out of the products table (large catalogs): Arrow IPC files in `folder`, `rows_per_file`
    rows each, in row order (search.catalog.photos)."""

    folder: BundlePath
    files: Positive
    rows_per_file: Positive


@dataclass(config=_STRICT)
class OnnxInfo:
    """The model's two towers exported to ONNX (see search.encoding.onnx_export), so the app's CPU runtime needs no
    export and no PyTorch weights at start; they must come from the manifest's model snapshot."""

    folder: BundlePath
    model: Text
    revision: str | None
    text_inputs: tuple[Text, ...]
    opset: Positive
    format: Positive


@dataclass(config=_STRICT)
class Components:
    """Optional parts of a bundle next to the vector index; a bundle without one still serves dense search."""

    keyword: KeywordInfo | None = None
    photos: PhotosInfo | None = None
    onnx: OnnxInfo | None = None
    # The catalog's vocabulary for reading queries (search.understanding); None for a bundle built before it, whose
    # queries are searched as typed.
    vocabulary: VocabularyInfo | None = None

    @model_serializer(mode="wrap")
    def _without_absent_parts(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Absent optional parts are left out, so a bundle without them is written exactly as before they existed
        and older code still reads it."""
        data = handler(self)
        for name in ("photos", "onnx", "vocabulary"):
            if data.get(name) is None:
                data.pop(name, None)
        return data


@dataclass(config=_STRICT)
class FileInfo:
    """Size and checksum of one bundle file, checked on load."""

    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    bytes: Count


@dataclass(config=_STRICT)
class Manifest:
    """Everything about how a bundle was built: the single source of truth for the code that loads it."""

    model: ModelInfo
    dataset: DatasetInfo
    index: IndexInfo
    components: Components = Field(default_factory=Components)
    files: dict[BundlePath, FileInfo] = Field(default_factory=dict)
    format_version: Annotated[int, Field(ge=1, le=FORMAT_VERSION)] = FORMAT_VERSION
    created_at: Text = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    code_version: Text = __version__

    @model_validator(mode="after")
    def _rows_in_catalog(self) -> Manifest:
        rows = self.index.rows_without_vectors
        if rows and rows[-1] >= self.dataset.num_rows:
            raise ValueError(
                f"index.rows_without_vectors names row {rows[-1]}, but dataset.num_rows is {self.dataset.num_rows}"
            )
        return self

    @property
    def dim(self) -> int:
        return self.model.dim

    def with_files(self, files: dict[str, FileInfo]) -> Manifest:
        return replace(self, files=files)

    def to_json(self) -> str:
        return _ADAPTER.dump_json(self, indent=2).decode("utf-8")

    @classmethod
    def from_json(cls, text: str | bytes) -> Manifest:
        """Parse and validate; the format version is checked first so a newer bundle says so plainly."""
        _check_format_version(text)
        try:
            return _ADAPTER.validate_json(text, strict=True)
        except ValidationError as error:
            raise BundleError(f"The bundle manifest is invalid: {describe(error)}") from error


_ADAPTER = TypeAdapter(Manifest)


def _check_format_version(text: str | bytes) -> None:
    try:
        version = TypeAdapter(dict).validate_json(text).get("format_version")
    except ValidationError as error:
        raise BundleError(f"The bundle manifest is not a JSON object: {describe(error)}") from error
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise BundleError(
            f"This bundle uses format version {version}, newer than the {FORMAT_VERSION} this code reads. "
            "Upgrade this project, or rebuild the bundle with this version of index_build.py."
        )


def describe(error: ValidationError, limit: int = 5) -> str:
    """Pydantic's errors as "field.path: message (got value)" lines, the first `limit` of them."""
    parts = []
    for item in error.errors()[:limit]:
        where = ".".join(str(part) for part in item["loc"]) or "(the whole file)"
        shown = repr(item.get("input"))
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" + ("" if item["type"] == "missing" else f" (got {shown})"))
    more = len(error.errors()) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


# Cosine between the probe vector stored at build time and the one the loading encoder gives; fp16 GPU builds
# and fp32 CPU serving agree far above this, a different model falls far below it.
PROBE_MIN_COSINE = 0.98


def check_encoder_matches(model: ModelInfo, name: str, dim: int, probe_vector: np.ndarray) -> None:
    """Refuse an encoder that is not the one the bundle was built with, saying what differs."""
    if dim != model.dim:
        raise BundleMismatchError(
            f"Embedding dimension mismatch: the bundle holds {model.dim}-d vectors from '{model.id}', "
            f"the encoder '{name}' gives {dim}-d vectors. Use the bundle's model or rebuild the bundle."
        )
    if name != model.id:
        raise BundleMismatchError(
            f"Model mismatch: the bundle was built with '{model.id}', the encoder is '{name}'. "
            "Use the bundle's model or rebuild the bundle with this one."
        )
    cosine = float(np.asarray(model.probe.vector, dtype=np.float32) @ probe_vector)
    if cosine < PROBE_MIN_COSINE:
        raise BundleMismatchError(
            f"Model mismatch: '{name}' does not reproduce the bundle's probe embedding "
            f"(cosine {cosine:.3f} < {PROBE_MIN_COSINE}); its weights differ from those the bundle was built with."
        )
