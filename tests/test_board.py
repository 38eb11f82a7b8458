"""What a board says: the guidance service decides, signage turns the decision into lines and bytes."""

from __future__ import annotations

import math
from dataclasses import replace

import orjson
import pytest

from parking.availability import Availability
from parking.guidance.ranking import cost_of
from parking.guidance.routes import Route
from parking.guidance.service import BoardDecision, GuidanceService, Recommendation
from parking.observations import LotObservation
from parking.roads.load import build_guidance
from signage.board import (
    WALK_SHOWN_FROM_M,
    BoardLine,
    board_version,
    columns,
    compose_lines,
    fit,
    render_json,
    render_text,
)
from tests.helpers.site import T0, fill_all, site_config

CONFIG = site_config()
LABELS = {lot.id: lot.display_label for lot in CONFIG.lots}


@pytest.fixture
def guidance() -> GuidanceService:
    return build_guidance(CONFIG)


@pytest.fixture
def state() -> Availability:
    return Availability(CONFIG, T0)


def lines_of(guidance: GuidanceService, state: Availability, board: str = "north") -> tuple[BoardLine, ...]:
    views = {view.id: view for view in state.views()}
    return compose_lines(guidance.for_board(board, views), LABELS)


class TestDecision:
    def test_pinned_hospital_first_then_the_best_alternatives(
        self, guidance: GuidanceService, state: Availability
    ) -> None:
        fill_all(state)
        state.apply(LotObservation("hospital", free=0), T0)
        views = {view.id: view for view in state.views()}
        decision = guidance.for_board("north", views)
        assert [rec.pinned for rec in decision.lines] == [True, False, False]
        assert decision.lines[0].lot == "hospital"
        assert "hospital" not in [rec.lot for rec in decision.lines[1:]]
        costs = [rec.cost.total_s for rec in decision.lines[1:] if rec.cost is not None]
        assert costs == sorted(costs)

    def test_the_cost_is_broken_down_into_drive_walk_and_risk(
        self, guidance: GuidanceService, state: Availability
    ) -> None:
        fill_all(state)
        views = {view.id: view for view in state.views()}
        for rec in guidance.for_board("north", views).lines:
            assert rec.cost is not None
            assert rec.route is not None
            assert rec.cost.drive_s == rec.route.drive_s
            assert rec.cost.walk_s == rec.route.walk_s
            assert rec.cost.total_s == rec.cost.drive_s + rec.cost.walk_s + rec.cost.full_risk_s

    def test_boards_affected_are_those_that_watch_a_changed_lot(self, guidance: GuidanceService) -> None:
        assert guidance.boards_affected({"tower"}) == {"north"}
        assert guidance.boards_affected({"no-such-lot"}) == frozenset()
        assert guidance.boards_affected(()) == frozenset()

    def test_a_board_for_a_need_shows_and_ranks_that_category(self) -> None:
        config = site_config(
            **{"pinned: [hospital], lines: 3}": "pinned: [hospital], lines: 3, needs: [disabled]}"}
        )
        state = Availability(config, T0)
        fill_all(state)
        decision = build_guidance(config).for_board("north", {view.id: view for view in state.views()})
        assert decision.category == "disabled"
        assert [rec.lot for rec in decision.lines] == ["hospital"]  # no other lot has disabled bays
        assert compose_lines(decision, LABELS)[0].display == "4"

    def test_unknown_board_is_a_key_error(self, guidance: GuidanceService, state: Availability) -> None:
        assert not guidance.has_board("nope")
        with pytest.raises(KeyError):
            guidance.for_board("nope", {})


