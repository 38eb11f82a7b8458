"""Reconnect policy shared by the MQTT loops: a jittered, capped backoff, and the failures that skip it."""

from __future__ import annotations

import random

from aiomqtt.exceptions import MqttConnectError  # not re-exported by aiomqtt/__init__
from paho.mqtt.reasoncodes import ReasonCode

FACTOR = 2.0
JITTER = 0.25  # each delay is drawn from ±25 % of the ladder's step
# A refused login, as aiomqtt reports the broker's CONNACK: MQTT 3.1.1 return codes
# (4 bad username or password, 5 not authorised) and MQTT 5 reason codes (134, 135).
# paho 2 turns 3.1.1 codes into reason codes, so 134/135 is what we see in practice.
REFUSED_LOGIN_RETURN_CODES = frozenset({4, 5})
REFUSED_LOGIN_REASON_CODES = frozenset({134, 135})
# A broker that does not speak MQTT 5 answers an MQTT 5 CONNECT with reason code 132 (Unsupported
# Protocol Version), or, as a 3.1.1 broker, with return code 1, which paho reports as reason code 132.
UNSUPPORTED_PROTOCOL_RETURN_CODE = 1
UNSUPPORTED_PROTOCOL_REASON_CODE = 132


class Backoff:
    """Delays between reconnect attempts: from min_s, times `factor` per failure, within [min_s, max_s].

    Pure: no clock and no sleeping, so the ladder is tested with values alone.
    """

    def __init__(
        self,
        min_s: float,
        max_s: float,
        *,
        factor: float = FACTOR,
        jitter: float = JITTER,
        rng: random.Random | None = None,
    ) -> None:
        if not 0 < min_s <= max_s:
            raise ValueError(f"backoff needs 0 < min_s <= max_s, got {min_s}, {max_s}")
        if factor < 1:
            raise ValueError(f"backoff factor must be >= 1, got {factor}")
        if not 0 <= jitter < 1:
            raise ValueError(f"backoff jitter must be in [0, 1), got {jitter}")
        self.min_s = min_s
        self.max_s = max_s
        self.factor = factor
        self.jitter = jitter
        self._rng = rng or random.Random()
        self._step_s = min_s  # kept rather than computed as min_s * factor**failures, which overflows
        self.failures = 0

    def next_delay(self) -> float:
        """Count a failure and return the delay before the next attempt (the ladder's step, jittered)."""
        self.failures += 1
        step_s = self._step_s
        self._step_s = min(self.max_s, step_s * self.factor)
        delay_s = step_s * self._rng.uniform(1 - self.jitter, 1 + self.jitter)
        return min(self.max_s, max(self.min_s, delay_s))

    def longest_delay(self) -> float:
        """Count a failure that retrying soon cannot fix and return max_s; the ladder stays at the top."""
        self.failures += 1
        self._step_s = self.max_s
        return self.max_s

    def reset(self) -> None:
        """Start again from min_s (after a successful connection)."""
        self.failures = 0
        self._step_s = self.min_s


def login_refused(error: BaseException) -> bool:
    """True if the broker refused our credentials (wrong username or password, or not authorised)."""
    if not isinstance(error, MqttConnectError):
        return False
    rc = error.rc
    if isinstance(rc, ReasonCode):
        return rc.value in REFUSED_LOGIN_REASON_CODES
    return rc in REFUSED_LOGIN_RETURN_CODES


def protocol_refused(error: BaseException) -> bool:
    """True if the broker refused the connection because it does not speak the protocol version asked for."""
    if not isinstance(error, MqttConnectError):
        return False
    rc = error.rc
    if isinstance(rc, ReasonCode):
        return rc.value == UNSUPPORTED_PROTOCOL_REASON_CODE
    return rc == UNSUPPORTED_PROTOCOL_RETURN_CODE
