"""What the ops dashboard shows, as plain values: its page, its event stream and its JSON API share it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from parking.app.keys import BOARDS, CONFIG, FEED, FORECASTS, INGEST, LIVE, METRICS, SEEN, STORE
from parking.availability.forecast import full_at
from parking.overrides import Override
from signage.board import render_text

ROUTINE_RESULTS = frozenset({"applied", "duplicate", "stale"})


def iso(at: datetime | None) -> str | None:
    """UTC ISO 8601 with Z, or None."""
    return at.isoformat().replace("+00:00", "Z") if at is not None else None


def override_json(override: Override) -> dict[str, Any]:
    """One standing override."""
    return {
        "kind": override.kind,
        "target": override.target,
        "spaces": override.spaces,
        "message": override.message or None,
        "until": iso(override.until),
        "set_by": override.set_by,
        "set_at": iso(override.set_at),
        "reason": override.reason,
    }


def dashboard_state(app: web.Application, now: datetime, today: dict[str, Any] | None) -> dict[str, Any]:
    """Lots, feeds with problems, boards, overrides and the store, at `now`."""
    config, live = app[CONFIG], app[LIVE]
    overrides = live.overrides()
    forecasts, tz = app[FORECASTS], ZoneInfo(config.site.timezone)
    lots = []
    for spec in config.lots:
        view, measured = live.view(spec.id), live.measured_view(spec.id)
        updated = live.updated_at(spec.id)
        age_s = (now - updated).total_seconds() if updated is not None else None
        freshness_s = spec.freshness_s or config.defaults.freshness_s
        full = full_at(forecasts.forecast(spec.id, view, now))
        lots.append(
            {
                "id": spec.id,
                "name": spec.name,
                "label": spec.display_label,
                "feed": spec.feed,
                "status": view.status,
                "free": view.free,
                "measured_free": measured.free,
                "capacity": view.capacity,
                "trend": view.trend,
                # local HH:MM the forecast reaches 0 free within the hour, interpolated between horizons
                "full_by": None if full is None else full.astimezone(tz).strftime("%H:%M"),
                "age_s": None if age_s is None else round(age_s),
                "health": "silent" if age_s is None or age_s > freshness_s else "ok",
                "overrides": [o.kind for o in overrides if o.target == spec.id],
            }
        )
    feed = app[FEED]
    limit_s = config.mqtt.max_silence_s
    feeds = [
        {"feed": name, "age_s": round(age_s), "silent": limit_s is not None and age_s > limit_s}
        for name, age_s in sorted(feed.message_ages().items())
    ]
    rejected = [
        {"feed": name, "reason": result, "count": count}
        for (name, result), count in sorted(app[METRICS].feed_messages.counts.items())
        if result not in ROUTINE_RESULTS
    ]
    boards = []
    seen = app[SEEN]
    for board in config.boards:
        rendered = app[BOARDS].get(board.id) if BOARDS in app else None
        last = seen.last_seen(board.id)
        shows: list[str] = []
        if rendered is not None:
            text = render_text(rendered.lines, "utf-8", 14, config.signage.fallback_text, rendered.message)
            shows = text.decode("utf-8").splitlines()
        boards.append(
            {
                "id": board.id,
                "name": board.name,
                "last_seen_age_s": round((now - last).total_seconds()) if last is not None else None,
                "message": rendered.message if rendered is not None else None,
                "shows": shows,
            }
        )
    store = app.get(STORE)
    return {
        "now": iso(now),
        "version": live.version,
        "mqtt": feed.mqtt_state.value if INGEST in app else "off",
        "lots": lots,
        "feeds": feeds,
        "rejected": rejected,
        "boards": boards,
        "overrides": [override_json(o) for o in overrides],
        "store": None
        if store is None
        else {
            "up": store.state.up,
            "backlog_rows": len(store.buffer),
            "dropped_rows": sum(store.buffer.dropped.values()),
        },
        "today": today,
    }
