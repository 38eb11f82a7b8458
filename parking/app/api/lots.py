"""Live availability endpoints: /api/v1/lots (with each lot's forecast) and /api/v1/boards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from aiohttp import web

from parking.app.keys import BOARDS, CLOCK, CONFIG, FORECASTS, LIVE, SEEN
from parking.app.web.observe import json_error
from parking.availability import CategoryView, LotView
from parking.availability.forecast import Forecast
from parking.availability.sources import SourceView
from parking.config.models import Lot

routes = web.RouteTableDef()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def lot_json(
    spec: Lot,
    view: LotView,
    updated_at: datetime | None,
    sources: list[SourceView] | None = None,
    forecast: Forecast | None = None,
) -> dict[str, Any]:
    """The API shape of one lot: config facts, live availability, each source's freshness, the forecast."""
    return {
        "id": spec.id,
        "name": spec.name,
        "label": spec.display_label,
        "kind": spec.kind,
        "status": view.status,
        "free": view.free,
        "capacity": view.capacity,
        "trend": view.trend,
        "fill_rate_per_h": view.fill_rate_per_h,
        "updated_at": _iso(updated_at),
        "freshness": view.freshness,
        "sources": {
            source.source: {
                "fresh": source.fresh,
                "expected": source.expected,
                "updated_at": _iso(source.seen_at),
                "age_s": None if source.age_s is None else round(source.age_s, 1),
            }
            for source in sources or ()
        },
        "accepts_visitors": view.accepts_visitors,
        "lat": spec.lat,
        "lon": spec.lon,
        "entrances": [{"id": e.id, "lat": e.lat, "lon": e.lon} for e in spec.entrances],
        "categories": {name: _category_json(cat) for name, cat in view.categories.items()},
        "forecast": None if forecast is None else forecast_json(forecast),
    }


def forecast_json(forecast: Forecast) -> list[dict[str, Any]]:
    """Each horizon of a forecast: when, how many free, by which method from how many weeks."""
    return [
        {"minutes": h.minutes, "at": _iso(h.at), "free": h.free, "method": h.method, "weeks": h.weeks}
        for h in forecast.horizons
    ]


def _category_json(cat: CategoryView) -> dict[str, Any]:
    out: dict[str, Any] = {"free": cat.free, "capacity": cat.capacity, "status": cat.status}
    out["estimated"] = cat.estimated
    if cat.unknown is not None:  # a category with bay sensors
        out["unknown_bays"] = cat.unknown
    return out


def _json(data: Any) -> web.Response:
    return web.Response(body=orjson.dumps(data), content_type="application/json")


def _lot_of(request: web.Request) -> Lot | web.Response:
    """The configured lot the path names, or the 404 that says there is none."""
    lot_id = request.match_info["lot_id"]
    try:
        return request.app[CONFIG].lot(lot_id)
    except KeyError:
        return json_error(404, f"no lot {lot_id!r}")


@routes.get("/api/v1/lots", name="lots")
async def list_lots(request: web.Request) -> web.Response:
    """Every lot with its live availability."""
    app = request.app
    live, forecasts = app[LIVE], app[FORECASTS]
    now = app[CLOCK]()
    lots = []
    for spec in app[CONFIG].lots:
        view = live.view(spec.id)
        forecast = forecasts.forecast(spec.id, view, now)
        lots.append(lot_json(spec, view, live.updated_at(spec.id), live.sources(spec.id, now), forecast))
    return _json({"version": live.version, "lots": lots})


@routes.get("/api/v1/lots/{lot_id}", name="lot")
async def get_lot(request: web.Request) -> web.Response:
    """One lot with its live availability."""
    spec = _lot_of(request)
    if isinstance(spec, web.Response):
        return spec
    lot_id = spec.id
    live = request.app[LIVE]
    now = request.app[CLOCK]()
    view = live.view(lot_id)
    forecast = request.app[FORECASTS].forecast(lot_id, view, now)
    return _json(lot_json(spec, view, live.updated_at(lot_id), live.sources(lot_id, now), forecast))


