"""Operations endpoints: health, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from parking.types import ConnectionState
from parking.web.keys import ENGINE, INGEST, OPENAPI

routes = web.RouteTableDef()


@routes.get("/healthz", name="healthz")
async def healthz(request: web.Request) -> web.Response:
    """The process is alive and serving."""
    return web.Response(body=b'{"status":"ok"}', content_type="application/json")


@routes.get("/readyz", name="readyz")
async def readyz(request: web.Request) -> web.Response:
    """Ready when the feed connection is up (or no ingest runs in this process)."""
    checks: dict[str, str] = {}
    if INGEST in request.app:
        state = request.app[ENGINE].mqtt_state
        checks["mqtt"] = "connected" if state == ConnectionState.CONNECTED else "disconnected"
    ready = all(v == "connected" for v in checks.values())
    body = orjson.dumps({"status": "ready" if ready else "not_ready", "checks": checks})
    return web.Response(status=200 if ready else 503, body=body, content_type="application/json")


@routes.get("/metrics", name="metrics")
async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition."""
    engine = request.app[ENGINE]
    engine.metrics.state_version.set(engine.state.version)
    body = generate_latest(engine.metrics.registry)
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


@routes.get("/api/v1/openapi.json", name="openapi")
async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI document of this API."""
    return web.Response(body=request.app[OPENAPI], content_type="application/json")
