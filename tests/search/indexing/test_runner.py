"""index_build.py end to end: workers, resume after an interrupt, each photo read once, the ONNX export of the
loaded encoder, the optional Ray engine never imported without --engine ray."""

import logging
import subprocess
import sys

import numpy as np
import pytest

import index_build
import search.encoding.encoder
from search.bundle import ONNX_DIR, Bundle, read_manifest
from search.catalog.schema import load_catalog
from search.encoding.encoder import Encoder
from search.engine import SearchEngine
from search.fixtures.synthetic import generate_rows
from tests.helpers import build_args, rows_with_image_paths, write_catalog


def stored_vectors(bundle) -> np.ndarray:
    index = Bundle.load(bundle).index
    return index.vectors(np.arange(len(index)))


def test_worker_processes_give_the_same_index(bundle_dir, catalog_dir, tiny_model, tmp_path):
    out = tmp_path / "with-workers"
    args = build_args(catalog_dir, tiny_model, out)
    args[args.index("--num-workers") + 1] = "2"
    assert index_build.main(args) == 0
    np.testing.assert_allclose(stored_vectors(out), stored_vectors(bundle_dir), atol=1e-6)


@pytest.mark.parametrize("failure", [KeyboardInterrupt, MemoryError], ids=["ctrl-c", "crash"])
def test_interrupted_build_resumes_to_the_same_index(
    bundle_dir, catalog_dir, tiny_model, tmp_path, monkeypatch, caplog, failure
):
    out = tmp_path / "resumed"
    args = build_args(catalog_dir, tiny_model, out, "--shard-size", "32")
    real_encode = Encoder.encode_pixels
    calls = {"n": 0}

    def fail_on_fifth_batch(self, pixels):
        calls["n"] += 1
        if calls["n"] == 5:
            raise failure
        return real_encode(self, pixels)

    monkeypatch.setattr(Encoder, "encode_pixels", fail_on_fifth_batch)
    if failure is KeyboardInterrupt:
        assert index_build.main(args) == 130
    else:
        with pytest.raises(failure):
            index_build.main(args)
    assert not out.exists()
    shards = sorted(p.name for p in (tmp_path / "resumed.cache").rglob("shard-*.npz"))
    assert shards == ["shard-000000.npz", "shard-000001.npz"]

    monkeypatch.setattr(Encoder, "encode_pixels", real_encode)
    with caplog.at_level(logging.INFO):
        assert index_build.main(args) == 0
    assert "Resuming: 64 of 240 products already encoded" in caplog.text
    np.testing.assert_array_equal(stored_vectors(out), stored_vectors(bundle_dir))
    assert not (tmp_path / "resumed.cache").exists()


def test_parquet_dataset_limit_and_image_text_documents(tmp_path, tiny_model):
    from search.fixtures.synthetic import save_catalog

    folder = save_catalog(40, tmp_path / "parquet", as_parquet=True)
    out = tmp_path / "mixed"
    assert index_build.main(build_args(folder, tiny_model, out, "--limit", "25", "--doc-image-weight", "0.9")) == 0
    manifest = read_manifest(out)
    assert manifest.dataset.num_rows == 25 and manifest.index.doc_image_weight == 0.9
    assert len(SearchEngine.load(out).products) == 25


def test_bad_arguments_fail_with_a_message(catalog_dir, tiny_model, tmp_path, caplog):
    assert index_build.main(build_args(catalog_dir, tiny_model, tmp_path / "x", "--doc-image-weight", "2")) == 1
    assert "--doc-image-weight must be between 0 and 1" in caplog.text
    assert index_build.main(build_args(tmp_path / "none", tiny_model, tmp_path / "x")) == 1
    assert "No dataset found" in caplog.text or "Could not load dataset" in caplog.text


def test_ivfpq_bundle_keeps_exact_vectors_and_filters_stay_exact(bundle_dir, catalog_dir, tiny_model, tmp_path):
    out = tmp_path / "ivfpq"
    assert index_build.main(build_args(catalog_dir, tiny_model, out, "--index-type", "ivfpq")) == 0
    manifest = read_manifest(out)
    assert manifest.index.type == "ivfpq" and manifest.index.params["rerank"] == 200
    assert "vectors.npy" in manifest.files
    engine, exact = SearchEngine.load(out), SearchEngine.load(bundle_dir)
    np.testing.assert_array_equal(stored_vectors(out), stored_vectors(bundle_dir))
    query = stored_vectors(bundle_dir)[7]
    for filters in (None, {"gender": "Men"}, {"articleType": "Boots", "gender": "Women"}):
        got, expected = engine.search_vector(query, 10, filters), exact.search_vector(query, 10, filters)
        # The same scores in the same order (the random model's near-ties may swap rows within float rounding).
        np.testing.assert_allclose([r.score for r in got], [r.score for r in expected], atol=1e-6)
        assert len(set(got.ids) ^ set(expected.ids)) <= 2


def test_photos_of_a_large_catalog_go_to_photo_files_and_every_photo_is_still_served(catalog_dir, tiny_model, tmp_path):
    out = tmp_path / "sharded-photos"
    assert index_build.main(build_args(catalog_dir, tiny_model, out, "--photos-inline-max-mb", "0")) == 0
    photos = read_manifest(out).components.photos
    assert photos is not None and photos.files == 1 and (out / photos.folder / "photos-00000.arrow").is_file()
    engine = SearchEngine.load(out)
    catalog = load_catalog(str(catalog_dir))[0]
    for row in catalog:
        assert engine.product_photo_bytes(row["id"]) == row["image"]["bytes"]


