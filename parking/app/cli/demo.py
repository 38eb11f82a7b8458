"""`parking-guide demo`: the whole engine in one process, on the example site, with nothing to install.

An embedded MQTT broker, a private PostgreSQL, simulated sensors, the engine and the web server, on a
simulated clock; it prints the URLs to try.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from parking.app.cli.errors import EXIT_REFUSED, CliError
from parking.app.cli.serve import serve_app, wait_for_signal
from parking.app.factory import create_app
from parking.clock import ScaledClock, utc_now
from parking.config import Config
from parking.config.models import OpsUser, TlsConfig
from parking.store.embedded import embedded_store

logger = logging.getLogger(__name__)

DEMO_START = "08:00"  # the morning rush: the hospital car park is full by about 09:20
DEMO_TIME_SCALE = 15.0
DEMO_OPS_USER = "ops"


async def demo(config: Config, args: argparse.Namespace) -> None:
    """Run the demo until a signal."""
    from parking.simulation.broker import EmbeddedBroker
    from parking.simulation.publisher import run_simulation
    from sensors.net import port_is_free

    clock = demo_clock(config, args.start, args.time_scale)
    mqtt_port = args.mqtt_port
    if mqtt_port and not port_is_free(args.host, mqtt_port):
        logger.warning("port %d is in use; the embedded broker takes a free port instead", mqtt_port)
        mqtt_port = 0
    async with EmbeddedBroker(host=args.host, port=mqtt_port) as broker:
        mqtt = config.mqtt.model_copy(
            update={
                "host": args.host,
                "port": broker.port,
                "username": None,
                "password": None,
                "tls": TlsConfig(),
                "client_id": "parking-guide-demo",
                # amqtt speaks MQTT 3.1.1 only, and leaves an MQTT 5 CONNECT unanswered
                "protocol": "mqttv311",
            }
        )
        config = config.model_copy(update={"mqtt": mqtt})
        config, password = demo_ops_user(config)
        # a fresh private PostgreSQL for each demo (its clock starts anew: yesterday's run is no history)
        with tempfile.TemporaryDirectory(prefix="parking-guide-demo-") as scratch:
            os.chmod(scratch, 0o755)  # as root the server runs as nobody, who must reach it
            async with embedded_store(config, data_dir=Path(scratch) / "postgres", fast=True) as config:
                app = create_app(config, clock=clock)
                server = await serve_app(app, config.http, args.host, args.http_port, fallback=True)
                stop = asyncio.Event()
                simulator = asyncio.create_task(
                    run_simulation(config, args.host, broker.port, clock=clock, stop=stop),
                    name="demo-simulator",
                )
                print_demo_urls(config, f"http://{args.host}:{server.port}", broker.url, password)
                local = clock().astimezone(ZoneInfo(config.site.timezone))
                print(
                    f"Simulated time starts at {local:%H:%M} ({config.site.timezone}) and runs "
                    f"{args.time_scale:g}x real time; the API and boards follow it.\n",
                    flush=True,
                )
                try:
                    await wait_for_signal()
                finally:
                    stop.set()
                    simulator.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await simulator
                    await server.close()


def demo_ops_user(config: Config) -> tuple[Config, str | None]:
    """The demo's ops login: the config's users if it has any, else `ops` with a password made now."""
    if config.ops.users or config.ops.proxy_header:
        return config, None
    from argon2 import PasswordHasher

    password = secrets.token_urlsafe(9)
    user = OpsUser(name=DEMO_OPS_USER, password_hash=PasswordHasher().hash(password))
    return config.model_copy(update={"ops": config.ops.model_copy(update={"users": [user]})}), password


def demo_clock(config: Config, start: str, scale: float) -> ScaledClock:
    """The demo's clock: today at `start` local time (or now), running `scale` times faster."""
    now = utc_now()
    if start == "now":
        return ScaledClock(now, scale)
    try:
        clock_time = datetime.strptime(start, "%H:%M").time()
    except ValueError as exc:
        raise CliError(f"--start must be HH:MM or 'now', not {start!r}", EXIT_REFUSED) from exc
    local_today = now.astimezone(ZoneInfo(config.site.timezone)).date()
    return ScaledClock(datetime.combine(local_today, clock_time, ZoneInfo(config.site.timezone)), scale)


def print_demo_urls(config: Config, base: str, mqtt_url: str, ops_password: str | None = None) -> None:
    """What to open and what to publish, for a person trying the demo."""
    lot = next((lot for lot in config.lots if "lot" in lot.sources), config.lots[0])
    lot_feed = next((entry.topic for entry in config.feeds if entry.format == "lot"), "parking/{lot}/status")
    lines = [
        "",
        f"parking-guide demo: {config.site.name}",
        "",
        "  Boards (JSON, and plain text for LED controllers):",
        *(
            f"    {base}/api/v1/boards/{b.id}    {base}/api/v1/boards/{b.id}?format=text"
            for b in config.boards
        ),
        "  For drivers and screens (QR landing page, its QR code, the board drawn live):",
        *(
            f"    {base}/go/{b.id}    {base}/qr/{b.id}.svg    {base}/boards/{b.id}/display"
            for b in config.boards
        ),
        f"  Guidance:  {base}/api/v1/guidance?board={config.boards[0].id}" if config.boards else "",
        f"  Lots:      {base}/api/v1/lots",
        f"  Metrics:   {base}/metrics",
        f"  Ops:       {base}/ops"
        + (
            f"  (user {DEMO_OPS_USER!r}, password {ops_password!r}, made for this run)"
            if ops_password
            else ""
        ),
        f"  OpenAPI:   {base}/api/v1/openapi.json",
        f"  MQTT:      {mqtt_url}  (the simulator publishes here; so can you)",
        f"    e.g. mosquitto_pub -h {mqtt_url.split('//')[1].rsplit(':', 1)[0]} "
        f"-p {mqtt_url.rsplit(':', 1)[1]} -q 1 -t {lot_feed} "
        f"-m '{{\"free\": 0}}'".replace("{lot}", lot.id),
        "",
        "Press Ctrl+C to stop.",
        "",
    ]
    print("\n".join(lines), flush=True)
