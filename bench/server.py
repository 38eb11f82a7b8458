"""Child process: an HTTP server to measure, the real app or a trivial stand-in, until SIGTERM.

    python -m bench.server --mode app|trivial --config SITE --port P [--broker-port B]

`app` is create_app(config) with its state populated by one message from every feed
source (through the real Dispatcher), so boards have lines. With --broker-port it also
runs its MQTT ingest against that broker and the state fills from there instead.
`trivial` answers the board URL with the app's own pre-rendered bytes (the same length),
and nothing else: the floor for an aiohttp handler on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from aiohttp import web

from bench.site import first_messages, load_site, site_clock, source_count, with_broker
from parking.app.boards import BoardCache
from parking.app.factory import build_guidance, create_app
from parking.app.feed import SiteFeed
from parking.app.keys import FEED
from parking.app.metrics import Metrics
from parking.config import Config
from parking.live import LiveSite
from sensors.ingest import Dispatcher, FeedSink

HOST = "127.0.0.1"


def populate(sink: FeedSink, config: Config) -> None:
    """Feed one valid message per bay, lot system and gate through the real dispatcher."""
    dispatcher = Dispatcher(config.feeds, sink, config.mqtt.max_payload_bytes)
    for topic, payload in first_messages(config, source_count(config)):
        dispatcher.dispatch(topic, payload)


def real_app(config: Config, ingest: bool) -> web.Application:
    """The app under test; without ingest its state is populated directly."""
    app = create_app(config, ingest=ingest, clock=site_clock(config))
    if not ingest:

        async def populated(app: web.Application) -> None:
            populate(app[FEED], config)

        app.on_startup.append(populated)  # runs after the app's resources are up
    return app


def trivial_app(config: Config) -> web.Application:
    """A one-handler app serving the real app's rendered board bytes, pre-encoded."""
    clock = site_clock(config)
    live = LiveSite(config, clock())
    metrics = Metrics(lambda: list(live.views().values()), lambda: live.version)
    populate(SiteFeed(live, metrics, clock), config)
    labels = {lot.id: lot.display_label for lot in config.lots}
    boards = BoardCache(live, build_guidance(config), labels, config.defaults.board_ttl_s)
    rendered = boards.get(config.boards[0].id)
    json_body, text_body = rendered.variants["json"].body, rendered.variants["text"].body

    async def board(request: web.Request) -> web.Response:
        if "If-None-Match" in request.headers:
            return web.Response(status=304)
        if request.query.get("format") == "text":
            return web.Response(body=text_body, content_type="text/plain", charset="utf-8")
        return web.Response(body=json_body, content_type="application/json")

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(body=b'{"status":"ok"}', content_type="application/json")

    app = web.Application()
    app.router.add_get("/api/v1/boards/{board_id}", board)
    app.router.add_get("/healthz", healthz)
    return app


async def serve(app: web.Application, port: int) -> None:
    """Serve until SIGTERM or SIGINT; the runner is set up as `parking-guide run` does."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, HOST, port).start()
        await stopping.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    """Parse arguments, build the app, serve."""
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("--mode", choices=("app", "trivial"), required=True)
    parser.add_argument("--config", required=True, help="config file, or 'test' for tests/site.py")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--broker-port", type=int, help="run the app's MQTT ingest against this broker")
    parser.add_argument("--client-id", default="bench-app")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    config = load_site(args.config)
    if args.broker_port:
        config = with_broker(config, HOST, args.broker_port, args.client_id)
    ingest = bool(args.broker_port)
    app = trivial_app(config) if args.mode == "trivial" else real_app(config, ingest=ingest)
    asyncio.run(serve(app, args.port))


if __name__ == "__main__":
    main()
