"""The `parking-guide` command: demo, run, check, simulate, replay, import-osm, evaluate, qr, migrate,
hash-password."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import secrets
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from aiohttp import web

from parking.app.factory import create_app
from parking.app.process import limit_accept_error_logs, raise_open_file_limit
from parking.app.server import HttpServer, refuse_taken_port, serve
from parking.app.store import StoreError
from parking.app.store.embedded import EmbeddedPostgres, default_data_dir
from parking.clock import ScaledClock, utc_now
from parking.config import Config, load_config, load_config_text
from parking.config.models import HttpConfig, OpsUser, TlsConfig
from parking.errors import ConfigError, ParkingGuideError

logger = logging.getLogger(__name__)

EXAMPLE_CONFIG = "example.yaml"
DEMO_START = "08:00"  # the morning rush: the hospital car park is full by about 09:20
DEMO_TIME_SCALE = 15.0
EXIT_ERROR = 1  # `check` found the config invalid; or another error of ours (ParkingGuideError)
EXIT_REFUSED = 2  # run, demo, simulate: the config has problems, so nothing was started
MIN_PASSWORD_CHARS = 10


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status (see EXIT_ERROR, EXIT_REFUSED)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    try:
        if args.command == "check":
            return _check(args.config)
        if args.command == "hash-password":
            return _hash_password(args.stdin)
        if args.command == "import-osm":
            return _import_osm(args)
        config = _load(args.config)
        if args.command == "run":
            check_files(config, args.config)
        if args.command == "qr":
            return _qr(config, args.config, Path(args.out_dir))
        if args.command == "evaluate":
            from parking.app.evaluate import report

            scales = [float(s) for s in args.scales.split(",") if s]
            seeds = [int(s) for s in str(args.seed).split(",")]
            print(report(config, scales, seeds, args.occupancy))
            return 0
        if args.command in ("demo", "run"):
            raise_open_file_limit()
        if args.command == "demo":
            asyncio.run(_demo(config, args))
        elif args.command == "run":
            asyncio.run(_run(config))
        elif args.command == "simulate":
            asyncio.run(_simulate(config, args))
        elif args.command == "migrate":
            return asyncio.run(_migrate(config))
        elif args.command == "replay":
            return _replay(config, args)
    except ConfigError as exc:
        _print_config_error(exc)
        return EXIT_ERROR if args.command == "check" else EXIT_REFUSED
    except ParkingGuideError as exc:
        print(f"parking-guide: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        pass
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parking-guide",
        description=__doc__,
        epilog="exit status: 0 ok; 1 `check` found the config invalid, or another error; "
        "2 run, demo or simulate refused an invalid config, or the command line was wrong",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="everything in one process: embedded broker, simulator, engine, web")
    demo.add_argument("-c", "--config", default=None, help="config file (default: the built-in example site)")
    demo.add_argument("--host", default="127.0.0.1", help="address for the web server and the broker")
    demo.add_argument("--http-port", type=int, default=8080, help="web port (0: any free port)")
    demo.add_argument("--mqtt-port", type=int, default=1884, help="embedded broker port (0: any free port)")
    demo.add_argument(
        "--start",
        default=DEMO_START,
        help="simulated local start, HH:MM today in the site's time zone, or 'now' (default: %(default)s)",
    )
    demo.add_argument(
        "--time-scale",
        type=float,
        default=DEMO_TIME_SCALE,
        help="simulated seconds per real second (default: %(default)s)",
    )

    run = sub.add_parser("run", help="production: external MQTT broker from the config")
    run.add_argument("-c", "--config", default="config.yaml")

    check = sub.add_parser("check", help="validate a config file and print a summary or the errors")
    check.add_argument("-c", "--config", default="config.yaml")

    simulate = sub.add_parser("simulate", help="publish simulated feeds for the config's site to a broker")
    simulate.add_argument("-c", "--config", default=None, help="config file (default: the built-in example)")
    simulate.add_argument("--host", default=None, help="broker host (default: mqtt.host of the config)")
    simulate.add_argument("--port", type=int, default=None, help="broker port (default: mqtt.port)")
    simulate.add_argument("--interval", type=float, default=1.0, help="seconds between publishing rounds")
    simulate.add_argument("--time-scale", type=float, default=1.0, help="simulated seconds per real second")
    simulate.add_argument("--seed", type=int, default=None)
    simulate.add_argument(
        "--faults",
        default="",
        help="misbehave as real feeds do, e.g. duplicate=0.05,reorder=0.02,silent=0.1,skew_s=30,garbage=0.01",
    )

    replay = sub.add_parser(
        "replay", help="publish a recorded CSV of lot counts (timestamp,lot,free[,capacity])"
    )
    replay.add_argument("recording", help="the CSV file, e.g. ../shared/data/real-free-2020-06-15.csv")
    replay.add_argument("-c", "--config", default=None, help="config file (default: the built-in example)")
    replay.add_argument("--host", default=None, help="broker host (default: mqtt.host of the config)")
    replay.add_argument("--port", type=int, default=None, help="broker port (default: mqtt.port)")
    replay.add_argument("--speed", type=float, default=60.0, help="recorded seconds per real second")
    replay.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="RECORDED=LOT",
        help="replay a recorded lot as a configured one (repeatable; default: equal ids, then in turn)",
    )

    evaluate = sub.add_parser("evaluate", help="simulate a peak morning: guidance strategies side by side")
    evaluate.add_argument("-c", "--config", default=None, help="config file (default: the built-in example)")
    evaluate.add_argument("--scales", default="0.6,1.5,3", help="visitor demand multipliers, comma-separated")
    evaluate.add_argument("--seed", default="1", help="random seed(s), comma-separated")
    evaluate.add_argument(
        "--occupancy",
        type=float,
        default=None,
        help="also run the first demand scale (3, x1.25 ...) at which every strategy's peak area occupancy"
        " reaches this share, e.g. 0.9",
    )

    osm = sub.add_parser("import-osm", help="read an OpenStreetMap extract into a road graph file")
    osm.add_argument("extract", help="an .osm or .osm.pbf file")
    osm.add_argument("-o", "--out", required=True, help="the graph file to write (.npz); roads.file names it")
    osm.add_argument(
        "-c", "--config", default=None, help="report how far this config's places are from the graph"
    )
    osm.add_argument(
        "--lots-yaml", default=None, help="also write the extract's parking amenities as lots here"
    )

    migrate = sub.add_parser("migrate", help="apply the store's schema migrations (run applies them too)")
    migrate.add_argument("-c", "--config", default="config.yaml")

    hashpw = sub.add_parser("hash-password", help="print the argon2 hash of an ops password, for ops.users")
    hashpw.add_argument("--stdin", action="store_true", help="read the password from standard input")

    qr = sub.add_parser("qr", help="write each board's QR code (SVG, PNG) and a print-ready sheet")
    qr.add_argument("-c", "--config", default="config.yaml")
    qr.add_argument("-o", "--out-dir", required=True, help="directory to write into (created if missing)")
    return parser


def _load(path: str | None) -> Config:
    if path is not None:
        return load_config(path)
    example = resources.files("parking").joinpath(EXAMPLE_CONFIG)
    return load_config_text(example.read_text(encoding="utf-8"), source=f"<built-in {EXAMPLE_CONFIG}>")


def _print_config_error(exc: ConfigError) -> None:
    print(f"{exc.source}: invalid configuration", file=sys.stderr)
    for problem in exc.problems:
        print(f"  {exc.source}: {problem}", file=sys.stderr)


def check_files(config: Config, source: str) -> None:
    """The files a config names (TLS certificates and keys) exist and can be read; ConfigError if not."""
    problems = []
    tls = config.mqtt.tls
    if tls.enabled:
        for key in ("ca_file", "cert_file", "key_file"):
            name = getattr(tls, key)
            if name is None:
                continue
            try:
                with open(name, "rb"):
                    pass
            except OSError as exc:
                problems.append(f"mqtt.tls.{key}: cannot read {name!r}: {exc.strerror}")
    if problems:
        raise ConfigError(source, problems)


def _check(path: str) -> int:
    config = load_config(path)
    check_files(config, path)
    spaces = sum(sum(lot.capacities().values()) for lot in config.lots)
    print(f"{path}: OK")
    print(f"  site:      {config.site.name} ({config.site.timezone})")
    print(f"  hospitals: {len(config.hospitals)}")
    print(f"  lots:      {len(config.lots)} ({spaces} spaces)")
    print(f"  boards:    {len(config.boards)}")
    if config.roads.file is not None:
        print(f"  roads:     graph file {config.roads.file}")
    else:
        print(f"  roads:     {len(config.roads.nodes)} nodes, {len(config.roads.ways)} ways")
    print(f"  mqtt:      {config.mqtt.host}:{config.mqtt.port} as {config.mqtt.client_id!r}")
    return 0


def _import_osm(args: argparse.Namespace) -> int:
    from parking.app.osm_cli import import_osm

    config = load_config(args.config) if args.config else None
    lots_yaml = Path(args.lots_yaml) if args.lots_yaml else None
    return import_osm(Path(args.extract), Path(args.out), config, lots_yaml)


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _serve(
    app: web.Application, http: HttpConfig, host: str, port: int, *, fallback: bool = False
) -> HttpServer:
    limit_accept_error_logs(asyncio.get_running_loop())
    return await serve(app, http, host, port, fallback=fallback)


async def _run(config: Config) -> None:
    # one engine per identity: a second `run` of one config must not start (and take the
    # first one's MQTT session) because its port is taken; the free-port fallback is the demo's
    refuse_taken_port(config.http.host, config.http.port)
    async with embedded_store(config) as config:
        app = create_app(config)
        server = await _serve(app, config.http, config.http.host, config.http.port)
        logger.info("serving on http://%s:%d", config.http.host, server.port)
        try:
            await _wait_for_signal()
        finally:
            await server.close()


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


async def _migrate(config: Config) -> int:
    import asyncpg

    from parking.app.store.schema import migrate, schema_version

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
    return 0


def _hash_password(from_stdin: bool) -> int:
    from argon2 import PasswordHasher

    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("ops password: ")
        if getpass.getpass("again: ") != password:
            print("parking-guide hash-password: the passwords differ", file=sys.stderr)
            return EXIT_ERROR
    if len(password) < MIN_PASSWORD_CHARS:
        print(f"parking-guide hash-password: use at least {MIN_PASSWORD_CHARS} characters", file=sys.stderr)
        return EXIT_ERROR
    print(PasswordHasher().hash(password))
    return 0


async def _demo(config: Config, args: argparse.Namespace) -> None:
    from sensors.broker import EmbeddedBroker
    from sensors.net import port_is_free
    from sensors.publisher import run_simulation

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
        config, password = _demo_ops_user(config)
        clock = _demo_clock(config, args.start, args.time_scale)
        # a fresh private PostgreSQL for each demo (its clock starts anew: yesterday's run is no history)
        with tempfile.TemporaryDirectory(prefix="parking-guide-demo-") as scratch:
            os.chmod(scratch, 0o755)  # as root the server runs as nobody, who must reach it
            async with embedded_store(config, data_dir=Path(scratch) / "postgres", fast=True) as config:
                app = create_app(config, clock=clock)
                server = await _serve(app, config.http, args.host, args.http_port, fallback=True)
                stop = asyncio.Event()
                simulator = asyncio.create_task(
                    run_simulation(config, args.host, broker.port, clock=clock, stop=stop),
                    name="demo-simulator",
                )
                _print_demo_urls(config, f"http://{args.host}:{server.port}", broker.url, password)
                local = clock().astimezone(ZoneInfo(config.site.timezone))
                print(
                    f"Simulated time starts at {local:%H:%M} ({config.site.timezone}) and runs "
                    f"{args.time_scale:g}x real time; the API and boards follow it.\n",
                    flush=True,
                )
                try:
                    await _wait_for_signal()
                finally:
                    stop.set()
                    simulator.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await simulator
                    await server.close()


DEMO_OPS_USER = "ops"


def _demo_ops_user(config: Config) -> tuple[Config, str | None]:
    """The demo's ops login: the config's users if it has any, else `ops` with a password made now."""
    if config.ops.users or config.ops.proxy_header:
        return config, None
    from argon2 import PasswordHasher

    password = secrets.token_urlsafe(9)
    user = OpsUser(name=DEMO_OPS_USER, password_hash=PasswordHasher().hash(password))
    return config.model_copy(update={"ops": config.ops.model_copy(update={"users": [user]})}), password


def _demo_clock(config: Config, start: str, scale: float) -> ScaledClock:
    """The demo's clock: today at `start` local time (or now), running `scale` times faster."""
    now = utc_now()
    if start == "now":
        return ScaledClock(now, scale)
    try:
        clock_time = datetime.strptime(start, "%H:%M").time()
    except ValueError as exc:
        raise SystemExit(f"--start must be HH:MM or 'now', not {start!r}") from exc
    local_today = now.astimezone(ZoneInfo(config.site.timezone)).date()
    return ScaledClock(datetime.combine(local_today, clock_time, ZoneInfo(config.site.timezone)), scale)


