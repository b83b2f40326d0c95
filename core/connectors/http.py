"""HTTP plumbing shared by the web connectors: base URL, client, and failure classification."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from frontdesk.core.connectors.errors import (
    AmbiguousOutcome,
    MalformedResponse,
    TransientError,
)

M = TypeVar("M", bound=BaseModel)
USER_AGENT = "frontdesk-sync"


def one_line(text: str, limit: int = 200) -> str:
    """Collapse whitespace so a platform's message fits an error's one line."""
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class HttpApi:
    """One platform's base URL and HTTP client; transport failures become ConnectorErrors."""

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 20.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._owns_client = client is None
        self.client = client or httpx.Client(
            transport=transport, timeout=timeout, headers={"user-agent": USER_AGENT}
        )

    def url(self, path: str) -> str:
        return self.base_url + path

    def send(
        self,
        method: str,
        path: str,
        *,
        where: str,
        write: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request. A failure before the request left is transient; one after it left is
        ambiguous for a write (the platform may have stored it) and transient for a read."""
        try:
            return self.client.request(method, self.url(path), **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise TransientError(
                f"{where}: cannot connect to {self.base_url}: {one_line(str(exc)) or 'refused'}"
            ) from None
        except (httpx.WriteError, httpx.WriteTimeout) as exc:
            # The request did not reach the platform whole, so it cannot have been acted on.
            raise TransientError(f"{where}: sending the request failed: {_describe(exc)}") from None
        except httpx.TransportError as exc:
            if write:
                raise AmbiguousOutcome(
                    f"{where}: no answer after the request was sent ({_describe(exc)});"
                    " the platform may have stored it, so read it back before resending"
                ) from None
            raise TransientError(f"{where}: no answer ({_describe(exc)})") from None

    def close(self) -> None:
        if self._owns_client:
            self.client.close()


def _describe(exc: httpx.TransportError) -> str:
    detail = one_line(str(exc), 120)
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def json_of(response: httpx.Response, where: str) -> Any:
    """The response body as JSON, or MalformedResponse naming the call and what came back."""
    try:
        return response.json()
    except ValueError:
        sample = one_line(response.text, 80) or "an empty body"
        raise MalformedResponse(
            f"{where}: the answer (HTTP {response.status_code}) is not JSON: {sample}"
        ) from None


def validate(model: type[M], data: Any, where: str) -> M:
    """`data` as `model`, or MalformedResponse naming the first wrong field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "body"
        raise MalformedResponse(f"{where}: {loc}: {one_line(first['msg'], 120)}") from None


def parse_time(value: str | int | float) -> datetime:
    """A platform timestamp (ISO 8601 with Z or +0000, or Unix seconds) as aware UTC."""
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return datetime.fromtimestamp(int(value), UTC)
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def header_int(headers: httpx.Headers, name: str) -> int | None:
    """An integer header, or None when absent or garbled (a bad header must not break a poll)."""
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return int(raw.strip())
    except ValueError:
        return None
