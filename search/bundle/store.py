"""The index bundle on disk: `Bundle.save(folder)` writes it atomically with checksums, `Bundle.load(folder)` reads
back exactly that, verified. Nothing else in the project reads or writes bundle files.

The bundle's parts describe themselves: the vector index, the keyword index, the products table with its photos,
the ONNX towers and the content keys each give their own manifest section (`describe`), save themselves into the
bundle folder and load back from their section; this module assembles the manifest from them, validates it and
checks that the parts agree.
"""

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
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from search.bundle.card import dataset_card
from search.bundle.manifest import (
    Changes,
    Components,
    ContentInfo,
    DatasetInfo,
    FileInfo,
    IndexInfo,
    KeywordInfo,
    Manifest,
    ModelInfo,
    OnnxInfo,
    PhotosInfo,
)
from search.catalog.content import ContentKeys
from search.catalog.products import PRODUCTS_FILE, ProductTable
from search.encoding.onnx_files import OnnxExport
from search.encoding.vectors import mix_label
from search.errors import BundleError, ModelLoadError
from search.ranking.index import INDEX_FILE, VectorIndex
from search.ranking.keyword import KeywordIndex
from search.understanding.vocabulary import Vocabulary
from search.version import __version__

logger = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
CARD_FILE = "README.md"
REQUIRED_FILES = (INDEX_FILE, PRODUCTS_FILE)


