"""Bundles are written atomically by Bundle.save, read back by Bundle.load, verify themselves on load and refuse
damage or a mismatched encoder with a specific message."""

import hashlib
import json
import os
import socket
import subprocess
import sys
import zlib
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest

from search.bundle import (
    INDEX_FILE,
    MANIFEST_FILE,
    PRODUCTS_FILE,
    Bundle,
    OnnxInfo,
    check_encoder_matches,
    is_bundle,
    read_manifest,
)
from search.catalog.products import ProductTable
from search.encoding.encoder import Encoder
from search.engine import SearchEngine
from search.errors import BundleError, BundleMismatchError
from search.fixtures.random_model import save_random_clip
from tests.helpers import edit_manifest


def test_manifest_describes_the_build(bundle_dir, tiny_model, catalog_dir):
    manifest = read_manifest(bundle_dir)
    assert manifest.model.id == str(tiny_model) and manifest.dim == 32
    assert asdict(manifest.dataset) == {
        "id": str(catalog_dir),
        "revision": None,
        "split": "train",
        "num_rows": 240,
        "unreadable_images": 0,
    }
    assert manifest.index.type == "flat" and manifest.index.metric == "inner_product"
    keyword_files = {name for name in manifest.files if name.startswith("keyword/")}
    vocabulary_files = {"vocabulary/vocabulary.json", "vocabulary/brands.npy"}
    assert set(manifest.files) == {
        INDEX_FILE,
        PRODUCTS_FILE,
        "README.md",
        "content.parquet",
        *keyword_files,
        *vocabulary_files,
    }
    assert keyword_files
    assert all(len(entry.sha256) == 64 for entry in manifest.files.values())
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


def test_other_dimension_is_refused(bundle_dir):
    model = read_manifest(bundle_dir).model
    with pytest.raises(BundleMismatchError, match="Embedding dimension mismatch: the bundle holds 32-d"):
        check_encoder_matches(model, model.id, 512, np.zeros(512, dtype=np.float32))


def test_a_manifest_lying_about_the_dimension_is_refused(bundle_copy):
    edit_manifest(bundle_copy, lambda m: m["model"].update(dim=512))
    with pytest.raises(BundleError, match="model: probe.vector has 32 values but dim is 512"):
        SearchEngine.load(bundle_copy)


def test_save_then_load_gives_back_the_same_bundle(bundle_dir, tmp_path):
    bundle = Bundle.load(bundle_dir)
    copy = Bundle.load(bundle.save(tmp_path / "copy"))
    assert copy.manifest.files == bundle.manifest.files
    assert (copy.manifest.model, copy.manifest.dataset, copy.manifest.index) == (
        bundle.manifest.model,
        bundle.manifest.dataset,
        bundle.manifest.index,
    )
    assert copy.products.ids.tolist() == bundle.products.ids.tolist() and len(copy.keyword) == len(bundle.keyword)


def test_parts_that_disagree_are_never_written(bundle_dir, tmp_path):
    bundle = Bundle.load(bundle_dir)
    fewer = ProductTable(bundle.products.table.slice(0, 10))
    with pytest.raises(BundleError, match="the manifest says 240 products, but there are 10 products table rows"):
        Bundle(bundle.manifest, bundle.index, fewer, bundle.keyword)
    assert not (tmp_path / "never").exists()


