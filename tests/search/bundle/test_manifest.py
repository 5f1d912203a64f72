"""A malformed or lying manifest, or bundle files that contradict it, are refused with a BundleError naming the
field or file: never a KeyError, TypeError or FAISS error, and never a silent load."""

import hashlib
import json

import faiss
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from search.bundle import INDEX_FILE, MANIFEST_FILE, PRODUCTS_FILE, Bundle, Manifest
from search.errors import BundleError
from tests.helpers import edit_manifest


def load_error(folder) -> str:
    with pytest.raises(BundleError) as caught:
        Bundle.load(folder)
    return str(caught.value)


def refresh_checksum(folder, name) -> None:
    """Make the manifest agree with a replaced file, as someone forging a bundle would."""
    data = (folder / name).read_bytes()
    edit_manifest(
        folder,
        lambda m: m["files"].update({name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}}),
    )


def pop(path):
    def change(manifest):
        *parents, last = path.split(".")
        for part in parents:
            manifest = manifest[part]
        del manifest[last]

    return change


def put(path, value):
    def change(manifest):
        *parents, last = path.split(".")
        for part in parents:
            manifest = manifest[part]
        manifest[last] = value

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (pop("model"), "model: Field required"),
        (pop("model.probe"), "model.probe: Field required"),
        (pop("dataset.num_rows"), "dataset.num_rows: Field required"),
        (pop("index.type"), "index.type: Field required"),
        (put("model.dim", "32"), "model.dim: Input should be a valid integer"),
        (put("model.dim", True), "model.dim: Input should be a valid integer"),
        (put("model.dim", 0), "model.dim: Input should be greater than or equal to 1"),
        (put("model.id", ""), "model.id: String should have at least 1 character"),
        (put("model.probe.vector", [0.5] * 31), "probe.vector has 31 values but dim is 32"),
        (put("model.probe.vector", []), "model.probe.vector: must be a non-empty list of finite numbers"),
        (put("model.probe.vector", "abc"), "model.probe.vector: Input should be a valid"),
        (put("dataset.num_rows", -5), "dataset.num_rows: Input should be greater than or equal to 1"),
        (put("dataset.num_rows", 1.5), "dataset.num_rows: Input should be a valid integer"),
        (put("index.type", "annoy"), "index.type: Input should be 'flat', 'hnsw', 'ivfpq' or 'ivfsq8'"),
        (put("index.metric", "l2"), "index.metric: Input should be 'inner_product'"),
        (put("index.params", {"nprobe": "many"}), "index.params.nprobe: Input should be a valid integer"),
        (put("index.doc_image_weight", 2), "index.doc_image_weight: Input should be less than or equal to 1"),
        (put("index.rows_without_vectors", [5, 3]), "index.rows_without_vectors: must list each row once"),
        (put("index.rows_without_vectors", [2, 2]), "index.rows_without_vectors: must list each row once"),
        (put("index.rows_without_vectors", [-1]), "index.rows_without_vectors.0: Input should be greater than"),
        (put("index.rows_without_vectors", [10**6]), "names row 1000000, but dataset.num_rows is"),
        (put("index.rows_without_vectors", "1,2"), "index.rows_without_vectors: Input should be a valid"),
        (put("components.keyword.folder", "../elsewhere"), "components.keyword.folder: must be a relative path"),
        (put("components.keyword.folder", "/etc"), "components.keyword.folder: must be a relative path"),
        (put("components.keyword.k1", None), "components.keyword.k1: Input should be a valid number"),
        (put("components.unknown", {}), "components.unknown: Unexpected keyword argument"),
        # Every value that names something the code looks up is checked here, never a KeyError later.
        (put("index.params", {"nprobe": 4}), "index: params of a flat index must be empty, got nprobe"),
        (put("components.keyword.stemmer", "klingon"), "components.keyword.stemmer: must be one of arabic"),
        (put("components.keyword.stopwords", "elvish"), "components.keyword.stopwords: must be one of en"),
        (put("components.keyword.method", "bm99"), "components.keyword.method: must be one of robertson"),
        (put("components.keyword.token_pattern", "(["), "components.keyword.token_pattern: is not a regular"),
        (put("components.keyword.fields", ["secret"]), "components.keyword.fields: names no catalog text field"),
        (put("components.keyword.analyzer", "v0"), "components.keyword.analyzer: Input should be"),
        (put("components.content.hash", "md5"), "components.content.hash: Input should be 'blake2b-128'"),
        (put("components.content.file", "../keys"), "components.content.file: must be a relative path"),
        (put("changes.added", -1), "changes.added: Input should be greater than or equal to 0"),
        (put("files", {"../../etc/passwd": {"sha256": "0" * 64, "bytes": 1}}), "must be a relative path"),
        (lambda m: m["files"].update({"index.faiss": 1}), "files.index.faiss: Input should be"),
        (put("format_version", "1"), "format_version: Input should be a valid integer"),
        (put("surprise", 1), "surprise: Unexpected keyword argument"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_malformed_manifest_fields_are_named(bundle_copy, change, message):
    edit_manifest(bundle_copy, change)
    assert message in load_error(bundle_copy)


@pytest.mark.parametrize("content", [b"", b"[1, 2]", b"not json", b'{"format_version": 1}', b"\xff\xfe"])
def test_a_manifest_that_is_no_json_object_is_refused(bundle_copy, content):
    (bundle_copy / MANIFEST_FILE).write_bytes(content)
    assert "The bundle manifest" in load_error(bundle_copy)


def test_the_manifest_round_trips_through_json(bundle_dir):
    manifest = Manifest.from_json((bundle_dir / MANIFEST_FILE).read_bytes())
    assert Manifest.from_json(manifest.to_json()) == manifest


def test_a_bundle_without_onnx_towers_is_written_as_before_they_existed(bundle_dir):
    components = json.loads((bundle_dir / MANIFEST_FILE).read_text())["components"]
    assert "onnx" not in components and "keyword" in components


@pytest.mark.parametrize(
    ("index_type", "params", "message"),
    [
        ("hnsw", {"M": 32, "efConstruction": 80}, "params of a hnsw index must be M, efConstruction, efSearch"),
        ("ivfsq8", {"nlist": 4, "nprobe": 2}, "params of a ivfsq8 index must be nlist, nprobe, rerank, got nlist"),
    ],
)
def test_index_parameters_the_index_type_reads_are_required(bundle_copy, index_type, params, message):
    edit_manifest(bundle_copy, put("index.type", index_type))
    edit_manifest(bundle_copy, put("index.params", params))
    assert message in load_error(bundle_copy)


def test_an_index_of_another_type_than_the_manifest_says_is_refused(bundle_copy):
    edit_manifest(bundle_copy, put("index.type", "hnsw"))
    edit_manifest(bundle_copy, put("index.params", {"M": 32, "efConstruction": 80, "efSearch": 64}))
    assert "holds a IndexFlatIP, but the manifest's index.type 'hnsw' means IndexHNSWFlat" in load_error(bundle_copy)


def test_an_index_with_another_metric_is_refused(bundle_copy):
    vectors = np.eye(32, dtype=np.float32)[np.arange(240) % 32]
    index = faiss.IndexFlat(32, faiss.METRIC_L2)
    index.add(vectors)
    faiss.write_index(index, str(bundle_copy / INDEX_FILE))
    refresh_checksum(bundle_copy, INDEX_FILE)
    message = load_error(bundle_copy)
    assert "holds a IndexFlat" in message or "does not use inner product" in message


def test_an_index_of_another_dimension_is_refused(bundle_copy):
    index = faiss.IndexFlatIP(16)
    index.add(np.eye(16, dtype=np.float32)[np.arange(240) % 16])
    faiss.write_index(index, str(bundle_copy / INDEX_FILE))
    refresh_checksum(bundle_copy, INDEX_FILE)
    assert "The index holds 16-d vectors; the manifest's model.dim is 32" in load_error(bundle_copy)


def test_a_row_count_that_disagrees_with_the_files_is_refused(bundle_copy):
    edit_manifest(bundle_copy, put("dataset.num_rows", 239))
    assert "the manifest says 239 products, but there are 240 index vectors, 240 products table rows" in load_error(
        bundle_copy
    )


def test_a_products_table_with_a_mistyped_column_is_refused(bundle_copy):
    table = pq.read_table(bundle_copy / PRODUCTS_FILE)
    table = table.set_column(0, "id", pa.array([f"p{i}" for i in range(len(table))]))
    pq.write_table(table, bundle_copy / PRODUCTS_FILE)
    refresh_checksum(bundle_copy, PRODUCTS_FILE)
    assert "column id holds string, not int64" in load_error(bundle_copy)


def test_extra_columns_in_the_products_table_are_never_served(bundle_copy):
    table = pq.read_table(bundle_copy / PRODUCTS_FILE)
    pq.write_table(table.append_column("secret", pa.array(["token"] * len(table))), bundle_copy / PRODUCTS_FILE)
    refresh_checksum(bundle_copy, PRODUCTS_FILE)
    bundle = Bundle.load(bundle_copy)
    assert "secret" not in bundle.products.metadata(0) and "secret" not in bundle.products.table.column_names


def test_a_keyword_folder_leading_outside_through_a_link_is_refused(bundle_copy, tmp_path):
    outside = tmp_path / "outside"
    (bundle_copy / "keyword").rename(outside)
    (bundle_copy / "keyword").symlink_to(outside)
    files = json.loads((bundle_copy / MANIFEST_FILE).read_text())["files"]
    assert any(name.startswith("keyword/") for name in files)
    assert "leads outside the bundle folder" in load_error(bundle_copy)
