"""`parking-guide simulate` and `replay`: simulated or recorded feeds published to a broker."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from parking.app.cli.errors import EXIT_OK, EXIT_REFUSED, CliError
from parking.app.cli.serve import wait_for_signal
from parking.config import Config

logger = logging.getLogger(__name__)


async def simulate(config: Config, args: argparse.Namespace) -> None:
    """Publish simulated feeds for the config's site until a signal."""
    from parking.simulation.faults import Faults
    from parking.simulation.publisher import run_simulation

    try:
        faults = Faults.parse(args.faults)
    except ValueError as exc:
        raise CliError(f"--faults: {exc}", EXIT_REFUSED) from exc
    stop = asyncio.Event()
    host = args.host or config.mqtt.host
    port = args.port or config.mqtt.port
    task = asyncio.create_task(
        run_simulation(
            config,
            host,
            port,
            interval_s=args.interval,
            time_scale=args.time_scale,
            seed=args.seed,
            stop=stop,
            faults=faults,
        ),
        name="simulator",
    )
    logger.info("publishing simulated feeds to mqtt://%s:%d", host, port)
    waiter = asyncio.create_task(wait_for_signal(), name="signals")
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    for t in (task, waiter):
        t.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await t


def replay(config: Config, args: argparse.Namespace) -> int:
    """Publish a recording; print the lot mapping and what was sent."""
    from parking.simulation.replay import frames, lot_mapping, read_recording, run_replay

    explicit = {}
    for pair in args.map:
        recorded, sep, lot = pair.partition("=")
        if not sep:
            raise CliError(f"--map {pair!r}: write RECORDED=LOT", EXIT_REFUSED)
        explicit[recorded] = lot
    rows = read_recording(args.recording)
    mapping = lot_mapping((lot for _, lot, _ in rows), config, explicit)
    if not mapping:
        raise CliError("no recorded lot maps onto a configured one; use --map")
    for recorded, lot in mapping.items():
        print(f"  {recorded} -> {lot}")
    recording = frames(rows, mapping)
    host = args.host or config.mqtt.host
    port = args.port or config.mqtt.port
    hours = (recording[-1].at - recording[0].at).total_seconds() / 3600 if recording else 0.0
    print(
        f"replaying {len(recording)} recorded times ({hours:.1f} h) at {args.speed:g}x to mqtt://{host}:{port}"
    )
    sent = asyncio.run(
        run_replay(
            config,
            recording,
            host,
            port,
            speed=args.speed,
            username=config.mqtt.username or None,
            password=config.mqtt.password or None,
        )
    )
    print(f"published {sent} lot messages")
    return EXIT_OK
