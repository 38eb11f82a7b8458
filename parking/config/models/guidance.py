"""The `guidance` section: answers to drivers and the expected-space model."""

from __future__ import annotations

from pydantic import Field

from parking.config.models.common import Model


class GuidanceConfig(Model):
    """Answers to drivers and the expected-space model behind every recommendation (docs/guidance.md)."""

    max_snap_m: float = Field(
        300.0,
        gt=0,
        le=10_000,
        description="A position farther than this from every road node is outside the site (answer 422).",
    )
    answer_lots: int = Field(5, ge=1, le=20, description="Lots in one answer (the best first).")
    pending_slack_s: float = Field(
        300.0,
        ge=0,
        le=7200,
        description="An answer counts a pending arrival at its first lot until the drive time plus this.",
    )
    reserve_spaces: int = Field(
        3,
        ge=0,
        le=1000,
        description="A lot expected to have fewer free than max(this, reserve_share x capacity) ranks later.",
    )
    reserve_share: float = Field(
        0.05, ge=0, le=1, description="The share of capacity in that reserve (see reserve_spaces)."
    )
    street_search_s: float = Field(
        60.0, ge=0, le=3600, description="Search time for the free bay at lots of kind street."
    )
    no_alternative_s: float = Field(
        900.0, ge=0, le=7200, description="Cost of a full lot with nowhere else to go: the queue."
    )
    mean_stay_s: float = Field(
        2400.0, gt=0, le=86_400, description="A typical stay: an occupied space frees once this often."
    )
    board_follow_rate: float = Field(
        0.3, ge=0, le=1, description="The share of a board's traffic that follows its first choice."
    )
    board_traffic_per_h: float = Field(
        120.0,
        ge=0,
        le=100_000,
        description="Drivers passing a board an hour, unless the board gives its own.",
    )
    refresh_s: float = Field(
        5.0, ge=0.5, le=300, description="How often boards are re-ranked to take up pending arrivals."
    )
    settle_pending: bool = Field(
        True, description="When drivers park, retire that many pending arrivals already due (ETA passed)."
    )