@dataclass(frozen=True)
class Bundle:
    """A manifest and the parts it describes: the vector index, the products table, the keyword index, the model's
    ONNX towers, the catalog's vocabulary and the products' content keys.

    Row i of the products table, vector i of the index, document i of the keyword index, brand i of the vocabulary
    and key i of the content keys are one product.
    """

    manifest: Manifest
    index: VectorIndex
    products: ProductTable
    keyword: KeywordIndex | None = None
    onnx: OnnxExport | None = None
    vocabulary: Vocabulary | None = None
    content: ContentKeys | None = None

    def __post_init__(self) -> None:
        self._check_consistent()

    @classmethod
    def assemble(
        cls,
        model: ModelInfo,
        dataset: Mapping[str, Any],
        index: VectorIndex,
        products: ProductTable,
        keyword: KeywordIndex | None = None,
        onnx: OnnxExport | None = None,
        vocabulary: Vocabulary | None = None,
        content: ContentKeys | None = None,
        doc_image_weight: float = 1.0,
        changes: Changes | None = None,
        document: str | None = None,
    ) -> Bundle:
        """A bundle whose manifest is made from its parts' own descriptions, validated like one read from disk:
        `model` from the encoder (ModelInfo.of), `dataset` from the catalog (CatalogSource.describe), the rest from
        the parts. `document` names what a product vector is (default: the mix `doc_image_weight` gives)."""
        photos = products.describe_photos()
        manifest = Manifest(
            model=model,
            dataset=DatasetInfo(**dataset, unreadable_images=len(index.without_vectors)),
            index=IndexInfo(
                **index.describe(),
                document=document or mix_label(doc_image_weight),
                doc_image_weight=doc_image_weight,
            ),
            components=Components(
                keyword=KeywordInfo(**keyword.describe()) if keyword is not None else None,
                photos=PhotosInfo(**photos) if photos is not None else None,
                onnx=OnnxInfo(**onnx.describe()) if onnx is not None else None,
                vocabulary=vocabulary.describe() if vocabulary is not None else None,
                content=ContentInfo(**content.describe()) if content is not None else None,
            ),
            code_version=code_version(),
            changes=changes,
        )
        return cls(manifest, index, products, keyword, onnx, vocabulary, content)

    def save(self, out: Path | str) -> Path:
        """Write the bundle to `out` atomically: every part saves itself into a temporary sibling folder that
        replaces `out` at the end, checksums and the manifest last, so a folder without a complete manifest never
        loads. The staging folder is verified part by part (`verify`) before the swap: `out` never holds a bundle
        that does not load."""
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        _check_replaceable(out)
        staging = _new_staging_folder(out)
        try:
            for part in (self.index, self.products, self.keyword, self.onnx, self.content):
                if part is not None:
                    part.save(staging)
            if self.vocabulary is not None:  # it saves into its own folder
                self.vocabulary.save(staging / self.vocabulary.describe().folder)
            (staging / CARD_FILE).write_text(dataset_card(self.manifest), encoding="utf-8")
            files = {
                path.relative_to(staging).as_posix(): FileInfo(sha256=sha256_of(path), bytes=path.stat().st_size)
                for path in sorted(staging.rglob("*"))
                if path.is_file()
            }
            (staging / MANIFEST_FILE).write_text(self.manifest.with_files(files).to_json(), encoding="utf-8")
            self.verify(staging)
            _replace_folder(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        logger.info("Wrote index bundle %s", out)
        return out

    @classmethod
    def load(cls, folder: Path | str, verify: bool = True) -> Bundle:
        """Read a bundle written by `save`: manifest validated, every file's size (and with `verify` its sha256)
        checked, each part loaded from its manifest section and compared with the others."""
        folder = Path(folder)
        manifest = read_manifest(folder, verify=verify)
        components = manifest.components
        index = VectorIndex.load(folder, asdict(manifest.index))
        photos = asdict(components.photos) if components.photos is not None else None
        products = ProductTable.load(folder, photos, manifest.dataset.num_rows)
        keyword = KeywordIndex.load(folder, asdict(components.keyword)) if components.keyword is not None else None
        onnx = _open_export(_inside(folder, components.onnx.folder)) if components.onnx is not None else None
        vocabulary = _load_vocabulary(folder, manifest)
        return cls(manifest, index, products, keyword, onnx, vocabulary, load_content(folder, manifest))

    @staticmethod
    def verify(folder: Path | str) -> Manifest:
        """Check a written bundle as `load` would without holding a second copy of what is large: checksums, the
        index loaded, the products table read a batch at a time, the keyword index memory-mapped."""
        folder = Path(folder)
        manifest = read_manifest(folder)
        components, rows = manifest.components, manifest.dataset.num_rows
        index = VectorIndex.load(folder, asdict(manifest.index))
        photos = asdict(components.photos) if components.photos is not None else None
        ids = ProductTable.verify(folder, photos, rows)
        keyword = None
        if components.keyword is not None:
            keyword = KeywordIndex.load(folder, asdict(components.keyword), mmap=True)
        onnx = _open_export(_inside(folder, components.onnx.folder)) if components.onnx is not None else None
        content = load_content(folder, manifest)
        _check_parts(manifest, index, len(ids), keyword, onnx, _load_vocabulary(folder, manifest))
        _check_content(content, ids)
        return manifest

    @property
    def num_products(self) -> int:
        return len(self.products)

    def _check_consistent(self) -> None:
        """Refuse parts that do not describe the same products in the same space, before anything is written or
        served."""
        _check_parts(self.manifest, self.index, len(self.products), self.keyword, self.onnx, self.vocabulary)
        if (self.content is None) != (self.manifest.components.content is None):
            raise BundleError("The manifest's components.content and the content keys must be given together.")
        _check_content(self.content, self.products.ids)


def _check_parts(
    manifest: Manifest,
    index: VectorIndex,
    products: int,
    keyword: KeywordIndex | None,
    onnx: OnnxExport | None,
    vocabulary: Vocabulary | None,
) -> None:
    rows = manifest.dataset.num_rows
    if index.dim != manifest.dim:
        raise BundleError(f"The index holds {index.dim}-d vectors; the manifest's model.dim is {manifest.dim}.")
    if index.spec.type != manifest.index.type:
        raise BundleError(f"The index is {index.spec.type}; the manifest's index.type is {manifest.index.type}.")
    sizes = {"index vectors": len(index), "products table rows": products}
    if keyword is not None:
        sizes["keyword index documents"] = len(keyword)
    if vocabulary is not None:
        sizes["vocabulary brand codes"] = len(vocabulary)
    wrong = {name: size for name, size in sizes.items() if size != rows}
    if wrong:
        listed = ", ".join(f"{size} {name}" for name, size in wrong.items())
        raise BundleError(f"The bundle's parts disagree: the manifest says {rows} products, but there are {listed}.")
    if (keyword is None) != (manifest.components.keyword is None):
        raise BundleError("The manifest's components.keyword and the keyword index must be given together.")
    if vocabulary is not None and vocabulary.describe() != manifest.components.vocabulary:
        raise BundleError("The manifest's components.vocabulary does not describe the bundle's vocabulary.")
    if vocabulary is None and manifest.components.vocabulary is not None:
        raise BundleError("The manifest's components.vocabulary and the vocabulary must be given together.")
    if index.without_vectors != manifest.index.rows_without_vectors:
        raise BundleError("The index's rows without vectors differ from the manifest's index.rows_without_vectors.")
    _check_onnx(manifest, onnx)


def _check_content(content: ContentKeys | None, ids: np.ndarray) -> None:
    """The content keys must key the products table's products, in its order."""
    if content is not None and not np.array_equal(content.ids, ids):
        raise BundleError("The content keys do not list the products table's products in its order.")


def _check_onnx(manifest: Manifest, onnx: OnnxExport | None) -> None:
    """The ONNX towers must be described by the manifest and come from its model snapshot."""
    info, model = manifest.components.onnx, manifest.model
    if (onnx is None) != (info is None):
        raise BundleError("The manifest's components.onnx and the ONNX export must be given together.")
    if onnx is None or info is None:
        return
    if not onnx.matches(model.id, model.revision):
        raise BundleError(
            f"The bundle's ONNX towers were exported from '{onnx.info.get('model')}' at revision "
            f"{onnx.info.get('revision')!r}, not from the manifest's model '{model.id}' at {model.revision!r}."
        )
    if list(info.text_inputs) != onnx.text_inputs or info.model != model.id or info.revision != model.revision:
        raise BundleError("The manifest's components.onnx does not describe the bundle's ONNX export.")


def _load_vocabulary(folder: Path, manifest: Manifest) -> Vocabulary | None:
    described = manifest.components.vocabulary
    return Vocabulary.load(_inside(folder, described.folder), described) if described is not None else None


def load_content(folder: Path, manifest: Manifest) -> ContentKeys | None:
    """The content keys of a bundle (None for a bundle built before them)."""
    section = manifest.components.content
    return ContentKeys.load(folder, asdict(section)) if section is not None else None


def load_index(folder: Path, manifest: Manifest) -> VectorIndex:
    """A bundle's vector index alone (e.g. to reuse its vectors), as its manifest describes it."""
    return VectorIndex.load(Path(folder), asdict(manifest.index))


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
