"""GET /api/v1/guidance: ranked lots for a driver at a board or a position, with navigation links.

Every answer is ranked when it is asked for: it reads the drivers already sent
(pending arrivals), which the answer before it may just have changed. What
depends only on the config (navigation links, categories) is built once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from aiohttp import web

from parking.app.api.arrivals import count_answer
from parking.app.api.links import NavLinkCache
from parking.app.keys import CLOCK, CONFIG, DRIVER_GUIDANCE, GUIDANCE, LINKS, LIVE, PENDING
from parking.app.web.observe import add_routes, json_error
from parking.app.web.queries import QueryError, needs, number, text
from parking.config.models import Config
from parking.guidance.drivers import Question
from parking.guidance.service import GuidanceService, Recommendation
from signage.navigation import is_wechat

routes = web.RouteTableDef()


def question_from(query: Any, config: Config, guidance: GuidanceService) -> Question:
    """Check the query string of a guidance request (QueryError on any bad value)."""
    board = query.get("board")
    has_position = "lat" in query or "lon" in query
    if (board is None) == (not has_position):
        raise QueryError(400, "give either board=<id> or lat=<degrees>&lon=<degrees>")
    destinations = guidance.destinations
    if board is not None:
        text("board", board)
        if not guidance.has_board(board):
            raise QueryError(404, f"no board {board[:64]!r}")
        origin = guidance.board_origin(board)
        default_destination = guidance.board_destination(board)
    else:
        if "lat" not in query or "lon" not in query:
            raise QueryError(400, "a position needs both lat and lon")
        lat = number("lat", query["lat"], -90.0, 90.0)
        lon = number("lon", query["lon"], -180.0, 180.0)
        origin = guidance.snap(lat, lon)
        limit_m = config.guidance.max_snap_m
        if origin.snap_m > limit_m:
            raise QueryError(
                422,
                f"the position is {origin.snap_m:,.0f} m from the nearest road this engine knows "
                f"(at most {limit_m:,.0f} m): it is outside the area of {config.site.name}",
            )
        default_destination = next(iter(destinations))
    destination = text("dest", query.get("dest", default_destination))
    if destination not in destinations:
        known = ", ".join(destinations)
        raise QueryError(400, f"unknown destination {destination[:64]!r} (known: {known})")
    return Question(origin, board, destination, needs(query.get("needs"), guidance.categories))


def lot_answer(
    rec: Recommendation, config: Config, category: str, pending: float, links: NavLinkCache, in_wechat: bool
) -> dict[str, Any]:
    """One ranked lot in a guidance answer."""
    assert rec.route is not None  # ranked lots always have a route and a cost
    assert rec.cost is not None
    route, cost = rec.route, rec.cost
    spec = config.lot(rec.lot)
    entrance = next(e for e in spec.entrances if e.id == route.entrance)
    cat = rec.view.categories[category]
    return {
        "lot": rec.lot,
        "name": spec.name,
        "label": spec.display_label,
        "status": rec.view.status,
        "free": cat.free,
        "free_estimated": cat.estimated,
        "lot_free": rec.view.free,
        "trend": rec.view.trend,
        "drive_s": round(route.drive_s, 1),
        "drive_m": round(route.drive_m),
        "walk_s": round(route.walk_s, 1),
        "walk_m": round(route.walk_m),
        # to the door, as the board and the driver page count it: a queue answer's wait included
        "minutes": rec.door_minutes,
        "cost": {
            "drive_s": round(cost.drive_s, 1),
            "walk_s": round(cost.walk_s, 1),
            "full_risk_s": round(cost.full_risk_s, 1),
            "search_s": round(cost.search_s, 1),
            "wait_s": round(cost.wait_s, 1),
            "total_s": round(cost.total_s, 1),
        },
        "queue": rec.queue,
        "expected_free": None if rec.expectation is None else round(rec.expectation.expected_free, 1),
        "full_probability": None if rec.expectation is None else round(rec.expectation.full_probability, 3),
        "pending_arrivals": round(pending, 1),
        "entrance": {"id": entrance.id, "lat": entrance.lat, "lon": entrance.lon},
        "navigation": [
            {
                "app": link.app,
                "label_en": link.label_en,
                "label_zh": link.label_zh,
                "url": link.url,
                "kind": link.kind,
            }
            for link in links.get(entrance.lat, entrance.lon, spec.name, in_wechat)
        ],
    }


def answer(
    question: Question, recs: list[Recommendation], request: web.Request, now: datetime
) -> dict[str, Any]:
    """The whole JSON answer."""
    app = request.app
    config, guidance, live, pending = app[CONFIG], app[GUIDANCE], app[LIVE], app[PENDING]
    destination = guidance.destinations[question.destination]
    lat, lon = guidance.position(question.origin.node)
    fresh = any(view.status != "unknown" for view in live.views().values())
    wechat = is_wechat(request.headers.get("User-Agent", "")[:512])
    return {
        "origin": {
            "board": question.board,
            "node": question.origin.node,
            "lat": lat,
            "lon": lon,
            "snap_m": round(question.origin.snap_m, 1),
        },
        "destination": {
            "id": question.destination,
            "name": destination.name,
            "lat": destination.lat,
            "lon": destination.lon,
        },
        "needs": {"category": question.needs.category, "height_m": question.needs.height_m},
        "data": "fresh" if fresh else "stale",
        "generated_at": now.isoformat().replace("+00:00", "Z"),
        "lots": [
            lot_answer(
                rec,
                config,
                question.needs.category,
                pending.count(rec.lot, now, question.needs.category),
                app[LINKS],
                wechat,
            )
            for rec in recs
        ],
    }


@routes.get("/api/v1/guidance", name="guidance")
async def get_guidance(request: web.Request) -> web.Response:
    """Ranked lots for a driver; the first counts as a pending arrival there if credible (arrivals.py)."""
    app = request.app
    config, guidance = app[CONFIG], app[GUIDANCE]
    try:
        question = question_from(request.query, config, guidance)
    except QueryError as exc:
        return json_error(exc.status, exc.message)
    now = app[CLOCK]()
    lots, _ = app[DRIVER_GUIDANCE].ranked(question, app[LIVE].views(), now, config.guidance.answer_lots)
    origin = "board" if question.board else "position"
    count_answer(request, lots[0] if lots else None, question.needs.category, origin, question.board)
    body = orjson.dumps(answer(question, lots, request, now))
    return web.Response(body=body, content_type="application/json", headers={"Cache-Control": "no-store"})


def setup(app: web.Application) -> None:
    """Add the guidance endpoint to an application."""
    add_routes(app, routes)