@routes.get("/api/v1/lots/{lot_id}/forecast", name="lot_forecast")
async def get_lot_forecast(request: web.Request) -> web.Response:
    """A lot's free spaces now and 15, 30 and 60 minutes ahead, with the method of each."""
    spec = _lot_of(request)
    if isinstance(spec, web.Response):
        return spec
    lot_id = spec.id
    now = request.app[CLOCK]()
    view = request.app[LIVE].view(lot_id)
    forecast = request.app[FORECASTS].forecast(lot_id, view, now)
    body = {
        "lot": lot_id,
        "at": _iso(now),
        "free": forecast.free,
        "capacity": forecast.capacity,
        "horizons": forecast_json(forecast),
    }
    return _json(body)


@routes.get("/api/v1/lots/{lot_id}/bays", name="lot_bays")
async def get_lot_bays(request: web.Request) -> web.Response:
    """Each bay of a lot with its sensor: free, occupied, silent or never heard; battery and signal."""
    spec = _lot_of(request)
    if isinstance(spec, web.Response):
        return spec
    lot_id = spec.id
    now = request.app[CLOCK]()
    bays = [
        {
            "id": bay.id,
            "category": bay.category,
            "state": bay.state,
            "updated_at": _iso(bay.seen_at),
            "age_s": None if bay.seen_at is None else round((now - bay.seen_at).total_seconds(), 1),
            "battery_pct": bay.battery,
            "rssi_dbm": bay.rssi,
            "snr_db": bay.snr,
        }
        for bay in request.app[LIVE].bays(lot_id)
    ]
    return _json({"lot": lot_id, "bays": bays})


_VARIANTS = {
    ("json", "utf-8"): "json",
    ("text", "utf-8"): "text",
    ("text", "ascii"): "ascii",
    ("text", "gb2312"): "gb2312",
}


@routes.get("/api/v1/boards/{board_id}", name="board")
async def get_board(request: web.Request) -> web.Response:
    """What a board shows now, as JSON or plain text, with ETag / 304."""
    board_id = request.match_info["board_id"]
    tag = "json"
    if request.query_string:
        query = request.query
        fmt = query.get("format", "json")
        charset = query.get("charset", "utf-8").lower()
        if fmt not in ("json", "text"):
            return json_error(400, f"format must be 'json' or 'text', not {fmt[:40]!r}")
        if charset not in ("utf-8", "ascii", "gb2312"):
            return json_error(400, f"charset must be 'utf-8', 'ascii' or 'gb2312', not {charset[:40]!r}")
        tag = _VARIANTS.get((fmt, charset), "json")
    app = request.app
    boards = app[BOARDS]
    if not boards.has_board(board_id):
        return json_error(404, f"no board {board_id!r}")
    app[SEEN].touch(board_id, app[CLOCK]())
    # a failure past this point is a bug: answered 500 with the traceback logged (observe.py)
    variant = boards.get(board_id).variants[tag]
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None and etag_matches(if_none_match, variant.etag):
        return web.Response(status=304, headers=variant.headers)
    return web.Response(body=variant.body, headers=variant.headers)


@routes.get("/api/v1/boards", name="boards")
async def list_boards(request: web.Request) -> web.Response:
    """Every board: where it stands, when it last asked for its answer, and its URLs."""
    app = request.app
    seen = app[SEEN]
    out = []
    for board in app[CONFIG].boards:
        last = seen.last_seen(board.id)
        out.append(
            {
                "id": board.id,
                "name": board.name,
                "lat": board.lat,
                "lon": board.lon,
                "facing_deg": board.facing_deg,
                "destination": board.destination,
                "last_seen_at": _iso(last),
                "urls": {
                    "answer": f"/api/v1/boards/{board.id}",
                    "stream": f"/api/v1/boards/{board.id}/stream",
                    "display": f"/boards/{board.id}/display",
                    "go": f"/go/{board.id}",
                    "qr_svg": f"/qr/{board.id}.svg",
                    "qr_png": f"/qr/{board.id}.png",
                },
            }
        )
    return _json({"boards": out})


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 If-None-Match: `*`, or a comma-separated list of entity tags compared weakly."""
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == opaque for candidate in if_none_match.split(","))
