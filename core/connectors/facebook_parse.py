"""Meta Graph API answers as models, the error envelope's verdicts, and the messaging window."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any

import httpx
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from frontdesk.core.connectors.errors import (
    AmbiguousOutcome,
    AuthFailed,
    PermanentError,
    RateLimited,
    TransientError,
    WindowClosed,
)
from frontdesk.core.connectors.http import one_line, parse_time

# Throttling codes: app (4), user (17), Page (32), endpoint (613), business use case (8000x).
THROTTLE_CODES = {4, 17, 32, 613, *range(80001, 80010)}
AUTH_CODES = {102, 190}
WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
THROTTLE_FALLBACK = timedelta(minutes=5)


def _graph_time(value: Any) -> Any:
    return parse_time(value) if isinstance(value, str | int | float) else value


GraphTime = Annotated[datetime, BeforeValidator(_graph_time)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class Ref(_Model):
    id: str = Field(min_length=1)
    name: str = ""


class Cursors(_Model):
    before: str | None = None
    after: str | None = None


class Paging(_Model):
    cursors: Cursors | None = None
    next: str | None = None

    @property
    def after(self) -> str | None:
        """The cursor of the next page; only a `next` link says there is one."""
        return self.cursors.after if self.next and self.cursors else None


class Conversation(_Model):
    id: str = Field(min_length=1)
    updated_time: GraphTime


class Recipients(_Model):
    data: list[Ref] = Field(default_factory=list)


class Message(_Model):
    id: str = Field(min_length=1)
    created_time: GraphTime
    sender: Ref | None = Field(default=None, alias="from")
    to: Recipients | None = None
    message: str = ""


class Comment(_Model):
    id: str = Field(min_length=1)
    created_time: GraphTime
    sender: Ref | None = Field(default=None, alias="from")
    message: str = ""
    parent: Ref | None = None
    permalink_url: str | None = None


class FeedPost(_Model):
    id: str = Field(min_length=1)
    updated_time: GraphTime | None = None
    created_time: GraphTime | None = None
    message: str = ""
    sender: Ref | None = Field(default=None, alias="from")
    permalink_url: str | None = None


class ConversationPage(_Model):
    data: list[Conversation] = Field(default_factory=list)
    paging: Paging = Field(default_factory=Paging)


class MessagePage(_Model):
    data: list[Message] = Field(default_factory=list)
    paging: Paging = Field(default_factory=Paging)


class CommentPage(_Model):
    data: list[Comment] = Field(default_factory=list)
    paging: Paging = Field(default_factory=Paging)


class FeedPage(_Model):
    data: list[FeedPost] = Field(default_factory=list)
    paging: Paging = Field(default_factory=Paging)


class Sent(_Model):
    message_id: str = Field(min_length=1)
    recipient_id: str | None = None


class Created(_Model):
    id: str = Field(min_length=1)


class PrivateReplyState(_Model):
    id: str
    can_reply_privately: bool | None = None


class GraphError(_Model):
    message: str = ""
    type: str = ""
    code: int | None = None
    error_subcode: int | None = None


def graph_error(response: httpx.Response) -> GraphError | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    try:
        return GraphError.model_validate(error)
    except ValueError:
        return None


def regain_at(headers: httpx.Headers, now: datetime) -> datetime:
    """When throttling lifts: the longest `estimated_time_to_regain_access` (minutes) in the
    business-use-case usage header, else a cautious default (Meta's windows are rolling)."""
    minutes = 0
    try:
        usage = json.loads(headers.get("x-business-use-case-usage", "{}"))
        for entries in usage.values() if isinstance(usage, dict) else ():
            for entry in entries if isinstance(entries, list) else ():
                if isinstance(entry, dict):
                    minutes = max(minutes, int(entry.get("estimated_time_to_regain_access", 0)))
    except (ValueError, TypeError):
        minutes = 0
    return now + (timedelta(minutes=minutes) if minutes > 0 else THROTTLE_FALLBACK)


def window_open(last_customer_message: datetime, now: datetime, *, human_agent: bool) -> bool:
    """Whether a Page may still message someone, so the workstation can say so before the
    operator writes (the platform has the last word when sending)."""
    return now - last_customer_message <= (HUMAN_AGENT_WINDOW if human_agent else WINDOW)


def window_closed(where: str, *, human_agent: bool) -> WindowClosed:
    """The refusal an operator sees when the Messenger window has closed: why, and what can go."""
    if human_agent:
        reason = "more than 7 days have passed since the customer's last message"
        ways = "only a public reply to one of their comments can reach them now"
    else:
        reason = (
            "Facebook lets a Page message someone only within 24 hours of their last message,"
            " and it has been longer"
        )
        ways = (
            "reply publicly to one of their comments, or wait until they write again"
            " (with Meta's Human Agent permission, set human_agent_tag to answer for 7 days)"
        )
    return WindowClosed(f"{where}: the message cannot go", reason=reason, alternatives=ways)


def judge(
    response: httpx.Response,
    where: str,
    *,
    write: bool,
    now: datetime,
    human_agent: bool = False,
) -> None:
    """Raise the ConnectorError a Graph answer means. Meta signals throttling by error code,
    not reliably by HTTP status (a 403 has carried "(#4) Application request limit")."""
    status = response.status_code
    if status < 300:
        return
    error = graph_error(response)
    code = error.code if error else None
    text = one_line(error.message) if error and error.message else f"HTTP {status}"
    if code in THROTTLE_CODES or status == 429:
        until = regain_at(response.headers, now)
        raise RateLimited(
            f"{where}: Facebook throttles this Page until {until:%H:%M:%S} UTC ({text})",
            reset_at=until,
        )
    if code in AUTH_CODES or status == 401:
        raise AuthFailed(f"{where}: Facebook refused the Page token ({text}); issue a new one")
    if error and code == 10 and error.error_subcode == 2018278:
        raise window_closed(where, human_agent=human_agent)
    if code == 551:
        raise PermanentError(f"{where}: the person cannot be messaged right now ({text})")
    if code in (1, 2) or status >= 500:
        if write:
            raise AmbiguousOutcome(
                f"{where}: Facebook failed ({text}) and may have stored it; read it back first"
            )
        raise TransientError(f"{where}: Facebook is unavailable ({text})")
    raise PermanentError(f"{where}: Facebook refused it ({text})")
