"""The `http` section: the web server."""

from __future__ import annotations

from pydantic import Field

from parking.config.models.common import Model


class HttpConfig(Model):
    """The web server: where it listens, and how long and how many connections it keeps."""

    host: str = Field("127.0.0.1", description="Address the web app listens on; 0.0.0.0 for all interfaces.")
    port: int = Field(8080, ge=0, le=65535, description="Port; 0 takes any free port (for tests).")
    public_url: str | None = Field(
        None,
        description="The base URL drivers' phones reach the app at; QR codes encode {public_url}/go/{board}.",
    )
    header_timeout_s: float = Field(
        10.0,
        gt=0,
        le=300,
        description="A new connection must send its request line and headers within this, or it is closed.",
    )
    keepalive_timeout_s: float = Field(
        75.0,
        gt=0,
        le=3600,
        description="An idle connection is closed this many seconds after its last answer.",
    )
    max_connections: int = Field(
        4096,
        ge=1,
        le=1_000_000,
        description="Connections open at once; at the cap the oldest one without a request is closed.",
    )
    max_streams: int = Field(
        1024,
        ge=1,
        le=1_000_000,
        description="Event streams open at once, at most half of max_connections (room for polls).",
    )
    max_streams_per_board: int = Field(
        256,
        ge=1,
        le=1_000_000,
        description="Event streams open at once on one board; beyond it a new one gets 503 with Retry-After.",
    )
    max_streams_per_client: int = Field(
        16,
        ge=1,
        le=1_000_000,
        description="Event streams open at once from one client address; beyond it 503 with Retry-After.",
    )
