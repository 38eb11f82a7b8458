"""GET /api/v1/guidance: ranked lots for a driver at a board or a position, with navigation links.

Every answer is ranked when it is asked for: it reads the drivers already sent
(pending arrivals), which the answer before it may just have changed. What
depends only on the config (navigation links, categories) is built once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from aiohttp import web

from parking.app.api.arrivals import count_arrival as count_arrival_at
from parking.app.api.links import NavLinkCache
from parking.app.keys import CLOCK, CONFIG, GUIDANCE, LINKS, LIVE, OUTLOOK, PENDING
from parking.app.web.observe import add_routes, json_error
from parking.app.web.queries import QueryError, needs, number, text
from parking.config.models import Config
from parking.guidance.expected import Outlook
from parking.guidance.service import GuidanceService, Needs, Origin, Recommendation
from parking.live import LiveSite
from signage.navigation import is_wechat

routes = web.RouteTableDef()


@dataclass(frozen=True, slots=True)
class Question:
    """A guidance request, checked: where from, where to, for what vehicle."""

    origin: Origin
    board: str | None
    destination: str
    needs: Needs


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


def recommendations(
    question: Question, live: LiveSite, guidance: GuidanceService, limit: int, outlook: Outlook
) -> list[Recommendation]:
    """The ranked lots that answer a question now, given the drivers already on their way."""
    views = live.views()
    if question.board is not None:
        return guidance.recommend_from_board(
            question.board, question.destination, views, question.needs, limit, outlook
        )
    return guidance.recommend(question.origin, question.destination, views, question.needs, limit, outlook)


def answer_now(request: web.Request, question: Question, limit: int) -> list[Recommendation]:
    """The ranked lots for a question at the app's time, with every pending arrival recorded so far."""
    app = request.app
    outlook = app[OUTLOOK].for_answer(question.needs.category, app[CLOCK]())
    return recommendations(question, app[LIVE], app[GUIDANCE], limit, outlook)


def count_arrival(request: web.Request, question: Question, recs: list[Recommendation], source: str) -> None:
    """A driver given this answer is on the way: a pending arrival at the lot recommended first."""
    if recs and recs[0].cost is not None:
        first, category = recs[0].lot, question.needs.category
        eta_s = recs[0].cost.drive_s + recs[0].cost.wait_s  # a queue answer: until the wait is over
        count_arrival_at(request.app, first, eta_s, request.app[CLOCK](), source, question.board, category)


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
        "minutes": max(1, math.ceil((route.drive_s + route.walk_s + cost.wait_s) / 60.0)),
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
    """Ranked lots for a driver; the first one counts as a pending arrival there."""
    app = request.app
    config, guidance = app[CONFIG], app[GUIDANCE]
    try:
        question = question_from(request.query, config, guidance)
    except QueryError as exc:
        return json_error(exc.status, exc.message)
    recs = answer_now(request, question, config.guidance.answer_lots)
    count_arrival(request, question, recs, "board" if question.board else "position")
    body = orjson.dumps(answer(question, recs, request, app[CLOCK]()))
    return web.Response(body=body, content_type="application/json", headers={"Cache-Control": "no-store"})


def setup(app: web.Application) -> None:
    """Add the guidance endpoint to an application."""
    add_routes(app, routes)
