"""The Ray engine (`index_build.py --engine ray`), in a local Ray cluster on 2 CPUs: the same bundle as the default
engine, the build's settings reaching the encoders, resuming from finished shards and clear refusals. Ray is an
optional extra (requirements-scale.txt): without it these tests are skipped."""

import filecmp
import json
import logging

import numpy as np
import pytest

pytest.importorskip("ray", reason="the Ray build engine is an optional extra: pip install -r requirements-scale.txt")

import index_build
from search.bundle import INDEX_FILE, MANIFEST_FILE, Bundle, read_manifest
from search.bundle.store import CARD_FILE
from search.encoding.encoder import Encoder
from search.fixtures.synthetic import generate_rows, save_catalog
from search.indexing.config import BuildConfig
from search.indexing.ray_runner import EncodeActor, RowLookup, connect
from search.indexing.reader import product_image
from search.indexing.shards import ShardCache
from search.indexing.spec import EncoderSpec
from tests.helpers import assert_same_bundle, build_args, changed_catalog, rows_with_image_paths, write_catalog


def test_row_lookup_finds_wanted_rows_by_product_id_and_skips_the_rest():
    lookup = RowLookup(np.array([30, 10, 20]), np.array([5, 3, 4]))
    assert lookup(np.array([10, 20, 30, 99, 5])).tolist() == [3, 4, 5, -1, -1]
    assert RowLookup(np.array([], dtype=np.int64), np.array([], dtype=np.int64))(np.array([1])).tolist() == [-1]


def preprocessed(encoder: Encoder, count: int = 4) -> dict[str, np.ndarray]:
    """A batch as the decoding tasks hand it to the actors."""
    photos = [product_image(row)[0] for row in generate_rows(count)]
    return {
        "row": np.arange(count),
        "pixel_values": encoder.preprocess(photos).numpy(),
        "text": np.array([f"product {row}" for row in range(count)], dtype=object),
        "problem": np.array([""] * count, dtype=object),
    }


def test_actors_encode_no_product_names_when_product_vectors_do_not_use_them(tiny_model, monkeypatch):
    texts: list[int] = []
    real_encode = Encoder.encode_text

    def count(self, batch):
        texts.append(len(batch))
        return real_encode(self, batch)

    monkeypatch.setattr(Encoder, "encode_text", count)
    image_only = EncoderSpec.from_config(BuildConfig(model=str(tiny_model), doc_image_weight=1.0))
    actor = EncodeActor(image_only)
    texts.clear()
    out = actor(preprocessed(actor.encoder))
    assert texts == [] and out["image"].shape == (4, 32) and out["text"].shape == (4, 0)
    mixed = EncodeActor(EncoderSpec.from_config(BuildConfig(model=str(tiny_model), doc_image_weight=0.9)))
    texts.clear()
    assert mixed(preprocessed(mixed.encoder))["text"].shape == (4, 32) and texts == [4]