def test_interrupted_write_leaves_the_old_bundle(bundle_copy, monkeypatch):
    before = read_manifest(bundle_copy)
    bundle = Bundle.load(bundle_copy)

    def crash(self, folder) -> None:
        (folder / PRODUCTS_FILE).write_bytes(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(ProductTable, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        bundle.save(bundle_copy)
    assert read_manifest(bundle_copy).files == before.files
    assert [p.name for p in bundle_copy.parent.iterdir() if p.name.startswith(".")] == []


def test_out_holds_a_whole_bundle_at_every_moment_of_the_swap(bundle_copy, monkeypatch):
    """The swap renamed --out away, then the new bundle in: between the two, no bundle was at --out. Every rename
    the save makes is followed by a look at --out."""
    bundle = Bundle.load(bundle_copy)
    original = Path.rename
    seen: list[bool] = []

    def rename_and_look(self, target):
        moved = original(self, target)
        seen.append(is_bundle(bundle_copy))
        return moved

    monkeypatch.setattr(Path, "rename", rename_and_look)
    bundle.save(bundle_copy)
    assert all(seen), f"--out held no bundle after rename {seen.index(False) + 1} of {len(seen)}"
    assert len(Bundle.load(bundle_copy).products) == len(bundle.products)
    assert [p.name for p in bundle_copy.parent.iterdir() if p.name.startswith(".")] == []


def test_a_save_removes_temporaries_left_by_saves_that_died_but_not_those_being_written(bundle_copy):
    """kill -9 during a save left `.out.tmp-*` (and between the renames `.out.old-*`) folders nothing removed."""
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(finished.stdout)
    host = f"{zlib.crc32(socket.gethostname().encode()):08x}"
    left = [f".{bundle_copy.name}.tmp-0123abcd", f".{bundle_copy.name}.tmp-{host}-{dead}-0123abcd"]
    left.append(f".{bundle_copy.name}.old-{host}-{dead}-89abcdef")
    live = [
        f".{bundle_copy.name}.tmp-{host}-{os.getpid()}-0123abcd",
        f".{bundle_copy.name}.tmp-ffffffff-{dead}-1a2b3c4d",
    ]
    others = [".other.tmp-0123abcd", f".{bundle_copy.name}.notes"]
    for name in left + live + others:
        (bundle_copy.parent / name).mkdir()
        (bundle_copy.parent / name / "index.faiss").write_bytes(b"partial")
    Bundle.load(bundle_copy).save(bundle_copy)
    remaining = sorted(p.name for p in bundle_copy.parent.iterdir() if p.name.startswith("."))
    assert remaining == sorted(live + others)


def test_refuses_to_overwrite_a_folder_that_is_not_a_bundle(tmp_path, bundle_dir):
    target = tmp_path / "precious"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(BundleError, match="is not an index bundle; refusing to replace it"):
        Bundle.load(bundle_dir).save(target)
    assert (target / "notes.txt").read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["precious"]


def test_onnx_towers_must_come_from_the_manifest_model(bundle_dir, tmp_path):
    bundle = Bundle.load(bundle_dir)
    other = Encoder.load(str(save_random_clip("clip-tiny", tmp_path / "other", seed=1)), runtime="onnx")
    export = other.towers.export
    components = replace(bundle.manifest.components, onnx=OnnxInfo(**export.describe()))
    with pytest.raises(BundleError, match="ONNX towers were exported from '.*other'"):
        Bundle(
            replace(bundle.manifest, components=components),
            bundle.index,
            bundle.products,
            bundle.keyword,
            export,
            bundle.vocabulary,
            bundle.content,
        )
    with pytest.raises(BundleError, match="components.onnx and the ONNX export must be given together"):
        Bundle(
            bundle.manifest, bundle.index, bundle.products, bundle.keyword, export, bundle.vocabulary, bundle.content
        )


def test_a_bundle_whose_onnx_export_names_another_model_is_refused(bundle_copy, onnx_encoder):
    bundle = Bundle.load(bundle_copy)
    export = onnx_encoder.towers.export
    components = replace(bundle.manifest.components, onnx=OnnxInfo(**export.describe()))
    Bundle(replace(bundle.manifest, components=components), bundle.index, bundle.products, bundle.keyword,
           export, bundle.vocabulary, bundle.content).save(bundle_copy)  # fmt: skip
    assert Bundle.load(bundle_copy).onnx.matches(onnx_encoder.ref.name, None)
    info = bundle_copy / "onnx" / "export.json"
    info.write_text(json.dumps({**json.loads(info.read_text()), "model": "someone/else"}))
    checksum = {"sha256": hashlib.sha256(info.read_bytes()).hexdigest(), "bytes": info.stat().st_size}
    edit_manifest(bundle_copy, lambda manifest: manifest["files"].update({"onnx/export.json": checksum}))
    with pytest.raises(BundleError, match="ONNX towers were exported from 'someone/else'"):
        SearchEngine.load(bundle_copy)