def _print_demo_urls(config: Config, base: str, mqtt_url: str, ops_password: str | None = None) -> None:
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


async def _simulate(config: Config, args: argparse.Namespace) -> None:
    from sensors.faults import Faults
    from sensors.publisher import run_simulation

    try:
        faults = Faults.parse(args.faults)
    except ValueError as exc:
        raise SystemExit(f"--faults: {exc}") from exc
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
    waiter = asyncio.create_task(_wait_for_signal(), name="signals")
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    for t in (task, waiter):
        t.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await t


def _replay(config: Config, args: argparse.Namespace) -> int:
    """Publish a recording; print the lot mapping and what was sent."""
    from sensors.replay import frames, lot_mapping, read_recording, run_replay

    explicit = {}
    for pair in args.map:
        recorded, sep, lot = pair.partition("=")
        if not sep:
            raise SystemExit(f"--map {pair!r}: write RECORDED=LOT")
        explicit[recorded] = lot
    rows = read_recording(args.recording)
    mapping = lot_mapping((lot for _, lot, _ in rows), config, explicit)
    if not mapping:
        print("parking-guide replay: no recorded lot maps onto a configured one; use --map", file=sys.stderr)
        return EXIT_ERROR
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
    return 0


def _qr(config: Config, source: str, out_dir: Path) -> int:
    """Write DIR/{board}.svg, DIR/{board}.png and DIR/{board}-sheet.svg for every board; print each path."""
    from signage.qr import PRINT_PNG_SCALE, go_url, print_sheet, qr_png, qr_svg

    public_url = config.http.public_url
    if not public_url:
        print(
            f"parking-guide qr: {source}: http.public_url is not set. QR codes point at "
            "{public_url}/go/{board}, so set it to the address drivers' phones reach, "
            "e.g. https://parking.example.org",
            file=sys.stderr,
        )
        return 2
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        print(
            f"parking-guide qr: {source}: http.public_url {public_url!r} is not an absolute "
            "http(s) URL, e.g. https://parking.example.org",
            file=sys.stderr,
        )
        return 2
    if parts.hostname in ("localhost", "127.0.0.1", "::1"):
        print(
            f"parking-guide qr: warning: http.public_url {public_url!r} is this machine only; "
            "phones that scan these codes cannot reach it",
            file=sys.stderr,
        )
    if not config.boards:
        print(f"parking-guide qr: {source} has no boards: nothing to write", file=sys.stderr)
        return 0
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for board in config.boards:
            url = go_url(public_url, board.id)
            files = {
                f"{board.id}.svg": qr_svg(url),
                f"{board.id}.png": qr_png(url, scale=PRINT_PNG_SCALE),
                f"{board.id}-sheet.svg": print_sheet(url, board.name),
            }
            for name, data in files.items():
                (out_dir / name).write_bytes(data)
                print(f"{out_dir / name}  ({url})")
    except OSError as exc:
        print(f"parking-guide qr: cannot write into {out_dir}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
