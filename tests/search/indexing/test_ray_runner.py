"""The Ray engine (`index_build.py --engine ray`), in a local Ray cluster on 2 CPUs: the same bundle as the default
engine, resuming from finished shards, clear refusals, and no Ray import without it."""

import filecmp
import json
import logging
import subprocess
import sys

import numpy as np
import pytest

import index_build
from search.bundle import INDEX_FILE, MANIFEST_FILE, Bundle
from search.bundle.store import CARD_FILE
from search.errors import CatalogError
from search.fixtures.synthetic import generate_catalog, generate_rows, save_catalog
from search.indexing.ray_runner import RowLookup, ShardAssembler, connect
from search.indexing.shards import ShardCache
from tests.helpers import build_args, rows_with_image_paths, write_catalog


def test_row_lookup_finds_wanted_rows_by_product_id_and_skips_the_rest():
    lookup = RowLookup(np.array([30, 10, 20]), np.array([5, 3, 4]))
    assert lookup(np.array([10, 20, 30, 99, 5])).tolist() == [3, 4, 5, -1, -1]
    assert RowLookup(np.array([], dtype=np.int64), np.array([], dtype=np.int64))(np.array([1])).tolist() == [-1]


def test_row_lookup_refuses_repeated_product_ids():
    catalog = generate_catalog(6)
    first = catalog["id"][0]
    repeated = catalog.map(lambda row, index: {"id": first if index == 3 else row["id"]}, with_indices=True)
    with pytest.raises(CatalogError, match=f"repeat.*{first}"):
        RowLookup.for_catalog(repeated, [0, 1, 2])


def test_shard_assembler_writes_a_shard_once_all_its_rows_arrived_in_any_order(tmp_path):
    cache = ShardCache(tmp_path, {"test": 1}, num_rows=5, shard_size=2)
    assembler = ShardAssembler(cache)
    vectors = np.arange(10, dtype=np.float32).reshape(5, 2)
    problems = np.array(["", "the image is empty (0 bytes)", "", "", ""], dtype=object)
    assembler.add(np.array([4, 1]), vectors[[4, 1]], -vectors[[4, 1]], problems[[4, 1]])
    assert [cache.done(shard) for shard in range(3)] == [False, False, True]
    assembler.add(np.array([3, 0, 2]), vectors[[3, 0, 2]], -vectors[[3, 0, 2]], problems[[3, 0, 2]])
    image, text = (np.concatenate(parts) for parts in zip(*(cache.read(s) for s in range(3)), strict=True))
    np.testing.assert_array_equal(image, vectors)
    np.testing.assert_array_equal(text, -vectors)
    assert {**cache.unreadable(0), **cache.unreadable(1), **cache.unreadable(2)} == {1: "the image is empty (0 bytes)"}
    assert not assembler.pending


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


def test_a_ray_address_without_the_ray_engine_is_refused(catalog_dir, tiny_model, tmp_path, caplog):
    args = build_args(catalog_dir, tiny_model, tmp_path / "out", "--ray-address", "head:6379")
    assert index_build.main(args) == 1
    assert "--ray-address is for the Ray engine: add --engine ray." in caplog.text


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
