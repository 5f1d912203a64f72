"""Bundles on the Hub: a repo id is pulled through snapshot_download (tested offline against a Hub cache layout),
a push creates a dataset repo and uploads the bundle (only the network calls are replaced), the token never leaks."""

import logging
import re

import pytest

import index_build
from search.bundle import resolve_bundle
from search.engine import SearchEngine
from search.errors import BundleError, HubError
from tests.helpers import REPO, put_in_hub_cache


def test_hub_repo_id_is_pulled_with_snapshot_download(bundle_dir, hub_cache):
    snapshot = put_in_hub_cache(hub_cache, "dataset", "tester/fashion-index", bundle_dir)
    assert resolve_bundle("tester/fashion-index") == snapshot
    engine = SearchEngine.load("tester/fashion-index")
    assert len(engine.products) == 240


def test_unreachable_hub_bundle_says_how_to_use_a_local_one(hub_cache):
    with pytest.raises(HubError, match="point --index .* at a local bundle") as raised:
        resolve_bundle("org/never-downloaded")
    hint = re.search(r"`(python index_build.py [^`]*)`", str(raised.value))[1]
    folders = re.findall(r"--(?:dataset|model) (\S+)", hint)
    assert len(folders) == 2
    for folder in folders:
        assert (REPO / folder).is_dir(), f"the offline hint builds from {folder}, which ships in the repository"
    assert "--index demo" in str(raised.value)


def test_missing_local_path_is_explained(tmp_path):
    with pytest.raises(BundleError, match="Index bundle not found"):
        resolve_bundle(str(tmp_path / "nowhere" / "deeper" / "bundle"))


def test_push_creates_a_dataset_repo_and_uploads_the_bundle(bundle_copy, fake_hub, catalog_dir, tiny_model):
    args = ["--out", str(bundle_copy), "--push-to", "tester/fashion-index", "--private", "--push-only"]
    assert index_build.main(args) == 0
    (create, create_args), (upload, upload_args) = fake_hub.calls
    assert create == "create_repo" and create_args == {
        "repo_id": "tester/fashion-index",
        "repo_type": "dataset",
        "private": True,
        "exist_ok": True,
    }
    assert upload == "upload_folder" and upload_args["repo_type"] == "dataset"
    top_level = sorted({name.split("/")[0] for name in upload_args["files"]})
    assert top_level == [
        "README.md",
        "content.parquet",
        "index.faiss",
        "keyword",
        "manifest.json",
        "products.parquet",
        "vocabulary",
    ]
    assert "token" not in upload_args and "token" not in create_args
    # The commit message is the bundle's change report (here: a first build, everything encoded).
    assert upload_args["commit_message"].startswith("Index bundle: 240 products, 240 encoded, 0 reused")


def test_failed_push_keeps_the_bundle_and_says_how_to_retry(bundle_copy, fake_hub, caplog):
    fake_hub.fail = True
    args = ["--out", str(bundle_copy), "--push-to", "tester/fashion-index", "--push-only"]
    assert index_build.main(args) == 1
    assert "local bundle at" in caplog.text and "is intact" in caplog.text
    assert f"--out {bundle_copy} --push-to tester/fashion-index --push-only" in caplog.text
    assert len(SearchEngine.load(bundle_copy).products) == 240


def test_push_only_needs_a_repo(caplog, tmp_path):
    assert index_build.main(["--out", str(tmp_path), "--push-only"]) == 2
    assert "--push-only needs --push-to" in caplog.text


def test_token_is_never_logged_or_written(bundle_copy, fake_hub, monkeypatch, caplog, capsys):
    secret = "hf_SENTINELtokenVALUE123"
    monkeypatch.setenv("HF_TOKEN", secret)
    with caplog.at_level(logging.DEBUG):
        assert index_build.main(["--out", str(bundle_copy), "--push-to", "tester/x", "--push-only"]) == 0
    fake_hub.fail = True
    with caplog.at_level(logging.DEBUG):
        assert index_build.main(["--out", str(bundle_copy), "--push-to", "tester/x", "--push-only"]) == 1
    captured = capsys.readouterr()
    assert secret not in caplog.text + captured.out + captured.err
    assert all(secret.encode() not in path.read_bytes() for path in bundle_copy.rglob("*") if path.is_file())
