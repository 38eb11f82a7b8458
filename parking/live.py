"""The live site: the one writer of availability, and the record of what changed when.

Everything that changes what a board or the API shows goes through here:
feed observations, the clock's tick (freshness, opening hours, trend), what
guidance expects at a lot (drivers on their way), and, as they arrive, ops
overrides and a restore from the store. Readers take views and
ask which lots changed after a version they saw; listeners are told that the
version moved. Pure and synchronous: the time is passed in, nothing is awaited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from types import MappingProxyType

from parking.availability import Availability, LotView, Outcome
from parking.availability.bays import BayView
from parking.availability.sources import SourceView
from parking.config.models import Config
from parking.observations import Observation

Listener = Callable[[int], None]


class LiveSite:
    """Live availability of one site, with change signals."""

    def __init__(self, config: Config, now: datetime) -> None:
        self._availability = Availability(config, now)
        self._changed_at: dict[str, int] = dict.fromkeys(
            (lot.id for lot in config.lots), self._availability.version
        )
        self._listeners: list[Listener] = []
        self._guidance_changes = 0  # changes to what guidance sees beyond availability (see note_guidance)
        self._views_at = -1
        self._views: MappingProxyType[str, LotView] = MappingProxyType({})

    # -- reading -------------------------------------------------------------------

    @property
    def version(self) -> int:
        """Rises by at least one with every visible change; local to this process."""
        return self._availability.version + self._guidance_changes

    def view(self, lot_id: str) -> LotView:
        """The current view of one lot (KeyError if unknown)."""
        return self._availability.view(lot_id)

    def views(self) -> MappingProxyType[str, LotView]:
        """Every lot's view by id, in config order; one read-only mapping per version."""
        if self._views_at != self.version:
            self._views = MappingProxyType({view.id: view for view in self._availability.views()})
            self._views_at = self.version
        return self._views

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

    # -- writing -------------------------------------------------------------------

    def apply(self, obs: Observation, now: datetime) -> Outcome:
        """Apply one observation received at `now`."""
        outcome = self._availability.apply(obs, now)
        if outcome.changed:
            self._changed(obs.lot)
        return outcome

    def tick(self, now: datetime) -> list[str]:
        """Re-evaluate what depends on time; return the lots whose view changed."""
        changed = self._availability.tick(now)
        for lot in changed:
            self._changed(lot)
        return changed

    def note_guidance(self, lots: Iterable[str]) -> None:
        """Record that what guidance expects at these lots changed (drivers on their way, an override)."""
        known = [lot for lot in lots if lot in self._changed_at]
        if not known:
            return
        self._guidance_changes += 1
        for lot in known:
            self._changed(lot)

    # -- change signals ------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(version)` after every change; returns the function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _changed(self, lot: str) -> None:
        version = self.version
        self._changed_at[lot] = version
        for listener in self._listeners:
            listener(version)
