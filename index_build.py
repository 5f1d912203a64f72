"""Build the fashion search index bundle, and optionally push it to the Hugging Face Hub.

    python index_build.py --dataset ashraq/fashion-product-images-small --model patrickjohncyh/fashion-clip \
        --out build/fashion-index --push-to <user>/fashion-product-index

Re-running it after the catalog changed encodes only the new products and those whose photo or text changed: the
vectors of the others come from the bundle at --out (or --reuse PATH_OR_HUB_REPO); --full encodes everything.
What changed is printed, recorded in the bundle and used as the Hub commit message.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import fields
from pathlib import Path

from search.bundle import push_bundle
from search.catalog.photos import INLINE_MAX_MB
from search.catalog.schema import DEFAULT_DATASET
from search.encoding.encoder import DEFAULT_MODEL, DTYPES, RUNTIMES
from search.errors import SearchError
from search.indexing import BuildConfig, run_build
from search.indexing.config import ENGINES
from search.indexing.unreadable import DEFAULT_MAX_SHARE
from search.logs import configure_logging
from search.offline import offline_unless_hub_resolves
from search.ranking.index import INDEX_TYPES

logger = logging.getLogger("index_build")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data = parser.add_argument_group("catalog")
    data.add_argument(
        "--dataset",
        default=DEFAULT_DATASET,
        help="Hub dataset id or local folder (parquet files or save_to_disk output) in the schema of %(default)s",
    )
    data.add_argument("--split", default="train")
    data.add_argument("--dataset-revision", default=None, help="Hub branch, tag or commit of the dataset")
    data.add_argument("--limit", type=int, default=None, help="build from the first N products only")
    model = parser.add_argument_group("model")
    model.add_argument("--model", default=DEFAULT_MODEL, help="Hub id or local folder of a CLIP-family model")
    model.add_argument("--model-revision", default=None)
    model.add_argument("--device", default=None, help="cpu, cuda, cuda:1, ... (default: cuda when available)")
    model.add_argument("--dtype", choices=sorted(DTYPES), default=None, help="default: float16 on CUDA, float32 on CPU")
    model.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="RISK: runs Python code from the model repo; only for models whose code you trust",
    )
    model.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default=None,
        help="auto (default, or $SEARCH_RUNTIME): ONNX Runtime for float32 on the CPU, PyTorch otherwise",
    )
    model.add_argument(
        "--export-onnx",
        action="store_true",
        help="put the model's ONNX towers into the bundle, so the app's CPU runtime does not export them at start",
    )
    build = parser.add_argument_group("build")
    build.add_argument("--out", type=Path, default=Path("build/fashion-index"), help="bundle folder to write")
    build.add_argument("--batch-size", type=int, default=64)
    build.add_argument("--num-workers", type=int, default=2, help="image decoding worker processes")
    build.add_argument(
        "--threads", type=int, default=None, help="threads for PyTorch, ONNX Runtime, FAISS ($SEARCH_THREADS)"
    )
    build.add_argument(
        "--index-type",
        choices=["auto", *INDEX_TYPES],
        default="auto",
        help="auto: flat (exact) up to 50k products, IVF-SQ8 up to 2M, IVF-PQ + exact re-rank above (docs/SCALE.md)",
    )
    build.add_argument(
        "--doc-image-weight",
        type=float,
        default=1.0,
        help="product vector = normalise(w·image + (1-w)·text); 1 = image only",
    )
    build.add_argument(
        "--max-unreadable-share",
        type=float,
        default=DEFAULT_MAX_SHARE,
        help="fail when more than this share of the products have no readable photo (default %(default)s); "
        "products without one are built without a vector, found by their words and filters only",
    )
    build.add_argument("--shard-size", type=int, default=4096, help="products per resumable embedding shard")
    build.add_argument(
        "--cache-dir", type=Path, default=None, help="embedding shard cache for resuming (default: <out>.cache)"
    )
    build.add_argument("--keep-cache", action="store_true", help="keep the shard cache after a successful build")
    build.add_argument(
        "--reuse",
        metavar="PATH_OR_HUB_REPO",
        default=None,
        help="reuse the vectors of this bundle (folder or Hub dataset repo) for unchanged products (default: the "
        "bundle already at --out, if any)",
    )
    build.add_argument("--full", action="store_true", help="encode every product; reuse no previous bundle")
    build.add_argument(
        "--photos-inline-max-mb",
        type=int,
        default=INLINE_MAX_MB,
        help="photos up to this total stay in products.parquet; more go to sharded photo files in the bundle",
    )
    build.add_argument(
        "--engine",
        choices=ENGINES,
        default="default",
        help="ray: decode and encode on a Ray cluster, one GPU per encoder (pip install -r requirements-scale.txt; "
        "docs/SCALE.md)",
    )
    build.add_argument(
        "--ray-address",
        metavar="ADDR",
        default=None,
        help="Ray cluster to join, e.g. head-node:6379 (default: RAY_ADDRESS, else a local cluster on this machine)",
    )
    hub = parser.add_argument_group("hub")
    hub.add_argument("--push-to", metavar="REPO_ID", default=None, help="Hub dataset repo to create/update")
    hub.add_argument("--private", action="store_true", help="create the Hub repo as private")
    parser.add_argument("--verbose", action="store_true", help="log the libraries' INFO and DEBUG lines too")
    hub.add_argument("--push-only", action="store_true", help="push the existing bundle at --out without building")
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> BuildConfig:
    """Every BuildConfig field has a command-line option of the same name."""
    return BuildConfig(**{field.name: getattr(args, field.name) for field in fields(BuildConfig)})


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build (unless --push-only), push if asked; returns the process exit code."""
    args = parse_args(argv)
    configure_logging(args.verbose)
    offline_unless_hub_resolves()
    if args.push_only and not args.push_to:
        logger.error("--push-only needs --push-to REPO_ID.")
        return 2
    try:
        if not args.push_only:
            report = run_build(config_from_args(args))
            logger.info(report.summary())
        if args.push_to:
            logger.info("Pushed: %s", push_bundle(args.out, args.push_to, private=args.private))
    except (SearchError, ValueError) as error:
        logger.error("%s", error)
        return 1
    except KeyboardInterrupt:
        logger.error("Interrupted. Finished shards are kept: re-run the same command to resume.")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
