"""The index bundle: one owner for the artifact that crosses build → Hub → app (see docs/ARCHITECTURE.md)."""

from search.bundle.manifest import (
    PROBE_TEXT,
    Changes,
    Components,
    ContentInfo,
    DatasetInfo,
    IndexInfo,
    KeywordInfo,
    Manifest,
    ModelInfo,
    OnnxInfo,
    PhotosInfo,
    Probe,
    check_encoder_matches,
)
from search.bundle.remote import looks_like_repo_id, push_bundle, resolve_bundle
from search.bundle.store import (
    MANIFEST_FILE,
    Bundle,
    code_version,
    is_bundle,
    load_content,
    load_index,
    read_manifest,
)
from search.catalog.products import PRODUCTS_FILE
from search.encoding.onnx_files import BUNDLE_FOLDER as ONNX_DIR
from search.ranking.index import INDEX_FILE, VECTORS_FILE

__all__ = [
    "INDEX_FILE",
    "MANIFEST_FILE",
    "ONNX_DIR",
    "PROBE_TEXT",
    "PRODUCTS_FILE",
    "VECTORS_FILE",
    "Bundle",
    "Changes",
    "Components",
    "ContentInfo",
    "DatasetInfo",
    "IndexInfo",
    "KeywordInfo",
    "Manifest",
    "ModelInfo",
    "OnnxInfo",
    "PhotosInfo",
    "Probe",
    "check_encoder_matches",
    "code_version",
    "is_bundle",
    "load_content",
    "load_index",
    "looks_like_repo_id",
    "push_bundle",
    "read_manifest",
    "resolve_bundle",
]
