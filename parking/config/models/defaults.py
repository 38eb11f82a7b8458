"""The `defaults` section, and the hysteresis thresholds that lots may set for themselves."""

from __future__ import annotations

from pydantic import Field, model_validator

from parking.config.models.common import Model


class Thresholds(Model):
    """Hysteresis: a lot becomes almost_full/full at `*_enter`, and leaves only at `*_exit`."""

    almost_full_enter_pct: float = Field(
        10.0,
        ge=0,
        le=100,
        description="Becomes almost_full when free spaces fall to this percentage of capacity or below.",
    )
    almost_full_exit_pct: float = Field(
        15.0,
        ge=0,
        le=100,
        description="Once almost_full or full, open again only when free spaces rise above this percentage.",
    )
    full_enter_free: int = Field(
        0, ge=0, description="Becomes full when free spaces fall to this number or below."
    )
    full_exit_free: int = Field(
        2, ge=0, description="Once full, leaves full only when at least this many spaces are free."
    )

    @model_validator(mode="after")
    def _exit_above_enter(self) -> Thresholds:
        if self.almost_full_exit_pct < self.almost_full_enter_pct:
            raise ValueError("almost_full_exit_pct must be >= almost_full_enter_pct")
        if self.full_exit_free < self.full_enter_free:
            raise ValueError("full_exit_free must be >= full_enter_free")
        return self


class Defaults(Model):
    freshness_s: int = Field(
        900,
        ge=10,
        description="A lot with no message for longer than this is unknown; overridden by a lot's own.",
    )
    thresholds: Thresholds = Field(
        Thresholds(),
        description="When a lot counts as almost_full and full; a lot's thresholds replace it as a whole.",
    )
    walk_speed_mps: float = Field(
        1.2, gt=0, description="Walking speed for the walk from a lot to the destination."
    )
    walk_detour_factor: float = Field(
        1.3, ge=1, description="Straight-line walking distance x this = estimated path length."
    )
    board_lines: int = Field(
        3,
        ge=1,
        le=12,
        description="Lines (lots) a board shows, pinned lots included; a board's lines overrides it.",
    )
    board_ttl_s: int = Field(
        5,
        ge=1,
        le=300,
        description="How long a board view may be cached; boards are told to poll this often.",
    )
    min_reported_share: float = Field(
        0.9,
        gt=0,
        le=1,
        description="Spot lots: a category is unknown until this share of its bays has reported.",
    )
    max_ts_ahead_s: float = Field(
        2.0, ge=0, le=300, description="How far ahead of the engine's clock a message's ts is believed."
    )
    max_seq_jump: int = Field(
        10,
        ge=1,
        le=999,
        description="How far ahead of a device's last sequence number (seq) a new one is adopted at once.",
    )
    sensor_silence_s: int = Field(
        1800, ge=60, description="A bay sensor with no message for this long counts as unknown (never free)."
    )
