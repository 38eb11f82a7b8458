"""The reconnect backoff ladder and the refused-login test, with values alone: no loop, no broker."""

from __future__ import annotations

import random

import aiomqtt
import pytest
from aiomqtt.exceptions import MqttConnectError
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from parking.backoff import Backoff
from sensors.backoff import login_refused


def ladder(backoff: Backoff, count: int) -> list[float]:
    return [backoff.next_delay() for _ in range(count)]


def test_without_jitter_the_delay_grows_by_the_factor_up_to_the_cap() -> None:
    backoff = Backoff(1.0, 10.0, factor=2.0, jitter=0.0)
    assert ladder(backoff, 6) == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert backoff.failures == 6


def test_jittered_delays_stay_within_min_and_max() -> None:
    backoff = Backoff(0.5, 30.0, rng=random.Random(1))
    assert all(0.5 <= delay <= 30.0 for delay in ladder(backoff, 200))


def test_jitter_spreads_each_step_by_the_given_fraction() -> None:
    delays = []
    for seed in range(100):
        backoff = Backoff(1.0, 100.0, factor=2.0, jitter=0.25, rng=random.Random(seed))
        delays.append(ladder(backoff, 3)[-1])  # the third step: 4 s before jitter
    assert all(3.0 <= delay <= 5.0 for delay in delays)
    # spread over the range, not one value
    assert min(delays) < 3.5
    assert max(delays) > 4.5


def test_the_same_seed_gives_the_same_delays() -> None:
    first = ladder(Backoff(0.5, 30.0, rng=random.Random(7)), 10)
    second = ladder(Backoff(0.5, 30.0, rng=random.Random(7)), 10)
    assert first == second


def test_reset_starts_the_ladder_again() -> None:
    backoff = Backoff(1.0, 10.0, jitter=0.0)
    ladder(backoff, 4)
    backoff.reset()
    assert backoff.failures == 0
    assert ladder(backoff, 2) == [1.0, 2.0]


def test_the_longest_delay_is_the_maximum_and_keeps_the_ladder_at_the_top() -> None:
    backoff = Backoff(1.0, 10.0, jitter=0.0)
    assert backoff.longest_delay() == 10.0
    assert backoff.failures == 1
    assert backoff.next_delay() == 10.0


def test_thousands_of_failures_do_not_overflow() -> None:
    backoff = Backoff(0.5, 30.0, rng=random.Random(3))
    delays = ladder(backoff, 5000)
    assert 22.5 <= delays[-1] <= 30.0


@pytest.mark.parametrize(
    ("min_s", "max_s", "factor", "jitter"),
    [(0.0, 1.0, 2.0, 0.25), (2.0, 1.0, 2.0, 0.25), (1.0, 2.0, 0.5, 0.25), (1.0, 2.0, 2.0, 1.0)],
)
def test_a_nonsensical_ladder_is_refused(min_s: float, max_s: float, factor: float, jitter: float) -> None:
    with pytest.raises(ValueError, match="backoff"):
        Backoff(min_s, max_s, factor=factor, jitter=jitter)


@pytest.mark.parametrize(
    "error",
    [
        MqttConnectError(ReasonCode(PacketTypes.CONNACK, "Bad user name or password")),
        MqttConnectError(ReasonCode(PacketTypes.CONNACK, "Not authorized")),
        MqttConnectError(4),  # MQTT 3.1.1 CONNACK: bad username or password
        MqttConnectError(5),  # MQTT 3.1.1 CONNACK: not authorised
    ],
    ids=["v5-bad-password", "v5-not-authorized", "v3-bad-password", "v3-not-authorised"],
)
def test_a_refused_login_is_recognised(error: aiomqtt.MqttError) -> None:
    assert login_refused(error)


@pytest.mark.parametrize(
    "error",
    [
        aiomqtt.MqttError("[Errno 111] Connection refused"),
        MqttConnectError(ReasonCode(PacketTypes.CONNACK, "Server unavailable")),
        MqttConnectError(3),  # MQTT 3.1.1 CONNACK: server unavailable
        aiomqtt.MqttCodeError(5, "Could not publish message"),  # paho's MQTT_ERR_CONN_REFUSED, not a CONNACK
        aiomqtt.MqttCodeError(
            ReasonCode(PacketTypes.DISCONNECT, "Unspecified error"), "Unexpected disconnection"
        ),
    ],
    ids=["socket", "v5-server-unavailable", "v3-server-unavailable", "publish-error", "disconnect"],
)
def test_other_failures_are_routine(error: aiomqtt.MqttError) -> None:
    assert not login_refused(error)
