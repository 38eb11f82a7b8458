"""What the rest of the engine reads about a lot: immutable snapshots.

Named tuples, not frozen dataclasses: the live site builds a view on every
message that changes one, and a frozen dataclass of nine fields costs four
times as much to build (docs/bench: decode and apply).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from parking.types import GENERAL, Status, Trend

__all__ = ["CategoryView", "Freshness", "LotView", "Status", "Trend"]

Freshness = Literal["fresh", "degraded", "stale"]


class CategoryView(NamedTuple):
    """Free spaces of one category (general, disabled, ev, ...) in a lot.

    `estimated` is True when `free` was not sent but derived conservatively: general
    from a lot total that was not split by category, taking every bay of the
    categories left out as free.
    """

    free: int | None
    capacity: int
    status: Status
    estimated: bool = False
    unknown: int | None = None  # of a category with bay sensors: bays not live (silent, or never heard)


class LotView(NamedTuple):
    """A lot as it is now. `free` is None whenever the count is not known.

    `free` is the lot's total over all categories. Lot and gate lots keep their
    own total: as a lot system sent it, moved by gate counts since (a gate lot
    is unknown until a lot-level count arrives). Spot lots sum their category
    counts, known once general is; a category is known once its share of bays
    has reported, and only bays that reported free count. `status` is what a
    general visitor finds: general's status, or the total's for a lot with no
    general spaces; categories keep their own.
    """

    id: str
    status: Status
    free: int | None
    capacity: int
    trend: Trend
    fill_rate_per_h: float | None
    categories: dict[str, CategoryView]
    accepts_visitors: bool
    freshness: Freshness = "stale"

    @property
    def recommendable(self) -> bool:
        """A general visitor can park here: open or almost full, fresh, in its window, general free."""
        if GENERAL in self.categories:
            return self.recommendable_for(GENERAL)
        open_to_visitors = self.status in ("open", "almost_full") and self.accepts_visitors
        return open_to_visitors and self.free is not None and self.free > 0

    def recommendable_for(self, category: str) -> bool:
        """A visitor who needs `category` can park here: in its window, that category open and free."""
        cat = self.categories.get(category)
        return (
            cat is not None
            and self.accepts_visitors
            and cat.status in ("open", "almost_full")
            and cat.free is not None
            and cat.free > 0
        )

    def category(self, name: str) -> CategoryView | None:
        """The view of one category, or None if the lot has none of it."""
        return self.categories.get(name)
