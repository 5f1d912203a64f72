"""The bundle manifest: a typed record of how a bundle was built, validated field by field when it is read.

The manifest crosses a trust boundary (build → Hub → app), so it is parsed strictly: every field's presence, type
and range, with no coercion ("3" is not a dimension) and no unknown fields. A malformed or lying manifest becomes a
BundleError naming the field, never a KeyError deep inside the engine.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Annotated, Any, Literal

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

from search.catalog.content import HashName
from search.errors import BundleError, BundleMismatchError
from search.ranking.analysis import AnalyzerName
from search.ranking.index import DEFAULT_PARAMS, IndexType
from search.ranking.keyword import KEYWORD_FIELDS, METHODS, STEMMERS, STOPWORD_LISTS
from search.understanding.vocabulary import VocabularyInfo
from search.version import __version__

if TYPE_CHECKING:
    from search.encoding.encoder import Encoder

# 2: the model's runtime, per-product content keys (components.content) and the change report (changes).
FORMAT_VERSION = 2
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
    build_runtime: str = ""

    @model_validator(mode="after")
    def _probe_has_dim(self) -> ModelInfo:
        if len(self.probe.vector) != self.dim:
            raise ValueError(f"probe.vector has {len(self.probe.vector)} values but dim is {self.dim}")
        return self

    @classmethod
    def of(cls, encoder: Encoder) -> ModelInfo:
        """The section for the vectors this encoder gives: identity, dimension, device, precision, runtime and the
        probe embedding."""
        return cls(
            id=encoder.ref.name,
            revision=encoder.ref.revision,
            dim=encoder.dim,
            family=encoder.model_type,
            build_device=encoder.device,
            build_dtype=encoder.dtype,
            build_runtime=encoder.runtime,
            probe=Probe(text=PROBE_TEXT, vector=tuple(encoder.encode_text([PROBE_TEXT])[0].round(6).tolist())),
        )


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

    @model_validator(mode="after")
    def _params_of_type(self) -> IndexInfo:
        """The parameters the index type reads, no fewer (a KeyError while searching) and no others."""
        expected = sorted(DEFAULT_PARAMS[self.type])
        if sorted(self.params) != expected:
            raise ValueError(
                f"params of a {self.type} index must be {', '.join(expected) or 'empty'}, got "
                f"{', '.join(sorted(self.params)) or 'none'}"
            )
        return self


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

    @field_validator("fields")
    @classmethod
    def _catalog_fields(cls, fields: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [name for name in fields if name not in KEYWORD_FIELDS]
        if unknown:
            raise ValueError(f"names no catalog text field: {', '.join(unknown)} (known: {', '.join(KEYWORD_FIELDS)})")
        return fields

    @field_validator("method")
    @classmethod
    def _known_method(cls, method: str) -> str:
        return _one_of(method, METHODS)

    @field_validator("stemmer")
    @classmethod
    def _known_stemmer(cls, stemmer: str | None) -> str | None:
        return None if stemmer is None else _one_of(stemmer, STEMMERS)

    @field_validator("stopwords")
    @classmethod
    def _known_stopwords(cls, stopwords: str | None) -> str | None:
        return None if stopwords is None else _one_of(stopwords, STOPWORD_LISTS)

    @field_validator("token_pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"is not a regular expression ({error})") from error
        return pattern


def _one_of(value: str, known: tuple[str, ...]) -> str:
    if value not in known:
        raise ValueError(f"must be one of {', '.join(known)}")
    return value


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
class ContentInfo:
    """Per-product content keys (search.catalog.content): what each product's vector was made from, so that a later
    build encodes only the products whose photo or text changed."""

    file: BundlePath
    hash: HashName
    recipe: Positive
    text_fields: tuple[Text, ...]


@dataclass(config=_STRICT)
class Components:
    """Optional parts of a bundle next to the vector index; a bundle without one still serves dense search."""

    keyword: KeywordInfo | None = None
    photos: PhotosInfo | None = None
    onnx: OnnxInfo | None = None
    # The catalog's vocabulary for reading queries (search.understanding); None for a bundle built before it, whose
    # queries are searched as typed.
    vocabulary: VocabularyInfo | None = None
    content: ContentInfo | None = None

    @model_serializer(mode="wrap")
    def _without_absent_parts(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Absent optional parts are left out, so a bundle without them is written exactly as before they existed."""
        data = handler(self)
        for name in ("photos", "onnx", "vocabulary", "content"):
            if data.get(name) is None:
                data.pop(name, None)
        return data


@dataclass(config=_STRICT)
class Changes:
    """What changed in the catalog since the previous bundle the build compared with (`since`: its build time), and
    what that cost: products encoded now, vectors reused. `reason` says why everything was encoded, when it was."""

    products: Count
    added: Count
    removed: Count
    photo: Count  # changed photo (and maybe text)
    text: Count  # changed text, same photo
    labels: Count  # changed labels only: nothing to encode
    encoded: Count
    reused: Count
    since: str | None = None
    reason: str | None = None

    @property
    def changed(self) -> int:
        return self.photo + self.text + self.labels

    def summary(self) -> str:
        """One line for the build log, the dataset card and the Hub commit message."""
        counts = f"{self.products:,} products, {self.encoded:,} encoded, {self.reused:,} reused"
        if self.since is None:
            return f"{counts} ({self.reason})" if self.reason else counts
        kinds = f"{self.photo:,} photo, {self.text:,} text, {self.labels:,} labels only"
        line = f"{self.added:,} added, {self.removed:,} removed, {self.changed:,} changed ({kinds}); {counts}"
        return f"{line} ({self.reason})" if self.reason else line


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
    changes: Changes | None = None

    @model_serializer(mode="wrap")
    def _without_absent_changes(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        if data.get("changes") is None:
            data.pop("changes", None)
        return data

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