def test_export_onnx_puts_the_towers_in_the_bundle_and_the_engine_uses_them(
    bundle_dir, catalog_dir, tiny_model, tmp_path
):
    out = tmp_path / "with-onnx"
    assert index_build.main(build_args(catalog_dir, tiny_model, out, "--export-onnx")) == 0
    manifest = read_manifest(out)
    onnx = manifest.components.onnx
    assert (
        onnx.folder == ONNX_DIR
        and onnx.model == str(tiny_model)
        and onnx.text_inputs == ("input_ids", "attention_mask")
    )
    assert {"onnx/text.onnx", "onnx/image.onnx", "onnx/export.json"} <= set(manifest.files)
    engine = SearchEngine.load(out)
    assert engine.encoder.runtime == "onnx" and engine.encoder.towers.export.folder == (out / ONNX_DIR).resolve()
    reference = SearchEngine.load(bundle_dir)
    assert engine.search_text("red shirt", k=10).ids == reference.search_text("red shirt", k=10).ids


def test_torch_and_onnx_builds_store_the_same_vectors(bundle_dir, catalog_dir, tiny_model, tmp_path):
    out = tmp_path / "torch"
    assert index_build.main(build_args(catalog_dir, tiny_model, out, "--runtime", "torch")) == 0
    torch_vectors, onnx_vectors = stored_vectors(out), stored_vectors(bundle_dir)
    assert (torch_vectors * onnx_vectors).sum(axis=1).min() >= 0.9999
    # Generated photos of one shape and colour are near-duplicates, so neighbours tie: compare top-10 scores.
    top10 = [-np.sort(-(vectors[:20] @ vectors.T), axis=1)[:, :10] for vectors in (torch_vectors, onnx_vectors)]
    np.testing.assert_allclose(*top10, atol=1e-5)


@pytest.mark.parametrize(("weight", "names_encoded"), [("1.0", False), ("0.9", True)])
def test_product_names_are_encoded_only_when_product_vectors_use_them(
    catalog_dir, tiny_model, tmp_path, monkeypatch, weight, names_encoded
):
    batches: list[int] = []
    real_encode = Encoder.encode_text

    def count(self, texts):
        batches.append(len(texts))
        return real_encode(self, texts)

    monkeypatch.setattr(Encoder, "encode_text", count)
    args = build_args(catalog_dir, tiny_model, tmp_path / "out", "--doc-image-weight", weight)
    assert index_build.main(args) == 0
    assert (max(batches) == 16) is names_encoded  # --batch-size 16; single texts are the dimension and probe texts


def test_every_photo_given_by_path_is_read_once_per_build(tiny_model, tmp_path):
    """The one catalog pass reads each file into the photo files; encoding and the bundle read those."""
    folder = tmp_path / "catalog"
    rows = rows_with_image_paths(generate_rows(24, seed=3), folder)
    catalog = write_catalog(rows, folder)
    photos = {str((folder / row["image"]["path"]).resolve()) for row in rows}
    opened: list[str] = []

    def audit(event: str, args: tuple) -> None:
        if event == "open" and isinstance(args[0], str | bytes) and str(args[0]) in photos:
            opened.append(str(args[0]))

    sys.addaudithook(audit)
    try:
        assert index_build.main(build_args(catalog, tiny_model, tmp_path / "out")) == 0
    finally:
        photos.clear()  # an audit hook cannot be removed: it stops counting
    assert sorted(opened) == sorted({str((folder / row["image"]["path"]).resolve()) for row in rows})
    products = Bundle.load(tmp_path / "out").products
    assert products.image_bytes(products.row_of(rows[5]["id"])) == (folder / rows[5]["image"]["path"]).read_bytes()


def test_export_onnx_exports_the_loaded_encoder_without_loading_the_model_again(
    catalog_dir, tiny_model, tmp_path, monkeypatch
):
    calls = {"resolve": 0, "processor": 0}
    real_resolve, real_processor = search.encoding.encoder.resolve_model, search.encoding.encoder._load_processor

    def resolve(*args, **kwargs):
        calls["resolve"] += 1
        return real_resolve(*args, **kwargs)

    def processor(*args, **kwargs):
        calls["processor"] += 1
        return real_processor(*args, **kwargs)

    monkeypatch.setattr(search.encoding.encoder, "resolve_model", resolve)
    monkeypatch.setattr(search.encoding.encoder, "_load_processor", processor)
    for runtime in ("onnx", "torch"):
        calls.update(resolve=0, processor=0)
        args = build_args(catalog_dir, tiny_model, tmp_path / runtime, "--export-onnx", "--runtime", runtime)
        assert index_build.main(args) == 0
        assert calls == {"resolve": 1, "processor": 1}, runtime
        assert read_manifest(tmp_path / runtime).components.onnx is not None


def test_the_default_engine_never_imports_ray(catalog_dir, tiny_model, tmp_path):
    args = build_args(catalog_dir, tiny_model, tmp_path / "out", "--limit", "16")
    script = (
        "import sys, index_build\n"
        f"assert index_build.main({args!r}) == 0\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'ray'))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_ray_engine_without_ray_installed_says_what_to_install(catalog_dir, tiny_model, tmp_path):
    args = build_args(catalog_dir, tiny_model, tmp_path / "out", "--engine", "ray")
    script = f"import sys\nsys.modules['ray'] = None\nimport index_build\nsys.exit(index_build.main({args!r}))\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1
    assert "--engine ray needs Ray Data" in done.stderr and "pip install -r requirements-scale.txt" in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_ray_address_without_the_ray_engine_is_refused(catalog_dir, tiny_model, tmp_path, caplog):
    args = build_args(catalog_dir, tiny_model, tmp_path / "out", "--ray-address", "head:6379")
    assert index_build.main(args) == 1
    assert "--ray-address is for the Ray engine: add --engine ray." in caplog.text
