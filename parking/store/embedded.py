"""A private PostgreSQL for `run` and `demo` without a DSN: history with nothing to install by hand.

The server binaries come from the machine (initdb and pg_ctl on PATH, or
Debian's /usr/lib/postgresql/*/bin) or else from the pgserver wheel, a
dependency that bundles them. Only its binaries are used: the server is
initialised and started here with initdb and pg_ctl, listening on a unix
socket in its own directory only (no TCP port), and stopped when the engine
stops (unless it was running already, e.g. left by a killed engine, which is
then reused). PostgreSQL refuses to run as root, so as root the server runs
as `nobody`, in a data directory owned by it.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import pwd
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from parking.config import Config
from parking.store import StoreError

logger = logging.getLogger(__name__)

DATABASE = "parking_guide"
SOCKET_PATH_LIMIT = 100  # bytes: a unix socket path is at most 107, and PostgreSQL adds /.s.PGSQL.5432
ROOT_RUNS_AS = "nobody"
START_TIMEOUT_S = 60


def find_binaries() -> Path | None:
    """The directory holding initdb and pg_ctl: PATH, Debian's, then the pgserver wheel's; None if none."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    for candidate in reversed(debian):
        if (candidate / "pg_ctl").exists() and (candidate / "initdb").exists():
            return candidate
    spec = importlib.util.find_spec("pgserver")  # located, not imported: only its files are used
    if spec is not None and spec.submodule_search_locations:
        bundled = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
        if (bundled / "pg_ctl").exists():
            return bundled
    return None


def default_data_dir() -> Path:
    """Where `run` keeps its private PostgreSQL without store.data_dir: a system or a user directory."""
    if os.geteuid() == 0:
        return Path("/var/lib/parking-guide/postgres")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "parking-guide" / "postgres"


@dataclass
class EmbeddedPostgres:
    """initdb (once), pg_ctl start; the DSN of its socket; pg_ctl stop if this process started it."""

    data_dir: Path
    fast: bool = False  # the demo's throwaway cluster: no fsync
    tcp_port: int | None = None  # also listen on 127.0.0.1:tcp_port (tests that stop and start it)
    _bin: Path | None = None
    _socket_dir: Path | None = None
    _started: bool = False
    _user: str | None = None

    @property
    def dsn(self) -> str:
        """The URL asyncpg connects with (a unix socket)."""
        assert self._socket_dir is not None
        if self.tcp_port is not None:
            return f"postgresql://postgres@127.0.0.1:{self.tcp_port}/{DATABASE}"
        return f"postgresql://postgres@/{DATABASE}?host={self._socket_dir}&port=5432"

    async def start(self) -> str:
        """Initialise the data directory if new, start the server if it is not running; return the DSN."""
        self._bin = find_binaries()
        if self._bin is None:
            raise StoreError(
                "no PostgreSQL server binaries found (initdb, pg_ctl) for the embedded store: install "
                "PostgreSQL or the pgserver package, give store.dsn, or set store.embedded: false"
            )
        self._user = ROOT_RUNS_AS if os.geteuid() == 0 else None
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            record = pwd.getpwnam(self._user)
            os.chown(self.data_dir, record.pw_uid, record.pw_gid)
        self._socket_dir = self._choose_socket_dir()
        pgdata = self.data_dir / "data"
        if not (pgdata / "PG_VERSION").exists():
            logger.info("store: creating a private PostgreSQL in %s", pgdata)
            args = ["-D", str(pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"]
            await self._run("initdb", *args, *(["-N"] if self.fast else []))
        if await self._run("pg_ctl", "-D", str(pgdata), "status", check=False) == 0:
            logger.info("store: reusing the private PostgreSQL already running in %s", pgdata)
        else:
            options = f"-k {self._socket_dir} -p 5432 -c listen_addresses=''"
            if self.tcp_port is not None:
                options = f"-k {self._socket_dir} -p {self.tcp_port} -c listen_addresses=127.0.0.1"
            if self.fast:
                options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            log = self.data_dir / "postgres.log"
            start = [
                "-D",
                str(pgdata),
                "-w",
                "-t",
                str(START_TIMEOUT_S),
                "-l",
                str(log),
                "-o",
                options,
                "start",
            ]
            await self._run("pg_ctl", *start)
            self._started = True
        await self._create_database()
        return self.dsn

    async def stop(self) -> None:
        """Stop the server if this process started it."""
        if self._started:
            self._started = False
            await self._run(
                "pg_ctl", "-D", str(self.data_dir / "data"), "-m", "fast", "-w", "stop", check=False
            )

    def _choose_socket_dir(self) -> Path:
        if len(str(self.data_dir)) <= SOCKET_PATH_LIMIT - 20:
            return self.data_dir
        short = Path(tempfile.gettempdir()) / f"parking-guide-{os.getuid()}"
        short.mkdir(mode=0o755, exist_ok=True)
        if self._user is not None:
            record = pwd.getpwnam(self._user)
            os.chown(short, record.pw_uid, record.pw_gid)
        return short

    async def _create_database(self) -> None:
        import asyncpg

        admin = self.dsn.replace(f"/{DATABASE}", "/postgres")
        conn = await asyncpg.connect(admin)
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            await conn.close()

    async def _run(self, program: str, *args: str, check: bool = True) -> int:
        assert self._bin is not None
        process = await asyncio.create_subprocess_exec(
            str(self._bin / program),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            user=self._user,
            cwd=self.data_dir,
        )
        output, _ = await process.communicate()
        code = process.returncode
        assert code is not None
        if check and code != 0:
            text = output.decode("utf-8", "replace").strip()[-2000:]
            raise StoreError(
                f"{program} failed (exit {code}) for the embedded store in {self.data_dir}: {text}"
            )
        return code


@contextlib.asynccontextmanager
async def embedded_store(
    config: Config, *, data_dir: Path | None = None, fast: bool = False
) -> AsyncIterator[Config]:
    """The config with a DSN: its own, or that of a private PostgreSQL started here (and stopped after)."""
    store = config.store
    if store.dsn is not None or not store.embedded:
        if store.dsn is None:
            logger.warning("store.embedded is false and there is no store.dsn: no history, nothing recovered")
        yield config
        return
    server = EmbeddedPostgres(data_dir or Path(store.data_dir or default_data_dir()), fast=fast)
    dsn = await server.start()
    try:
        yield config.model_copy(update={"store": store.model_copy(update={"dsn": dsn})})
    finally:
        await server.stop()
