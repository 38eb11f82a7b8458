"""Time windows: the `opening_hours` and `guidance_windows` of a lot."""

from __future__ import annotations

from datetime import time

from pydantic import ConfigDict, Field, field_validator

from parking.config.models.common import Model

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class TimeWindow(Model):
    """Days and a local time range; `to` earlier than `from` crosses midnight."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    days: list[str] = Field(
        default_factory=lambda: list(WEEKDAYS),
        description="The days the window starts on: a day spec (mon-fri, daily, sat,sun) or a list of names.",
    )
    start: time = Field(alias="from", description="Local start time (site time zone), inclusive.")
    end: time = Field(
        alias="to", description="Local end time, exclusive; earlier than from, the window crosses midnight."
    )

    @field_validator("days", mode="before")
    @classmethod
    def _expand_days(cls, value: object) -> object:
        if isinstance(value, str):
            return _expand_day_spec(value)
        return value

    @field_validator("days")
    @classmethod
    def _known_days(cls, value: list[str]) -> list[str]:
        for day in value:
            if day not in WEEKDAYS:
                raise ValueError(f"unknown day {day!r}; use {', '.join(WEEKDAYS)}")
        return value


def _expand_day_spec(spec: str) -> list[str]:
    """'daily', 'mon-fri', 'sat,sun' -> list of weekday names (unknown names left for the check)."""
    spec = spec.strip().lower()
    if spec in ("daily", "all", "*"):
        return list(WEEKDAYS)
    days: list[str] = []
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            first, last = (p.strip() for p in part.split("-", 1))
            if first in WEEKDAYS and last in WEEKDAYS:
                i, j = WEEKDAYS.index(first), WEEKDAYS.index(last)
                span = range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)]
                days.extend(WEEKDAYS[k] for k in span)
                continue
        days.append(part)
    return days