class TestLines:
    def test_full_pinned_line_has_no_arrow_and_no_minutes(
        self, guidance: GuidanceService, state: Availability
    ) -> None:
        fill_all(state)
        state.apply(LotObservation("hospital", free=0), T0)
        lines = lines_of(guidance, state)
        assert (lines[0].lot, lines[0].display, lines[0].arrow, lines[0].minutes) == (
            "hospital",
            "FULL",
            None,
            None,
        )
        assert len(lines) == 3
        assert all(line.display.isdigit() and line.arrow is not None for line in lines[1:])

    def test_closed_pinned_line_has_no_arrow_and_no_minutes(self, guidance: GuidanceService) -> None:
        config = site_config(**{"pinned: [hospital]": "pinned: [tower]"})
        service = build_guidance(config)
        state = Availability(config, T0)
        late = T0.replace(hour=22, minute=30)  # the tower closes at 22:00
        state.apply(LotObservation("tower", free=80), late)
        views = {view.id: view for view in state.views()}
        line = compose_lines(service.for_board("north", views), LABELS)[0]
        assert (line.lot, line.display, line.free, line.arrow, line.minutes) == (
            "tower",
            "CLOSED",
            None,
            None,
            None,
        )

    def test_unknown_lot_shows_dashes_never_zero(
        self, guidance: GuidanceService, state: Availability
    ) -> None:
        lines = lines_of(guidance, state)
        assert [(line.lot, line.free, line.display) for line in lines] == [("hospital", None, "--")]

    def test_minutes_are_to_the_hospital_door_drive_plus_walk(
        self, guidance: GuidanceService, state: Availability
    ) -> None:
        fill_all(state)
        views = {view.id: view for view in state.views()}
        decision = guidance.for_board("north", views)
        for rec, line in zip(decision.lines, compose_lines(decision, LABELS), strict=True):
            assert rec.route is not None
            assert line.minutes == math.ceil((rec.route.drive_s + rec.route.walk_s) / 60)
            assert rec.route.walk_s > rec.route.drive_s or line.lot == "hospital"

    def test_a_long_walk_is_named_a_short_one_is_not(
        self, guidance: GuidanceService, state: Availability
    ) -> None:
        fill_all(state)
        views = {view.id: view for view in state.views()}
        decision = guidance.for_board("north", views)
        lines = {line.lot: line for line in compose_lines(decision, LABELS)}
        routes = {rec.lot: rec.route for rec in decision.lines if rec.route is not None}
        assert routes["hospital"].walk_m < WALK_SHOWN_FROM_M
        assert lines["hospital"].walk_m is None
        long_walks = [lot for lot, route in routes.items() if route.walk_m >= WALK_SHOWN_FROM_M]
        assert long_walks, "the test site should have a lot with a long walk on the board"
        for lot in long_walks:
            assert lines[lot].walk_m == round(routes[lot].walk_m)

    def test_a_full_line_still_carries_its_count(
        self, guidance: GuidanceService, state: Availability
    ) -> None:
        fill_all(state)
        state.apply(LotObservation("hospital", free=0), T0)
        state.apply(LotObservation("hospital", free=6, categories={"general": 2, "disabled": 4}), T0)
        line = lines_of(guidance, state)[0]  # 2 general spaces: still full, under the exit at 3
        assert (line.lot, line.free, line.display) == ("hospital", 2, "FULL")


TOWER_ROUTE = Route(
    "tower", "main", drive_s=20.0, drive_m=200.0, walk_s=10.0, walk_m=12.0, arrow="ahead", path=()
)


def line_for(route: Route, state: Availability) -> BoardLine:
    """The board line of the tower reached by this route."""
    fill_all(state)
    view = state.view("tower")
    decision = BoardDecision("north", "general", (Recommendation("tower", view, route, cost_of(route)),))
    (line,) = compose_lines(decision, LABELS)
    return line


class TestMinutesAndWalks:
    def test_a_lot_less_than_a_minute_away_shows_1_min_never_0(self, state: Availability) -> None:
        assert line_for(TOWER_ROUTE, state).minutes == 1  # 30 s

    def test_minutes_are_rounded_up(self, state: Availability) -> None:
        assert line_for(replace(TOWER_ROUTE, drive_s=51.0), state).minutes == 2  # 61 s

    def test_a_walk_of_exactly_300_m_is_named(self, state: Availability) -> None:
        assert line_for(replace(TOWER_ROUTE, walk_m=300.0), state).walk_m == 300
        assert line_for(replace(TOWER_ROUTE, walk_m=299.9), state).walk_m is None

    def test_a_closed_or_unknown_lot_says_so_even_when_expected_full_or_a_queue(self) -> None:
        state = Availability(CONFIG, T0)
        unknown = state.view("tower")
        late = T0.replace(hour=22, minute=30)  # the tower closes at 22:00
        state.apply(LotObservation("tower", free=80), late)
        closed = state.view("tower")
        for view, display in ((closed, "CLOSED"), (unknown, "--")):
            for flags in ({"expected_full": True}, {"queue": True}):
                rec = Recommendation("tower", view, TOWER_ROUTE, cost_of(TOWER_ROUTE), **flags)
                (line,) = compose_lines(BoardDecision("north", "general", (rec,)), LABELS)
                assert line.display == display, flags

    def test_a_queue_line_counts_the_wait_in_its_minutes(self, state: Availability) -> None:
        fill_all(state)
        cost = replace(cost_of(TOWER_ROUTE), wait_s=600.0)  # 30 s of drive and walk, then 10 minutes
        rec = Recommendation("tower", state.view("tower"), TOWER_ROUTE, cost, queue=True)
        (line,) = compose_lines(BoardDecision("north", "general", (rec,)), LABELS)
        assert (line.display, line.minutes) == ("QUEUE", 11)


