"""Trust in what devices send: timestamps, sequence numbers and gate ids, specified without a loop."""

from __future__ import annotations

from datetime import timedelta

import pytest

from parking.availability import Availability
from parking.observations import LotObservation
from tests.site import T0, site_config


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


@pytest.fixture
def state() -> Availability:
    return Availability(site_config(), T0)


AHEAD = s(2)  # defaults.max_ts_ahead_s


class TestFutureTimestamps:
    def test_a_forged_future_timestamp_does_not_make_the_next_genuine_messages_stale(
        self, state: Availability
    ) -> None:
        # the tester's case: 295 s ahead, under the old five-minute limit, silenced three messages
        forged = state.apply(LotObservation("tower", free=3, ts=T0 + s(295)), T0)
        assert (forged.result, forged.anomalies) == ("applied", ("future_timestamp",))
        for minute in (1, 2, 3):
            now = T0 + s(60 * minute)
            assert state.apply(LotObservation("tower", free=50 + minute, ts=now), now).result == "applied"
        assert state.view("tower").free == 53

    def test_a_timestamp_is_believed_up_to_the_tolerance_ahead_of_the_receipt_time(
        self, state: Availability
    ) -> None:
        assert state.apply(LotObservation("tower", free=10, ts=T0 + AHEAD), T0).anomalies == ()
        late = state.apply(LotObservation("tower", free=11, ts=T0 + AHEAD - s(0.001)), T0)
        assert late.result == "stale"  # the believed timestamp still orders messages

    def test_a_timestamp_beyond_the_tolerance_is_taken_as_the_receipt_time_plus_the_tolerance(
        self, state: Availability
    ) -> None:
        outcome = state.apply(LotObservation("tower", free=10, ts=T0 + AHEAD + s(0.001)), T0)
        assert outcome.anomalies == ("future_timestamp",)
        # clamped to T0 + 2 s: a message stamped then is not older; one a millisecond before is
        assert state.apply(LotObservation("tower", free=11, ts=T0 + AHEAD - s(0.001)), T0 + s(1)).result == (
            "stale"
        )
        assert state.apply(LotObservation("tower", free=12, ts=T0 + AHEAD), T0 + s(1)).accepted
        assert state.view("tower").free == 12

    def test_the_tolerance_is_configurable(self) -> None:
        state = Availability(site_config(**{"freshness_s: 600": "freshness_s: 600\n  max_ts_ahead_s: 0"}), T0)
        assert state.apply(LotObservation("tower", free=10, ts=T0 + s(0.001)), T0).anomalies == (
            "future_timestamp",
        )
        assert state.apply(LotObservation("tower", free=11, ts=T0), T0).accepted
