"""The `store` section: PostgreSQL for history, the event log and restart recovery."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from parking.config.models.common import Model


class StoreConfig(Model):
    """PostgreSQL: history, the event log and what a restart recovers (docs/deployment.md, The store)."""

    dsn: str | None = Field(
        None, description="The server, a postgresql:// URL, best from the environment; empty counts as null."
    )
    embedded: bool = Field(
        True, description="Without a dsn, run and demo start a private PostgreSQL; false: no store at all."
    )
    data_dir: str | None = Field(
        None, description="The private server's directory (run only); null: the default data directory."
    )
    buffer_rows: int = Field(
        200_000,
        ge=100,
        le=50_000_000,
        description="Rows held in memory while the database is away; past this the oldest are dropped.",
    )
    batch_rows: int = Field(5_000, ge=1, le=100_000, description="Rows per table per COPY.")
    flush_interval_s: float = Field(
        0.2, gt=0, le=60, description="The writer gathers rows this long between writes."
    )
    snapshot_interval_s: float = Field(
        60.0, ge=1, le=3600, description="Every lot is snapshotted this often, besides on every change."
    )
    snapshot_min_spacing_s: float = Field(
        5.0, ge=0, le=3600, description="At most one change snapshot per lot this often."
    )
    startup_wait_s: float = Field(
        30.0,
        ge=0,
        le=3600,
        description="At start-up, wait this long for the database, then start from the feeds alone.",
    )
    reconnect_min_s: float = Field(
        0.5, gt=0, description="First delay of the writer's backoff while the database is away."
    )
    reconnect_max_s: float = Field(
        30.0, gt=0, description="Cap of the writer's (doubling, jittered) backoff; at least reconnect_min_s."
    )
    retention_days: int | None = Field(
        400, ge=1, description="Observations, answers and page views older than this are deleted; null: kept."
    )

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
