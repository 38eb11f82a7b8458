"""The MQTT connection failures the reconnect loops treat apart (the backoff itself: parking.backoff)."""

from __future__ import annotations

from aiomqtt.exceptions import MqttConnectError  # not re-exported by aiomqtt/__init__
from paho.mqtt.reasoncodes import ReasonCode

# A refused login, as aiomqtt reports the broker's CONNACK: MQTT 3.1.1 return codes
# (4 bad username or password, 5 not authorised) and MQTT 5 reason codes (134, 135).
# paho 2 turns 3.1.1 codes into reason codes, so 134/135 is what we see in practice.
REFUSED_LOGIN_RETURN_CODES = frozenset({4, 5})
REFUSED_LOGIN_REASON_CODES = frozenset({134, 135})
# A broker that does not speak MQTT 5 answers an MQTT 5 CONNECT with reason code 132 (Unsupported
# Protocol Version), or, as a 3.1.1 broker, with return code 1, which paho reports as reason code 132.
UNSUPPORTED_PROTOCOL_RETURN_CODE = 1
UNSUPPORTED_PROTOCOL_REASON_CODE = 132


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
