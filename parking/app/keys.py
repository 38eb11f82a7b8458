"""Every AppKey of the application, in one place."""

from __future__ import annotations

from aiohttp import web

from parking.app.api.boards import BoardCache
from parking.app.api.links import NavLinkCache
from parking.app.feed import SiteFeed
from parking.app.forecasts import LotForecasts
from parking.app.metrics import Metrics
from parking.app.signals import ChangeSignal
from parking.app.tasks import BackgroundTasks
from parking.clock import Clock
from parking.config.models import Config
from parking.guidance.credible import ArrivalBudget
from parking.guidance.drivers import DriverGuidance, DriversOnTheirWay
from parking.guidance.outlook import GuidanceOutlook
from parking.guidance.pending import ExpectedTraffic, PendingArrivals
from parking.guidance.seen import BoardsSeen
from parking.guidance.service import GuidanceService
from parking.live import LiveSite
from parking.store.store import Store
from sensors.ingest import MqttIngest

CONFIG = web.AppKey("config", Config)
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
LIVE = web.AppKey("live", LiveSite)
METRICS = web.AppKey("metrics", Metrics)
FEED = web.AppKey("feed", SiteFeed)
SIGNAL = web.AppKey("signal", ChangeSignal)
TASKS = web.AppKey("tasks", BackgroundTasks)
GUIDANCE = web.AppKey("guidance", GuidanceService)
BOARDS = web.AppKey("boards", BoardCache)
PENDING = web.AppKey("pending", PendingArrivals)
OUTLOOK = web.AppKey("outlook", GuidanceOutlook)
DRIVERS = web.AppKey("drivers", DriversOnTheirWay)  # the one writer of PENDING
DRIVER_GUIDANCE = web.AppKey("driver_guidance", DriverGuidance)
ARRIVAL_BUDGET = web.AppKey("arrival_budget", ArrivalBudget)  # which answers DRIVERS counts
TRAFFIC = web.AppKey("traffic", ExpectedTraffic)  # drivers an hour at each origin, for the budget
SEEN = web.AppKey("seen", BoardsSeen)
LINKS = web.AppKey("links", NavLinkCache)
INGEST = web.AppKey("ingest", MqttIngest)
OPENAPI = web.AppKey("openapi", bytes)
STORE = web.AppKey("store", Store)
FORECASTS = web.AppKey("forecasts", LotForecasts)
