"""The Ray engine's encoding stage: row matching, shard assembly, and the same shards as the default engine."""

from collections import defaultdict

import numpy as np
import pytest

from search.build.ray_runner import (
    RowLookup,
    ShardAssembler,
    catalog_dataset,
    connect,
    encode_catalog_ray,
    encoder_spec,
    parquet_source,
)
from search.catalog import load_catalog
from search.encoder import Encoder
from search.errors import CatalogError
from search.pipeline import BuildConfig, encode_catalog
from search.shards import ShardCache
from search.synthetic import generate_catalog, save_catalog


def test_row_lookup_finds_wanted_rows_by_product_id_and_skips_the_rest():
    lookup = RowLookup(np.array([30, 10, 20]), np.array([5, 3, 4]))
    assert lookup(np.array([10, 20, 30, 99, 5])).tolist() == [3, 4, 5, -1, -1]
    assert RowLookup(np.array([], dtype=np.int64), np.array([], dtype=np.int64))(np.array([1])).tolist() == [-1]


def test_row_lookup_refuses_repeated_product_ids():
    catalog = generate_catalog(6)
    ids = catalog["id"]
    repeated = catalog.map(lambda row, index: {"id": ids[0] if index == 3 else row["id"]}, with_indices=True)
    with pytest.raises(CatalogError, match=f"repeat.*{ids[0]}"):
        RowLookup.for_catalog(repeated, [0, 1, 2])


def test_shard_assembler_writes_a_shard_once_all_its_rows_arrived_in_any_order(tmp_path):
    cache = ShardCache(tmp_path, {"test": 1}, num_rows=5, shard_size=2)
    assembler = ShardAssembler(cache)
    vectors = np.arange(10, dtype=np.float32).reshape(5, 2)
    ok = np.array([True, False, True, True, True])
    assembler.add(np.array([4, 1]), vectors[[4, 1]], -vectors[[4, 1]], ok[[4, 1]])
    assert [cache.done(shard) for shard in range(3)] == [False, False, True]
    assembler.add(np.array([3, 0, 2]), vectors[[3, 0, 2]], -vectors[[3, 0, 2]], ok[[3, 0, 2]])
    image, text, bad = cache.read_all()
    np.testing.assert_array_equal(image, vectors)
    np.testing.assert_array_equal(text, -vectors)
    assert bad == 1
    assert not assembler.pending


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray cluster on 2 CPUs, started the way the build starts one."""
    import ray

    started = connect(None, num_cpus=2)
    yield
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def parquet_catalog(tmp_path_factory):
    return save_catalog(120, tmp_path_factory.mktemp("parquet") / "catalog", as_parquet=True)


def test_ray_stage_writes_the_same_shards_as_the_default_engine(local_ray, parquet_catalog, tiny_model, tmp_path):
    table, source = load_catalog(str(parquet_catalog))
    default = ShardCache(tmp_path, {"engine": "default"}, source.num_rows, 32)
    encoder = Encoder.load(str(tiny_model), device="cpu")
    encode_catalog(BuildConfig(batch_size=16, num_workers=0), encoder, default, table, defaultdict(float))
    ray_cache = ShardCache(tmp_path, {"engine": "ray"}, source.num_rows, 32)
    spec = encoder_spec(str(tiny_model), None, None, None, False, 16)
    catalog = catalog_dataset(parquet_source(str(parquet_catalog), "train", None), table)
    encode_catalog_ray(ray_cache, catalog, RowLookup.for_catalog(table, ray_cache.missing_rows()), spec, defaultdict(float))
    for got, expected in zip(ray_cache.read_all(), default.read_all(), strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-6)
