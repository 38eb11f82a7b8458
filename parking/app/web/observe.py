"""JSON error bodies, the headers every response carries, and the wrapper that times each request.

Every route is added through `add_routes`, which wraps its handler; a last
catch-all route answers paths no route has (404) and methods a path does not
take (405). This does what an aiohttp middleware would, without one: any
middleware puts two more coroutine frames under every request (aiohttp adds its
own `current_app` fixer beside it): 3 of a board poll's ~37 us of server CPU, measured.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterable

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp.web_urldispatcher import DynamicResource

from parking.app.keys import METRICS
from parking.app.web.headers import STANDARD_HEADERS

logger = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    401: "unauthorized",
    403: "forbidden",
    422: "unprocessable",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """A response with body {"error": {"code", "message"}}."""
    body = orjson.dumps({"error": {"code": _CODES.get(status, "error"), "message": message}})
    return web.Response(
        status=status,
        body=body,
        content_type="application/json",
        headers={**STANDARD_HEADERS, **(headers or {})},
    )


UNMATCHED = "unmatched"  # the route label of requests no route takes


def add_routes(app: web.Application, routes: Iterable[web.AbstractRouteDef]) -> None:
    """Add routes, each handler wrapped by `observed` under its path template."""
    for route in routes:
        if not isinstance(route, web.RouteDef):
            raise TypeError(f"only plain routes can be observed, not {route!r}")
        # labelled as the resource names itself: "/qr/{board_id}.{ext}" for "/qr/{board_id}.{ext:svg|png}"
        label = DynamicResource(route.path).canonical if "{" in route.path else route.path
        handler = observed(route.handler, label, app)
        web.RouteDef(route.method, route.path, handler, route.kwargs).register(app.router)


def add_unmatched(app: web.Application) -> None:
    """The last route: a JSON 404 for a path no route has, a JSON 405 for a method a path does not take."""
    catch_all = app.router.add_resource("/{path:.*}")

    async def unmatched(request: web.Request) -> web.StreamResponse:
        allowed: set[str] = set()
        for resource in request.app.router.resources():
            if resource is not catch_all:
                allowed |= (await resource.resolve(request))[1]
        if allowed:
            raise web.HTTPMethodNotAllowed(request.method, allowed)
        raise web.HTTPNotFound()

    catch_all.add_route("*", observed(unmatched, UNMATCHED, app))


def observed(handler: Handler, route: str, app: web.Application) -> Handler:
    """The handler, timed per route, with every error answered as JSON and the standard headers set.

    `app` is the application the route is added to: its metrics are read from it per
    request (they are made when it starts), not looked up through the request.
    """

    @functools.wraps(handler)
    async def observe(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            # board answers carry them precomputed, streams set them themselves
            headers = response.headers
            if "Server" not in headers and not response.prepared:
                headers.update(STANDARD_HEADERS)
            return response
        except web.HTTPException as exc:
            status = exc.status
            if exc.status < 400:
                raise
            allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
            message = exc.reason if exc.text is None else exc.text.removeprefix(f"{exc.status}: ")
            return json_error(exc.status, message, allow)
        except Exception:
            logger.exception("unhandled error on %s %s", request.method, request.path)
            return json_error(500, "internal error")
        finally:
            app[METRICS].observe_request(route, request.method, status, time.perf_counter() - started)

    return observe
