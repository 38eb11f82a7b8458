"""Pages for people: /go/{board} (the QR landing page), its live lots fragment, and /boards/{id}/display.

A driver's page is rendered at most once per change of the live site for each
board, language and browser kind; a request with a position is answered fresh.
"""

from __future__ import annotations

import math
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from parking.app.guidance_api import Question, answer_now, count_arrival, question_from
from parking.app.keys import BOARDS, CLOCK, CONFIG, GUIDANCE, LIVE
from parking.app.middleware import json_error
from parking.app.queries import QueryError
from parking.config.models import Config
from parking.guidance.service import Recommendation
from signage.i18n import Language, choose_language
from signage.navigation import is_wechat, links_for
from signage.pages import (
    GoPage,
    PageLink,
    PageLot,
    favicon_svg,
    render_display,
    render_go_lots,
    render_go_page,
    render_not_found,
)
from signage.qr import go_url, qr_png, qr_svg

routes = web.RouteTableDef()

HTML = "text/html"
_PAGE_CACHE_LIMIT = 256

PageKey = tuple[str, Language, bool, bool]  # board, language, in WeChat, whole page (else fragment)
_CACHE = web.AppKey("go_page_cache", dict[PageKey, tuple[int, bytes]])


def _language(request: web.Request, config: Config) -> Language:
    return choose_language(
        request.headers.get("Accept-Language"), request.query.get("lang"), config.site.language
    )


def page_lots(
    recs: list[Recommendation], config: Config, category: str, lang: Language, wechat: bool
) -> tuple[PageLot, ...]:
    """The lots of a driver's page, each with its navigation buttons to the entrance used."""
    out = []
    referer = config.site.name
    for rec in recs:
        assert rec.route is not None  # ranked lots always have a route
        spec = config.lot(rec.lot)
        entrance = next(e for e in spec.entrances if e.id == rec.route.entrance)
        cat = rec.view.categories[category]
        links = tuple(
            PageLink(link.app, link.label_zh if lang == "zh" else link.label_en, link.url)
            for link in links_for(entrance.lat, entrance.lon, spec.name, in_wechat=wechat, referer=referer)
        )
        out.append(
            PageLot(
                lot=rec.lot,
                name=spec.name,
                free=cat.free or 0,
                estimated=cat.estimated,
                minutes=max(1, math.ceil((rec.route.drive_s + rec.route.walk_s) / 60.0)),
                walk_m=round(rec.route.walk_m),
                links=links,
            )
        )
    return tuple(out)


def build_page(
    request: web.Request,
    board_id: str,
    question: Question,
    lang: Language,
    wechat: bool,
    note: str | None = None,
) -> GoPage:
    """What the driver's page of a board says now for a question (from the board or a position)."""
    app = request.app
    config, live = app[CONFIG], app[LIVE]
    recs = answer_now(request, question, config.guidance.answer_lots)
    board = next(b for b in config.boards if b.id == board_id)
    fresh = any(view.status != "unknown" for view in live.views().values())
    now = app[CLOCK]().astimezone(ZoneInfo(config.site.timezone))
    return GoPage(
        board_id=board_id,
        board_name=board.name,
        destination_name=config.destination_ids()[question.destination].name,
        lots=page_lots(recs, config, question.needs.category, lang, wechat) if fresh else (),
        fresh=fresh,
        updated=f"{now:%H:%M}",
        in_wechat=wechat,
        note=note,
    )


def _html(body: bytes, status: int = 200) -> web.Response:
    return web.Response(
        body=body, status=status, content_type=HTML, charset="utf-8", headers={"Cache-Control": "no-cache"}
    )


def _cached(request: web.Request, key: PageKey, render: Any) -> bytes:
    """A rendered page for the current live version, rendered again only after a change."""
    cache = request.app[_CACHE]
    version = request.app[LIVE].version
    hit = cache.get(key)
    if hit is not None and hit[0] == version:
        return hit[1]
    body: bytes = render()
    if len(cache) >= _PAGE_CACHE_LIMIT:
        cache.clear()
    cache[key] = (version, body)
    return body


