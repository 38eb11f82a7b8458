"""Pages for people: /go/{board} (the QR landing page), its live lots fragment, and /boards/{id}/display.

A driver's page is rendered at most once per change of the live site for each
board, language and browser kind; a request with a position is answered fresh.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aiohttp import web

from parking.app.api.arrivals import DEVICE_COOKIE, DEVICE_COOKIE_MAX_AGE_S, count_answer, device_token
from parking.app.api.guidance import question_from
from parking.app.api.links import NavLinkCache
from parking.app.keys import BOARDS, CLOCK, CONFIG, DRIVER_GUIDANCE, GUIDANCE, LINKS, LIVE, STORE
from parking.app.web.headers import STANDARD_HEADERS
from parking.app.web.observe import add_routes, json_error
from parking.app.web.queries import QueryError
from parking.config.models import Config
from parking.guidance.drivers import Question
from parking.guidance.service import Needs, Recommendation
from parking.types import GENERAL
from signage.i18n import Language, choose_language
from signage.navigation import is_wechat
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

_PAGE_CACHE_LIMIT = 256
GO_VIEW_WEIGHT = 0.5  # of a driver: a page seen, not known to be acted on (a tap on navigation makes it 1)

PageKey = tuple[str, Language, bool, bool]  # board, language, in WeChat, whole page (else fragment)
First = Recommendation | None  # the lot recommended first, if the page recommends one
_CACHE = web.AppKey("go_page_cache", dict[PageKey, tuple[int, bytes, First]])


_LANGUAGES = web.AppKey("go_languages", dict[tuple[str | None, str | None], Language])
_QUESTIONS = web.AppKey("go_questions", dict[str, Question])
_LANGUAGE_CACHE_LIMIT = 1024


def _language(request: web.Request, config: Config) -> Language:
    """The page language for this request; parsed once per distinct header (browsers send a handful)."""
    key = (
        request.headers.get("Accept-Language"),
        request.query.get("lang") if request.query_string else None,
    )
    cache = request.app[_LANGUAGES]
    lang = cache.get(key)
    if lang is None:
        if len(cache) >= _LANGUAGE_CACHE_LIMIT:
            cache.clear()
        lang = cache[key] = choose_language(key[0], key[1], config.site.language)
    return lang


def page_lots(
    recs: list[Recommendation],
    config: Config,
    category: str,
    lang: Language,
    links: NavLinkCache,
    wechat: bool,
) -> tuple[PageLot, ...]:
    """The lots of a driver's page, each with its navigation buttons to the entrance used.

    A queue answer (every lot expected full) says when a space is expected instead
    of a free count, and its minutes to the door count the wait, as on the board.
    """
    out = []
    for rec in recs:
        assert rec.route is not None  # ranked lots always have a route and a cost
        minutes = rec.door_minutes
        assert minutes is not None
        spec = config.lot(rec.lot)
        entrance = next(e for e in spec.entrances if e.id == rec.route.entrance)
        cat = rec.view.categories[category]
        buttons = tuple(
            PageLink(link.app, link.label_zh if lang == "zh" else link.label_en, link.url)
            for link in links.get(entrance.lat, entrance.lon, spec.name, wechat)
        )
        out.append(
            PageLot(
                lot=rec.lot,
                name=spec.name,
                free=cat.free or 0,
                estimated=cat.estimated,
                minutes=minutes,
                walk_m=round(rec.route.walk_m),
                links=buttons,
                queue_minutes=rec.queue_minutes,
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
) -> tuple[GoPage, First]:
    """What the driver's page of a board says now for a question (from the board or a position)."""
    app = request.app
    config, live, guidance = app[CONFIG], app[LIVE], app[GUIDANCE]
    views, now = live.views(), app[CLOCK]()
    recs, _ = app[DRIVER_GUIDANCE].ranked(question, views, now, config.guidance.answer_lots)
    board = next(b for b in config.boards if b.id == board_id)
    fresh = any(view.status != "unknown" for view in views.values())
    local = now.astimezone(ZoneInfo(config.site.timezone))
    page = GoPage(
        board_id=board_id,
        board_name=board.name,
        destination_name=guidance.destinations[question.destination].name,
        lots=page_lots(recs, config, question.needs.category, lang, app[LINKS], wechat) if fresh else (),
        fresh=fresh,
        updated=f"{local:%H:%M}",
        in_wechat=wechat,
        note=note,
    )
    return page, (recs[0] if fresh and recs else None)


_HTML_HEADERS = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache", **STANDARD_HEADERS}


def _html(body: bytes, status: int = 200) -> web.Response:
    return web.Response(body=body, status=status, headers=_HTML_HEADERS)


def _cached(
    request: web.Request, key: PageKey, render: Callable[[], tuple[bytes, First]]
) -> tuple[bytes, First]:
    """A rendered page and its first lot for the current live version, rendered again after a change."""
    cache = request.app[_CACHE]
    version = request.app[LIVE].version
    hit = cache.get(key)
    if hit is not None and hit[0] == version:
        return hit[1], hit[2]
    body, first = render()
    if len(cache) >= _PAGE_CACHE_LIMIT:
        cache.clear()
    cache[key] = (version, body, first)
    return body, first


def _count_arrival(
    request: web.Request,
    first: First,
    board_id: str,
    weight: float = GO_VIEW_WEIGHT,
    token: str | None = None,
) -> None:
    """A page view may be a driver about to drive: `weight` of a pending arrival at the lot it puts first.

    A view alone counts GO_VIEW_WEIGHT of a driver; the tap on a navigation button
    (POST /go/{board}/going) makes it one driver, replacing the view's (the
    evaluation's drivers all follow their answer: they are the tap's case).
    """
    count_answer(request, first, GENERAL, "go_page", board_id, weight, token)


