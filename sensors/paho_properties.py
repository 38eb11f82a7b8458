"""Cheaper MQTT 5 properties in paho: the same objects, without rebuilding their tables each time.

paho's `Properties.__init__` builds two dictionaries of ~30 entries and a
list, and `unpack()` first runs `clear()`, which does a string replace and a
`hasattr` for each of the ~30 property names. paho makes a `Properties` for
every MQTT 5 PUBLISH it receives, so on a QoS 1 backlog this cost about 11 us
a message: 35-45 % of the engine's ingest rate (bench/README.md). The tables
never change, so instances can share them.

`share_property_tables()` replaces the two methods only after checking, on
this paho, that the shared versions give every packet type exactly the state
the original gives; if anything differs (a new paho), it leaves paho alone and
says so. Upstream, the same change belongs in paho itself.
"""

from __future__ import annotations

import logging
from typing import Any

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

logger = logging.getLogger(__name__)

_PACKET_TYPES = tuple(range(PacketTypes.CONNECT, PacketTypes.WILLMESSAGE + 1))
_STATE = {"shared": False}


def _fast_methods() -> tuple[Any, Any]:
    template = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]  # paho's own __init__
    types, names, table = template.types, template.names, template.properties
    compressed = tuple(name.replace(" ", "") for name in names)

    def __init__(self: Properties, packetType: int) -> None:
        state = self.__dict__
        state["packetType"] = packetType
        state["types"] = types
        state["names"] = names
        state["properties"] = table

    def clear(self: Properties) -> None:
        state = self.__dict__
        for name in compressed:
            if name in state:
                del state[name]

    return __init__, clear


def share_property_tables() -> bool:
    """Make paho's Properties share their constant tables; True if it did (or had already)."""
    if _STATE["shared"]:
        return True
    original = {
        packet_type: dict(vars(Properties(packet_type)))  # type: ignore[no-untyped-call]
        for packet_type in _PACKET_TYPES
    }
    fast_init, fast_clear = _fast_methods()
    for packet_type, expected in original.items():
        probe = Properties.__new__(Properties)
        fast_init(probe, packet_type)
        if vars(probe) != expected:
            logger.warning("paho's Properties changed shape; leaving it as it is (MQTT 5 ingest is slower)")
            return False
    if any(hasattr(Properties, name.replace(" ", "")) for name in original[PacketTypes.PUBLISH]["names"]):
        logger.warning("paho's Properties has class attributes named like properties; leaving it as it is")
        return False
    Properties.__init__ = fast_init  # type: ignore[method-assign]
    Properties.clear = fast_clear  # type: ignore[method-assign]
    _STATE["shared"] = True
    return True
