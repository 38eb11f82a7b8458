"""The live site's change signal for coroutines: await the next change after a version."""

from __future__ import annotations

import asyncio

from parking.live import LiveSite


class ChangeSignal:
    """Wakes every waiter when the live site's version moves; costs nothing while nobody waits."""

    def __init__(self, live: LiveSite) -> None:
        self._live = live
        self._event: asyncio.Event | None = None
        self.closed = False
        self._waiting = 0
        self._unsubscribe = live.subscribe(self._changed)

    @property
    def version(self) -> int:
        """The live site's version now."""
        return self._live.version

    @property
    def waiting(self) -> int:
        """Coroutines waiting for the next change."""
        return self._waiting

    async def next_change(self, after: int) -> int:
        """Wait until the version is above `after` (or the signal closes); return the version then."""
        while self._live.version <= after and not self.closed:
            if self._event is None:
                self._event = asyncio.Event()
            self._waiting += 1
            try:
                await self._event.wait()
            finally:
                self._waiting -= 1
        return self._live.version

    def close(self) -> None:
        """Stop listening to the live site and release every waiter (again: nothing more)."""
        if self.closed:
            return
        self.closed = True
        self._unsubscribe()
        if self._event is not None:
            self._event.set()

    def _changed(self, version: int) -> None:
        event = self._event
        if event is not None:
            self._event = None  # later waiters wait on a fresh event
            event.set()
