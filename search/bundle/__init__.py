"""The index bundle: one owner for the artifact that crosses build → Hub → app (see docs/ARCHITECTURE.md)."""

from search.bundle.manifest import (
    PROBE_TEXT,
    Components,
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
    INDEX_FILE,
    MANIFEST_FILE,
    ONNX_DIR,
    PRODUCTS_FILE,
    Bundle,
    code_version,
    is_bundle,
    onnx_info,
    read_manifest,
)

__all__ = [
    "INDEX_FILE",
    "MANIFEST_FILE",
    "ONNX_DIR",
    "PROBE_TEXT",
    "PRODUCTS_FILE",
    "Bundle",
    "Components",
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
    "looks_like_repo_id",
    "onnx_info",
    "push_bundle",
    "read_manifest",
    "resolve_bundle",
]
