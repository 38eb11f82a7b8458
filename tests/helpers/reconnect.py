"""The ingest's reconnect loop without waiting: a sink that records connection states, a stand-in for
asyncio.sleep that records the chosen delays, and running the ingest until it has chosen enough."""

from __future__ import annotations

import asyncio
import contextlib

from parking.config import Config
from parking.observations import Observation
from parking.types import ConnectionState
from sensors.ingest import Dispatcher, MqttIngest

# A guard against hanging, not a timed assertion: each attempt fails in milliseconds.
WAIT_S = 10.0


class RecordingSink:
    """A FeedSink that keeps the connection states it was told about."""

    def __init__(self) -> None:
        self.states: list[ConnectionState] = []
        self.takeovers = 0

    def observe(self, feed: str, obs: Observation) -> None:
        pass

    def reject(self, feed: str, reason: str, topic: str, payload: bytes, detail: str) -> None:
        pass

    def connection_changed(self, state: ConnectionState) -> None:
        self.states.append(state)

    def session_taken_over(self) -> None:
        self.takeovers += 1


class RecordedSleep:
    """Stands in for asyncio.sleep: records each delay and returns at once, until `wanted` delays."""

    def __init__(self, wanted: int) -> None:
        self.wanted = wanted
        self.delays: list[float] = []
        self.reached = asyncio.Event()

    async def __call__(self, delay_s: float) -> None:
        self.delays.append(delay_s)
        if len(self.delays) < self.wanted:
            return
        self.reached.set()
        await asyncio.Event().wait()  # park the loop here until the test cancels it


def ingest_for(config: Config, sleep: RecordedSleep) -> tuple[MqttIngest, RecordingSink]:
    sink = RecordingSink()
    dispatcher = Dispatcher(config.feeds, sink, config.mqtt.max_payload_bytes)
    return MqttIngest(config.mqtt, dispatcher, sink, sleep=sleep), sink


async def run_until_slept(ingest: MqttIngest, sleep: RecordedSleep) -> None:
    """Run the ingest until it has chosen `sleep.wanted` delays, then cancel it."""
    task = asyncio.create_task(ingest.run(), name="test-ingest")
    reached = asyncio.create_task(sleep.reached.wait(), name="test-ingest-slept")
    try:
        await asyncio.wait({task, reached}, timeout=WAIT_S, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # the loop never ends by itself: raise what stopped it
        assert reached.done(), f"only {len(sleep.delays)} of {sleep.wanted} attempts in {WAIT_S}s"
    finally:
        for pending in (task, reached):
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending
