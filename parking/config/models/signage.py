"""The `signage` section: what LED boards show without fresh data."""

from __future__ import annotations

from pydantic import Field

from parking.config.models.common import Model


class SignageConfig(Model):
    """What LED boards show when the engine has nothing fresh to say."""

    fallback_text: str = Field(
        "NO PARKING DATA",
        min_length=1,
        max_length=64,
        description="What a board's LED text says when no line shows a known state.",
    )
