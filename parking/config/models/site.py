"""The `site` section: its name, time zone and default language."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator

from parking.config.models.common import Model


class Site(Model):
    name: str
    timezone: str = "UTC"
    language: Literal["zh", "en"] = "zh"  # of driver pages when the browser does not say

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value
