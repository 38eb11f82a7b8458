"""Ops overrides act through the live site: readers see them at once, the counts underneath go on."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest

from parking.app.api.boards import BoardCache
from parking.availability.views import CategoryView, LotView
from parking.live import LiveSite
from parking.observations import LotObservation
from parking.overrides import Override, overlay
from parking.roads.load import build_guidance
from parking.types import GENERAL, Status
from tests.helpers.site import T0, site_config


@pytest.fixture
def live() -> LiveSite:
    site = LiveSite(site_config(), T0)
    site.apply(LotObservation("tower", free=80, categories={"ev": 4}), T0)
    site.apply(LotObservation("mall", free=300), T0)
    return site


def close(lot: str, until_min: float | None = None) -> Override:
    until = T0 + timedelta(minutes=until_min) if until_min is not None else None
    return Override("close", lot, "ops", T0, "event", until=until)


def hold(lot: str, spaces: int) -> Override:
    return Override("hold", lot, "ops", T0, "VIP", spaces=spaces)


class TestLots:
    def test_a_closed_lot_is_closed_in_every_category_and_not_recommendable(self, live: LiveSite) -> None:
        before = live.version
        live.set_override(close("tower"), T0)
        view = live.view("tower")
        assert live.version > before
        assert live.changed_since(before) == {"tower"}
        assert view.status == "closed"
        assert {cat.status for cat in view.categories.values()} == {"closed"}
        assert not view.recommendable
        assert not view.recommendable_for("ev")
        assert live.measured_view("tower").status == "open"  # the counts underneath are untouched

    def test_reopening_shows_the_counts_that_arrived_meanwhile(self, live: LiveSite) -> None:
        live.set_override(close("tower"), T0)
        live.apply(LotObservation("tower", free=50, categories={"ev": 4}), T0)
        assert live.view("tower").status == "closed"
        assert live.clear_override("close", "tower") is not None
        assert live.view("tower").status == "open"
        assert live.view("tower").free == 50

    def test_held_spaces_come_off_general_and_the_total_never_below_zero(self, live: LiveSite) -> None:
        live.set_override(hold("tower", 30), T0)
        view = live.view("tower")
        assert view.free == 50
        assert view.categories["general"].free == 46
        assert view.categories["ev"].free == 4
        live.set_override(hold("tower", 500), T0)  # replaces the first
        view = live.view("tower")
        assert view.free == 0
        assert view.categories["general"].free == 0
        assert view.status == "full"
        assert not view.recommendable

    def test_an_override_with_an_end_time_ends_at_the_tick(self, live: LiveSite) -> None:
        live.set_override(close("tower", until_min=10), T0)
        assert live.tick(T0 + timedelta(minutes=9)) == []
        assert live.view("tower").status == "closed"
        seen = live.version
        assert "tower" in live.tick(T0 + timedelta(minutes=10))
        assert live.view("tower").status == "open"
        assert live.changed_since(seen) == {"tower"}
        assert live.overrides() == []

    def test_unknown_targets_and_ended_overrides_are_refused(self, live: LiveSite) -> None:
        with pytest.raises(ValueError, match="no lot"):
            live.set_override(close("nowhere"), T0)
        with pytest.raises(ValueError, match="no board"):
            live.set_override(Override("message", "nowhere", "ops", T0, "x", message="Hi"), T0)
        with pytest.raises(ValueError, match="ended"):
            live.set_override(close("tower", until_min=1), T0 + timedelta(minutes=2))


def board_cache(live: LiveSite) -> BoardCache:
    config = site_config()
    return BoardCache(live, build_guidance(config), {lot.id: lot.display_label for lot in config.lots}, 5)


class TestBoards:
    def test_a_closed_lot_reads_closed_on_the_board_at_once(self, live: LiveSite) -> None:
        boards = board_cache(live)
        live.set_override(close("hospital"), T0)  # pinned on board north
        line = next(line for line in boards.get("north").lines if line.lot == "hospital")
        assert line.display == "CLOSED"
        assert line.arrow is None

    def test_a_board_message_replaces_the_lines_in_every_representation(self, live: LiveSite) -> None:
        boards = board_cache(live)
        plain = boards.get("north")
        seen = live.version
        live.set_override(Override("message", "north", "ops", T0, "ambulances", message="Emergency only"), T0)
        assert live.boards_changed_since(seen) == {"north"}
        assert live.changed_since(seen) == frozenset()
        shown = boards.get("north")
        body = orjson.loads(shown.variants["json"].body)
        assert body["message"] == "Emergency only"
        assert body["lines"] == []
        assert shown.variants["text"].body == b"Emergency only\n"
        assert shown.version != plain.version
        assert shown.variants["json"].etag != plain.variants["json"].etag
        live.clear_override("message", "north")
        assert orjson.loads(boards.get("north").variants["json"].body)["message"] is None
        assert boards.get("north").version == plain.version


class TestGuidanceNotes:
    def test_a_note_from_guidance_moves_the_version_and_names_only_known_lots(self, live: LiveSite) -> None:
        seen = live.version
        live.note_guidance(["tower", "nowhere"])
        assert live.version > seen
        assert live.changed_since(seen) == {"tower"}
        again = live.version
        live.note_guidance(["mall"])  # every note moves the version again
        assert live.version > again
        assert live.changed_since(again) == {"mall"}

    def test_a_note_naming_no_known_lot_changes_nothing(self, live: LiveSite) -> None:
        seen = live.version
        live.note_guidance(["nowhere"])
        live.note_guidance([])
        assert live.version == seen
        assert live.changed_since(seen) == frozenset()


class TestOverrideBookkeeping:
    def test_a_board_message_is_not_changed_after_the_version_it_was_set_at(self, live: LiveSite) -> None:
        live.set_override(Override("message", "north", "ops", T0, "x", message="Hi"), T0)
        assert live.boards_changed_since(live.version) == frozenset()

    def test_a_board_message_that_ends_at_the_tick_names_no_lot(self, live: LiveSite) -> None:
        until = T0 + timedelta(minutes=5)
        live.set_override(Override("message", "north", "ops", T0, "x", message="Hi", until=until), T0)
        seen = live.version
        assert live.tick(until) == []
        assert live.board_message("north") is None
        assert live.boards_changed_since(seen) == {"north"}

    def test_clearing_an_override_that_does_not_stand_returns_none(self, live: LiveSite) -> None:
        assert live.clear_override("close", "tower") is None
        assert live.clear_override("message", "north") is None

    def test_an_override_that_has_ended_is_refused_as_ended(self, live: LiveSite) -> None:
        with pytest.raises(ValueError, match=r"^the override has already ended$"):
            live.set_override(close("tower", until_min=1), T0 + timedelta(minutes=1))

    def test_sources_and_bays_are_read_through_the_live_site(self, live: LiveSite) -> None:
        later = T0 + timedelta(seconds=30)
        sources = live.sources("tower", later)
        assert [(v.source, v.seen_at, v.age_s, v.fresh) for v in sources] == [("lot", T0, 30.0, True)]
        assert [bay.id for bay in live.bays("street")][:2] == ["S01", "S02"]


THRESHOLDS = site_config().defaults.thresholds


def totals_only(status: Status, free: int | None) -> LotView:
    """A lot that reports a total and no general category (every space of another kind)."""
    return LotView("x", status, free, 100, "stable", 0.0, {"ev": CategoryView(free, 100, status)}, True)


class TestOverlay:
    def test_no_hold_back_leaves_the_view_as_it_is(self) -> None:
        view = totals_only("open", 50)
        assert overlay(view, False, 0, THRESHOLDS) is view

    def test_one_held_space_comes_off(self) -> None:
        general = CategoryView(50, 100, "open")
        view = LotView("x", "open", 50, 100, "stable", 0.0, {GENERAL: general}, True)
        held = overlay(view, False, 1, THRESHOLDS)
        assert (held.free, held.categories[GENERAL].free) == (49, 49)

    def test_a_lot_without_general_takes_its_status_from_the_lowered_total(self) -> None:
        held = overlay(totals_only("open", 50), False, 45, THRESHOLDS)
        assert (held.free, held.status) == (5, "almost_full")
        assert held.categories["ev"].free == 50  # only general and the total lose held spaces

    def test_a_closed_or_unknown_status_stands_under_a_hold_back(self) -> None:
        for status in ("closed", "unknown"):
            held = overlay(totals_only(status, 50), False, 45, THRESHOLDS)
            assert (held.free, held.status) == (5, status)
        general = CategoryView(50, 100, "unknown")
        view = LotView("x", "unknown", 50, 100, "stable", 0.0, {GENERAL: general}, True)
        assert overlay(view, False, 45, THRESHOLDS).categories[GENERAL].status == "unknown"
