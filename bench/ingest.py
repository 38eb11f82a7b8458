"""(a) Ingest: how fast the engine drains a QoS 1 backlog, against bare paho on the same backlog.

Each round starts a private broker, creates two persistent sessions (one per subscriber
client id), queues N feed messages into both while nobody is connected, then lets each
subscriber drain its copy in a child process of its own, one after the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.backlog import create_session
from bench.broker import private_broker
from bench.fastpub import publish_backlog
from bench.procs import Processes
from bench.report import Figure
from bench.site import first_messages, load_site, subscriptions, with_lorawan

TARGET_RATIO = 0.70
STORE_TARGET_RATIO = 0.90  # the engine writing history, against the engine without
IDLE_S = 5.0
MIN_RATE = 1000.0  # msgs/s: a drain slower than this is cut off (and reported incomplete)


@dataclass(frozen=True, slots=True)
class IngestSettings:
    """How much to measure."""

    messages: int
    rounds: int
    broker_inflight: int = 0
    profile: Path | None = None
    lorawan: bool = False  # every bay sensor's messages as LoRaWAN uplinks (TTS and ChirpStack JSON)
    store_admin_dsn: str | None = None  # also drain with the store on, into a fresh database there


def _rate(run: dict[str, Any]) -> float:
    return float(run["received"]) / float(run["seconds"]) if run["seconds"] > 0 else 0.0


def _drain(
    procs: Processes,
    who: str,
    site: str,
    port: int,
    client_id: str,
    n: int,
    profile: Path | None,
    lorawan: bool = False,
    store_admin_dsn: str | None = None,
) -> dict[str, Any]:
    limit_s = 10.0 + n / MIN_RATE
    args = ["--port", str(port), "--client-id", client_id, "--count", str(n)]
    args += ["--idle-s", str(IDLE_S), "--limit-s", str(limit_s)]
    if who in ("engine", "store"):
        args += ["--config", site]
        if lorawan:
            args += ["--lorawan"]
        if profile is not None:
            args += ["--profile", str(profile)]
    if who == "store" and store_admin_dsn is not None:
        args += ["--store-admin-dsn", store_admin_dsn]
    module = "bench.drain_paho" if who == "paho" else "bench.drain_engine"
    run = procs.run_to_result(client_id, module, args, timeout_s=limit_s + 30)
    run["rate"] = _rate(run)
    return run


def run_ingest(procs: Processes, site: str, settings: IngestSettings) -> tuple[list[Figure], dict[str, Any]]:
    """Measure, and return the table rows plus the raw data of every round."""
    config = with_lorawan(load_site(site)) if settings.lorawan else load_site(site)
    messages = first_messages(config, settings.messages)
    filters = subscriptions(config)
    rounds: list[dict[str, Any]] = []
    for number in range(settings.rounds):
        with private_broker(procs, f"mosquitto-ingest-{number}", settings.broker_inflight) as broker:
            ids = {"paho": f"bench-paho-{number}", "engine": f"bench-engine-{number}"}
            if settings.store_admin_dsn is not None:
                ids["store"] = f"bench-store-{number}"
            for client_id in ids.values():
                create_session(broker, client_id, filters)
            publish_s = publish_backlog(broker, messages, timeout_s=60)
            order = tuple(ids) if number % 2 == 0 else tuple(reversed(ids))
            runs: dict[str, Any] = {"publish_s": publish_s, "order": list(order)}
            for who in order:
                profile = settings.profile if who == "engine" and number == 0 else None
                runs[who] = _drain(
                    procs,
                    who,
                    site,
                    broker.port,
                    ids[who],
                    settings.messages,
                    profile,
                    settings.lorawan,
                    settings.store_admin_dsn,
                )
            rounds.append(runs)
    return _figures(rounds, settings), {"settings": _settings_json(settings), "rounds": rounds}


def _settings_json(settings: IngestSettings) -> dict[str, Any]:
    return {
        "messages": settings.messages,
        "rounds": settings.rounds,
        "broker_max_inflight": settings.broker_inflight,
        "profiled": settings.profile is not None,
        "lorawan": settings.lorawan,
    }


def _figures(rounds: list[dict[str, Any]], settings: IngestSettings) -> list[Figure]:
    best_engine = max((r["engine"] for r in rounds), key=lambda run: run["rate"])
    best_paho = max((r["paho"] for r in rounds), key=lambda run: run["rate"])
    results: dict[str, int] = best_engine.get("results", {})
    accepted = results.get("applied", 0) + results.get("duplicate", 0)
    others = {k: v for k, v in results.items() if k not in ("applied", "duplicate")}
    note = f"applied {results.get('applied', 0)}, duplicate {results.get('duplicate', 0)}"
    note += ", " + (
        ", ".join(f"{k} {v}" for k, v in sorted(others.items())) if others else "nothing rejected"
    )
    note += "; every round, engine / paho: " + ", ".join(
        f"{r['engine']['rate']:,.0f} / {r['paho']['rate']:,.0f}" for r in rounds
    )
    lost = settings.messages - best_engine["received"]
    if lost:
        note += f"; {lost} never arrived"
    if not all(r["engine"].get("stopped_cleanly", True) for r in rounds):
        note += "; the ingest task ignored cancellation in some round"
    if settings.profile is not None:
        note += "; round 1 engine ran under cProfile"
    ok = best_paho["rate"] > 0 and best_engine["rate"] / best_paho["rate"] >= TARGET_RATIO
    figures = _store_figures(rounds, settings, best_engine)
    return [
        Figure(
            section="ingest",
            name=f"MQTT QoS 1 backlog of {settings.messages:,}"
            + (" (bays as LoRaWAN uplinks)" if settings.lorawan else "")
            + ": engine vs bare paho",
            value=best_engine["rate"],
            unit="msg/s",
            baseline=best_paho["rate"],
            target=f">= {TARGET_RATIO:.0%} of baseline",
            met=ok and best_engine["complete"] and accepted == settings.messages,
            note=note,
        ),
        *figures,
    ]


def _store_figures(
    rounds: list[dict[str, Any]], settings: IngestSettings, best_engine: dict[str, Any]
) -> list[Figure]:
    """The engine writing history to PostgreSQL, against the same engine without a store."""
    if settings.store_admin_dsn is None or not all("store" in r for r in rounds):
        return []
    best = max((r["store"] for r in rounds), key=lambda run: run["rate"])
    ratio = best["rate"] / best_engine["rate"] if best_engine["rate"] else 0.0
    note = "every round, store on / off: " + ", ".join(
        f"{r['store']['rate']:,.0f} / {r['engine']['rate']:,.0f}" for r in rounds
    )
    note += f"; observations written by the end of the best drain: {best.get('store_written')}"
    note += f", still queued: {best.get('store_backlog')} (the writer catches up after)"
    return [
        Figure(
            section="ingest",
            name=f"MQTT QoS 1 backlog of {settings.messages:,}: engine with the store vs without",
            value=best["rate"],
            unit="msg/s",
            baseline=best_engine["rate"],
            target=f">= {STORE_TARGET_RATIO:.0%} of baseline",
            met=ratio >= STORE_TARGET_RATIO and best["complete"],
            note=note,
        )
    ]