def _with_device(response: web.Response, token: str | None) -> web.Response:
    """Give a phone that had none its new device cookie, so its repeat visits replace its pending arrival."""
    if token is not None:  # written out: set_cookie builds a Morsel for every page a flood asks for
        response.headers.add(
            "Set-Cookie",
            f"{DEVICE_COOKIE}={token}; HttpOnly; Max-Age={DEVICE_COOKIE_MAX_AGE_S}; Path=/; SameSite=Lax",
        )
    return response


def _board_question(request: web.Request, board_id: str) -> Question:
    """A driver at the board, going to its destination (one value per board, made once)."""
    questions = request.app[_QUESTIONS]
    question = questions.get(board_id)
    if question is None:
        guidance = request.app[GUIDANCE]
        origin, destination = guidance.board_origin(board_id), guidance.board_destination(board_id)
        question = questions[board_id] = Question(origin, board_id, destination, Needs())
    return question


@dataclass(frozen=True, slots=True)
class Visit:
    """Who asks for a board's driver page: the board, their language, WeChat or not, the board's question."""

    board_id: str
    lang: Language
    wechat: bool
    question: Question


def _visit(request: web.Request) -> Visit | web.Response:
    """The visit of a driver's page, or the friendly 404 page for an unknown board."""
    board_id = request.match_info["board_id"]
    lang = _language(request, request.app[CONFIG])
    if not request.app[GUIDANCE].has_board(board_id):
        return _html(render_not_found(lang), status=404)
    wechat = is_wechat(request.headers.get("User-Agent", "")[:512])
    return Visit(board_id, lang, wechat, _board_question(request, board_id))


@routes.get("/go/{board_id}", name="go")
async def go_page(request: web.Request) -> web.Response:
    """The page a driver lands on after scanning a board's QR code."""
    visit = _visit(request)
    if isinstance(visit, web.Response):
        return visit
    board_id, lang, wechat, question = visit.board_id, visit.lang, visit.wechat, visit.question

    def render() -> tuple[bytes, First]:
        page, first = build_page(request, board_id, question, lang, wechat)
        return render_go_page(page, lang), first

    body, first = _cached(request, (board_id, lang, wechat, True), render)
    token = device_token(request)
    new_token = None if token else secrets.token_urlsafe(16)
    _count_arrival(request, first, board_id, token=token or new_token)
    store = request.app.get(STORE)
    if store is not None:  # an anonymous page view: the board, the language, in WeChat or not
        store.record_page_view(request.app[CLOCK](), board_id, lang, wechat)
    return _with_device(_html(body), new_token)


@routes.get("/go/{board_id}/lots", name="go_lots")
async def go_lots(request: web.Request) -> web.Response:
    """The lots part of the driver's page, refreshed in place; with lat/lon, from the phone's position."""
    visit = _visit(request)
    if isinstance(visit, web.Response):
        return visit
    board_id, lang, wechat, board_question = visit.board_id, visit.lang, visit.wechat, visit.question
    app, config = request.app, request.app[CONFIG]
    if "lat" not in request.query and "lon" not in request.query:

        def render() -> tuple[bytes, First]:
            page, first = build_page(request, board_id, board_question, lang, wechat)
            return render_go_lots(page, lang), first

        body, _ = _cached(request, (board_id, lang, wechat, False), render)
        return _html(body)  # a refresh of a page already counted: no new arrival
    query = {k: request.query[k] for k in ("lat", "lon") if k in request.query}
    query["dest"] = board_question.destination
    try:
        question = question_from(query, config, app[GUIDANCE])
    except QueryError as exc:
        # the phone's position cannot be used: say why, and keep the board's advice
        page, _ = build_page(request, board_id, board_question, lang, wechat, note=exc.message)
        return _html(render_go_lots(page, lang))
    page, first = build_page(request, board_id, question, lang, wechat)
    _count_arrival(request, first, board_id)
    return _html(render_go_lots(page, lang))


@routes.post("/go/{board_id}/going", name="go_going")
async def going(request: web.Request) -> web.Response:
    """A driver tapped a navigation button on the page: one driver on the way to that lot (204).

    The form says `lot`, and `lat`/`lon` if the page was answered from the phone's position.
    """
    visit = _visit(request)
    if isinstance(visit, web.Response):
        return visit
    form = await request.post()
    fields = {k: v for k in ("lot", "lat", "lon") if isinstance(v := form.get(k), str)}
    question = visit.question
    if "lat" in fields or "lon" in fields:
        query = {k: fields[k] for k in ("lat", "lon") if k in fields} | {"dest": question.destination}
        try:
            question = question_from(query, request.app[CONFIG], request.app[GUIDANCE])
        except QueryError as exc:
            return json_error(exc.status, exc.message)
    app = request.app
    recs, _ = app[DRIVER_GUIDANCE].ranked(
        question, app[LIVE].views(), app[CLOCK](), app[CONFIG].guidance.answer_lots
    )
    chosen = next((rec for rec in recs if rec.lot == fields.get("lot")), None)
    if chosen is None:
        return json_error(404, "that lot is not among this page's answers now")
    _count_arrival(request, chosen, visit.board_id, weight=1.0)
    return web.Response(status=204, headers={"Cache-Control": "no-store", **STANDARD_HEADERS})


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
        render_display(
            board_id, name, rendered.lines, rendered.version, config.signage.fallback_text, rendered.message
        )
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
    app[_LANGUAGES] = {}
    app[_QUESTIONS] = {}
    add_routes(app, routes)
