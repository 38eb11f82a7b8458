"""GET /api/v1/guidance: ranked lots for a driver at a board or a position, with navigation links.

The ranked part of an answer from a board is composed once per change of the
live site and reused; each request adds only what is its own (the pending
arrivals now, the time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from parking.app.arrivals import count_arrival
from parking.app.keys import CLOCK, CONFIG, GUIDANCE, LINKS, LIVE, PENDING
from parking.app.links import NavLinkCache
from parking.app.middleware import json_error
from parking.app.queries import QueryError, needs, number, text
from parking.config.models import Config
from parking.guidance.service import GuidanceService, Needs, Origin, Recommendation
from parking.live import LiveSite
from signage.navigation import is_wechat

routes = web.RouteTableDef()

_ANSWER_CACHE_LIMIT = 512
AnswerKey = tuple[str, str, Needs, bool]  # board, destination, needs, in WeChat


@dataclass(frozen=True, slots=True)
class Question:
    """A guidance request, checked: where from, where to, for what vehicle."""

    origin: Origin
    board: str | None
    destination: str
    needs: Needs


@dataclass(frozen=True, slots=True)
class Answer:
    """The part of a guidance answer that depends only on the live site: composed once per change."""

    head: dict[str, Any]  # origin, destination, needs, data
    lots: tuple[dict[str, Any], ...]  # without pending_arrivals, which each request adds
    first: tuple[str, float] | None  # the lot recommended first and the drive there, in seconds


_ANSWERS = web.AppKey("guidance_answers", dict[AnswerKey, tuple[int, Answer]])


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
    question: Question, live: LiveSite, guidance: GuidanceService, limit: int
) -> list[Recommendation]:
    """The ranked lots that answer a question now."""
    views = live.views()
    if question.board is not None:
        return guidance.recommend_from_board(
            question.board, question.destination, views, question.needs, limit
        )
    return guidance.recommend(question.origin, question.destination, views, question.needs, limit)


def lot_answer(
    rec: Recommendation, config: Config, category: str, links: NavLinkCache, wechat: bool
) -> dict[str, Any]:
    """One ranked lot in a guidance answer, without its pending arrivals."""
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
        "minutes": max(1, math.ceil((route.drive_s + route.walk_s) / 60.0)),
        "cost": {
            "drive_s": round(cost.drive_s, 1),
            "walk_s": round(cost.walk_s, 1),
            "full_risk_s": round(cost.full_risk_s, 1),
            "total_s": round(cost.total_s, 1),
        },
        "entrance": {"id": entrance.id, "lat": entrance.lat, "lon": entrance.lon},
        "navigation": [
            {
                "app": link.app,
                "label_en": link.label_en,
                "label_zh": link.label_zh,
                "url": link.url,
                "kind": link.kind,
            }
            for link in links.get(entrance.lat, entrance.lon, spec.name, wechat)
        ],
    }


def compose(question: Question, app: web.Application, wechat: bool) -> Answer:
    """Rank the lots for a question and build everything of the answer that depends on the live site."""
    config, guidance, live = app[CONFIG], app[GUIDANCE], app[LIVE]
    recs = recommendations(question, live, guidance, config.guidance.answer_lots)
    destination = guidance.destinations[question.destination]
    lat, lon = guidance.position(question.origin.node)
    fresh = any(view.status != "unknown" for view in live.views().values())
    head = {
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
    }
    lots = tuple(lot_answer(rec, config, question.needs.category, app[LINKS], wechat) for rec in recs)
    first = (recs[0].lot, recs[0].cost.drive_s) if recs and recs[0].cost is not None else None
    return Answer(head, lots, first)


def answer_for(question: Question, app: web.Application, wechat: bool) -> Answer:
    """The answer to a question: from a board, reused until the live site changes."""
    if question.board is None:
        return compose(question, app, wechat)
    cache = app[_ANSWERS]
    version = app[LIVE].version
    key = (question.board, question.destination, question.needs, wechat)
    hit = cache.get(key)
    if hit is not None and hit[0] == version:
        return hit[1]
    composed = compose(question, app, wechat)
    if len(cache) >= _ANSWER_CACHE_LIMIT:
        cache.clear()
    cache[key] = (version, composed)
    return composed


@routes.get("/api/v1/guidance", name="guidance")
async def get_guidance(request: web.Request) -> web.Response:
    """Ranked lots for a driver; the first one counts as a pending arrival there."""
    app = request.app
    try:
        question = question_from(request.query, app[CONFIG], app[GUIDANCE])
    except QueryError as exc:
        return json_error(exc.status, exc.message)
    wechat = is_wechat(request.headers.get("User-Agent", "")[:512])
    answer = answer_for(question, app, wechat)
    now = app[CLOCK]()
    count_arrival(app, answer.first, now, "board" if question.board else "position", question.board)
    pending = app[PENDING]
    body = {
        **answer.head,
        "generated_at": now.isoformat().replace("+00:00", "Z"),
        "lots": [{**lot, "pending_arrivals": pending.count(lot["lot"], now)} for lot in answer.lots],
    }
    return web.Response(
        body=orjson.dumps(body), content_type="application/json", headers={"Cache-Control": "no-store"}
    )


def setup(app: web.Application) -> None:
    """Add the guidance endpoint and its answer cache to an application."""
    app[_ANSWERS] = {}
    app.add_routes(routes)
