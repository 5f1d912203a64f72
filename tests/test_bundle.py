"""Bundles verify themselves on load and refuse damage or a mismatched encoder with a specific message."""

import json

import pytest

from search.bundle import (
    INDEX_FILE,
    MANIFEST_FILE,
    PRODUCTS_FILE,
    Manifest,
    read_manifest,
    resolve_bundle,
    write_bundle,
)
from search.encoder import Encoder
from search.engine import SearchEngine
from search.errors import BundleError, BundleMismatchError, HubError
from search.random_model import save_random_clip
from tests.conftest import put_in_hub_cache


def edit_manifest(folder, change) -> None:
    data = json.loads((folder / MANIFEST_FILE).read_text())
    change(data)
    (folder / MANIFEST_FILE).write_text(json.dumps(data))


def test_manifest_describes_the_build(bundle_dir, tiny_model, catalog_dir):
    manifest = read_manifest(bundle_dir)
    assert manifest.model["id"] == str(tiny_model) and manifest.dim == 32
    assert manifest.dataset == {
        "id": str(catalog_dir),
        "revision": None,
        "split": "train",
        "num_rows": 240,
        "unreadable_images": 0,
    }
    assert manifest.index["type"] == "flat" and manifest.index["metric"] == "inner_product"
    keyword_files = {name for name in manifest.files if name.startswith("keyword/")}
    assert set(manifest.files) == {INDEX_FILE, PRODUCTS_FILE, "README.md", *keyword_files} and keyword_files
    assert all(len(entry["sha256"]) == 64 for entry in manifest.files.values())
    assert manifest.created_at and manifest.code_version.startswith("0.1.0")


def test_card_names_model_dataset_and_counts(bundle_dir, tiny_model):
    card = (bundle_dir / "README.md").read_text()
    assert card.startswith("---\n") and str(tiny_model) in card and "| Products | 240 |" in card


def test_tampered_file_is_refused(bundle_copy):
    data = bytearray((bundle_copy / PRODUCTS_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (bundle_copy / PRODUCTS_FILE).write_bytes(bytes(data))
    with pytest.raises(BundleError, match=f"Checksum mismatch for {PRODUCTS_FILE}"):
        SearchEngine.load(bundle_copy)


def test_truncated_index_is_refused(bundle_copy):
    data = (bundle_copy / INDEX_FILE).read_bytes()
    (bundle_copy / INDEX_FILE).write_bytes(data[: len(data) // 2])
    with pytest.raises(BundleError, match=f"{INDEX_FILE} has .* bytes.*truncated"):
        SearchEngine.load(bundle_copy)


def test_truncated_index_with_matching_manifest_is_refused(bundle_copy):
    data = (bundle_copy / INDEX_FILE).read_bytes()
    (bundle_copy / INDEX_FILE).write_bytes(data[: len(data) // 2])
    edit_manifest(bundle_copy, lambda m: m["files"].pop(INDEX_FILE) and None)
    with pytest.raises(BundleError, match="does not list required file"):
        SearchEngine.load(bundle_copy)


def test_missing_file_is_named(bundle_copy):
    (bundle_copy / INDEX_FILE).unlink()
    with pytest.raises(BundleError, match=f"{INDEX_FILE} is missing"):
        SearchEngine.load(bundle_copy)


def test_missing_manifest_means_not_a_bundle(bundle_copy):
    (bundle_copy / MANIFEST_FILE).unlink()
    with pytest.raises(BundleError, match="not an index bundle"):
        SearchEngine.load(bundle_copy)


def test_newer_format_version_is_refused(bundle_copy):
    edit_manifest(bundle_copy, lambda m: m.update(format_version=99))
    with pytest.raises(BundleError, match="format version 99, newer"):
        SearchEngine.load(bundle_copy)


def test_other_model_with_same_dimension_is_refused(bundle_dir, tmp_path):
    other = Encoder.load(str(save_random_clip("clip-tiny", tmp_path / "other", seed=1)))
    with pytest.raises(BundleMismatchError, match="Model mismatch: the bundle was built with"):
        SearchEngine.load(bundle_dir, encoder=other)


def test_same_name_with_other_weights_is_refused(bundle_copy, tiny_model, tmp_path):
    impostor = save_random_clip("clip-tiny", tmp_path / "impostor", seed=7)
    edit_manifest(bundle_copy, lambda m: m["model"].update(id=str(impostor)))
    with pytest.raises(BundleMismatchError, match="does not reproduce the bundle's probe embedding"):
        SearchEngine.load(bundle_copy, verify=False)


def test_other_dimension_is_refused(bundle_copy):
    edit_manifest(bundle_copy, lambda m: m["model"].update(dim=512))
    with pytest.raises(BundleMismatchError, match="Embedding dimension mismatch: the bundle holds 512-d"):
        SearchEngine.load(bundle_copy)


def test_interrupted_write_leaves_the_old_bundle(bundle_copy):
    before = read_manifest(bundle_copy)

    def crash(folder) -> None:
        (folder / INDEX_FILE).write_bytes(b"partial")
        raise KeyboardInterrupt

    manifest = Manifest(model=before.model, dataset=before.dataset, index=before.index)
    with pytest.raises(KeyboardInterrupt):
        write_bundle(bundle_copy, manifest, crash, lambda m: "card")
    assert read_manifest(bundle_copy).files == before.files
    assert [p.name for p in bundle_copy.parent.iterdir() if p.name.startswith(".")] == []


def test_refuses_to_overwrite_a_folder_that_is_not_a_bundle(tmp_path, bundle_dir):
    target = tmp_path / "precious"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    manifest = read_manifest(bundle_dir)
    with pytest.raises(BundleError, match="is not an index bundle; refusing to replace it"):
        write_bundle(target, manifest, lambda folder: None, lambda m: "card")
    assert (target / "notes.txt").read_text() == "keep me"


def test_hub_repo_id_is_pulled_with_snapshot_download(bundle_dir, hub_cache):
    snapshot = put_in_hub_cache(hub_cache, "dataset", "tester/fashion-index", bundle_dir)
    assert resolve_bundle("tester/fashion-index") == snapshot
    engine = SearchEngine.load("tester/fashion-index")
    assert len(engine.products) == 240


def test_unreachable_hub_bundle_says_how_to_use_a_local_one(hub_cache):
    with pytest.raises(HubError, match="point --index .* at a local bundle"):
        resolve_bundle("tester/not-downloaded")


def test_missing_local_path_is_explained(tmp_path):
    with pytest.raises(BundleError, match="Index bundle not found"):
        resolve_bundle(str(tmp_path / "nowhere" / "deeper" / "bundle"))
