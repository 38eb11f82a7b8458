"""The ops dashboard at /ops and its APIs: behind a login, live over server-sent events, with overrides.

No session, no data: pages redirect to the login form and the JSON APIs
answer 401. Every POST carries the session's CSRF token (a form field, or
X-CSRF-Token from scripts); bodies over MAX_FORM_BYTES are refused. Every
override set or cleared goes through the live site (so boards and the API
show it at once), to the store (so a restart restores it) and to the audit
log (who, what, when, why).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape

from parking.app.api.history import instant, lot_of
from parking.app.keys import CLOCK, CONFIG, LIVE, METRICS, SIGNAL, STORE
from parking.app.ops.auth import LOGIN_COOKIE, SESSION_COOKIE, Authenticator, Session
from parking.app.ops.forms import MAX_FORM_BYTES, FormError, override_request
from parking.app.ops.overrides import audit, clear_override, set_override
from parking.app.ops.view import dashboard_state, iso, override_json
from parking.app.web.headers import STANDARD_HEADERS
from parking.app.web.observe import add_routes, json_error
from parking.app.web.queries import QueryError
from parking.overrides import MAX_MESSAGE_CHARS
from parking.store import STORE_ERRORS
from parking.store.audit import latest_entries
from parking.store.history import summary, today_curves
from signage.charts import occupancy_svg

logger = logging.getLogger(__name__)

routes = web.RouteTableDef()
AUTH = web.AppKey("ops_auth", Authenticator)
_TODAY = web.AppKey("ops_today", dict[str, Any])

EVENT_MIN_GAP_S = 0.5  # at most two dashboard updates a second per stream
EVENT_MAX_GAP_S = 5.0  # and one at least this often, for the ages
TODAY_REFRESH_S = 30.0
CHART_STEP = timedelta(minutes=15)
CHART_HISTORY_DAYS = 28
QUERY_TIMEOUT_S = 10.0
MAX_CREDENTIAL_CHARS = 256
OPS_HEADERS = {
    **STANDARD_HEADERS,
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
}

_ENV = Environment(
    loader=PackageLoader("parking.app.ops", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


# -- sessions ------------------------------------------------------------------------------


def _session(request: web.Request, *, api: bool) -> Session:
    """The request's session; without one a page redirects to the login form and an API answers 401."""
    session = request.app[AUTH].session_of(request)
    if session is None:
        if api:
            raise web.HTTPUnauthorized(text="log in first: POST /ops/login")
        raise web.HTTPSeeOther("/ops/login")
    return session


def _check_csrf(request: web.Request, session: Session, token: str | None) -> None:
    if not request.app[AUTH].csrf_ok(session, token):
        logger.warning("ops: refused a %s %s without a valid CSRF token", request.method, request.path)
        raise web.HTTPForbidden(text="missing or wrong CSRF token: reload the page")


def _check_size(request: web.Request) -> None:
    length = request.content_length
    if length is None or length > MAX_FORM_BYTES:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_FORM_BYTES, actual_size=length or 0)


async def _form(request: web.Request) -> tuple[Session, Any]:
    """A dashboard form: its session (else to the login form), its size checked, its CSRF token checked."""
    session = _session(request, api=False)
    _check_size(request)
    form = await request.post()
    token = form.get("csrf")
    _check_csrf(request, session, token if isinstance(token, str) else None)
    return session, form


def _secure(request: web.Request) -> bool:
    return request.app[CONFIG].ops.secure_cookies


def _html(body: str, status: int = 200) -> web.Response:
    return web.Response(
        text=body, status=status, content_type="text/html", charset="utf-8", headers=OPS_HEADERS
    )


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(data), status=status, content_type="application/json", headers=OPS_HEADERS
    )


# -- login ---------------------------------------------------------------------------------


def _login_page(
    request: web.Request, error: str | None = None, user: str = "", status: int = 200
) -> web.Response:
    auth = request.app[AUTH]
    token = request.cookies.get(LOGIN_COOKIE) or auth.new_login_token()
    body = _ENV.get_template("ops_login.html").render(
        site=request.app[CONFIG].site.name, csrf=token, error=error, user=user[:64], enabled=auth.enabled
    )
    response = _html(body, status)
    response.set_cookie(
        LOGIN_COOKIE, token, path="/ops/login", httponly=True, secure=_secure(request), samesite="Strict"
    )
    return response


