"""The live site: the one writer of availability, and the record of what changed when.

Everything that changes what a board or the API shows goes through here:
feed observations, the clock's tick (freshness, opening hours, trend, overrides
that end), what guidance expects at a lot (drivers on their way), ops
overrides, and a restore from the store (a replay of stored observations
through `apply`, and the overrides that stood). Readers take views
(overrides applied) and ask which lots or boards changed after a version they
saw; listeners are told that the version moved. Pure and synchronous: the time
is passed in, nothing is awaited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from types import MappingProxyType

from parking.availability import Availability, LotView, Outcome
from parking.availability.bays import BayView
from parking.availability.sources import SourceView
from parking.config.models import Config, Thresholds
from parking.observations import Observation
from parking.overrides import LOT_KINDS, Override, OverrideKind, overlay

Listener = Callable[[int], None]


class LiveSite:
    """Live availability of one site, with change signals."""

    def __init__(self, config: Config, now: datetime) -> None:
        self._availability = Availability(config, now)
        self._bumps = 0  # changes of overrides: the version is availability's plus these
        self._guidance_changes = 0  # changes to what guidance sees beyond availability (see note_guidance)
        self._changed_at: dict[str, int] = dict.fromkeys((lot.id for lot in config.lots), self.version)
        self._board_changed_at: dict[str, int] = {}
        self._listeners: list[Listener] = []
        self._views_at = -1
        self._views: MappingProxyType[str, LotView] = MappingProxyType({})
        self._overrides: dict[tuple[OverrideKind, str], Override] = {}
        self._thresholds: dict[str, Thresholds] = {
            lot.id: lot.thresholds or config.defaults.thresholds for lot in config.lots
        }
        self._boards = frozenset(board.id for board in config.boards)

    # -- reading -------------------------------------------------------------------

    @property
    def version(self) -> int:
        """Rises by at least one with every visible change; local to this process."""
        return self._availability.version + self._bumps + self._guidance_changes

    def view(self, lot_id: str) -> LotView:
        """The current view of one lot, overrides applied (KeyError if unknown)."""
        return self.views()[lot_id]

    def views(self) -> MappingProxyType[str, LotView]:
        """Every lot's view by id, in config order, overrides applied; one read-only mapping per version."""
        version = self.version
        if self._views_at != version:
            views = {view.id: view for view in self._availability.views()}
            for lot_id, (closed, held) in self._lot_overrides().items():
                views[lot_id] = overlay(views[lot_id], closed, held, self._thresholds[lot_id])
            self._views = MappingProxyType(views)
            self._views_at = version
        return self._views

    def measured_view(self, lot_id: str) -> LotView:
        """The lot as its feeds say, without overrides: what history records (KeyError if unknown)."""
        return self._availability.view(lot_id)

    def updated_at(self, lot_id: str) -> datetime | None:
        """When data for the lot last arrived (KeyError if unknown)."""
        return self._availability.updated_at(lot_id)

    def sources(self, lot_id: str, now: datetime) -> list[SourceView]:
        """Each source of the lot and its age at `now` (KeyError if unknown)."""
        return self._availability.sources(lot_id, now)

    def bays(self, lot_id: str) -> list[BayView]:
        """Each bay of the lot with its sensor's state (KeyError if unknown)."""
        return self._availability.bays(lot_id)

    def changed_since(self, version: int) -> frozenset[str]:
        """The lots whose view changed after `version`."""
        return frozenset(lot for lot, at in self._changed_at.items() if at > version)

    def boards_changed_since(self, version: int) -> frozenset[str]:
        """The boards whose message override was set or ended after `version`."""
        return frozenset(board for board, at in self._board_changed_at.items() if at > version)

    def board_message(self, board_id: str) -> str | None:
        """The fixed message a board shows instead of its lines, if one stands."""
        override = self._overrides.get(("message", board_id))
        return override.message if override is not None else None

    def overrides(self) -> list[Override]:
        """The overrides standing now, oldest first."""
        return sorted(self._overrides.values(), key=lambda o: o.set_at)

    # -- writing -------------------------------------------------------------------

    def apply(self, obs: Observation, now: datetime) -> Outcome:
        """Apply one observation received at `now`."""
        outcome = self._availability.apply(obs, now)
        if outcome.changed:
            self._changed(obs.lot)
        return outcome

    def tick(self, now: datetime) -> list[str]:
        """Re-evaluate what depends on time, overrides that ended included; return the lots that changed."""
        changed = self._availability.tick(now)
        for lot in changed:
            self._changed(lot)
        for override in [o for o in self._overrides.values() if not o.active(now)]:
            self.clear_override(override.kind, override.target)
            if override.kind in LOT_KINDS and override.target not in changed:
                changed.append(override.target)
        return changed

    def note_guidance(self, lots: Iterable[str]) -> None:
        """Record that what guidance expects at these lots changed (drivers on their way, an override)."""
        known = [lot for lot in lots if lot in self._changed_at]
        if not known:
            return
        self._guidance_changes += 1
        for lot in known:
            self._changed(lot)

    def set_override(self, override: Override, now: datetime) -> None:
        """Make an override stand (replacing one of its kind on its target); ValueError if it cannot."""
        if override.kind in LOT_KINDS:
            if override.target not in self._changed_at:
                raise ValueError(f"no lot {override.target!r}")
        elif override.target not in self._boards:
            raise ValueError(f"no board {override.target!r}")
        if not override.active(now):
            raise ValueError("the override has already ended")
        self._overrides[override.key] = override
        self._override_changed(override.kind, override.target)

    def clear_override(self, kind: OverrideKind, target: str) -> Override | None:
        """End an override now; the one that stood, or None if there was none."""
        override = self._overrides.pop((kind, target), None)
        if override is not None:
            self._override_changed(kind, target)
        return override

    # -- change signals ------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(version)` after every change; returns the function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _lot_overrides(self) -> dict[str, tuple[bool, int]]:
        """(closed, spaces held) of each lot with a lot override."""
        out: dict[str, tuple[bool, int]] = {}
        for (kind, lot_id), override in self._overrides.items():
            if kind in LOT_KINDS:
                closed, held = out.get(lot_id, (False, 0))
                out[lot_id] = (closed or kind == "close", held + override.spaces)
        return out

    def _override_changed(self, kind: OverrideKind, target: str) -> None:
        self._bumps += 1
        if kind in LOT_KINDS:
            self._changed(target)
        else:
            self._board_changed_at[target] = self.version
            self._tell(self.version)

    def _changed(self, lot: str) -> None:
        version = self.version
        self._changed_at[lot] = version
        self._tell(version)

    def _tell(self, version: int) -> None:
        for listener in self._listeners:
            listener(version)