def test_actors_run_the_runtime_the_build_asks_for(tiny_model):
    for runtime in ("torch", "onnx"):
        spec = EncoderSpec.from_config(BuildConfig(model=str(tiny_model), device="cpu", runtime=runtime))
        assert EncodeActor(spec).encoder.runtime == runtime


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray cluster on 2 CPUs, started the way the build starts one; builds join it."""
    import ray

    started = connect(None, num_cpus=2)
    yield
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def parquet_catalog(tmp_path_factory):
    return save_catalog(120, tmp_path_factory.mktemp("parquet") / "catalog", as_parquet=True)


def stored_vectors(bundle) -> np.ndarray:
    index = Bundle.load(bundle).index
    return index.vectors(np.arange(len(index)))


def test_ray_engine_builds_the_same_bundle_as_the_default_engine(local_ray, parquet_catalog, tiny_model, tmp_path):
    default, on_ray = tmp_path / "default", tmp_path / "ray"
    assert index_build.main(build_args(parquet_catalog, tiny_model, default)) == 0
    assert index_build.main(build_args(parquet_catalog, tiny_model, on_ray, "--engine", "ray")) == 0
    np.testing.assert_allclose(stored_vectors(on_ray), stored_vectors(default), atol=1e-6)
    manifests = [json.loads((folder / MANIFEST_FILE).read_text()) for folder in (default, on_ray)]
    cards = [
        (folder / CARD_FILE).read_text().replace(m["created_at"], "<time>")
        for folder, m in zip((default, on_ray), manifests, strict=True)
    ]
    assert cards[0] == cards[1]
    for manifest in manifests:
        del manifest["created_at"], manifest["files"][INDEX_FILE], manifest["files"][CARD_FILE]
    assert manifests[0] == manifests[1]
    files = list(manifests[0]["files"])
    assert "products.parquet" in files and any(name.startswith("keyword/") for name in files)
    assert all(filecmp.cmp(default / name, on_ray / name, shallow=False) for name in files)


def test_the_runtime_asked_for_reaches_the_cluster(local_ray, parquet_catalog, tiny_model, tmp_path):
    out = tmp_path / "torch"
    assert index_build.main(build_args(parquet_catalog, tiny_model, out, "--engine", "ray", "--runtime", "torch")) == 0
    assert read_manifest(out).model.build_runtime == "torch"


def test_ray_engine_reads_photos_given_by_path_like_the_default_engine(local_ray, tiny_model, tmp_path):
    """Photos stored as {"bytes": null, "path": "images/…"} are read relative to the dataset folder on the Ray
    workers too: nothing is unreadable, the vectors equal the default engine's and the bundle serves the files."""
    folder = tmp_path / "catalog"
    rows = rows_with_image_paths(generate_rows(40, seed=5), folder)
    catalog = write_catalog(rows, folder)
    default, on_ray = tmp_path / "default", tmp_path / "ray"
    assert index_build.main(build_args(catalog, tiny_model, default)) == 0
    assert index_build.main(build_args(catalog, tiny_model, on_ray, "--engine", "ray")) == 0
    for bundle in (default, on_ray):
        assert json.loads((bundle / MANIFEST_FILE).read_text())["dataset"]["unreadable_images"] == 0
    np.testing.assert_allclose(stored_vectors(on_ray), stored_vectors(default), atol=1e-6)
    products = Bundle.load(on_ray).products
    first = products.row_of(rows[0]["id"])
    assert products.image_bytes(first) == (folder / rows[0]["image"]["path"]).read_bytes()


def test_an_incremental_ray_build_gives_the_bundle_a_fresh_build_gives(local_ray, tiny_model, tmp_path):
    rows = generate_rows(60)
    catalog = write_catalog(rows, tmp_path / "catalog")
    first, on_ray, fresh = tmp_path / "first", tmp_path / "ray", tmp_path / "fresh"
    assert index_build.main(build_args(catalog, tiny_model, first)) == 0
    write_catalog(changed_catalog(rows), catalog)
    assert index_build.main(build_args(catalog, tiny_model, on_ray, "--engine", "ray", "--reuse", str(first))) == 0
    assert index_build.main(build_args(catalog, tiny_model, fresh)) == 0
    changes = read_manifest(on_ray).changes
    assert (changes.encoded, changes.reused) == (3, 57)
    assert_same_bundle(on_ray, fresh)


def test_interrupted_ray_build_resumes_from_finished_shards(
    local_ray, bundle_dir, catalog_dir, tiny_model, tmp_path, monkeypatch, caplog
):
    out = tmp_path / "resumed"
    args = build_args(catalog_dir, tiny_model, out, "--shard-size", "32", "--engine", "ray")
    real_write = ShardCache.write
    calls = {"n": 0}

    def interrupt_on_third_shard(self, *parts):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_write(self, *parts)

    monkeypatch.setattr(ShardCache, "write", interrupt_on_third_shard)
    assert index_build.main(args) == 130
    assert not out.exists()
    finished = list((tmp_path / "resumed.cache").rglob("shard-*.npz"))
    assert len(finished) == 2
    resumed = sum(len(np.load(shard)["image"]) for shard in finished)

    monkeypatch.setattr(ShardCache, "write", real_write)
    with caplog.at_level(logging.INFO):
        assert index_build.main(args) == 0
    assert f"Resuming: {resumed} of 240 products already encoded" in caplog.text
    np.testing.assert_allclose(stored_vectors(out), stored_vectors(bundle_dir), atol=1e-6)


def test_a_gpu_the_cluster_lacks_is_refused_before_anything_runs(local_ray, catalog_dir, tiny_model, tmp_path, caplog):
    args = build_args(catalog_dir, tiny_model, tmp_path / "out", "--engine", "ray", "--device", "cuda")
    assert index_build.main(args) == 1
    assert "--device cuda was asked for, but the Ray cluster has no GPU" in caplog.text
    assert not (tmp_path / "out").exists()