class TestRendering:
    def test_json_has_the_contract_shape(self, guidance: GuidanceService, state: Availability) -> None:
        fill_all(state)
        lines = lines_of(guidance, state)
        body = orjson.loads(render_json("north", lines, 5))
        assert set(body) == {"board", "version", "lines", "message", "ttl_s"}
        assert body["message"] is None
        assert (body["board"], body["version"], body["ttl_s"]) == ("north", board_version(lines), 5)
        assert body["lines"][0] == {
            "lot": "hospital",
            "label": "Hospital",
            "free": 100,
            "display": "100",
            "arrow": "left",
            "minutes": lines[0].minutes,
            "walk_m": None,
        }

    def test_version_comes_from_the_lines_alone(self) -> None:
        a = (BoardLine("x", "X", 5, "5", "left", 3),)
        b = (BoardLine("x", "X", 4, "4", "left", 3),)
        assert board_version(a) == board_version((BoardLine("x", "X", 5, "5", "left", 3),))
        assert board_version(a) != board_version(b)
        assert 0 <= board_version(a) < 2**53

    def test_the_version_changes_with_the_ops_message(self) -> None:
        lines = (BoardLine("x", "X", 5, "5", "left", 3),)
        versions = [
            orjson.loads(render_json("north", lines, 5, message))["version"]
            for message in (None, "Closed for works", "Use the east gate")
        ]
        assert len(set(versions)) == 3
        assert versions[1:] == [
            board_version(lines, "Closed for works"),
            board_version(lines, "Use the east gate"),
        ]

    def test_an_ops_message_the_charset_cannot_encode_is_sent_with_question_marks(self) -> None:
        assert render_text((), "ascii", message="Lot B → east gate") == b"Lot B ? east gate\n"

    def test_text_is_one_line_per_lot_with_arrows_and_minutes(
        self, guidance: GuidanceService, state: Availability
    ) -> None:
        fill_all(state)
        lines = lines_of(guidance, state)
        minutes = f"{lines[0].minutes}min"
        text = render_text(lines).decode()
        assert text.splitlines()[0].split() == ["Hospital", "100", "←", minutes]
        ascii_text = render_text(lines, "ascii").decode("ascii")
        assert ascii_text.splitlines()[0].split() == ["Hospital", "100", "<-", minutes]
        assert len(text.splitlines()) == 3

    def test_text_names_a_long_walk_in_metres(self) -> None:
        line = BoardLine("mall", "Mall", 40, "40", "right", 9, walk_m=650)
        assert render_text((line,), width=8).decode() == "Mall         40 →   9min 650m\n"

    def test_a_full_line_in_text_has_no_arrow_or_minutes(self) -> None:
        line = BoardLine("hospital", "Hospital", 0, "FULL", None, None)
        assert render_text((line,), width=8).decode() == "Hospital   FULL\n"

    def test_no_lines_say_so(self) -> None:
        assert render_text(()).decode() == "NO PARKING DATA\n"

    def test_only_unknown_lines_show_the_fallback_text(self) -> None:
        unknown = BoardLine("hospital", "Hospital", None, "--", "left", 3)
        assert render_text((unknown,), fallback="暂无数据").decode() == "暂无数据\n"
        full = BoardLine("mall", "Mall", 0, "FULL", None, None)
        assert render_text((unknown, full), width=8).decode().splitlines()[0].split() == [
            "Hospital",
            "--",
            "←",
            "3min",
        ]

    def test_gb2312_for_chinese_led_controllers(self) -> None:
        lines = (
            BoardLine("a", "医院停车场", 12, "12", "ahead_right", 4),
            BoardLine("b", "Nongfa", 0, "FULL", None, None),
        )
        body = render_text(lines, "gb2312", width=12)
        text = body.decode("gb2312")
        assert text.splitlines()[0] == "医院停车场       12 →   4min"  # the half turn shows as the full one
        # fixed columns: a Chinese character takes two, so the counts line up
        first, second = text.splitlines()
        assert columns(first[: first.index("12") + 2]) == columns(second[: second.index("FULL") + 4]) == 19

    def test_the_label_takes_16_columns_unless_told(self) -> None:
        line = BoardLine("hospital", "Hospital", 5, "5", "left", 3)
        label, count, arrow, minutes = "Hospital" + " " * 8, "     5", "← ", " 3min"
        assert render_text((line,)).decode() == f"{label} {count} {arrow} {minutes}\n"

    def test_characters_the_charset_cannot_encode_become_question_marks(self) -> None:
        line = BoardLine("a", "医院", 12, "12", "left", 4)
        assert render_text((line,), "ascii", width=4).decode("ascii") == "??     12 <-  4min\n"

    def test_full_width_characters_take_two_columns(self) -> None:
        # full-width Latin and punctuation, as on Chinese signs
        text = "\N{FULLWIDTH LATIN CAPITAL LETTER A}\N{FULLWIDTH DIGIT ONE}\N{FULLWIDTH LEFT PARENTHESIS}"
        assert columns(text) == 6

    def test_labels_are_cut_and_padded_by_display_columns(self) -> None:
        assert fit("医院停车场", 6) == "医院停"
        assert fit("医院", 6) == "医院  "
        assert fit("Hospital", 4) == "Hosp"
        assert columns("医院A") == 5
