"""The live site is the one writer of availability, and says what changed and when."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from parking.app.signals import ChangeSignal
from parking.live import LiveSite
from parking.observations import LotObservation, SpotObservation
from tests.helpers.site import T0, site_config


@pytest.fixture
def live() -> LiveSite:
    return LiveSite(site_config(), T0)


class TestChanges:
    def test_a_visible_change_moves_the_version_and_names_the_lot(self, live: LiveSite) -> None:
        before = live.version
        live.apply(LotObservation("tower", free=80), T0)
        assert live.version > before
        assert live.changed_since(before) == {"tower"}
        assert live.views()["tower"].free == 80

    def test_a_repeat_changes_nothing(self, live: LiveSite) -> None:
        live.apply(LotObservation("tower", free=80), T0)
        seen = live.version
        live.apply(LotObservation("tower", free=80), T0)
        assert live.version == seen
        assert live.changed_since(seen) == frozenset()

    def test_changes_since_collects_every_lot_after_a_version(self, live: LiveSite) -> None:
        start = live.version
        live.apply(LotObservation("tower", free=80), T0)
        middle = live.version
        for n in range(1, 10):  # 9 of the 10 general bays: enough to know the count
            live.apply(SpotObservation("street", f"S{n:02d}", occupied=False), T0)
        assert live.changed_since(start) == {"tower", "street"}
        assert live.changed_since(middle) == {"street"}

    def test_the_tick_reports_lots_that_went_stale(self, live: LiveSite) -> None:
        live.apply(LotObservation("tower", free=80), T0)
        seen = live.version
        changed = live.tick(T0 + timedelta(hours=2))  # (the mall's guidance window ends at 10:00 too)
        assert "tower" in changed
        assert live.changed_since(seen) == set(changed)
        assert live.views()["tower"].status == "unknown"

    def test_listeners_hear_every_change_until_they_unsubscribe(self, live: LiveSite) -> None:
        heard: list[int] = []
        unsubscribe = live.subscribe(heard.append)
        live.apply(LotObservation("tower", free=80), T0)
        live.apply(LotObservation("tower", free=80), T0)  # no change: no call
        assert heard == [live.version]
        unsubscribe()
        live.apply(LotObservation("tower", free=70), T0)
        assert len(heard) == 1

    def test_a_lot_and_when_it_last_heard_are_read_through_the_live_site(self, live: LiveSite) -> None:
        heard = T0 + timedelta(seconds=5)
        live.apply(LotObservation("tower", free=80), heard)
        assert live.view("tower") == live.views()["tower"]
        assert live.view("tower").free == 80
        assert (live.updated_at("tower"), live.updated_at("mall")) == (heard, None)

    def test_views_are_one_read_only_mapping_per_version(self, live: LiveSite) -> None:
        first = live.views()
        assert live.views() is first
        with pytest.raises(TypeError):
            first["tower"] = first["mall"]  # type: ignore[index]
        live.apply(LotObservation("tower", free=80), T0)
        assert live.views() is not first


class TestChangeSignal:
    async def test_awaits_the_next_change_after_a_version(self, live: LiveSite) -> None:
        signal = ChangeSignal(live)
        seen = live.version
        waiter = asyncio.create_task(signal.next_change(seen))
        await asyncio.sleep(0)
        assert not waiter.done()
        live.apply(LotObservation("tower", free=80), T0)
        assert await asyncio.wait_for(waiter, 1) == live.version
        assert live.changed_since(seen) == {"tower"}

    async def test_returns_at_once_when_the_version_already_moved(self, live: LiveSite) -> None:
        signal = ChangeSignal(live)
        seen = live.version
        live.apply(LotObservation("tower", free=80), T0)
        assert await signal.next_change(seen) == live.version

    async def test_wakes_every_waiter(self, live: LiveSite) -> None:
        signal = ChangeSignal(live)
        seen = live.version
        waiters = [asyncio.create_task(signal.next_change(seen)) for _ in range(5)]
        await asyncio.sleep(0)
        live.apply(LotObservation("tower", free=80), T0)
        assert await asyncio.wait_for(asyncio.gather(*waiters), 1) == [live.version] * 5

    async def test_closing_releases_waiters(self, live: LiveSite) -> None:
        signal = ChangeSignal(live)
        waiter = asyncio.create_task(signal.next_change(live.version))
        await asyncio.sleep(0)
        signal.close()
        assert await asyncio.wait_for(waiter, 1) == live.version
        assert signal.closed
