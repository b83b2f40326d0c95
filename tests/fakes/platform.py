"""What every fake platform shares: an injected clock, a request log, fault switches, paging."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

# The fault switches every fake understands (routes name the endpoints of each platform).
SERVER_ERROR = "server_error"  # answer 5xx before any state change (option: status)
CONNECT_ERROR = "connect_error"  # raise httpx.ConnectError before any state change
THROTTLE = "throttle"  # the platform's throttling answer, whatever the counters say
TIMEOUT_AFTER_COMMIT = "timeout_after_commit"  # apply the write, then raise ReadTimeout
DROP_AFTER_COMMIT = "drop_after_commit"  # apply the write, then RemoteProtocolError
DUPLICATE_DELIVERY = "duplicate_delivery"  # deliver an item already delivered again
TRUNCATE_PAGE = "truncate_page"  # fewer items than asked for, with a next token
MALFORMED = "malformed"  # a 200 whose body is not the platform's JSON
KINDS = (
    SERVER_ERROR,
    CONNECT_ERROR,
    THROTTLE,
    TIMEOUT_AFTER_COMMIT,
    DROP_AFTER_COMMIT,
    DUPLICATE_DELIVERY,
    TRUNCATE_PAGE,
    MALFORMED,
)


class FakeClock:
    """A clock tests move by hand: `clock()` is now, `advance()` moves it on."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def epoch(self) -> int:
        return int(self.now.timestamp())


@dataclass
class Armed:
    kind: str
    route: str
    times: int | None
    probability: float
    skip: int
    options: dict[str, Any]


class Faults:
    """Fault switches per route ("*" for every route): one-shot, n-shot, forever, or random
    with a seeded generator so a failing run can be replayed."""

    def __init__(self, seed: int = 0) -> None:
        self._armed: list[Armed] = []
        self._random = random.Random(seed)

    def arm(
        self,
        kind: str,
        route: str = "*",
        *,
        times: int | None = 1,
        probability: float = 1.0,
        skip: int = 0,
        **options: Any,
    ) -> None:
        """Fire on the matching calls after the first `skip`, `times` times (None: always)."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(KINDS)}")
        self._armed.append(Armed(kind, route, times, probability, skip, options))

    def clear(self) -> None:
        self._armed.clear()

    def take(self, kind: str, route: str) -> dict[str, Any] | None:
        """The options of an armed fault that fires now (consuming one shot), else None."""
        for armed in self._armed:
            if armed.kind != kind or armed.route not in ("*", route):
                continue
            if armed.skip > 0:
                armed.skip -= 1
                continue
            if armed.probability < 1.0 and self._random.random() >= armed.probability:
                continue
            if armed.times is not None:
                armed.times -= 1
                if armed.times <= 0:
                    self._armed.remove(armed)
            return armed.options
        return None


@dataclass
class Logged:
    """One request the fake saw, and what it did with it."""

    method: str
    path: str
    route: str
    params: dict[str, str]
    body: Any
    at: datetime
    outcome: str = ""


@dataclass
class Routed:
    route: str
    handler: Callable[..., httpx.Response]
    args: tuple[str, ...] = ()
    write: bool = False


class FakePlatform:
    """Base of the stateful fakes: `fake(request)` is an httpx.MockTransport handler, and
    `tests.fakes.server.serve(fake)` puts the same object on 127.0.0.1."""

    def __init__(self, clock: FakeClock | None = None, seed: int = 0) -> None:
        self.clock = clock or FakeClock()
        self.faults = Faults(seed)
        self.log: list[Logged] = []
        self.lock = threading.RLock()

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def route(self, request: httpx.Request) -> Routed | None:
        raise NotImplementedError

    def gate(self, routed: Routed, request: httpx.Request) -> httpx.Response | dict[str, str]:
        """Authentication and rate limits before the handler: a refusal, or the headers
        (usage, limits) to add to the handler's answer."""
        return {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            body = _body_of(request)
            routed = self.route(request)
            entry = Logged(
                request.method,
                request.url.path,
                routed.route if routed else "",
                dict(request.url.params),
                body,
                self.clock(),
            )
            self.log.append(entry)
            if routed is None:
                entry.outcome = "404"
                return problem(404, "Not Found", f"no route for {request.method} {entry.path}")
            if self.faults.take(CONNECT_ERROR, routed.route) is not None:
                entry.outcome = CONNECT_ERROR
                raise httpx.ConnectError("fake: connection refused", request=request)
            failure = self.faults.take(SERVER_ERROR, routed.route)
            if failure is not None:
                status = int(failure.get("status", 503))
                entry.outcome = str(status)
                return problem(status, "Service Unavailable", "fake: server error")
            if self.faults.take(MALFORMED, routed.route) is not None:
                entry.outcome = MALFORMED
                return httpx.Response(200, text="<html><body>upstream hiccup</body></html>")
            gated = self.gate(routed, request)
            if isinstance(gated, httpx.Response):
                response = gated
            else:
                response = routed.handler(request, body, *routed.args)
                response.headers.update(gated)
            entry.outcome = str(response.status_code)
            if routed.write and response.status_code < 300:
                if self.faults.take(TIMEOUT_AFTER_COMMIT, routed.route) is not None:
                    entry.outcome = TIMEOUT_AFTER_COMMIT
                    raise httpx.ReadTimeout("fake: timed out after storing", request=request)
                if self.faults.take(DROP_AFTER_COMMIT, routed.route) is not None:
                    entry.outcome = DROP_AFTER_COMMIT
                    raise httpx.RemoteProtocolError(
                        "fake: connection dropped after storing", request=request
                    )
            return response

    def requests_to(self, route: str) -> list[Logged]:
        return [e for e in self.log if e.route == route]


def _body_of(request: httpx.Request) -> Any:
    raw = request.read()
    if not raw:
        return None
    kind = request.headers.get("content-type", "")
    if "json" in kind:
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode("utf-8", "replace")
    if "x-www-form-urlencoded" in kind:
        return dict(httpx.QueryParams(raw.decode("utf-8")))
    return raw.decode("utf-8", "replace")


def problem(status: int, title: str, detail: str, **extra: Any) -> httpx.Response:
    """An RFC 7807 problem answer, as X's v2 errors are shaped."""
    body = {"title": title, "detail": detail, "type": "about:blank", "status": status, **extra}
    return httpx.Response(status, json=body)


class PageTokens:
    """Opaque paging tokens bound to the query they were issued for: a token reused with
    other parameters is refused, as the research asks of a faithful fake."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def _fingerprint(self, params: dict[str, str], ignore: tuple[str, ...]) -> str:
        kept = sorted((k, v) for k, v in params.items() if k not in ignore)
        return hashlib.sha256(f"{self.secret}{kept}".encode()).hexdigest()[:12]

    def issue(self, params: dict[str, str], position: int, ignore: tuple[str, ...]) -> str:
        raw = json.dumps({"f": self._fingerprint(params, ignore), "p": position})
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=") + "ZZZZ"

    def read(self, token: str, params: dict[str, str], ignore: tuple[str, ...]) -> int | None:
        """The position a token stands for, or None when it is foreign or was issued for a
        different query."""
        try:
            padded = token.removesuffix("ZZZZ") + "=" * (-len(token.removesuffix("ZZZZ")) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded))
            position = int(data["p"])
        except (ValueError, KeyError, TypeError):
            return None
        if data.get("f") != self._fingerprint(params, ignore):
            return None
        return position
