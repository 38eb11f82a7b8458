"""`parking-guide run` and `migrate`: the engine against the config's broker and store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket

from aiohttp import web

from parking.app.cli.errors import EXIT_OK, EXIT_REFUSED, CliError
from parking.app.factory import create_app
from parking.app.web.process import limit_accept_error_logs
from parking.app.web.server import HttpServer, PortInUseError, claim_port, serve
from parking.config import Config
from parking.config.models import HttpConfig
from parking.store import StoreError
from parking.store.embedded import embedded_store

logger = logging.getLogger(__name__)


async def wait_for_signal() -> None:
    """Return on SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def serve_app(
    app: web.Application,
    http: HttpConfig,
    host: str,
    port: int,
    *,
    fallback: bool = False,
    sock: socket.socket | None = None,
) -> HttpServer:
    """Serve `app` on host:port or a claimed `sock` (a free port instead if `fallback` and it is taken)."""
    limit_accept_error_logs(asyncio.get_running_loop())
    return await serve(app, http, host, port, fallback=fallback, sock=sock)


async def run(config: Config) -> None:
    """Serve the engine until a signal."""
    # one engine per identity: the HTTP port is claimed before anything that can wait (the
    # database, MQTT), so a second `run` of one config stops here instead of waiting and then
    # taking the first one's MQTT session; the free-port fallback is the demo's
    try:
        sock = claim_port(config.http.host, config.http.port)
    except PortInUseError as exc:
        raise CliError(str(exc), EXIT_REFUSED) from exc
    with contextlib.closing(sock):  # serve() hands it to the server; closing it again is harmless
        await _run_on(config, sock)


async def _run_on(config: Config, sock: socket.socket) -> None:
    async with embedded_store(config) as config:
        app = create_app(config)
        server = await serve_app(app, config.http, config.http.host, config.http.port, sock=sock)
        logger.info("serving on http://%s:%d", config.http.host, server.port)
        try:
            await wait_for_signal()
        finally:
            await server.close()


async def migrate(config: Config) -> int:
    """Apply the store's migrations and print what was applied and the schema version."""
    import asyncpg

    from parking.store.schema import migrate, schema_version

    async with embedded_store(config) as config:
        assert config.store.dsn is not None
        try:
            conn = await asyncpg.connect(config.store.dsn)
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreError(f"cannot connect to the database: {exc}") from exc
        try:
            applied = await migrate(conn)
            version = await schema_version(conn)
        finally:
            await conn.close()
    for migration in applied:
        print(f"applied {migration.version:04d}_{migration.name}")
    print(f"schema version {version}" + ("" if applied else " (up to date)"))
    return EXIT_OK
