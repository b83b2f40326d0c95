"""OAuth 2.0 token pairs and where they live: a 0600 file that refreshes rewrite, under a lock."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from frontdesk.core.connectors.errors import AuthFailed


@dataclass(frozen=True, slots=True)
class OAuthTokens:
    """An access token, the single-use refresh token that replaces it, and the client."""

    access_token: str
    refresh_token: str
    expires_at: datetime
    client_id: str
    client_secret: str | None = None

    def as_json(self) -> dict[str, str]:
        data = {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at.astimezone(UTC).isoformat(),
            "client_id": self.client_id,
        }
        if self.client_secret:
            data["client_secret"] = self.client_secret
        return data

    @classmethod
    def from_json(cls, data: object, where: str) -> OAuthTokens:
        if not isinstance(data, dict):
            raise AuthFailed(f"{where}: expected a JSON object with the token pair")
        missing = [
            k
            for k in ("access_token", "refresh_token", "expires_at", "client_id")
            if not isinstance(data.get(k), str) or not data.get(k)
        ]
        if missing:
            raise AuthFailed(f"{where}: missing {', '.join(missing)}")
        try:
            expires = datetime.fromisoformat(data["expires_at"])
        except ValueError:
            raise AuthFailed(f"{where}: expires_at is not an ISO 8601 time") from None
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        secret = data.get("client_secret")
        return cls(
            access_token=data["access_token"],
            refresh_token=data["refresh_token"],
            expires_at=expires,
            client_id=data["client_id"],
            client_secret=secret if isinstance(secret, str) and secret else None,
        )

    def rotated(self, access: str, refresh: str, expires_at: datetime) -> OAuthTokens:
        return replace(self, access_token=access, refresh_token=refresh, expires_at=expires_at)


class TokenStore(Protocol):
    """Holds the current pair; `locked()` serialises refreshes across threads and processes."""

    def load(self) -> OAuthTokens: ...

    def save(self, tokens: OAuthTokens) -> None: ...

    def locked(self) -> contextlib.AbstractContextManager[None]: ...


class MemoryTokenStore:
    """A pair kept in memory (tests, or a refresh chain that need not survive a restart)."""

    def __init__(self, tokens: OAuthTokens) -> None:
        self._tokens = tokens
        self._lock = threading.Lock()

    def load(self) -> OAuthTokens:
        return self._tokens

    def save(self, tokens: OAuthTokens) -> None:
        self._tokens = tokens

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with self._lock:
            yield


class FileTokenStore:
    """The pair as JSON in a file only its owner may read.

    Refresh tokens are single-use, so a refreshed pair is written (atomically, 0600) before
    the new access token is used, and the refresh runs under an exclusive lock on a sibling
    `.lock` file: a second `frontdesk sync` on the same account then reads the fresh pair
    instead of spending the old refresh token and breaking the chain.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread_lock = threading.Lock()

    def load(self) -> OAuthTokens:
        where = f"token file {self.path}"
        try:
            mode = self.path.stat().st_mode
            raw = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise AuthFailed(f"{where}: cannot read it ({exc.strerror})") from None
        if mode & 0o077:
            raise AuthFailed(f"{where}: others can read it; run chmod 600 {self.path}")
        try:
            data = json.loads(raw)
        except ValueError:
            raise AuthFailed(f"{where}: not JSON") from None
        return OAuthTokens.from_json(data, where)

    def save(self, tokens: OAuthTokens) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(tokens.as_json(), out, indent=2)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        lock_path = self.path.with_name(self.path.name + ".lock")
        with self._thread_lock:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
