"""Helpers shared by the tests (fixtures live in conftest.py files): index_build arguments, a Hub cache layout,
a free port, the client API's endpoints, the check that JSON results are the engine's, an MCP session with the app,
a fake Hub, and a day's catalog changes with the check that an incremental build gives the bundle a fresh build
gives."""

from __future__ import annotations

import asyncio
import copy
import filecmp
import json
import shutil
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pyarrow.parquet as pq
import pytest
from huggingface_hub.utils import filter_repo_objects
from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client
from PIL import Image

from search.bundle import Bundle, read_manifest
from search.fixtures.synthetic import FEATURES, generate_rows, jpeg_bytes

REPO = Path(__file__).resolve().parent.parent
# The client API's public surface: these endpoints and no others.
ENDPOINTS = {
    "/search_text",
    "/search_image",
    "/search_composed",
    "/more_like_this",
    "/search_embedding",
    "/embed",
    "/filter_choices",
}


def with_session(url: str, work: Callable[[ClientSession], Awaitable[Any]], headers: dict | None = None) -> Any:
    """Run `work` in an initialised MCP session with the app at `url`."""

    async def run() -> Any:
        async with (
            streamablehttp_client(url + "gradio_api/mcp/", headers=headers) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return await work(session)

    return asyncio.run(run())


def build_args(catalog: Path, model: Path, out: Path, *extra: str) -> list[str]:
    return [
        "--dataset",
        str(catalog),
        "--model",
        str(model),
        "--out",
        str(out),
        "--batch-size",
        "16",
        "--num-workers",
        "0",
        *extra,
    ]


def put_in_hub_cache(cache: Path, repo_type: str, repo_id: str, source: Path, commit: str = "a" * 40) -> Path:
    """Lay out `source` as a cached Hub snapshot of repo_id (what a real download leaves behind)."""
    folder = cache / f"{repo_type}s--{repo_id.replace('/', '--')}"
    snapshot = folder / "snapshots" / commit
    shutil.copytree(source, snapshot)
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(commit)
    return snapshot


def edit_manifest(folder: Path, change: Callable[[dict], object]) -> None:
    """Change a bundle's manifest.json as a JSON object (its checksums are left as they were)."""
    data = json.loads((folder / "manifest.json").read_text())
    change(data)
    (folder / "manifest.json").write_text(json.dumps(data))


def free_port() -> int:
    """A localhost TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_same_results(
    payload: dict, expected: Any, engine: Any, image_path: Callable[[Any], str] = lambda image: image
) -> None:
    """The JSON results are the engine's response, and each image is the product's stored photo, byte for byte
    (`image_path` finds the file of a result's image: a downloaded path, or the path in a FileData payload)."""
    assert [r["id"] for r in payload["results"]] == expected.ids
    np.testing.assert_allclose([r["score"] for r in payload["results"]], [r.score for r in expected], atol=1e-5)
    for result, wanted in zip(payload["results"], expected.results, strict=True):
        assert result["name"] == wanted.name and result["metadata"] == wanted.metadata
        assert result["matched"] == wanted.matched
        assert Path(image_path(result["image"])).read_bytes() == engine.product_photo_bytes(wanted.product_id)
    assert payload["notices"] == list(expected.notices) and payload["elapsed_ms"] > 0
    assert payload["match_count"] == expected.match_count and payload["semantic_weight"] == expected.semantic_weight
    assert payload["recognised"] == [
        {"field": r.field, "value": r.value, "words": r.words} for r in expected.recognised
    ]
    assert payload["facets"] == {name: [list(item) for item in values] for name, values in expected.facets.items()}
    correction = expected.correction
    assert payload["correction"] == (
        None
        if correction is None
        else {
            "typed": correction.typed,
            "searched": correction.searched,
            "changes": [list(c) for c in correction.changes],
        }
    )


class FakeHub:
    """Records what would be sent to the Hub: the network boundary, everything before it real. `files` are the
    paths `upload_folder` would send, after its own allow/ignore pattern filtering."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.calls: list[tuple[str, dict]] = []

    def install(self, monkeypatch: pytest.MonkeyPatch, module: str) -> FakeHub:
        """Replace `create_repo` and `upload_folder` where `module` (search.hub_upload) calls them."""
        monkeypatch.setattr(f"{module}.create_repo", self.create_repo)
        monkeypatch.setattr(f"{module}.upload_folder", self.upload_folder)
        return self

    def create_repo(self, repo_id: str, **kwargs: object) -> None:
        self.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))

    def upload_folder(self, **kwargs: object) -> None:
        if self.fail:
            raise ConnectionError("network unreachable")
        folder = Path(str(kwargs["folder_path"]))
        paths = [path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()]
        files = filter_repo_objects(
            paths, allow_patterns=kwargs.get("allow_patterns"), ignore_patterns=kwargs.get("ignore_patterns")
        )
        self.calls.append(("upload_folder", {**kwargs, "files": sorted(files)}))


def write_catalog(rows: list[dict], folder: Path, id_type: str = "int64") -> Path:
    """Rows in the dataset's schema as one parquet file (images as given: bytes, a path or neither)."""
    features = FEATURES.copy()
    features["id"] = datasets.Value(id_type)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(datasets.Dataset.from_list(rows, features=features).data.table, folder / "train.parquet")
    return folder


def rows_with_image_paths(rows: list[dict], folder: Path) -> list[dict]:
    """The rows with every photo written to `folder/images/` and referenced by path (relative to `folder`) only."""
    (folder / "images").mkdir(parents=True)
    for row in rows:
        (folder / "images" / f"{row['id']}.jpg").write_bytes(row["image"]["bytes"])
        row["image"] = {"bytes": None, "path": f"images/{row['id']}.jpg"}
    return rows


def rehash(folder: Path, *names: str) -> None:
    """Rewrite a bundle manifest's size and sha256 of the named files after they were replaced: what whoever can
    replace a file can also do, so the checks that follow must not rely on checksums."""
    import hashlib

    def update(manifest: dict) -> None:
        for name in names:
            data = (folder / name).read_bytes()
            manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}

    edit_manifest(folder, update)


def changed_catalog(rows: list[dict]) -> list[dict]:
    """A day's changes: a new photo, a corrected name, a relabelled product, two retired and two new products."""
    rows = copy.deepcopy(rows)
    rows[3]["image"] = {"bytes": jpeg_bytes(Image.new("RGB", (60, 80), (10, 200, 10))), "path": None}
    rows[5]["productDisplayName"] = "Corrected golden evening gown"
    rows[7]["baseColour"] = "Purple"
    del rows[10:12]
    return rows + [{**row, "id": 90_000 + number} for number, row in enumerate(generate_rows(2, seed=9))]


def new_photo(row: dict) -> dict:
    """The row with another photo of its own colour."""
    return {**row, "image": {"bytes": jpeg_bytes(Image.new("RGB", (60, 80), (row["id"] % 250, 9, 9))), "path": None}}


def assert_same_bundle(built: Path, fresh: Path) -> None:
    """Same products in the same order, same vectors (within float tolerance), same keyword index and keys."""
    vectors = [Bundle.load(folder).index for folder in (built, fresh)]
    np.testing.assert_allclose(*(index.vectors(np.arange(len(index))) for index in vectors), atol=1e-6)
    one, other = read_manifest(built), read_manifest(fresh)
    assert (one.model, one.dataset, one.index, one.components) == (other.model, other.dataset, other.index,
                                                                   other.components)  # fmt: skip
    files = [name for name in one.files if name not in ("index.faiss", "README.md")]
    assert "products.parquet" in files and "content.parquet" in files and any(f.startswith("keyword/") for f in files)
    assert all(filecmp.cmp(built / name, fresh / name, shallow=False) for name in files)
