"""Ops logins: argon2 password checks, signed session cookies, CSRF tokens and a limit on wrong passwords.

A session is a cookie holding the user, a random id and an expiry, signed with
HMAC-SHA256 (stdlib `hmac`): nothing in it is secret, it only must not be
forged, so no encryption library is needed; replicas that share
`ops.session_secret` accept each other's sessions. The CSRF token of a
session is an HMAC of its id, sent in every form (and as X-CSRF-Token by
scripts) and compared in constant time. Behind a reverse proxy that
authenticates, `ops.proxy_header` names the user instead, believed only from
`ops.trusted_proxies`. Wrong passwords are limited per client address and
logged without the password.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from parking.config.models import OPS_NAME, OpsConfig

logger = logging.getLogger(__name__)

SESSION_COOKIE = "pg_ops"
LOGIN_COOKIE = "pg_login"  # the login form's own CSRF token (double submit), before any session
MAX_TRACKED_CLIENTS = 10_000
_NAME = re.compile(OPS_NAME)
# a hash of a password nobody has: unknown users cost as much time as known ones
_DECOY = PasswordHasher().hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class Session:
    """Who is logged in, this session's id (for its CSRF token), and when it ends (epoch seconds)."""

    user: str
    sid: str
    expires: float


class LoginLimiter:
    """At most `limit` wrong passwords per client address in `window_s`; then refused until one ages out."""

    def __init__(self, limit: int, window_s: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._window_s = window_s
        self._monotonic = monotonic
        self._failures: dict[str, deque[float]] = {}

    def retry_after_s(self, client: str) -> float:
        """0 if the client may try now, else the seconds until it may."""
        failures = self._recent(client)
        if len(failures) < self._limit:
            return 0.0
        return max(0.0, failures[0] + self._window_s - self._monotonic())

    def failed(self, client: str) -> None:
        """Count a wrong password from `client`."""
        if client not in self._failures and len(self._failures) >= MAX_TRACKED_CLIENTS:
            self._forget_stale()
        self._failures.setdefault(client, deque()).append(self._monotonic())

    def succeeded(self, client: str) -> None:
        """A right password clears the client's count."""
        self._failures.pop(client, None)

    def _recent(self, client: str) -> deque[float]:
        failures = self._failures.get(client, deque())
        horizon = self._monotonic() - self._window_s
        while failures and failures[0] <= horizon:
            failures.popleft()
        return failures

    def _forget_stale(self) -> None:
        for client in [c for c in self._failures if not self._recent(c)]:
            del self._failures[client]
        while len(self._failures) >= MAX_TRACKED_CLIENTS:  # a flood of addresses: oldest first
            del self._failures[next(iter(self._failures))]


class Authenticator:
    """Checks passwords and proxy headers, issues and reads session cookies, makes CSRF tokens."""

    def __init__(self, config: OpsConfig, clock: Callable[[], float] = time.time) -> None:
        self._config = config
        self._users = {user.name: user.password_hash for user in config.users}
        secret = config.session_secret
        if secret is None:
            logger.info("ops: no ops.session_secret: sessions last until this process stops")
        self._key = (secret or secrets.token_urlsafe(32)).encode()
        self._clock = clock
        self._hasher = PasswordHasher()
        self.limiter = LoginLimiter(config.login_failures, config.login_window_s)

    @property
    def enabled(self) -> bool:
        """True if anyone can log in (users configured, or a proxy header)."""
        return bool(self._users) or self._config.proxy_header is not None

    async def check_password(self, user: str, password: str) -> bool:
        """True if `password` is `user`'s; argon2 runs off the event loop, unknown users included."""
        stored = self._users.get(user, _DECOY)
        loop = asyncio.get_running_loop()
        try:
            return (
                await loop.run_in_executor(None, self._hasher.verify, stored, password)
                and user in self._users
            )
        except (VerificationError, InvalidHashError):
            return False

    def session_of(self, request: web.Request) -> Session | None:
        """The request's valid session, or one for the user a trusted proxy names; None if neither."""
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            session = self._read(cookie)
            if session is not None:
                return session
        header = self._config.proxy_header
        if header is not None and request.remote in self._config.trusted_proxies:
            user = request.headers.get(header, "")
            if _NAME.match(user):
                return Session(user, "proxy:" + user, self._clock() + self._config.session_max_age_s)
        return None

    def issue(self, response: web.StreamResponse, user: str, secure: bool) -> Session:
        """Start a session for `user`: set its cookie on the response."""
        session = Session(user, secrets.token_urlsafe(16), self._clock() + self._config.session_max_age_s)
        payload = _b64(orjson.dumps({"u": session.user, "s": session.sid, "e": int(session.expires)}))
        response.set_cookie(
            SESSION_COOKIE,
            f"{payload}.{self._sign(payload)}",
            max_age=self._config.session_max_age_s,
            path="/ops",
            httponly=True,
            secure=secure,
            samesite="Strict",
        )
        return session

    def new_login_token(self) -> str:
        """A random token for the login form and its cookie (double submit)."""
        return secrets.token_urlsafe(24)

    def tokens_match(self, a: str, b: str) -> bool:
        """Constant-time comparison of two tokens."""
        return hmac.compare_digest(a.encode(), b.encode())

    def csrf_token(self, session: Session) -> str:
        """The token every form and script of this session sends back."""
        return self._sign("csrf:" + session.sid)

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        """True if `token` is this session's."""
        return token is not None and hmac.compare_digest(token, self.csrf_token(session))

    def _read(self, cookie: str) -> Session | None:
        payload, _, signature = cookie.partition(".")
        if not signature or not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            data = orjson.loads(_unb64(payload))
            session = Session(str(data["u"]), str(data["s"]), float(data["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        if session.expires <= self._clock() or session.user not in self._users:
            return None  # expired, or the user was removed from the config
        return session

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
