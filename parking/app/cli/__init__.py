"""The `parking-guide` command: demo, run, check, simulate, replay, import-osm, evaluate, qr, migrate,
hash-password. This module only dispatches; each command lives in a module of its own beside it.

Every failure of ours is a ParkingGuideError: a CliError carries its exit status, an invalid
config exits with EXIT_ERROR from `check` and EXIT_REFUSED from every other command (errors.py).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from parking.app.cli import checks, demo, feeds, qr, serve
from parking.app.cli.demo import DEMO_START, DEMO_TIME_SCALE
from parking.app.cli.errors import EXIT_ERROR, EXIT_OK, EXIT_REFUSED, CliError
from parking.app.web.process import raise_open_file_limit
from parking.config import Config
from parking.errors import ConfigError, ParkingGuideError

__all__ = ["EXIT_ERROR", "EXIT_OK", "EXIT_REFUSED", "main"]

# the commands that need no config, and those that take the loaded one
_STANDALONE: dict[str, Callable[[argparse.Namespace], int]] = {
    "check": lambda args: checks.check(args.config),
    "hash-password": lambda args: checks.hash_password(args.stdin),
    "import-osm": lambda args: _import_osm(args),
}
_WITH_CONFIG: dict[str, Callable[[Config, argparse.Namespace], int | None]] = {
    "qr": lambda config, args: qr.write_codes(config, args.config, Path(args.out_dir)),
    "evaluate": lambda config, args: _evaluate(config, args),
    "demo": lambda config, args: asyncio.run(demo.demo(config, args)),
    "run": lambda config, args: asyncio.run(serve.run(config)),
    "simulate": lambda config, args: asyncio.run(feeds.simulate(config, args)),
    "migrate": lambda config, args: asyncio.run(serve.migrate(config)),
    "replay": feeds.replay,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status (errors.py)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    try:
        if args.command in _STANDALONE:
            return _STANDALONE[args.command](args)
        config = checks.load(args.config)
        if args.command == "run":
            checks.check_files(config, args.config)
            # the graph and its nodes only: the drive table is built once, by the app's start-up
            checks.check_roads(config, args.config, routes=False)
        if args.command in ("demo", "run"):
            raise_open_file_limit()
        return _WITH_CONFIG[args.command](config, args) or EXIT_OK
    except ConfigError as exc:
        checks.print_config_error(exc)
        return EXIT_ERROR if args.command == "check" else EXIT_REFUSED
    except CliError as exc:
        print(f"parking-guide {args.command}: {exc}", file=sys.stderr)
        return exc.exit_status
    except ParkingGuideError as exc:
        print(f"parking-guide: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_OK


def _evaluate(config: Config, args: argparse.Namespace) -> int:
    from parking.simulation.evaluate import report

    scales = [float(s) for s in args.scales.split(",") if s]
    seeds = [int(s) for s in str(args.seed).split(",")]
    print(report(config, scales, seeds, args.occupancy, json=args.json))
    return EXIT_OK


def _import_osm(args: argparse.Namespace) -> int:
    from parking.config import load_config
    from parking.roads.importer import import_osm

    if args.board_candidates and not args.config:
        raise CliError("--board-candidates needs -c: the config's destinations", EXIT_REFUSED)
    config = load_config(args.config) if args.config else None
    lots_yaml = Path(args.lots_yaml) if args.lots_yaml else None
    return import_osm(Path(args.extract), Path(args.out), config, lots_yaml, args.board_candidates)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parking-guide",
        description=__doc__,
        epilog="exit status: 0 ok; 1 `check` found the config invalid, or another error; "
        "2 a command other than `check` refused an invalid config, or the command line was wrong",
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
    replay.add_argument("recording", help="the CSV file, e.g. tests/data/real-free-2020-06-15.csv")
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
    evaluate.add_argument("--json", action="store_true", help="print every table as JSON, the same figures")

    osm = sub.add_parser("import-osm", help="read an OpenStreetMap extract into a road graph file")
    osm.add_argument("extract", help="an .osm or .osm.pbf file")
    osm.add_argument("-o", "--out", required=True, help="the graph file to write (.npz); roads.file names it")
    osm.add_argument(
        "-c", "--config", default=None, help="report how far this config's places are from the graph"
    )
    osm.add_argument("--lots-yaml", default=None, help="also write the extract's car parks as lots here")
    osm.add_argument(
        "--board-candidates",
        action="store_true",
        help="with -c: print main-road nodes 0.5-2 km from each destination where a board could stand",
    )

    migrate = sub.add_parser("migrate", help="apply the store's schema migrations (run applies them too)")
    migrate.add_argument("-c", "--config", default="config.yaml")

    hashpw = sub.add_parser("hash-password", help="print the argon2 hash of an ops password, for ops.users")
    hashpw.add_argument("--stdin", action="store_true", help="read the password from standard input")

    qr = sub.add_parser("qr", help="write each board's QR code (SVG, PNG) and a print-ready sheet")
    qr.add_argument("-c", "--config", default="config.yaml")
    qr.add_argument("-o", "--out-dir", required=True, help="directory to write into (created if missing)")
    return parser
