"""The `site` section: its name, time zone and default language."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from parking.config.models.common import Model


class Site(Model):
    name: str = Field(description="Name of the site.")
    timezone: str = Field(
        "UTC", description="IANA time zone; opening hours and guidance windows are local times in this zone."
    )
    language: Literal["zh", "en"] = Field(
        "zh",
        description="The driver's page language when the browser's Accept-Language names neither zh nor en.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value
