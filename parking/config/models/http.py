"""The `http` section: the web server."""

from __future__ import annotations

from pydantic import Field

from parking.config.models.common import Model


class HttpConfig(Model):
    """The web server: where it listens, and how long and how many connections it keeps."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    public_url: str | None = None
    header_timeout_s: float = Field(10.0, gt=0, le=300)
    keepalive_timeout_s: float = Field(75.0, gt=0, le=3600)
    max_connections: int = Field(4096, ge=1, le=1_000_000)
