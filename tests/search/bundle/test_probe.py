"""The loading encoder must reproduce the bundle: the text probe, and a sample of stored vectors re-encoded from
their products (image tower, index, vectors file), found again by the index. Replaced parts are refused even when
the manifest's checksums were rewritten to match them."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import faiss
import numpy as np
import pytest

from search.bundle import INDEX_FILE, VECTORS_FILE, Bundle, OnnxInfo
from search.bundle.probe import sample_rows
from search.encoding.encoder import Encoder
from search.engine import SearchEngine
from search.errors import BundleError, BundleMismatchError
from search.fixtures.random_model import save_random_clip
from search.ranking.index import IndexSpec, VectorIndex
from tests.helpers import rehash


@pytest.fixture(scope="module")
def other_model(tmp_path_factory) -> Path:
    """Another random CLIP of the same architecture (same dimension, same processor)."""
    return save_random_clip("clip-tiny", tmp_path_factory.mktemp("other") / "other-clip", seed=1)


def with_onnx(bundle_dir: Path, folder: Path, encoder: Encoder) -> Path:
    """The bundle saved with its model's ONNX towers (as `--export-onnx` writes it)."""
    bundle = Bundle.load(bundle_dir)
    export = encoder.towers.export
    components = replace(bundle.manifest.components, onnx=OnnxInfo(**export.describe()))
    return Bundle(replace(bundle.manifest, components=components), bundle.index, bundle.products, bundle.keyword,
                  export, vocabulary=bundle.vocabulary, content=bundle.content).save(folder)  # fmt: skip


@pytest.fixture(scope="module")
def ivf_bundle(bundle_dir, tmp_path_factory) -> Path:
    """The bundle with an IVF index, which keeps its exact vectors in vectors.npy."""
    bundle = Bundle.load(bundle_dir)
    vectors = bundle.index.vectors(np.arange(len(bundle.index)))
    spec = IndexSpec("ivfsq8", {"nlist": 4, "nprobe": 4, "rerank": 10})
    index = VectorIndex.build(vectors, spec, bundle.index.without_vectors)
    manifest = replace(bundle.manifest, index=replace(bundle.manifest.index, type="ivfsq8", params=spec.params))
    folder = tmp_path_factory.mktemp("ivf") / "bundle"
    return Bundle(
        manifest, index, bundle.products, bundle.keyword, vocabulary=bundle.vocabulary, content=bundle.content
    ).save(folder)


def test_the_bundle_and_its_model_reproduce_each_other(bundle_dir, ivf_bundle):
    bundle = Bundle.load(bundle_dir)
    assert len(sample_rows(bundle.index.has_vector(np.arange(len(bundle.index))), bundle.products)) == 4
    SearchEngine.load(bundle_dir)
    SearchEngine.load(ivf_bundle)


def test_an_image_tower_of_another_model_is_refused(bundle_dir, tmp_path, onnx_encoder, other_model):
    folder = with_onnx(bundle_dir, tmp_path / "bundle", onnx_encoder)
    assert SearchEngine.load(folder).encoder.runtime == "onnx"
    other = Encoder.load(str(other_model), runtime="onnx").towers.export
    shutil.copyfile(other.folder / "image.onnx", folder / "onnx" / "image.onnx")
    rehash(folder, "onnx/image.onnx")
    with pytest.raises(BundleMismatchError, match="stored vectors are not what .* image tower"):
        SearchEngine.load(folder)


def test_an_index_of_other_vectors_is_refused(bundle_copy):
    bundle = Bundle.load(bundle_copy)
    rng = np.random.default_rng(0)
    other = rng.standard_normal((len(bundle.index), bundle.index.dim)).astype(np.float32)
    other /= np.linalg.norm(other, axis=1, keepdims=True)
    VectorIndex.build(other, bundle.index.spec).save(bundle_copy)
    rehash(bundle_copy, INDEX_FILE)
    with pytest.raises(BundleMismatchError, match="stored vectors are not what"):
        SearchEngine.load(bundle_copy)


def test_an_ivf_index_that_does_not_hold_the_stored_vectors_is_refused(ivf_bundle, tmp_path):
    folder = Path(shutil.copytree(ivf_bundle, tmp_path / "bundle"))
    bundle = Bundle.load(folder)
    rng = np.random.default_rng(1)
    other = rng.standard_normal((len(bundle.index), bundle.index.dim)).astype(np.float32)
    other /= np.linalg.norm(other, axis=1, keepdims=True)
    faiss.write_index(VectorIndex.build(other, bundle.index.spec).index, str(folder / INDEX_FILE))
    rehash(folder, INDEX_FILE)
    with pytest.raises(BundleMismatchError, match="index does not find its own stored vectors"):
        SearchEngine.load(folder)


@pytest.mark.parametrize("rows", [[0], [5, 17, 30]])
def test_a_vectors_file_with_nan_rows_is_refused(ivf_bundle, tmp_path, rows):
    folder = Path(shutil.copytree(ivf_bundle, tmp_path / "bundle"))
    vectors = np.load(folder / VECTORS_FILE)
    vectors[rows] = np.nan
    np.save(folder / VECTORS_FILE, vectors)
    rehash(folder, VECTORS_FILE)
    listed = ", ".join(map(str, rows))
    with pytest.raises(BundleError, match=f"vectors.npy holds {len(rows)} vector\\(s\\) with NaN .*rows {listed}\\)"):
        Bundle.load(folder)


def test_a_flat_index_with_infinite_values_is_refused(bundle_copy):
    bundle = Bundle.load(bundle_copy)
    vectors = bundle.index.vectors(np.arange(len(bundle.index)))
    vectors[7, 3] = np.inf
    VectorIndex.build(vectors, bundle.index.spec).save(bundle_copy)
    rehash(bundle_copy, INDEX_FILE)
    with pytest.raises(BundleError, match="index.faiss holds 1 vector\\(s\\) with NaN or infinite values \\(rows 7\\)"):
        Bundle.load(bundle_copy)
