"""Operations endpoints: health, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from parking.app.keys import CONFIG, FEED, GUIDANCE, INGEST, LIVE, METRICS, OPENAPI, STORE, TASKS
from parking.types import ConnectionState

routes = web.RouteTableDef()


@routes.get("/healthz", name="healthz")
async def healthz(request: web.Request) -> web.Response:
    """The process is alive and serving."""
    return web.Response(body=b'{"status":"ok"}', content_type="application/json")


@routes.get("/readyz", name="readyz")
async def readyz(request: web.Request) -> web.Response:
    """Ready when every resource is up, every background task runs and the feeds are connected.

    The store is reported but does not decide readiness: through a database
    outage guidance serves from memory (alert on parking_store_up instead).
    """
    app = request.app
    checks: dict[str, str] = {
        "live_site": "ready" if LIVE in app else "starting",
        "guidance": "ready" if GUIDANCE in app else "starting",
    }
    healthy = {"ready", "running", "flowing", ConnectionState.CONNECTED.value}
    if INGEST in app:
        feed = app[FEED]
        checks["mqtt"] = feed.mqtt_state.value
        silence_s, limit_s = feed.silence_s(), app[CONFIG].mqtt.max_silence_s
        if silence_s is not None and limit_s is not None:
            checks["feeds"] = "flowing" if silence_s <= limit_s else "silent"
    for name, health in app[TASKS].health().items():
        checks[name] = health
    ready = all(value in healthy for value in checks.values())
    store = app.get(STORE)
    if store is not None:
        checks["store"] = "connected" if store.state.up else "disconnected"
        checks["store_restore"] = "restored" if store.restored is not None else "skipped"
    body = orjson.dumps({"status": "ready" if ready else "not_ready", "checks": checks})
    return web.Response(status=200 if ready else 503, body=body, content_type="application/json")


@routes.get("/metrics", name="metrics")
async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition."""
    body = generate_latest(request.app[METRICS].registry)
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


@routes.get("/api/v1/openapi.json", name="openapi")
async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI document of this API."""
    return web.Response(body=request.app[OPENAPI], content_type="application/json")
