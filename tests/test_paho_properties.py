"""paho's MQTT 5 properties, sharing their tables, behave exactly as paho's own."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = """
import json, sys
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
if sys.argv[1] == "shared":
    from sensors.paho_properties import share_property_tables
    assert share_property_tables()
out = {}
for kind in range(PacketTypes.CONNECT, PacketTypes.WILLMESSAGE + 1):
    p = Properties(kind)
    out[str(kind)] = sorted(k for k in vars(p))
publish = Properties(PacketTypes.PUBLISH)
publish.UserProperty = ("lot", "nongfa")
publish.UserProperty = ("gate", "north")
publish.ContentType = "application/json"
publish.MessageExpiryInterval = 90
packed = publish.pack()
read, length = Properties(PacketTypes.PUBLISH).unpack(packed)
read2 = Properties(PacketTypes.PUBLISH)
read2.unpack(packed)
read2.unpack(Properties(PacketTypes.PUBLISH).pack())  # clear() before unpack drops what was there
connack = Properties(PacketTypes.CONNACK)
connack.MaximumPacketSize = 70000
connack.SessionExpiryInterval = 86400
out["packed"] = packed.hex()
out["read"] = {k: str(v) for k, v in sorted(vars(read).items()) if k not in ("names", "properties", "types")}
out["read2"] = sorted(vars(read2))
out["length"] = length
out["connack"] = connack.pack().hex()
out["json"] = read.json()
print(json.dumps(out, sort_keys=True, default=str))
"""


def run(mode: str) -> str:
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True)
    return done.stdout


def test_shared_tables_give_the_same_objects_bytes_and_values_as_paho() -> None:
    assert run("shared") == run("paho")


def test_sharing_refuses_a_properties_class_of_another_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    from paho.mqtt import properties

    from sensors import paho_properties

    original_init = properties.Properties.__init__

    def other_shape(self: properties.Properties, packet_type: int) -> None:
        original_init(self, packet_type)
        object.__setattr__(self, "extra", 1)  # a future paho with one more attribute

    monkeypatch.setattr(properties.Properties, "__init__", other_shape)
    monkeypatch.setitem(paho_properties._STATE, "shared", False)
    assert paho_properties.share_property_tables() is False
    assert properties.Properties.__init__ is other_shape
