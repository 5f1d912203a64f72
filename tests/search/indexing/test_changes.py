"""Incremental builds: a re-run encodes only new products and those whose photo (or encoded text) changed, reuses
the previous bundle's vectors for the rest, gives the same bundle as a build from scratch, reports what changed,
resumes after an interrupt, and never reuses a bundle made another way without saying why."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

import index_build
from search.bundle import Bundle, read_manifest
from search.catalog.content import ContentKeys, as_keys, digest
from search.encoding.encoder import Encoder
from search.fixtures.random_model import save_random_clip
from search.fixtures.synthetic import generate_rows
from search.indexing.changes import plan_changes
from tests.helpers import (
    assert_same_bundle,
    build_args,
    changed_catalog,
    edit_manifest,
    new_photo,
    put_in_hub_cache,
    write_catalog,
)

SIZE = 60


@pytest.fixture
def encoded(monkeypatch) -> list[int]:
    """The sizes of the photo batches the build encodes."""
    sizes: list[int] = []
    real = Encoder.encode_pixels

    def count(self, pixels):
        sizes.append(len(pixels))
        return real(self, pixels)

    monkeypatch.setattr(Encoder, "encode_pixels", count)
    return sizes


@pytest.mark.parametrize(("weight", "expected_encoded"), [("1.0", 3), ("0.5", 4)])
def test_a_rerun_encodes_only_what_changed_and_gives_the_bundle_a_fresh_build_gives(
    tiny_model, tmp_path, encoded, caplog, weight, expected_encoded
):
    """Image-only vectors re-encode the new photo and the two new products; image+text ones the renamed one too."""
    rows = generate_rows(SIZE)
    catalog, out = tmp_path / "catalog", tmp_path / "out"
    args = build_args(catalog, tiny_model, out, "--doc-image-weight", weight)
    write_catalog(rows, catalog)
    assert index_build.main(args) == 0
    write_catalog(changed_catalog(rows), catalog)
    encoded.clear()
    with caplog.at_level(logging.INFO):
        assert index_build.main(args) == 0
    assert sum(encoded) == expected_encoded
    changes = read_manifest(out).changes
    assert (changes.added, changes.removed, changes.photo, changes.text, changes.labels) == (2, 2, 1, 1, 1)
    assert (changes.encoded, changes.reused, changes.products) == (expected_encoded, SIZE - expected_encoded, SIZE)
    summary = "2 added, 2 removed, 3 changed (1 photo, 1 text, 1 labels only)"
    assert summary in caplog.text and summary in (out / "README.md").read_text()
    fresh = tmp_path / "fresh"
    assert index_build.main(build_args(catalog, tiny_model, fresh, "--doc-image-weight", weight)) == 0
    assert_same_bundle(out, fresh)


def test_a_label_only_change_needs_no_encoding(tiny_model, tmp_path, encoded):
    rows = generate_rows(SIZE)
    catalog, out = tmp_path / "catalog", tmp_path / "out"
    write_catalog(rows, catalog)
    assert index_build.main(build_args(catalog, tiny_model, out)) == 0
    relabelled = copy.deepcopy(rows)
    relabelled[4]["season"], relabelled[9]["usage"] = "Spring", "Party"
    write_catalog(relabelled, catalog)
    encoded.clear()
    assert index_build.main(build_args(catalog, tiny_model, out)) == 0
    assert encoded == []
    changes = read_manifest(out).changes
    assert (changes.labels, changes.encoded, changes.reused) == (2, 0, SIZE)
    assert Bundle.load(out).products.metadata(4)["season"] == "Spring"


def test_an_interrupted_incremental_build_leaves_the_old_bundle_and_resumes(tiny_model, tmp_path, monkeypatch, caplog):
    rows = generate_rows(SIZE)
    catalog, out = tmp_path / "catalog", tmp_path / "out"
    args = build_args(catalog, tiny_model, out, "--shard-size", "16")
    write_catalog(rows, catalog)
    assert index_build.main(args) == 0
    before = read_manifest(out)
    write_catalog([new_photo(row) if number % 3 == 0 else row for number, row in enumerate(rows)], catalog)
    real = Encoder.encode_pixels
    calls = {"n": 0}

    def fail_on_second_batch(self, pixels):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(self, pixels)

    monkeypatch.setattr(Encoder, "encode_pixels", fail_on_second_batch)
    assert index_build.main(args) == 130
    assert read_manifest(out).files == before.files and len(Bundle.load(out).products) == SIZE
    monkeypatch.setattr(Encoder, "encode_pixels", real)
    with caplog.at_level(logging.INFO):
        assert index_build.main(args) == 0
    assert "Resuming: 16 of 20 products already encoded" in caplog.text
    fresh = tmp_path / "fresh"
    assert index_build.main(build_args(catalog, tiny_model, fresh, "--shard-size", "16")) == 0
    assert_same_bundle(out, fresh)


def other_weights_in_the_same_folder(model: Path, tmp_path: Path) -> list[str]:
    """The model folder now holds other weights (e.g. a model fine-tuned again into it)."""
    shutil.rmtree(model)
    save_random_clip("clip-tiny", model, seed=7)
    return []


def damaged(out: Path, tmp_path: Path) -> list[str]:
    data = bytearray((out / "content.parquet").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (out / "content.parquet").write_bytes(bytes(data))
    return []


def older_bundle(out: Path, tmp_path: Path) -> list[str]:
    """A bundle built before content keys: no content keys, format 1."""
    (out / "content.parquet").unlink()

    def downgrade(manifest: dict) -> None:
        del manifest["components"]["content"], manifest["files"]["content.parquet"], manifest["changes"]
        manifest["format_version"] = 1

    edit_manifest(out, downgrade)
    return []


REFUSALS = {
    "another-recipe": (lambda out, tmp_path: ["--doc-image-weight", "0.5"], "differs in its document image weight"),
    "another-runtime": (lambda out, tmp_path: ["--runtime", "torch"], "differs in its runtime ('onnx', now 'torch')"),
    "other-weights": (None, "was built with other weights"),
    "damaged": (damaged, "cannot be used: Checksum mismatch for content.parquet"),
    "older": (older_bundle, "has no content keys (built before incremental builds)"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_bundle_made_another_way_is_never_reused_silently(tmp_path, caplog, encoded, case):
    model = save_random_clip("clip-tiny", tmp_path / "model")
    rows = generate_rows(SIZE)
    catalog, out = write_catalog(rows, tmp_path / "catalog"), tmp_path / "out"
    assert index_build.main(build_args(catalog, model, out)) == 0
    change, reason = REFUSALS[case]
    extra = other_weights_in_the_same_folder(model, tmp_path) if change is None else change(out, tmp_path)
    encoded.clear()
    with caplog.at_level(logging.INFO):
        assert index_build.main(build_args(catalog, model, out, *extra)) == 0
    assert "Encoding every product" in caplog.text and reason in caplog.text
    changes = read_manifest(out).changes
    assert changes.encoded == SIZE and changes.reused == 0 and reason in changes.reason
    assert sum(encoded) == SIZE


def test_another_model_is_never_reused(tiny_model, tmp_path, caplog):
    catalog = write_catalog(generate_rows(SIZE), tmp_path / "catalog")
    out = tmp_path / "out"
    assert index_build.main(build_args(catalog, tiny_model, out)) == 0
    other = save_random_clip("clip-tiny", tmp_path / "other-model", seed=3)
    with caplog.at_level(logging.INFO):
        assert index_build.main(build_args(catalog, other, out)) == 0
    assert f"differs in its model ('{tiny_model}', now '{other}')" in caplog.text
    assert read_manifest(out).changes.reused == 0


def test_full_encodes_everything_and_reuse_takes_another_bundle(tiny_model, tmp_path, encoded):
    rows = generate_rows(SIZE)
    catalog = write_catalog(rows, tmp_path / "catalog")
    first = tmp_path / "first"
    assert index_build.main(build_args(catalog, tiny_model, first)) == 0
    encoded.clear()
    assert index_build.main(build_args(catalog, tiny_model, first, "--full")) == 0
    assert sum(encoded) == SIZE and read_manifest(first).changes.reason == "--full: every product encoded"
    write_catalog(changed_catalog(rows), tmp_path / "catalog")
    encoded.clear()
    second = tmp_path / "second"
    assert index_build.main(build_args(catalog, tiny_model, second, "--reuse", str(first))) == 0
    assert sum(encoded) == 3 and read_manifest(second).changes.since == read_manifest(first).created_at


def test_reuse_takes_a_bundle_from_the_hub(tiny_model, tmp_path, hub_cache, encoded):
    rows = generate_rows(SIZE)
    catalog = write_catalog(rows, tmp_path / "catalog")
    published = tmp_path / "published"
    assert index_build.main(build_args(catalog, tiny_model, published)) == 0
    put_in_hub_cache(hub_cache, "dataset", "shop/fashion-index", published)
    write_catalog(changed_catalog(rows), tmp_path / "catalog")
    encoded.clear()
    args = build_args(catalog, tiny_model, tmp_path / "out", "--reuse", "shop/fashion-index")
    assert index_build.main(args) == 0
    assert sum(encoded) == 3 and read_manifest(tmp_path / "out").changes.reused == SIZE - 3


def test_reuse_of_nothing_is_an_error_not_a_full_build(tiny_model, tmp_path, caplog, encoded):
    catalog = write_catalog(generate_rows(SIZE), tmp_path / "catalog")
    args = build_args(catalog, tiny_model, tmp_path / "out", "--reuse", str(tmp_path / "no-such-bundle"))
    assert index_build.main(args) == 1
    assert "Index bundle not found" in caplog.text and encoded == [] and not (tmp_path / "out").exists()
    assert index_build.main([*args, "--full"]) == 1
    assert "give one of them" in caplog.text


def test_the_change_report_is_the_hub_commit_message(tiny_model, tmp_path, fake_hub):
    rows = generate_rows(SIZE)
    catalog, out = write_catalog(rows, tmp_path / "catalog"), tmp_path / "out"
    assert index_build.main(build_args(catalog, tiny_model, out)) == 0
    write_catalog(changed_catalog(rows), catalog)
    assert index_build.main(build_args(catalog, tiny_model, out, "--push-to", "shop/fashion-index")) == 0
    message = fake_hub.calls[-1][1]["commit_message"]
    assert message.startswith("Index bundle: 2 added, 2 removed, 3 changed (1 photo, 1 text, 1 labels only); ")
    assert f"{SIZE} products, 3 encoded, {SIZE - 3} reused" in message


def keys(ids: list[int], photos: list[bytes], texts: list[str], labels: list[str], text: bool) -> ContentKeys:
    def hashed(values):
        return as_keys([digest(value.encode() if isinstance(value, str) else value) for value in values])

    fields = ("productDisplayName",) if text else ()
    return ContentKeys(np.array(ids), hashed(photos), hashed(texts), hashed(labels), text_fields=fields)


def test_the_plan_matches_products_by_id_whatever_their_order():
    class Previous:
        content = keys([1, 2, 3, 4], [b"a", b"b", b"c", b"d"], ["A", "B", "C", "D"], ["x"] * 4, text=False)
        manifest = type("M", (), {"created_at": "then", "index": type("I", (), {"rows_without_vectors": (2,)})})

    now = keys([4, 9, 2, 1, 3], [b"d", b"e", b"b", b"A!", b"c"], ["D2", "E", "B", "A", "C"], ["x", "x", "y", "x", "x"],
               text=False)  # fmt: skip
    plan = plan_changes(now, Previous(), "")
    # 4: text changed but unused (image-only vectors); 3: unchanged but had no vector before; 1: new photo; 9: new.
    assert plan.reuse.tolist() == [0, 2] and plan.reuse_from.tolist() == [3, 1]
    assert plan.encode.tolist() == [1, 3, 4]
    changes = plan.changes
    assert (changes.added, changes.removed, changes.photo, changes.text, changes.labels) == (1, 0, 1, 1, 1)
    refused = plan_changes(now, Previous(), "the previous bundle differs")
    assert refused.encode.tolist() == [0, 1, 2, 3, 4] and refused.changes.photo == 1


def test_hashes_in_the_plan_digest_change_with_the_rows_to_encode():
    now = keys([1, 2], [b"a", b"b"], ["A", "B"], ["x", "y"], text=True)
    plan = plan_changes(now, None, "no previous bundle at --out")
    other = keys([1, 2], [b"a", b"c"], ["A", "B"], ["x", "y"], text=True)
    assert plan.digest(now) != plan.digest(other)
    assert plan.digest(now) == plan_changes(now, None, "").digest(now)
    assert hashlib.sha256(b"").hexdigest() not in (plan.digest(now),)
    assert json.dumps(plan.changes.summary()).startswith('"2 products, 2 encoded, 0 reused')
