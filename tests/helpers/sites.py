"""Variants of the test site (tests/helpers/site.py) that several test modules use: with LoRaWAN feeds,
and with an ops user whose password is PASSWORD."""

from __future__ import annotations

from typing import Any

from argon2 import PasswordHasher

from parking.config import Config
from parking.config.models import OpsUser
from tests.helpers.site import site_config

LORAWAN_FEEDS = """feeds:
  - {format: ttn-v3, topic: "v3/{app}@{tenant}/devices/{device}/up",
     devices: {dev1: {lot: street, spot: S01}, 0004a30b001c0999: {lot: street, spot: S02}}}
  - format: chirpstack-v4
    topic: "application/{app}/device/{dev_eui}/event/up"
    profiles: {milesight: {occupied_field: occupancy}, nested: {occupied_field: status.occupied}}
    devices:
      "0101010101010101": {lot: street, spot: S03}
      "0101010101010102": {lot: street, spot: S04, profile: milesight}
      "0101010101010103": {lot: street, spot: S05, profile: nested}
  - {format: spot, topic: "parking/{lot}/spots/{spot}"}
  - {format: lot, topic: "parking/{lot}/status"}
  - {format: gate, topic: "parking/{lot}/gates/{gate}"}
roads:"""


def lorawan_site() -> Config:
    return site_config(**{"roads:": LORAWAN_FEEDS})


PASSWORD = "correct horse battery"
# cheap parameters for tests; the hash carries them, so verifying costs as little
HASH = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)


def ops_site(**ops: Any) -> Config:
    config = site_config()
    settings = {"users": [OpsUser(name="nurse", password_hash=HASH)], "secure_cookies": False, **ops}
    return config.model_copy(update={"ops": config.ops.model_copy(update=settings)})
