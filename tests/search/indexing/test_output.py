"""--out is checked before any work: a file, an unwritable place, a folder inside the dataset or a folder that is not
a bundle are refused with a message, and nothing is created while checking."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import index_build
from search.errors import BundleError
from search.indexing.output import check_output
from tests.helpers import build_args


@pytest.fixture
def dataset(tmp_path) -> Path:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "train.parquet").write_bytes(b"not read by the check")
    return folder


def check(out: Path, dataset: Path | str, cache: Path | None = None) -> None:
    check_output(out, cache or out.parent / f"{out.name}.cache", str(dataset))


def test_a_new_or_bundle_folder_outside_the_dataset_passes_and_nothing_is_created(tmp_path, dataset, bundle_dir):
    before = sorted(tmp_path.rglob("*"))
    check(tmp_path / "builds" / "nested" / "out", dataset)
    check(Path(shutil.copytree(bundle_dir, tmp_path / "bundle")), dataset)
    check(tmp_path / "out", "someone/hub-dataset")
    assert sorted(tmp_path.rglob("*")) == sorted([*before, *(tmp_path / "bundle").rglob("*"), tmp_path / "bundle"])


def test_a_regular_file_is_refused(tmp_path, dataset):
    (tmp_path / "out").write_text("a file")
    with pytest.raises(BundleError, match=r"--out .*out is a file, not a folder"):
        check(tmp_path / "out", dataset)
    with pytest.raises(BundleError, match="--cache-dir .* is a file, not a folder"):
        check(tmp_path / "other", dataset, cache=tmp_path / "out")


@pytest.mark.parametrize("out", ["/proc/bundle", "/proc/self/status/bundle"])
def test_a_place_nothing_can_be_written_is_refused(dataset, out):
    with pytest.raises(BundleError, match="cannot be written: nothing can be created in /proc"):
        check(Path(out), dataset)


@pytest.mark.parametrize("inside", ["catalog", "catalog/bundles/out"])
def test_a_folder_inside_the_dataset_is_refused(tmp_path, dataset, inside):
    """It worked once; the next build read the bundle's products.parquet as part of the catalog."""
    for given in (dataset, dataset / "train.parquet"):
        with pytest.raises(BundleError, match="is inside the dataset's folder"):
            check(tmp_path / inside, given)
    with pytest.raises(BundleError, match="--cache-dir .* is inside the dataset's folder"):
        check(tmp_path / "out", dataset, cache=dataset / "cache")


def test_a_folder_that_is_not_a_bundle_is_refused_before_any_work(tmp_path, dataset):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "holiday.jpg").write_bytes(b"mine")
    with pytest.raises(BundleError, match="is not an index bundle; refusing to replace it"):
        check(tmp_path / "photos", dataset)


def test_index_build_refuses_a_bad_out_before_loading_anything(tiny_model, catalog_dir, tmp_path, caplog):
    (tmp_path / "out").write_text("a file")
    assert index_build.main(build_args(catalog_dir, tiny_model, tmp_path / "out")) == 1
    assert "is a file, not a folder" in caplog.text and "Traceback" not in caplog.text
    assert "Loaded" not in caplog.text, "the catalog was loaded before --out was checked"
    assert not (tmp_path / "out.cache").exists() and (tmp_path / "out").read_text() == "a file"
