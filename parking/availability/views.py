"""What the rest of the engine reads about a lot: frozen snapshots."""

from __future__ import annotations

from dataclasses import dataclass

from parking.types import Status, Trend

__all__ = ["CategoryView", "LotView", "Status", "Trend"]


@dataclass(frozen=True, slots=True)
class CategoryView:
    """Free spaces of one category (general, disabled, ev, ...) in a lot."""

    free: int | None
    capacity: int
    status: Status


@dataclass(frozen=True, slots=True)
class LotView:
    """A lot as it is now. `free` is None whenever the count is not known."""

    id: str
    status: Status
    free: int | None
    capacity: int
    trend: Trend
    fill_rate_per_h: float | None
    categories: dict[str, CategoryView]
    accepts_visitors: bool

    @property
    def recommendable(self) -> bool:
        """Open or almost full, fresh, inside its guidance window, with a free space."""
        return (
            self.status in ("open", "almost_full")
            and self.accepts_visitors
            and self.free is not None
            and self.free > 0
        )

    def category(self, name: str) -> CategoryView | None:
        """The view of one category, or None if the lot has none of it."""
        return self.categories.get(name)
