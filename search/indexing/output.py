"""Where a build writes, checked before any work: a bad --out used to fail only after everything was encoded
(a regular file: NotADirectoryError; a read-only disk: OSError, both as tracebacks), and an --out inside the
dataset's folder worked once, then the next build read the bundle's products.parquet as part of the catalog."""

from __future__ import annotations

import tempfile
from pathlib import Path

from search.bundle import is_bundle
from search.errors import BundleError


def check_output(out: Path, cache: Path, dataset: str) -> None:
    """Refuse an --out (and shard cache folder `cache`) the build could not write, or that lies inside the local
    dataset `dataset` (a folder or a parquet file's folder)."""
    for path, option in ((out, "--out"), (cache, "--cache-dir")):
        if path.exists() and not path.is_dir():
            raise BundleError(f"{option} {path} is a file, not a folder; give a folder (it is created if missing).")
    root = _dataset_folder(dataset)
    for path, option in ((out, "--out"), (cache, "--cache-dir")):
        if root is not None and path.resolve().is_relative_to(root):
            raise BundleError(
                f"{option} {path} is inside the dataset's folder {root}: the next build would read the bundle as "
                "part of the catalog. Choose a folder outside it."
            )
    if out.is_dir() and not is_bundle(out) and any(out.iterdir()):
        raise BundleError(f"{out} exists and is not an index bundle; refusing to replace it. Choose another --out.")
    for path, option in ((out, "--out"), (cache, "--cache-dir")):
        _check_writable(path, option)


def _dataset_folder(dataset: str) -> Path | None:
    """The local folder a catalog is read from (all of it, recursively); None for a Hub dataset."""
    path = Path(dataset).expanduser()
    if not path.exists():
        return None
    return (path if path.is_dir() else path.parent).resolve()


def _check_writable(path: Path, option: str) -> None:
    """The build creates `path` and a staging folder beside it: a file must be creatable in its parent, or in the
    nearest folder above it that exists (what is missing is created)."""
    parent = path.resolve().parent
    while not parent.exists():
        parent = parent.parent
    try:
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as error:
        raise BundleError(
            f"{option} {path} cannot be written: nothing can be created in {parent} ({error.strerror or error}). "
            "Choose a folder on a writable disk."
        ) from error
