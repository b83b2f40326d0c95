"""X's HTTP verdicts (status and body to error) and its OAuth 2.0 token refresh."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from frontdesk.core.connectors.accounts import XAccount
from frontdesk.core.connectors.base import Clock
from frontdesk.core.connectors.errors import (
    AmbiguousOutcome,
    AuthFailed,
    MalformedResponse,
    PermanentError,
    TransientError,
)
from frontdesk.core.connectors.http import HttpApi, json_of, one_line, validate
from frontdesk.core.connectors.tokens import FileTokenStore, OAuthTokens, TokenStore
from frontdesk.core.connectors.x_parse import TokenAnswer

M = TypeVar("M", bound=BaseModel)
REFRESH_MARGIN = timedelta(seconds=120)


def detail(response: httpx.Response) -> str:
    """The reason an X error gives, in either body format (problem JSON or legacy errors)."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}"
    parts = [
        body[key]
        for key in ("detail", "error_description", "title", "error")
        if isinstance(body.get(key), str)
    ][:1]
    errors = body.get("errors")
    # The first error's message is the specific one (which parameter, what is wrong).
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        message = errors[0].get("message")
        if isinstance(message, str) and message:
            parts.append(message)
    return one_line(f"HTTP {response.status_code}: {'; '.join(parts)}".rstrip(": "))


def judge(response: httpx.Response, where: str, write: bool) -> None:
    """Raise the ConnectorError an unsuccessful answer means (429 is handled before)."""
    status = response.status_code
    if status < 300:
        return
    reason = detail(response)
    if status == 401:
        raise AuthFailed(f"{where}: X refused the credentials ({reason})")
    if status >= 500:
        if write:
            raise AmbiguousOutcome(
                f"{where}: X failed ({reason}) and may have stored the post; read it back first"
            )
        raise TransientError(f"{where}: X is unavailable ({reason})")
    if status == 403 and "duplicate" in reason.lower():
        raise PermanentError(
            f"{where}: X refuses a post identical to a recent one; reword it",
            title="duplicate post",
        )
    raise PermanentError(f"{where}: X refused it ({reason})")


def created(model: type[M], response: httpx.Response, where: str) -> M:
    """The body of a successful write; a malformed one still means the write happened."""
    try:
        return validate(model, json_of(response, where), where)
    except MalformedResponse as exc:
        raise AmbiguousOutcome(
            f"{exc.message}; X accepted the request, so read it back before resending"
        ) from None


class XAuth:
    """The bearer for every request: an app token, or an OAuth 2.0 user token refreshed
    before it expires, one refresh at a time (refresh tokens are single-use)."""

    def __init__(
        self,
        name: str,
        account: XAccount,
        api: HttpApi,
        clock: Clock,
        *,
        tokens: TokenStore | None,
        bearer: str | None,
    ) -> None:
        self.name = name
        self.account = account
        self.api = api
        self.clock = clock
        self.oauth = account.auth == "oauth2"
        self.store: TokenStore | None = tokens
        if self.oauth and tokens is None and account.credentials.file is not None:
            self.store = FileTokenStore(account.credentials.file)
        self._bearer = bearer
        self._tokens: OAuthTokens | None = None
        self._lock = threading.Lock()
        self.token_url = account.token_url or f"{api.base_url}/2/oauth2/token"

    def token(self) -> str:
        """A usable access token, refreshed first when it is about to expire."""
        if self.store is None:
            if self._bearer is None:
                self._bearer = self.account.credentials.read(self.name)
            return self._bearer
        with self._lock:
            if self._tokens is None:
                self._tokens = self.store.load()
            if self._tokens.expires_at - REFRESH_MARGIN > self.clock():
                return self._tokens.access_token
            return self._refresh(self.store, self._tokens.access_token)

    def refresh(self, stale: str) -> str:
        """A new access token after X refused `stale` (unless another thread already did)."""
        if self.store is None:
            raise AuthFailed(f"{self.name}: X refused the app bearer token")
        with self._lock:
            return self._refresh(self.store, stale)

    def _refresh(self, store: TokenStore, stale: str) -> str:
        where = f"{self.name}: X token refresh (POST {self.token_url})"
        with store.locked():
            latest = store.load()
            now = self.clock()
            if latest.access_token != stale and latest.expires_at - REFRESH_MARGIN > now:
                self._tokens = latest  # another thread or process refreshed meanwhile
                return latest.access_token
            form = {
                "grant_type": "refresh_token",
                "refresh_token": latest.refresh_token,
                "client_id": latest.client_id,
            }
            # A confidential client authenticates with Basic; a public one only names itself.
            extra: dict[str, Any] = {}
            if latest.client_secret:
                extra["auth"] = (latest.client_id, latest.client_secret)
            try:
                response = self.api.client.post(self.token_url, data=form, **extra)
            except httpx.TransportError as exc:
                raise TransientError(f"{where}: no answer ({type(exc).__name__})") from None
            if response.status_code in (400, 401):
                raise AuthFailed(
                    f"{where}: the refresh token was refused ({detail(response)});"
                    " authorise the account again"
                )
            judge(response, where, write=False)
            answer = validate(TokenAnswer, json_of(response, where), where)
            expires = now + timedelta(seconds=answer.expires_in)
            tokens = latest.rotated(answer.access_token, answer.refresh_token, expires)
            # Saved before use: the old refresh token is spent from this moment.
            store.save(tokens)
            self._tokens = tokens
            return tokens.access_token
