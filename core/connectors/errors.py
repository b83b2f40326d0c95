"""The connectors' one error hierarchy: each failure has a title, a message and a retry rule."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from frontdesk.core.errors import FrontdeskError


class ConnectorError(FrontdeskError):
    """A platform call failed; the message is one line naming the account, call and reason."""

    title = "channel error"
    retryable = False
    """Whether sending the same request again later is known to be safe."""


class RateLimited(ConnectorError):
    """The platform throttles this account; nothing may be sent to it before `reset_at`."""

    title = "rate limited"
    retryable = True

    def __init__(self, message: str, *, reset_at: datetime, title: str | None = None) -> None:
        super().__init__(message, title=title)
        self.reset_at = reset_at


class AuthFailed(ConnectorError):
    """The credentials were refused or could not be read; an administrator must act."""

    title = "channel sign-in failed"


class TransientError(ConnectorError):
    """The request certainly did not take effect (refused connection, 5xx on a read)."""

    title = "channel unavailable"
    retryable = True


class AmbiguousOutcome(ConnectorError):
    """A write may or may not have been stored (timeout after sending); read back first."""

    title = "send outcome unknown"


class PermanentError(ConnectorError):
    """The platform refused the request for a reason that retrying will not change."""

    title = "refused by the platform"


class Unsupported(PermanentError):
    """The connector says it can do something (posts, search) that it does not implement:
    a bug in that connector, refused before any request."""

    title = "not supported by the connector"

    @classmethod
    def claimed(cls, connector: Any, what: str) -> Unsupported:
        return cls(
            f"{connector.name}: the {type(connector).__name__} connector claims {what} in its"
            " capabilities but does not implement it (a bug in the connector)"
        )


class WindowClosed(PermanentError):
    """A private message outside the platform's messaging window: why, and what can go."""

    title = "messaging window closed"

    def __init__(self, message: str, *, reason: str, alternatives: str) -> None:
        super().__init__(f"{message}: {reason}; {alternatives}")
        self.reason = reason
        self.alternatives = alternatives


class MalformedResponse(ConnectorError):
    """The platform answered with something the connector cannot read (a shape it did not
    expect); the message names the call and the field."""

    title = "unexpected platform response"