def _count_arrival(request: web.Request, question: Question) -> None:
    """A page view is a driver about to drive: a pending arrival at the lot recommended first."""
    count_arrival(request, question, answer_now(request, question, 1), "go_page")


@routes.get("/go/{board_id}", name="go")
async def go_page(request: web.Request) -> web.Response:
    """The page a driver lands on after scanning a board's QR code."""
    app = request.app
    config = app[CONFIG]
    board_id = request.match_info["board_id"]
    lang = _language(request, config)
    if not app[GUIDANCE].has_board(board_id):
        return _html(render_not_found(lang), status=404)
    wechat = is_wechat(request.headers.get("User-Agent", "")[:512])
    question = question_from({"board": board_id}, config, app[GUIDANCE])
    _count_arrival(request, question)
    body = _cached(
        request,
        (board_id, lang, wechat, True),
        lambda: render_go_page(build_page(request, board_id, question, lang, wechat), lang),
    )
    return _html(body)


@routes.get("/go/{board_id}/lots", name="go_lots")
async def go_lots(request: web.Request) -> web.Response:
    """The lots part of the driver's page, refreshed in place; with lat/lon, from the phone's position."""
    app = request.app
    config = app[CONFIG]
    board_id = request.match_info["board_id"]
    lang = _language(request, config)
    if not app[GUIDANCE].has_board(board_id):
        return _html(render_not_found(lang), status=404)
    wechat = is_wechat(request.headers.get("User-Agent", "")[:512])
    board_question = question_from({"board": board_id}, config, app[GUIDANCE])
    if "lat" not in request.query and "lon" not in request.query:
        body = _cached(
            request,
            (board_id, lang, wechat, False),
            lambda: render_go_lots(build_page(request, board_id, board_question, lang, wechat), lang),
        )
        return _html(body)
    query = {k: request.query[k] for k in ("lat", "lon") if k in request.query}
    query["dest"] = board_question.destination
    try:
        question = question_from(query, config, app[GUIDANCE])
    except QueryError as exc:
        # the phone's position cannot be used: say why, and keep the board's advice
        page = build_page(request, board_id, board_question, lang, wechat, note=exc.message)
        return _html(render_go_lots(page, lang))
    _count_arrival(request, question)
    return _html(render_go_lots(build_page(request, board_id, question, lang, wechat), lang))


@routes.get("/boards/{board_id}/display", name="display")
async def display(request: web.Request) -> web.Response:
    """The board drawn as an LED sign, live over its event stream."""
    app = request.app
    config = app[CONFIG]
    board_id = request.match_info["board_id"]
    if not app[GUIDANCE].has_board(board_id):
        return _html(render_not_found(_language(request, config)), status=404)
    rendered = app[BOARDS].get(board_id)
    name = next(b.name for b in config.boards if b.id == board_id)
    return _html(
        render_display(board_id, name, rendered.lines, rendered.version, config.signage.fallback_text)
    )


def public_base(request: web.Request, config: Config) -> str:
    """The address drivers' phones reach: http.public_url, or else the one this request came in on."""
    return config.http.public_url or f"{request.scheme}://{request.host}"


@routes.get("/qr/{board_id}.{ext:svg|png}", name="qr")
async def qr_code(request: web.Request) -> web.Response:
    """The QR code of a board's landing page, as SVG or PNG."""
    app = request.app
    config = app[CONFIG]
    board_id = request.match_info["board_id"]
    if not app[GUIDANCE].has_board(board_id):
        return json_error(404, f"no board {board_id[:64]!r}")
    url = go_url(public_base(request, config), board_id)
    if request.match_info["ext"] == "svg":
        return web.Response(
            body=qr_svg(url), content_type="image/svg+xml", headers={"Cache-Control": "max-age=3600"}
        )
    return web.Response(body=qr_png(url), content_type="image/png", headers={"Cache-Control": "max-age=3600"})


@routes.get("/favicon.svg", name="favicon")
async def favicon(request: web.Request) -> web.Response:
    """The site icon."""
    return web.Response(
        body=favicon_svg(), content_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
    )


def setup(app: web.Application) -> None:
    """Add the pages and their cache to an application."""
    app[_CACHE] = {}
    app.add_routes(routes)
