"""The index bundle on disk: `Bundle.save(folder)` writes it atomically with checksums, `Bundle.load(folder)` reads
back exactly that, verified. Nothing else in the project reads or writes bundle files."""

from __future__ import annotations

import ctypes
import errno
import glob
import hashlib
import logging
import os
import re
import shutil
import socket
import subprocess
import uuid
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

from search.bundle.card import dataset_card
from search.bundle.manifest import FileInfo, Manifest, OnnxInfo
from search.catalog.photos import PhotoShards
from search.catalog.products import ProductTable
from search.encoding.onnx_files import OnnxExport, copy_export
from search.errors import BundleError, ModelLoadError
from search.ranking.index import IndexSpec, VectorIndex
from search.ranking.keyword import KeywordIndex
from search.understanding.vocabulary import Vocabulary
from search.version import __version__

logger = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
INDEX_FILE = "index.faiss"
VECTORS_FILE = "vectors.npy"  # exact vectors of IVF indexes (memory-mapped on load)
PRODUCTS_FILE = "products.parquet"
CARD_FILE = "README.md"
ONNX_DIR = "onnx"
REQUIRED_FILES = (INDEX_FILE, PRODUCTS_FILE)


@dataclass(frozen=True)
class Bundle:
    """A manifest and the parts it describes: the vector index, the products table, the keyword index, the model's
    ONNX towers and the catalog's vocabulary.

    Row i of the products table, vector i of the index, document i of the keyword index and brand i of the
    vocabulary are one product.
    """

    manifest: Manifest
    index: VectorIndex
    products: ProductTable
    keyword: KeywordIndex | None = None
    onnx: OnnxExport | None = None
    vocabulary: Vocabulary | None = None

    def __post_init__(self) -> None:
        self._check_consistent()

    def save(self, out: Path | str) -> Path:
        """Write the bundle to `out` atomically: everything goes to a temporary sibling folder that replaces `out`
        at the end, checksums and the manifest last, so a folder without a complete manifest never loads. The
        staging folder is loaded back (verified) before the swap: `out` never holds a bundle that does not load."""
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        _check_replaceable(out)
        staging = _new_staging_folder(out)
        try:
            self.index.save(staging / INDEX_FILE, staging / VECTORS_FILE)
            photos = self.manifest.components.photos
            if photos is None:
                self.products.save(staging / PRODUCTS_FILE)
            elif (
                self.products.save(staging / PRODUCTS_FILE, staging / photos.folder, photos.rows_per_file)
                != photos.files
            ):
                raise BundleError(f"The manifest's components.photos.files ({photos.files}) is not what was written.")
            if self.keyword is not None and self.manifest.components.keyword is not None:
                self.keyword.save(staging / self.manifest.components.keyword.folder)
            if self.onnx is not None and self.manifest.components.onnx is not None:
                copy_export(self.onnx, staging / self.manifest.components.onnx.folder)
            if self.vocabulary is not None:
                self.vocabulary.save(staging / self.vocabulary.describe().folder)
            (staging / CARD_FILE).write_text(dataset_card(self.manifest), encoding="utf-8")
            files = {
                path.relative_to(staging).as_posix(): FileInfo(sha256=sha256_of(path), bytes=path.stat().st_size)
                for path in sorted(staging.rglob("*"))
                if path.is_file()
            }
            (staging / MANIFEST_FILE).write_text(self.manifest.with_files(files).to_json(), encoding="utf-8")
            self.load(staging)
            _replace_folder(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        logger.info("Wrote index bundle %s", out)
        return out

    @classmethod
    def load(cls, folder: Path | str, verify: bool = True) -> Bundle:
        """Read a bundle written by `save`: manifest validated, every file's size (and with `verify` its sha256)
        checked, the index's real type, metric and dimension compared with the manifest."""
        folder = Path(folder)
        manifest = read_manifest(folder, verify=verify)
        info = manifest.index
        exact = _inside(folder, VECTORS_FILE) if VECTORS_FILE in manifest.files else None
        spec = IndexSpec(info.type, dict(info.params))
        index = VectorIndex.load(folder / INDEX_FILE, spec, exact, info.rows_without_vectors)
        photos = manifest.components.photos
        shards = None
        if photos is not None:
            shards = PhotoShards(
                _inside(folder, photos.folder), manifest.dataset.num_rows, photos.rows_per_file, photos.files
            )
        products = ProductTable.read(folder / PRODUCTS_FILE, shards)
        keyword = None
        if manifest.components.keyword is not None:
            settings = manifest.components.keyword
            keyword = KeywordIndex.load(_inside(folder, settings.folder), asdict(settings))
        onnx = None
        if manifest.components.onnx is not None:
            onnx = _open_export(_inside(folder, manifest.components.onnx.folder))
        vocabulary = None
        if manifest.components.vocabulary is not None:
            described = manifest.components.vocabulary
            vocabulary = Vocabulary.load(_inside(folder, described.folder), described)
        return cls(manifest, index, products, keyword, onnx, vocabulary)

    @property
    def num_products(self) -> int:
        return len(self.products)

    def _check_consistent(self) -> None:
        """Refuse parts that do not describe the same products in the same space, before anything is written or
        served."""
        manifest, rows = self.manifest, self.manifest.dataset.num_rows
        if self.index.dim != manifest.dim:
            raise BundleError(
                f"The index holds {self.index.dim}-d vectors; the manifest's model.dim is {manifest.dim}."
            )
        if self.index.spec.type != manifest.index.type:
            raise BundleError(
                f"The index is {self.index.spec.type}; the manifest's index.type is {manifest.index.type}."
            )
        sizes = {"index vectors": len(self.index), "products table rows": len(self.products)}
        if self.keyword is not None:
            sizes["keyword index documents"] = len(self.keyword)
        if self.vocabulary is not None:
            sizes["vocabulary brand codes"] = len(self.vocabulary)
        wrong = {name: size for name, size in sizes.items() if size != rows}
        if wrong:
            listed = ", ".join(f"{size} {name}" for name, size in wrong.items())
            raise BundleError(
                f"The bundle's parts disagree: the manifest says {rows} products, but there are {listed}."
            )
        if (self.keyword is None) != (manifest.components.keyword is None):
            raise BundleError("The manifest's components.keyword and the keyword index must be given together.")
        if self.vocabulary is not None and self.vocabulary.describe() != manifest.components.vocabulary:
            raise BundleError("The manifest's components.vocabulary does not describe the bundle's vocabulary.")
        if self.vocabulary is None and manifest.components.vocabulary is not None:
            raise BundleError("The manifest's components.vocabulary and the vocabulary must be given together.")
        if self.index.without_vectors != manifest.index.rows_without_vectors:
            raise BundleError("The index's rows without vectors differ from the manifest's index.rows_without_vectors.")
        self._check_onnx()

    def _check_onnx(self) -> None:
        """The ONNX towers must be described by the manifest and come from its model snapshot."""
        info, model = self.manifest.components.onnx, self.manifest.model
        if (self.onnx is None) != (info is None):
            raise BundleError("The manifest's components.onnx and the ONNX export must be given together.")
        if self.onnx is None or info is None:
            return
        if not self.onnx.matches(model.id, model.revision):
            raise BundleError(
                f"The bundle's ONNX towers were exported from '{self.onnx.info.get('model')}' at revision "
                f"{self.onnx.info.get('revision')!r}, not from the manifest's model '{model.id}' at {model.revision!r}."
            )
        if list(info.text_inputs) != self.onnx.text_inputs or info.model != model.id or info.revision != model.revision:
            raise BundleError("The manifest's components.onnx does not describe the bundle's ONNX export.")


def onnx_info(export: OnnxExport, folder: str = ONNX_DIR) -> OnnxInfo:
    """The manifest's description of an ONNX export stored in the bundle folder `folder`."""
    info = export.info
    return OnnxInfo(
        folder=folder,
        model=info["model"],
        revision=info["revision"],
        text_inputs=tuple(info["text_inputs"]),
        opset=info["opset"],
        format=info["format"],
    )


def _open_export(folder: Path) -> OnnxExport:
    try:
        return OnnxExport.open(folder)
    except ModelLoadError as error:
        raise BundleError(f"The bundle's ONNX towers cannot be used: {error}") from error


def read_manifest(folder: Path, verify: bool = True) -> Manifest:
    """Read and validate a bundle's manifest, and check every file it lists: present, same size, same sha256."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BundleError(f"Index bundle folder not found: {folder}")
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise BundleError(
            f"{folder} is not an index bundle: {MANIFEST_FILE} is missing (an interrupted build, or the wrong folder)."
        )
    manifest = Manifest.from_json(path.read_bytes())
    missing = [name for name in REQUIRED_FILES if name not in manifest.files]
    if missing:
        raise BundleError(f"The bundle manifest does not list required file(s): {', '.join(missing)}.")
    for name, expected in manifest.files.items():
        file = _inside(folder, name)
        if not file.is_file():
            raise BundleError(f"The bundle is incomplete: {name} is missing from {folder}.")
        size = file.stat().st_size
        if size != expected.bytes:
            raise BundleError(
                f"The bundle file {name} has {size} bytes, the manifest says {expected.bytes} "
                "(truncated or replaced). Re-download or rebuild the bundle."
            )
        if verify and sha256_of(file) != expected.sha256:
            raise BundleError(
                f"Checksum mismatch for {name}: the file differs from the one the bundle was built with. "
                "Re-download or rebuild the bundle."
            )
    return manifest


def is_bundle(folder: Path) -> bool:
    """Whether `folder` holds a bundle's manifest (it may still fail verification)."""
    return (Path(folder) / MANIFEST_FILE).is_file()


def code_version() -> str:
    """The package version plus the git commit it runs from, when known: recorded in the manifests it writes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{commit}" if commit else __version__


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _inside(folder: Path, name: str) -> Path:
    """`folder/name`, refused when a link or '..' would lead outside the bundle."""
    path = (folder / name).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise BundleError(f"The bundle path {name!r} leads outside the bundle folder.")
    return path


def _check_replaceable(target: Path) -> None:
    if target.exists() and not is_bundle(target) and any(target.iterdir()):
        raise BundleError(f"{target} exists and is not an index bundle; refusing to replace it. Choose another --out.")


def _replace_folder(new: Path, target: Path) -> None:
    """Put `new` in place of `target` in one step (the two folders are exchanged, then the old one removed), so
    `target` holds a whole bundle at every moment. Where the system cannot exchange folders, two renames."""
    if not target.exists():
        new.rename(target)
        return
    _check_replaceable(target)
    if _exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)
        return
    retired = target.parent / f".{target.name}.old-{_owner()}-{uuid.uuid4().hex[:8]}"
    target.rename(retired)
    new.rename(target)
    shutil.rmtree(retired, ignore_errors=True)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically (Linux's renameat2 with RENAME_EXCHANGE); False where it is not available."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError, TypeError):  # not glibc / not Linux
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # a file system that cannot exchange
        return False
    raise OSError(error, os.strerror(error), str(second))


def _owner() -> str:
    """Who writes a temporary folder: this machine and process, so that another save can tell a folder left by a
    process that died (kill -9 during a save) from one still being written."""
    return f"{zlib.crc32(socket.gethostname().encode()):08x}-{os.getpid()}"


def _new_staging_folder(out: Path) -> Path:
    """A new temporary folder beside `out`, after removing those that earlier saves to `out` left behind."""
    for leftover in out.parent.glob(f".{glob.escape(out.name)}.*-*"):
        match = re.fullmatch(
            rf"\.{re.escape(out.name)}\.(?:tmp|old)-(?:([0-9a-f]{{8}})-([0-9]+)-)?[0-9a-f]{{8}}", leftover.name
        )
        if match and leftover.is_dir() and not _written_now(match.group(1), match.group(2)):
            logger.info("Removing %s, left by an earlier save that did not finish", leftover)
            shutil.rmtree(leftover, ignore_errors=True)
    staging = out.parent / f".{out.name}.tmp-{_owner()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    return staging


def _written_now(host: str | None, pid: str | None) -> bool:
    """Whether a temporary folder's owner may still be writing it: a process of another machine, or a live one of
    this machine. Folders of earlier versions (no owner in the name) are left over."""
    if host is None or pid is None:
        return False
    if host != _owner().split("-")[0]:
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, owned by another user
        return True
    return True
