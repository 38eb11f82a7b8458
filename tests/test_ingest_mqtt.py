"""End to end through a real Mosquitto: feed messages in over MQTT, board answers out over HTTP."""

from __future__ import annotations

from typing import Any

from parking.app.keys import METRICS
from tests.helpers.engine import (
    StartEngine,
    board_first_line,
    counted,
    eventually,
    mqtt_site,
    publish,
    ready,
)
from tests.helpers.services import PrivateBroker


class TestLiveFeeds:
    async def test_a_lot_status_message_shows_on_the_board(
        self, start_engine: StartEngine, mosquitto: tuple[str, int], prefix: str
    ) -> None:
        client = await start_engine(mqtt_site(prefix, *mosquitto))
        await eventually(lambda: ready(client), 200)
        await publish(*mosquitto, (f"{prefix}/parking/hospital/status", b'{"free": 42}'))
        # an unsplit total: the board shows general, taking the 4 disabled bays as free
        await eventually(lambda: board_first_line(client), ("hospital", "38"))
        await publish(*mosquitto, (f"{prefix}/parking/hospital/status", b'{"free": 0}'))
        await eventually(lambda: board_first_line(client), ("hospital", "FULL"))

    async def test_spot_and_gate_messages_move_the_counts(
        self, start_engine: StartEngine, mosquitto: tuple[str, int], prefix: str
    ) -> None:
        client = await start_engine(mqtt_site(prefix, *mosquitto))
        await eventually(lambda: ready(client), 200)
        await publish(
            *mosquitto,
            # a gate lot is unknown until a lot-level count; 9 of the 10 street bays must report
            (f"{prefix}/parking/hospital/status", b'{"free": 104, "categories": {"disabled": 4}}'),
            (f"{prefix}/parking/hospital/gates/north", b'{"entries": 100, "exits": 50}'),
            (f"{prefix}/parking/hospital/gates/north", b'{"entries": 130, "exits": 55}'),
            (f"{prefix}/parking/street/spots/S01", b"0"),
            (f"{prefix}/parking/street/spots/S02", b'{"occupied": false, "seq": 1}'),
            *((f"{prefix}/parking/street/spots/S{n:02d}", b"1") for n in range(3, 10)),
        )
        await eventually(lambda: board_first_line(client), ("hospital", "75"))

        async def street_free() -> Any:
            return (await (await client.get("/api/v1/lots/street")).json())["free"]

        await eventually(street_free, 2)

    async def test_malformed_messages_are_counted_and_ingestion_carries_on(
        self, start_engine: StartEngine, mosquitto: tuple[str, int], prefix: str
    ) -> None:
        client = await start_engine(mqtt_site(prefix, *mosquitto))
        await eventually(lambda: ready(client), 200)
        await publish(
            *mosquitto,
            (f"{prefix}/parking/hospital/status", b"{not json"),
            (f"{prefix}/parking/hospital/status", b'{"free": -3}'),
            (f"{prefix}/parking/nowhere/status", b'{"free": 3}'),
            (f"{prefix}/parking/street/spots/Z99", b"1"),
            (f"{prefix}/parking/hospital/status", b'{"free": 7' + b" " * 5000 + b"}"),
            (f"{prefix}/parking/hospital/status", b'{"free": 17}'),
        )
        await eventually(lambda: board_first_line(client), ("hospital", "13"))
        assert await counted(client, "lot", "bad_json") == 1
        assert await counted(client, "lot", "negative_count") == 1
        assert await counted(client, "lot", "unknown_lot") == 1
        assert await counted(client, "spot", "unknown_spot") == 1
        assert await counted(client, "lot", "oversized") == 1
        assert await counted(client, "lot", "applied") == 1


class TestSession:
    async def test_messages_published_while_the_engine_was_away_are_delivered(
        self, start_engine: StartEngine, mosquitto: tuple[str, int], prefix: str
    ) -> None:
        config = mqtt_site(prefix, *mosquitto)
        first = await start_engine(config)
        await eventually(lambda: ready(first), 200)
        await first.close()  # the engine goes away; its persistent session stays on the broker

        await publish(*mosquitto, (f"{prefix}/parking/hospital/status", b'{"free": 33}'))

        second = await start_engine(config)
        await eventually(lambda: board_first_line(second), ("hospital", "29"))

    async def test_the_engine_reconnects_and_resubscribes_after_a_broker_restart(
        self, start_engine: StartEngine, private_broker: PrivateBroker, prefix: str
    ) -> None:
        client = await start_engine(mqtt_site(prefix, "127.0.0.1", private_broker.port))
        await eventually(lambda: ready(client), 200)

        private_broker.stop()
        await eventually(lambda: ready(client), 503)
        private_broker.start()  # a fresh broker: no session, so resubscribing is the engine's job
        await eventually(lambda: ready(client), 200)

        await publish("127.0.0.1", private_broker.port, (f"{prefix}/parking/hospital/status", b'{"free": 9}'))
        await eventually(lambda: board_first_line(client), ("hospital", "5"))
        disconnects = client.app[METRICS].registry.get_sample_value("parking_mqtt_disconnects_total")
        assert disconnects == 1


class TestRetained:
    async def test_a_retained_gate_event_is_not_counted_on_connecting(
        self, start_engine: StartEngine, private_broker: PrivateBroker, prefix: str
    ) -> None:
        broker = ("127.0.0.1", private_broker.port)
        gates = f"{prefix}/parking/hospital/gates"
        await publish(*broker, (f"{gates}/north", b'{"event": "entry"}'), retain=True)
        client = await start_engine(mqtt_site(prefix, *broker))
        await eventually(lambda: ready(client), 200)
        # A count from the lot system, then a live event: once that is applied, the retained one
        # (sent on subscribing, before either) was handled.
        status = b'{"free": 54, "categories": {"general": 50, "disabled": 4}}'
        await publish(*broker, (f"{prefix}/parking/hospital/status", status))
        await publish(*broker, (f"{gates}/south", b'{"event": "entry", "seq": 1}'))
        await eventually(lambda: counted(client, "gate", "applied"), 1)

        assert await counted(client, "gate", "retained_event") == 1
        lot = await (await client.get("/api/v1/lots/hospital")).json()
        assert lot["categories"]["general"]["free"] == 49  # the truth, then one live car in; not two


class TestReadiness:
    async def test_a_connected_engine_that_hears_nothing_is_not_ready(
        self, start_engine: StartEngine, mosquitto: tuple[str, int], prefix: str
    ) -> None:
        config = mqtt_site(prefix, *mosquitto)
        config = config.model_copy(update={"mqtt": config.mqtt.model_copy(update={"max_silence_s": 0.3})})
        client = await start_engine(config)

        async def feeds_check() -> Any:
            return (await (await client.get("/readyz")).json())["checks"].get("feeds")

        await eventually(feeds_check, "silent")
        assert await ready(client) == 503
        await publish(*mosquitto, (f"{prefix}/parking/hospital/status", b'{"free": 42}'))
        await eventually(feeds_check, "flowing")
        await eventually(lambda: ready(client), 200)
