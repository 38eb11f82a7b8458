"""Helpers shared by more than one test module; test modules import from here, never from each other.

Shared pytest fixtures (services, `browser`, `guidance`, ...) are in tests/conftest.py instead.

- site.py: the test site (`site_config`, `SITE_YAML`, `WALL_CLOCK_SITE_YAML`), its time `T0`, `fill_all`.
- sites.py: variants of it: `lorawan_site` (`LORAWAN_FEEDS`), `ops_site` with the ops user's `PASSWORD`.
- simulation.py: the simulator's own site (`site`, `SITE_YAML`), `TZ`, `WEDNESDAY_06`, `decode`.
- views.py: lot views and outlooks as values (`CAPACITY`, `view`, `views`, `outlook`).
- data.py: recorded data: `REAL_DAY` (a real day of free counts), `fixture` (vendors' LoRaWAN uplinks).
- web.py: HTTP clients (`Client`, `MakeClient`), `FakeClock`, `every_lot_full`, `WECHAT_IOS`.
- engine.py: the engine on a real broker: `StartEngine`, `mqtt_site`, `publish`, `eventually`,
  `board_first_line`, `ready`, `counted`.
- reconnect.py: the ingest's reconnect loop without waiting: `RecordingSink`, `RecordedSleep`,
  `ingest_for`, `run_until_slept`.
- logs.py: `LogCounter`, `records` (the ingest's log records at a level).
- services.py: `SHARED_BROKER`, `SHARED_POSTGRES`, `PrivateBroker`, `forget_session`, `reachable`,
  `unavailable` (skip, or fail under CI).
- mqtt_proxy.py: `MqttProxy`, a TCP proxy between client and broker that a test can cut.
- cli.py: the command line as a process: `cli`, `printed`, `get_json`.
- browser.py: headless Chromium: `CHROMIUM`, `FLAGS`, `shot` (screenshot path), `watch` (console errors).
"""
