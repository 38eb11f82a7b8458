"""The `defaults` section, and the hysteresis thresholds that lots may set for themselves."""

from __future__ import annotations

from pydantic import Field, model_validator

from parking.config.models.common import Model


class Thresholds(Model):
    """Hysteresis: a lot becomes almost_full/full at `*_enter`, and leaves only at `*_exit`."""

    almost_full_enter_pct: float = Field(10.0, ge=0, le=100)
    almost_full_exit_pct: float = Field(15.0, ge=0, le=100)
    full_enter_free: int = Field(0, ge=0)
    full_exit_free: int = Field(2, ge=0)

    @model_validator(mode="after")
    def _exit_above_enter(self) -> Thresholds:
        if self.almost_full_exit_pct < self.almost_full_enter_pct:
            raise ValueError("almost_full_exit_pct must be >= almost_full_enter_pct")
        if self.full_exit_free < self.full_enter_free:
            raise ValueError("full_exit_free must be >= full_enter_free")
        return self


class Defaults(Model):
    freshness_s: int = Field(900, ge=10)
    thresholds: Thresholds = Thresholds()
    walk_speed_mps: float = Field(1.2, gt=0)
    walk_detour_factor: float = Field(1.3, ge=1)
    board_lines: int = Field(3, ge=1, le=12)
    board_ttl_s: int = Field(5, ge=1, le=300)
    # a spot category is unknown until this share of its bays has reported (docs/feeds.md, spot lots)
    min_reported_share: float = Field(0.9, gt=0, le=1)
    # how far ahead of its receipt a message's ts is believed (docs/feeds.md, field types and rules)
    max_ts_ahead_s: float = Field(2.0, ge=0, le=300)
    # how far ahead a sequence number is adopted at once (docs/feeds.md, sequence numbers)
    max_seq_jump: int = Field(10, ge=1, le=999)
    # a bay sensor silent this long counts as unknown, not free (docs/feeds.md, liveness)
    sensor_silence_s: int = Field(1800, ge=60)
