"""The `guidance` section: answers to drivers and the expected-space model."""

from __future__ import annotations

from pydantic import Field

from parking.config.models.common import Model


class GuidanceConfig(Model):
    """Answers to drivers and the expected-space model behind every recommendation (docs/guidance.md)."""

    max_snap_m: float = Field(300.0, gt=0, le=10_000)
    answer_lots: int = Field(5, ge=1, le=20)
    pending_slack_s: float = Field(300.0, ge=0, le=7200)
    # a lot expected to have fewer free spaces than max(reserve_spaces, reserve_share x capacity)
    # on arrival is never recommended before one that is not
    reserve_spaces: int = Field(3, ge=0, le=1000)
    reserve_share: float = Field(0.05, ge=0, le=1)
    street_search_s: float = Field(60.0, ge=0, le=3600)  # looking for the free bay on a street
    no_alternative_s: float = Field(900.0, ge=0, le=7200)  # a full lot with nowhere else to go: queue
    # a typical stay: an occupied space frees once this often, for the wait when every lot is full
    mean_stay_s: float = Field(2400.0, gt=0, le=86_400)
    board_follow_rate: float = Field(0.3, ge=0, le=1)  # share of a board's traffic that follows line 1
    board_traffic_per_h: float = Field(120.0, ge=0, le=100_000)  # drivers passing a board an hour
    refresh_s: float = Field(5.0, ge=0.5, le=300)  # boards re-ranked for pending arrivals this often
    # when a lot's free count falls, retire as many pending arrivals already due (ETA passed):
    # a driver who has parked is then not counted both in the count and as pending
    settle_pending: bool = True