@routes.get("/ops/login", name="ops_login_form")
async def login_form(request: web.Request) -> web.Response:
    """The login form."""
    return _login_page(request)


@routes.post("/ops/login", name="ops_login")
async def login(request: web.Request) -> web.StreamResponse:
    """Check a user and password; on success start a session and go to the dashboard."""
    app = request.app
    auth, metrics = app[AUTH], app[METRICS]
    client = request.remote or "unknown"
    wait_s = auth.limiter.retry_after_s(client)
    if wait_s > 0:
        metrics.ops_logins.labels("rate_limited").inc()
        logger.warning("ops: login from %s refused: too many wrong passwords", client)
        response = _login_page(request, f"Too many wrong passwords: try again in {wait_s:.0f} s.", status=429)
        response.headers["Retry-After"] = str(max(1, round(wait_s)))
        return response
    _check_size(request)
    form = await request.post()
    token, user, password = form.get("csrf"), form.get("user"), form.get("password")
    cookie = request.cookies.get(LOGIN_COOKIE)
    if not isinstance(token, str) or not cookie or not auth.tokens_match(token, cookie):
        raise web.HTTPForbidden(text="missing or wrong CSRF token: reload the login page")
    if not isinstance(user, str) or not isinstance(password, str) or not user or not password:
        return _login_page(request, "Give a user and a password.", status=400)
    if len(user) > 64 or len(password) > MAX_CREDENTIAL_CHARS:
        return _login_page(request, "The user or the password is too long.", status=400)
    now = app[CLOCK]()
    if not await auth.check_password(user, password):
        auth.limiter.failed(client)
        metrics.ops_logins.labels("wrong_password").inc()
        logger.warning("ops: wrong password for user %r from %s", user, client)
        audit(request.app, now, user, "login_failed", detail=f"from {client}")
        return _login_page(request, "Wrong user or password.", user=user, status=401)
    auth.limiter.succeeded(client)
    metrics.ops_logins.labels("ok").inc()
    logger.info("ops: %s logged in from %s", user, client)
    audit(request.app, now, user, "login", detail=f"from {client}")
    response = web.HTTPSeeOther("/ops")
    auth.issue(response, user, _secure(request))
    response.del_cookie(LOGIN_COOKIE, path="/ops/login")
    raise response


@routes.post("/ops/logout", name="ops_logout")
async def logout(request: web.Request) -> web.StreamResponse:
    """End the session."""
    await _form(request)
    response = web.HTTPSeeOther("/ops/login")
    response.del_cookie(SESSION_COOKIE, path="/ops")
    raise response


# -- the dashboard ---------------------------------------------------------------------------


async def _today(app: web.Application) -> dict[str, Any] | None:
    """Today's guided drivers, page views and minutes full, from the store, refreshed every 30 s."""
    store = app.get(STORE)
    if store is None:
        return None
    cache = app[_TODAY]
    if cache and time.monotonic() - cache["at"] < TODAY_REFRESH_S:
        return cache["value"]  # type: ignore[no-any-return]
    now = app[CLOCK]()
    start = _day_start(app, now)
    try:
        async with store.pool.acquire(timeout=QUERY_TIMEOUT_S) as conn:
            day = await summary(conn, start, now)
    except STORE_ERRORS:
        return cache.get("value")
    value = {
        "guided": sum(n for _, n in day.guided_per_hour),
        "page_views": sum(day.page_views_by_board.values()),
        "page_views_by_board": day.page_views_by_board,
        "full_minutes_by_lot": day.full_minutes_by_lot,
    }
    cache.update(at=time.monotonic(), value=value)
    return value


