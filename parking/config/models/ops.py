"""The `ops` section: who may use the ops dashboard and its APIs."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from parking.config.models.common import Model, _unique

OPS_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.@\-]{0,63}$"


class OpsUser(Model):
    """One ops login: a name and an argon2 hash (`parking-guide hash-password`), never a password."""

    name: Annotated[str, Field(pattern=OPS_NAME)]
    password_hash: Annotated[str, Field(pattern=r"^\$argon2(id|i|d)\$")]


class OpsConfig(Model):
    """Who may use the ops dashboard and its APIs (docs/deployment.md, The ops dashboard)."""

    users: list[OpsUser] = Field(default_factory=list)
    # behind a reverse proxy that authenticates: the header naming the user (e.g. X-Remote-User),
    # believed only from the proxy addresses below
    proxy_header: str | None = Field(None, pattern=r"^[A-Za-z0-9\-]{1,64}$")
    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    # signs session cookies; shared by replicas so a session works on each (random per process if unset)
    session_secret: str | None = Field(None, min_length=32)
    session_max_age_s: int = Field(12 * 3600, ge=60, le=30 * 86400)
    secure_cookies: bool = True  # false only for plain-HTTP testing away from localhost
    login_failures: int = Field(5, ge=1, le=100)  # per client address within login_window_s, then 429
    login_window_s: float = Field(300.0, ge=1, le=86400)

    @model_validator(mode="after")
    def _unique_users(self) -> OpsConfig:
        _unique("ops.users", [user.name for user in self.users])
        return self
