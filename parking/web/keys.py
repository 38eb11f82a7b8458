"""Every AppKey of the application, in one place."""

from __future__ import annotations

from aiohttp import web

from parking.config.models import Config
from parking.engine import Engine
from sensors.ingest import MqttIngest

CONFIG = web.AppKey("config", Config)
ENGINE = web.AppKey("engine", Engine)
INGEST = web.AppKey("ingest", MqttIngest)
OPENAPI = web.AppKey("openapi", bytes)
