"""The `ops` section: who may use the ops dashboard and its APIs."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from parking.config.models.common import Model, _unique

OPS_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.@\-]{0,63}$"


class OpsUser(Model):
    """One ops login: a name and an argon2 hash (`parking-guide hash-password`), never a password."""

    name: Annotated[str, Field(pattern=OPS_NAME)] = Field(
        description="The login name: letters, digits, _ . @ -, at most 64."
    )
    password_hash: Annotated[str, Field(pattern=r"^\$argon2(id|i|d)\$")] = Field(
        description="An argon2 hash from parking-guide hash-password (a plain password is refused)."
    )


class OpsConfig(Model):
    """Who may use the ops dashboard and its APIs (docs/deployment.md, The ops dashboard)."""

    users: list[OpsUser] = Field(
        default_factory=list, description="The ops logins, each a name and a password_hash."
    )
    proxy_header: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9\-]{1,64}$",
        description="Behind a reverse proxy that authenticates: the header naming the user (X-Remote-User).",
    )
    trusted_proxies: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="Peer addresses whose proxy_header is believed.",
    )
    session_secret: str | None = Field(
        None,
        min_length=32,
        description="Signs session cookies; the same for every replica (null: a random one per process).",
    )
    session_max_age_s: int = Field(12 * 3600, ge=60, le=30 * 86400, description="How long a session lasts.")
    secure_cookies: bool = Field(
        True, description="Cookies carry Secure (sent over HTTPS only); false only to test over plain HTTP."
    )
    login_failures: int = Field(
        5,
        ge=1,
        le=100,
        description="Wrong passwords allowed per client address within login_window_s; then 429.",
    )
    login_window_s: float = Field(
        300.0, ge=1, le=86400, description="The window in which login_failures are counted."
    )

    @model_validator(mode="after")
    def _unique_users(self) -> OpsConfig:
        _unique("ops.users", [user.name for user in self.users])
        return self
