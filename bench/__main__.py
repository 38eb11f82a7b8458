"""`python -m bench`: ingest, decode-and-apply, boards, latency, drivers' pages, streams, guidance, store.

.venv/bin/python -m bench [--quick] [--out results.json]
    [--only ingest|ingest-lorawan|codec|board|latency|drivers|streams|guidance|store ...]
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from bench.board import BoardSettings, run_board
from bench.codec import CodecSettings, run_codec
from bench.drivers import DriversSettings, run_drivers
from bench.errors import BenchError
from bench.guidance import run_guidance
from bench.ingest import IngestSettings, run_ingest
from bench.latency import LatencySettings, run_latency
from bench.loadgen import have_wrk
from bench.procs import Processes
from bench.report import Figure, save, table
from bench.site import DEFAULT_SITE, choose_site
from bench.store import DEFAULT_DSN, StoreSettings, run_store
from bench.streams import StreamsSettings, run_streams

PARTS = ("ingest", "ingest-lorawan", "codec", "board", "latency", "drivers", "streams", "guidance", "store")
Runner = Callable[[Processes, str], tuple[list[Figure], dict[str, Any]]]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (under a minute)")
    parser.add_argument("--only", action="append", choices=PARTS, help="run only this part (repeatable)")
    parser.add_argument("--out", type=Path, help="write figures and raw results to this JSON file")
    parser.add_argument(
        "--config", default=DEFAULT_SITE, help="site config, or 'test' for tests/helpers/site.py"
    )
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--messages", type=int, help="ingest backlog size (default 100000; quick 20000)")
    parser.add_argument("--rounds", type=int, help="ingest rounds; the best of each side counts")
    parser.add_argument(
        "--broker-inflight",
        type=int,
        default=0,
        help="mosquitto max_inflight_messages for ingest (0 = unlimited; its default is 20)",
    )
    parser.add_argument("--changes", type=int, help="latency: changes to time (default 200; quick 50)")
    parser.add_argument(
        "--connections",
        type=int,
        help="streams: event streams, and as many pollers (default 1000; quick 200)",
    )
    parser.add_argument(
        "--profile", type=Path, help="ingest, ingest-lorawan: write cProfile stats of the first engine drain"
    )
    parser.add_argument("--workdir", type=Path, help="keep configs and child logs here (default: a temp dir)")
    parser.add_argument(
        "--pg-dsn",
        default=DEFAULT_DSN,
        help="PostgreSQL for the store figures and ingest with the store: a fresh database is made there "
        "and dropped (default %(default)s; unreachable: a private server is started); 'none': skip",
    )
    return parser


def _runners(args: argparse.Namespace) -> dict[str, Runner]:
    quick = args.quick
    tool = args.loadgen if args.loadgen != "auto" else ("wrk" if have_wrk() else "python")
    if tool == "wrk" and not have_wrk():
        raise BenchError("wrk is not installed (apt-get install -y wrk), use --loadgen python")
    pg = None if args.pg_dsn == "none" else args.pg_dsn
    ingest = IngestSettings(
        messages=args.messages or (20_000 if quick else 100_000),
        rounds=args.rounds or (1 if quick else 2),
        broker_inflight=args.broker_inflight,
        profile=args.profile,
        store_admin_dsn=pg,
    )
    store = StoreSettings(
        rows=20_000 if quick else 100_000,
        rounds=2 if quick else 3,
        lots=1000,
        bays_per_lot=100,
        history_days=30,
        history_repeats=50 if quick else 200,
        admin_dsn=pg or DEFAULT_DSN,
    )
    board = BoardSettings(
        json_s=2 if quick else 3,
        variant_s=1 if quick else 2,
        rounds=2 if quick else 4,
        connections=64,
        tool=tool,
    )
    latency = LatencySettings(changes=args.changes or (50 if quick else 200))
    drivers = DriversSettings(
        duration_s=1 if quick else 3, rounds=2 if quick else 4, connections=64, tool=tool
    )
    streams = StreamsSettings(
        connections=args.connections or (200 if quick else 1000),
        pollers=args.connections or (200 if quick else 1000),
        changes=3 if quick else 5,
    )
    lorawan = IngestSettings(
        messages=ingest.messages,
        rounds=ingest.rounds,
        broker_inflight=ingest.broker_inflight,
        profile=args.profile,
        lorawan=True,
    )
    codec = CodecSettings(messages=2_000 if quick else 10_000, rounds=2 if quick else 3)
    return {
        "ingest": lambda procs, site: run_ingest(procs, site, ingest),
        "ingest-lorawan": lambda procs, site: run_ingest(procs, site, lorawan),
        "codec": lambda procs, site: run_codec(site, codec),
        "board": lambda procs, site: run_board(procs, site, board),
        "latency": lambda procs, site: run_latency(procs, site, latency),
        "drivers": lambda procs, site: run_drivers(procs, site, drivers),
        "streams": lambda procs, site: run_streams(procs, site, streams),
        "store": lambda procs, site: run_store(store),
        "guidance": lambda procs, site: run_guidance(
            procs.workdir, side=320, queries=300 if quick else 2000, baseline_queries=10 if quick else 30
        ),
    }


def _stop_on_signal(signum: int, _frame: FrameType | None) -> None:
    # unwind through every `with` block, so brokers and servers are stopped
    raise SystemExit(128 + signum)


def _machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def run(args: argparse.Namespace, workdir: Path) -> int:
    """Run the chosen parts, print the table, save JSON; 1 if a part could not run."""
    site, site_note = choose_site(args.config)
    runners = _runners(args)
    parts = [p for p in PARTS if not args.only or p in args.only]
    print(
        f"site: {site_note}; parts: {', '.join(parts)}; {'quick' if args.quick else 'full'} run", flush=True
    )
    figures: list[Figure] = []
    details: dict[str, Any] = {"machine": _machine(), "site": site_note, "quick": args.quick}
    failed = 0
    started = time.monotonic()
    with Processes(workdir) as procs:
        for part in parts:
            print(f"... {part}", flush=True)
            part_started = time.monotonic()
            try:
                rows, raw = runners[part](procs, site)
            except BenchError as exc:
                print(f"{part} could not be measured: {exc}", file=sys.stderr)
                details[part] = {"error": str(exc)}
                failed += 1
                continue
            figures += rows
            details[part] = {**raw, "seconds": round(time.monotonic() - part_started, 1)}
    details["seconds"] = round(time.monotonic() - started, 1)
    print()
    print(table(figures))
    print(f"\n{details['seconds']:.0f}s on {_machine()['cpus']} cores, Python {_machine()['python']}")
    if args.out:
        save(args.out, figures, details)
        print(f"results written to {args.out}")
    return 1 if failed else 0


def main() -> None:
    """Entry point of `python -m bench`."""
    args = _parser().parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGHUP, _stop_on_signal)
    try:
        if args.workdir:
            args.workdir.mkdir(parents=True, exist_ok=True)
            code = run(args, args.workdir)
        else:
            with tempfile.TemporaryDirectory(prefix="parking-bench-") as tmp:
                code = run(args, Path(tmp))
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
