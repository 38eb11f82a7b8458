"""One pydantic model per config section, a module per section; unknown keys are errors.

Everything is re-exported here, so `from parking.config.models import Lot` works whatever module
a model lives in.
"""

from parking.config.models.boards import Board
from parking.config.models.common import Category, Ident, Latitude, Longitude, Model
from parking.config.models.defaults import Defaults, Thresholds
from parking.config.models.feeds import (
    DEFAULT_FEEDS,
    FEED_FORMATS,
    LORAWAN_FORMATS,
    Device,
    DeviceProfile,
    FeedEntry,
    FeedFormat,
    topic_placeholders,
)
from parking.config.models.guidance import GuidanceConfig
from parking.config.models.hospitals import Destination, Hospital
from parking.config.models.hours import WEEKDAYS, TimeWindow
from parking.config.models.http import HttpConfig
from parking.config.models.lots import Entrance, FeedKind, Lot, LotKind
from parking.config.models.mqtt import MqttConfig, TlsConfig
from parking.config.models.ops import OPS_NAME, OpsConfig, OpsUser
from parking.config.models.roads import Roads, Way
from parking.config.models.root import Config
from parking.config.models.signage import SignageConfig
from parking.config.models.site import Site
from parking.config.models.store import StoreConfig

__all__ = [
    "DEFAULT_FEEDS",
    "FEED_FORMATS",
    "LORAWAN_FORMATS",
    "OPS_NAME",
    "WEEKDAYS",
    "Board",
    "Category",
    "Config",
    "Defaults",
    "Destination",
    "Device",
    "DeviceProfile",
    "Entrance",
    "FeedEntry",
    "FeedFormat",
    "FeedKind",
    "GuidanceConfig",
    "Hospital",
    "HttpConfig",
    "Ident",
    "Latitude",
    "Longitude",
    "Lot",
    "LotKind",
    "Model",
    "MqttConfig",
    "OpsConfig",
    "OpsUser",
    "Roads",
    "SignageConfig",
    "Site",
    "StoreConfig",
    "Thresholds",
    "TimeWindow",
    "TlsConfig",
    "Way",
    "topic_placeholders",
]
