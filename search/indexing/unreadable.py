"""Products whose photo cannot be read: counted as the build goes, reported by product id, and the build stopped
as soon as they exceed the share of the catalog it may leave out of the vector search."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence

from search.errors import CatalogError
from search.indexing.reader import Unreadable

logger = logging.getLogger(__name__)

LISTED = 10
DEFAULT_MAX_SHARE = 0.01


class UnreadableImages:
    """The rows without a readable photo so far (row → reason). Such products get no vector: they are found by
    their words and filters only. More than `max_share` of the catalog means the images (or their paths) are
    wrong, and the build fails before anything is written."""

    def __init__(self, num_rows: int, max_share: float, product_ids: Callable[[list[int]], Sequence[object]]) -> None:
        self.num_rows = num_rows
        self.max_share = max_share
        self.allowed = math.floor(max_share * num_rows + 1e-9)
        self.product_ids = product_ids
        self.rows: Unreadable = {}

    def add(self, rows: Mapping[int, str]) -> None:
        """Record rows found unreadable; raise CatalogError the moment there are more than allowed."""
        self.rows.update(rows)
        if len(self.rows) > self.allowed:
            raise CatalogError(
                f"{len(self.rows):,} of {self.num_rows:,} products ({len(self.rows) / self.num_rows:.1%}) have no "
                f"readable photo, more than --max-unreadable-share {self.max_share:g} allows ({self.allowed:,}): "
                f"{self.describe()}. Fix the images (a relative image path is read from the dataset's folder), or "
                "raise --max-unreadable-share to build without them (they stay findable by words and filters)."
            )

    def describe(self) -> str:
        """The first LISTED products as 'id 10003 (reason)'."""
        rows = sorted(self.rows)[:LISTED]
        listed = [f"id {product} ({self.rows[row]})" for row, product in zip(rows, self.product_ids(rows), strict=True)]
        more = len(self.rows) - len(rows)
        return "; ".join(listed) + (f"; and {more:,} more" if more else "")

    def report(self) -> None:
        """Log the products left out of the vector search, by id."""
        if self.rows:
            logger.warning(
                "%d of %d products have no readable photo and are left out of the image search (still found by "
                "their words and filters): %s",
                len(self.rows),
                self.num_rows,
                self.describe(),
            )
