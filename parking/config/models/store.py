"""The `store` section: PostgreSQL for history, the event log and restart recovery."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from parking.config.models.common import Model


class StoreConfig(Model):
    """PostgreSQL: history, the event log and what a restart recovers (docs/deployment.md, The store)."""

    # postgresql://user@host/db, best from the environment: dsn: ${PARKING_GUIDE_DSN}
    dsn: str | None = None
    # without a dsn, `run` and `demo` start a private PostgreSQL in data_dir (false: no history at all)
    embedded: bool = True
    data_dir: str | None = None
    buffer_rows: int = Field(200_000, ge=100, le=50_000_000)  # rows held while PostgreSQL is away
    batch_rows: int = Field(5_000, ge=1, le=100_000)
    flush_interval_s: float = Field(0.2, gt=0, le=60)
    snapshot_interval_s: float = Field(60.0, ge=1, le=3600)  # every lot, besides on every change
    snapshot_min_spacing_s: float = Field(5.0, ge=0, le=3600)  # at most one change snapshot per lot per ...
    startup_wait_s: float = Field(30.0, ge=0, le=3600)  # for the database at start-up, before going on
    reconnect_min_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(30.0, gt=0)
    retention_days: int | None = Field(400, ge=1)  # observations older than this are deleted; None: kept

    @field_validator("dsn", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value  # `dsn: ${PARKING_GUIDE_DSN:-}` with the variable unset

    @model_validator(mode="after")
    def _backoff_range(self) -> StoreConfig:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be >= reconnect_min_s")
        if self.dsn is not None and not self.dsn.startswith(("postgresql://", "postgres://")):
            raise ValueError("dsn must be a postgresql:// URL")
        return self
