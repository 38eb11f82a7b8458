"""Child process: an HTTP server to measure, the real app or a trivial stand-in, until SIGTERM.

    python -m bench.server --mode app|trivial --config SITE --port P [--broker-port B]

`app` is create_app(config) with its state populated by one message from every feed
source (through the real Dispatcher), so boards have lines. With --broker-port it also
runs its MQTT ingest against that broker and the state fills from there instead.
`trivial` answers the first board's URLs (`/api/v1/boards/{id}`, with `?format=text` too;
`/go/{board}`; `/api/v1/guidance`) with the bytes and Content-Type the real app rendered
for them at start-up (the same length), and nothing else: the floor for an aiohttp
handler on this machine.

Either mode raises its open-files soft limit to the hard limit first.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from dataclasses import dataclass

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bench.procs import raise_open_files_limit
from bench.site import first_messages, load_site, site_clock, source_count, with_broker
from parking.app.factory import create_app
from parking.app.keys import FEED
from parking.config import Config
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


@dataclass(frozen=True, slots=True)
class Answer:
    """A real answer's bytes and Content-Type, to serve again as they are."""

    body: bytes
    content_type: str
    charset: str | None

    def response(self) -> web.Response:
        """A plain response with these bytes (nothing else the app adds: no ETag, no Cache-Control)."""
        return web.Response(body=self.body, content_type=self.content_type, charset=self.charset)


async def rendered_answers(config: Config) -> dict[str, Answer]:
    """What the real app (populated, no ingest) answers for the first board, fetched in-process.

    Keys: "board", "board_text", "go", "guidance"; every answer must be 200.
    """
    board = config.boards[0].id
    paths = {
        "board": f"/api/v1/boards/{board}",
        "board_text": f"/api/v1/boards/{board}?format=text",
        "go": f"/go/{board}",
        "guidance": f"/api/v1/guidance?board={board}",
    }
    answers: dict[str, Answer] = {}
    async with TestClient(TestServer(real_app(config, ingest=False), host=HOST)) as client:
        for name, path in paths.items():
            async with client.get(path) as response:
                body = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"the app answered {response.status} for {path}: {body[:200]!r}")
                answers[name] = Answer(body, response.content_type, response.charset)
    return answers


def trivial_app(answers: dict[str, Answer]) -> web.Application:
    """One handler a route, each serving the real app's rendered bytes for the first board, pre-encoded."""
    board_json, board_text = answers["board"].response, answers["board_text"].response
    go, guidance = answers["go"].response, answers["guidance"].response

    async def board(request: web.Request) -> web.Response:
        if "If-None-Match" in request.headers:
            return web.Response(status=304)
        if request.query.get("format") == "text":
            return board_text()
        return board_json()

    async def go_page(request: web.Request) -> web.Response:
        return go()

    async def guidance_answer(request: web.Request) -> web.Response:
        return guidance()

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(body=b'{"status":"ok"}', content_type="application/json")

    app = web.Application()
    app.router.add_get("/api/v1/boards/{board_id}", board)
    app.router.add_get("/go/{board_id}", go_page)
    app.router.add_get("/api/v1/guidance", guidance_answer)
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


def one_address_for_all(config: Config) -> Config:
    """The streams part's 1,000 clients all come from this machine's one address, and watch one board.

    The per-board and per-address stream caps guard a real site against one client holding
    every stream; here they would refuse all but the first few of the bench's clients, so
    they are lifted to the engine-wide cap (http.max_streams), which still applies.
    """
    http = config.http
    lifted = {"max_streams_per_board": http.max_streams, "max_streams_per_client": http.max_streams}
    return config.model_copy(update={"http": http.model_copy(update=lifted)})


def main() -> None:
    """Parse arguments, build the app, serve."""
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("--mode", choices=("app", "trivial"), required=True)
    parser.add_argument("--config", required=True, help="config file, or 'test' for tests/helpers/site.py")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--broker-port", type=int, help="run the app's MQTT ingest against this broker")
    parser.add_argument("--client-id", default="bench-app")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    config = load_site(args.config)
    if args.broker_port:
        config = with_broker(config, HOST, args.broker_port, args.client_id)
    raise_open_files_limit()  # the streams part holds 1,000 connections
    config = one_address_for_all(config)
    if args.mode == "trivial":
        app = trivial_app(asyncio.run(rendered_answers(config)))
    else:
        app = real_app(config, ingest=bool(args.broker_port))
    asyncio.run(serve(app, args.port))


if __name__ == "__main__":
    main()