def _day_start(app: web.Application, now: datetime) -> datetime:
    local = now.astimezone(ZoneInfo(app[CONFIG].site.timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def _render_live(app: web.Application, session: Session, state: dict[str, Any]) -> str:
    return _ENV.get_template("ops_live.html").render(state=state, csrf=app[AUTH].csrf_token(session))


def _dashboard(
    request: web.Request, session: Session, state: dict[str, Any], error: str | None = None
) -> str:
    app = request.app
    return _ENV.get_template("ops.html").render(
        site=app[CONFIG].site.name,
        user=session.user,
        csrf=app[AUTH].csrf_token(session),
        state=state,
        error=error,
        has_store=STORE in app,
        max_message=MAX_MESSAGE_CHARS,
    )


@routes.get("/ops", name="ops_dashboard")
async def dashboard(request: web.Request) -> web.Response:
    """The dashboard page."""
    session = _session(request, api=False)
    app = request.app
    state = dashboard_state(app, app[CLOCK](), await _today(app))
    return _html(_dashboard(request, session, state))


@routes.get("/ops/events", name="ops_events")
async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the dashboard's live part, rendered, on every change and every few seconds."""
    session = _session(request, api=True)
    app = request.app
    signal, clock = app[SIGNAL], app[CLOCK]
    response = web.StreamResponse(
        headers={**OPS_HEADERS, "Content-Type": "text/event-stream; charset=utf-8", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    version = -1
    try:
        while not signal.closed:
            if time.time() >= session.expires:
                await response.write(b"event: end\ndata: session ended\n\n")
                break
            state = dashboard_state(app, clock(), await _today(app))
            html = _render_live(app, session, state)
            data = "".join(f"data: {line}\n" for line in html.splitlines())
            await response.write(f"event: live\n{data}\n".encode())
            version = signal.version
            await asyncio.sleep(EVENT_MIN_GAP_S)
            try:
                async with asyncio.timeout(EVENT_MAX_GAP_S):
                    version = await signal.next_change(version)
            except TimeoutError:
                pass
    except (ConnectionResetError, ConnectionError):
        pass  # the browser went away
    return response


@routes.get("/ops/charts/{lot_id}.svg", name="ops_chart")
async def chart(request: web.Request) -> web.Response:
    """One lot's occupancy today against its usual day (the mean of the days before), as SVG."""
    _session(request, api=True)
    app = request.app
    spec = lot_of(request)
    lot_id = spec.id
    now = app[CLOCK]()
    start = _day_start(app, now)
    today: list[tuple[float, float | None]] = []
    usual: list[tuple[float, float | None]] = []
    store = app.get(STORE)
    if store is not None:
        try:
            async with store.pool.acquire(timeout=QUERY_TIMEOUT_S) as conn:
                points, means = await today_curves(conn, lot_id, start, now, CHART_STEP, CHART_HISTORY_DAYS)
        except STORE_ERRORS:
            points, means = [], []
        today = [((at - start).total_seconds(), None if free is None else float(free)) for at, free in points]
        usual = [(offset, free) for offset, free in means]
    capacity = sum(spec.capacities().values())
    svg = occupancy_svg(spec.name, capacity, today, usual, (now - start).total_seconds())
    return web.Response(body=svg, content_type="image/svg+xml", headers=OPS_HEADERS)


@routes.get("/ops/static/ops.js", name="ops_script")
async def script(request: web.Request) -> web.Response:
    """The dashboard's script (served from here: no CDN)."""
    source = (_ENV.loader.get_source(_ENV, "ops.js")[0]) if _ENV.loader else ""
    return web.Response(
        text=source,
        content_type="text/javascript",
        headers={**STANDARD_HEADERS, "Cache-Control": "max-age=300"},
    )


# -- overrides --------------------------------------------------------------------------------


def _apply(request: web.Request, user: str, fields: Any) -> dict[str, Any]:
    """Check and apply one override request; FormError with a clear message if it cannot be."""
    app = request.app
    now = app[CLOCK]()
    wanted = override_request(fields, app[CONFIG], user, now)
    if wanted.action == "set":
        assert wanted.override is not None
        try:
            set_override(app, wanted.override, now)
        except ValueError as exc:
            raise FormError(str(exc)) from None
        return override_json(wanted.override)
    ended = clear_override(app, wanted.kind, wanted.target, now, user, wanted.reason)
    if ended is None:
        raise FormError(f"no {wanted.kind} override stands on {wanted.target!r}")
    return {**override_json(ended), "cleared_by": user, "cleared_at": iso(now)}


@routes.post("/ops/overrides", name="ops_override_form")
async def override_form(request: web.Request) -> web.StreamResponse:
    """A form from the dashboard: set or clear an override, then back to the dashboard."""
    session, form = await _form(request)
    try:
        _apply(request, session.user, {key: form.get(key) for key in form})
    except FormError as exc:
        app = request.app
        state = dashboard_state(app, app[CLOCK](), await _today(app))
        return _html(_dashboard(request, session, state, error=str(exc)), status=400)
    raise web.HTTPSeeOther("/ops")


@routes.get("/ops/api/overrides", name="ops_overrides")
async def list_overrides(request: web.Request) -> web.Response:
    """The overrides standing now."""
    _session(request, api=True)
    return _json({"overrides": [override_json(o) for o in request.app[LIVE].overrides()]})


@routes.post("/ops/api/overrides", name="ops_override_api")
async def override_api(request: web.Request) -> web.Response:
    """JSON {"action": "set"|"clear", "kind", "target", "spaces", "message", "minutes"|"until", "reason"}."""
    session = _session(request, api=True)
    _check_csrf(request, session, request.headers.get("X-CSRF-Token"))
    _check_size(request)
    try:
        fields = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return json_error(400, "the body must be a JSON object")
    if not isinstance(fields, dict):
        return json_error(400, "the body must be a JSON object")
    try:
        result = _apply(request, session.user, fields)
    except FormError as exc:
        return json_error(400, str(exc))
    return _json({"override": result})


@routes.get("/ops/api/state", name="ops_state")
async def state_api(request: web.Request) -> web.Response:
    """What the dashboard shows, as JSON; with this session's CSRF token for scripts."""
    session = _session(request, api=True)
    app = request.app
    state = dashboard_state(app, app[CLOCK](), await _today(app))
    return _json({**state, "user": session.user, "csrf_token": app[AUTH].csrf_token(session)})


@routes.get("/ops/api/summary", name="ops_summary")
async def summary_api(request: web.Request) -> web.Response:
    """Guided drivers per hour, page views per board, minutes each lot spent full (default: today)."""
    _session(request, api=True)
    app = request.app
    store = app.get(STORE)
    if store is None:
        return json_error(503, "summaries need the store")
    now = app[CLOCK]()
    try:
        end = instant("to", request.query["to"]) if "to" in request.query else now
        start = instant("from", request.query["from"]) if "from" in request.query else _day_start(app, now)
    except QueryError as exc:
        return json_error(exc.status, exc.message)
    if not start < end <= start + timedelta(days=400):
        return json_error(400, "from must be before to, at most 400 days apart")
    try:
        async with store.pool.acquire(timeout=QUERY_TIMEOUT_S) as conn:
            result = await summary(conn, start, end)
    except STORE_ERRORS:
        return json_error(503, "the history database is not available now")
    return _json(
        {
            "from": iso(start),
            "to": iso(end),
            "guided_per_hour": [{"hour": iso(at), "drivers": n} for at, n in result.guided_per_hour],
            "page_views_by_board": result.page_views_by_board,
            "full_minutes_by_lot": result.full_minutes_by_lot,
        }
    )


@routes.get("/ops/api/audit", name="ops_audit")
async def audit_api(request: web.Request) -> web.Response:
    """The latest 200 entries of the audit log, newest first."""
    _session(request, api=True)
    store = request.app.get(STORE)
    if store is None:
        return json_error(503, "the audit log needs the store")
    try:
        async with store.pool.acquire(timeout=QUERY_TIMEOUT_S) as conn:
            rows = await latest_entries(conn, 200)
    except STORE_ERRORS:
        return json_error(503, "the history database is not available now")
    keys = ("actor", "action", "kind", "target", "detail", "reason")
    return _json({"entries": [{"at": iso(row["at"]), **{k: row[k] for k in keys}} for row in rows]})


def setup(app: web.Application) -> None:
    """Add the dashboard, its login and its APIs to an application."""
    app[AUTH] = Authenticator(app[CONFIG].ops)
    app[_TODAY] = {}
    add_routes(app, routes)
