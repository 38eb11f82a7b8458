"""Publish a SiteSimulator's feeds to an MQTT broker, reconnecting when the broker goes away."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from datetime import datetime

import aiomqtt

from parking.backoff import Backoff
from parking.clock import Clock, utc_now
from parking.config.models import Config
from parking.simulation.faults import Faults
from parking.simulation.simulator import Message, SiteSimulator
from sensors.backoff import login_refused

logger = logging.getLogger(__name__)

RECONNECT_MIN_S = 0.5
RECONNECT_MAX_S = 30.0
PUBLISH_BATCH = 10  # QoS 1 publishes awaited together (aiomqtt warns above 10 pending)


async def run_simulation(
    config: Config,
    host: str,
    port: int,
    *,
    interval_s: float = 1.0,
    time_scale: float = 1.0,
    seed: int | None = None,
    stop: asyncio.Event | None = None,
    client_id: str | None = None,
    start: datetime | None = None,
    retain: bool = True,
    username: str | None = None,
    password: str | None = None,
    clock: Clock | None = None,
    faults: Faults | None = None,
) -> None:
    """Publish simulated feeds for `config` to a broker every interval_s until `stop` is set.

    With a `clock` (e.g. the demo's ScaledClock shared with the engine), simulated
    time and message timestamps both follow it, and `time_scale`/`start` are unused.
    A refused login is logged at ERROR on every attempt and retried after RECONNECT_MAX_S.
    """
    if interval_s <= 0:
        raise ValueError(f"interval_s must be positive, got {interval_s}")
    if clock is not None:
        simulator = SiteSimulator(config, random.Random(seed), start=clock(), faults=faults)
    else:
        simulator = SiteSimulator(
            config, random.Random(seed), time_scale=time_scale, start=start, faults=faults
        )
    publisher = _Publisher(simulator, interval_s, retain, clock)
    stop = stop if stop is not None else asyncio.Event()
    backoff = Backoff(RECONNECT_MIN_S, RECONNECT_MAX_S)
    identifier = client_id or f"parking-guide-sim-{random.Random().getrandbits(32):08x}"
    warned = False
    while not stop.is_set():
        try:
            async with aiomqtt.Client(
                hostname=host, port=port, identifier=identifier, username=username, password=password
            ) as client:
                if backoff.failures:
                    logger.info("simulator reconnected to MQTT broker %s:%d", host, port)
                backoff.reset()
                warned = False
                async with asyncio.TaskGroup() as group:
                    watch = group.create_task(_until_disconnected(client), name="simulator-connection-watch")
                    await publisher.run(client, stop)
                    watch.cancel()
        except* aiomqtt.MqttError as errors:
            error = _first_leaf(errors)
            if login_refused(error):
                delay_s = backoff.longest_delay()
                warned = False
                logger.error(
                    "simulator: MQTT broker %s:%d refused the login (%s): check the username (%s), "
                    "the password (%s) and the broker's ACL; retrying in %.1f s",
                    host,
                    port,
                    error,
                    repr(username) if username else "none set",
                    "set" if password else "none set",
                    delay_s,
                )
            else:
                delay_s = backoff.next_delay()
                logger.log(
                    logging.DEBUG if warned else logging.WARNING,
                    "simulator: MQTT broker %s:%d unavailable (%s); retrying in %.1f s",
                    host,
                    port,
                    error,
                    delay_s,
                )
                warned = True
        if backoff.failures:
            await _wait(stop, delay_s)
    logger.info("simulator stopped")


class _Publisher:
    """Publishes a snapshot on every (re)connection, then the simulator's changes every interval."""

    def __init__(
        self, simulator: SiteSimulator, interval_s: float, retain: bool, clock: Clock | None
    ) -> None:
        self._simulator = simulator
        self._interval_s = interval_s
        self._retain = retain
        self._clock = clock or utc_now
        # with a shared clock the simulator runs at scale 1 on that clock's time
        self._ticks: Callable[[], float] = (
            (lambda: self._clock().timestamp()) if clock is not None else time.monotonic
        )
        self._last_tick: float | None = None

    async def run(self, client: aiomqtt.Client, stop: asyncio.Event) -> None:
        """Publish until `stop` is set; raises MqttError if the connection fails."""
        now = self._clock()
        if self._last_tick is not None:
            # catch up on the time spent disconnected; the snapshot below supersedes those changes
            self._simulator.step(now, self._ticks() - self._last_tick)
        self._last_tick = self._ticks()
        await _publish(client, self._simulator.initial_messages(now), self._retain)
        while not await _wait(stop, self._interval_s):
            tick = self._ticks()
            messages = self._simulator.step(self._clock(), tick - self._last_tick)
            self._last_tick = tick
            await _publish(client, messages, self._retain)


async def _until_disconnected(client: aiomqtt.Client) -> None:
    """Raise MqttError as soon as the connection drops (pending QoS 1 publishes would wait for a timeout)."""
    async for _ in client.messages:  # nothing is subscribed: this only ends with the connection
        pass


async def _publish(client: aiomqtt.Client, messages: list[Message], retain: bool) -> None:
    """Publish at QoS 1, a batch at a time; the first failure is raised once the batch is settled."""
    for first in range(0, len(messages), PUBLISH_BATCH):
        batch = messages[first : first + PUBLISH_BATCH]
        results = await asyncio.gather(
            *(client.publish(topic, payload, qos=1, retain=retain) for topic, payload in batch),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result


async def _wait(stop: asyncio.Event, timeout_s: float) -> bool:
    """Wait until `stop` is set (True) or the timeout passes (False)."""
    try:
        async with asyncio.timeout(timeout_s):
            await stop.wait()
    except TimeoutError:
        return False
    return True


def _first_leaf(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error
