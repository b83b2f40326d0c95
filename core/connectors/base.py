"""The connector contract: fetch after a cursor, send replies, capabilities and rate-limit state."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import ValidationError

from frontdesk.core.clock import utcnow
from frontdesk.core.connectors.errors import (
    AmbiguousOutcome,
    AuthFailed,
    ConnectorError,
    MalformedResponse,
    PermanentError,
    RateLimited,
    TransientError,
    Unsupported,
    WindowClosed,
)
from frontdesk.core.ingest import InboundMessage

__all__ = [
    "PAGE_CAP",
    "READBACK_SLACK",
    "AmbiguousOutcome",
    "AuthFailed",
    "Capabilities",
    "Clock",
    "Connector",
    "ConnectorError",
    "FetchResult",
    "MalformedResponse",
    "PermanentError",
    "RateLimited",
    "RateWindow",
    "Reply",
    "SearchResult",
    "SendReceipt",
    "SentRecord",
    "TransientError",
    "Unsupported",
    "WindowClosed",
    "make_inbound",
    "posted_since",
]

Clock = Callable[[], datetime]
"""Returns the current time, aware UTC; tests pass a fake one."""

PAGE_CAP = 200
"""Pages one poll may read to catch up with a stored cursor: a safety net, not a budget (a
poll that stops short of its cursor must not move it, so it would start over each time)."""

READBACK_SLACK = timedelta(minutes=2)
"""How much older than `Reply.not_before` a platform's item may look and still be the one
we sent: platforms give times to the second, and their clocks are not ours."""


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a channel can do, so the workstation offers only what will go."""

    private_messages: bool
    comments: bool
    """Public replies to the customer's post or comment."""
    private_replies_to_comments: bool
    """A private message answering a public comment (Facebook allows one per comment)."""
    max_length: int | None
    """Longest reply text, as the platform counts it; None when there is no practical limit."""
    posts: bool = False
    """Publishes posts that answer nobody (scheduled posts): `publish_post`, `find_published`."""
    max_post_length: int | None = None
    """Longest post text, as the platform counts it; None when there is no practical limit."""
    search: bool = False
    """Runs saved searches of public posts (listening streams): `search`."""


@dataclass(frozen=True, slots=True)
class Reply:
    """One outgoing message as the outbox hands it to a connector."""

    text: str
    key: str
    """The outbox row's stable idempotency key; a resend of the same row passes the same key."""
    in_reply_to: str | None = None
    """External id of the message answered (post, comment, direct message, email Message-ID)."""
    recipient: str | None = None
    """Platform user id, page-scoped id or email address, for a private message."""
    subject: str | None = None
    references: tuple[str, ...] = ()
    """Email only: the References chain to carry, oldest first (the parent's id is added
    when it is not there)."""
    not_before: datetime | None = None
    """Reading back only: the platform's items older than this are not this message, however
    alike (a Page may post the same text every week)."""


@dataclass(frozen=True, slots=True)
class SendReceipt:
    """What the platform stored for a sent reply."""

    external_id: str
    sent_at: datetime
    url: str | None = None
    warning: str | None = None
    """Set when the reply went but something after it did not (e.g. no copy in Sent)."""


@dataclass(frozen=True, slots=True)
class SentRecord:
    """A message our own account wrote, seen while reading the platform back."""

    external_id: str
    text: str
    created_at: datetime
    in_reply_to: str | None = None
    recipient: str | None = None


@dataclass(slots=True)
class FetchResult:
    """New items after a cursor; store `cursor` only after `messages` are committed."""

    messages: list[InboundMessage]
    cursor: str | None
    sent: list[SentRecord] = field(default_factory=list)
    problems: list[ConnectorError] = field(default_factory=list)
    """Streams of this account that failed this time (say DMs throttled while mentions were
    read); their part of the cursor did not move. When every stream fails, fetch raises."""


@dataclass(slots=True)
class SearchResult:
    """A saved search's matches after its cursor; store `cursor` once they are committed."""

    messages: list[InboundMessage]
    cursor: str | None
    partial: bool = False
    """Stopped short of the cursor (it stays put): the next run reads these matches again."""


@dataclass(frozen=True, slots=True)
class RateWindow:
    """The last rate-limit state a platform reported for one endpoint."""

    limit: int | None
    remaining: int | None
    reset_at: datetime | None
    blocked_until: datetime | None = None
    """Set after a throttled call: no request goes to this endpoint before then."""


class Connector(ABC):
    """One configured account on one platform. Calls block; run them in a worker thread.

    A connector never sleeps: when the platform throttles it raises RateLimited with the
    reset time, and every later call to that endpoint raises again without a request until
    the (injected) clock passes it.
    """

    channel: str = ""
    """The registry name of the connector type."""

    def __init__(self, name: str, *, clock: Clock = utcnow) -> None:
        self.name = name
        self.clock = clock
        self.rate_limits: dict[str, RateWindow] = {}

    @property
    @abstractmethod
    def capabilities(self) -> Capabilities:
        """What this account can send."""

    @abstractmethod
    def fetch(self, cursor: str | None) -> FetchResult:
        """Everything new since `cursor` (None: first run), and the cursor to store after."""

    def send_public_reply(self, reply: Reply) -> SendReceipt:
        """Answer the post or comment `reply.in_reply_to` in public."""
        if not self.capabilities.comments:
            raise PermanentError(f"{self.name}: this channel cannot send public replies")
        if not reply.in_reply_to:
            raise PermanentError(f"{self.name}: a public reply needs the id of what it answers")
        self.check_length(reply.text)
        return self._send_public(reply)

    def send_private_message(self, reply: Reply) -> SendReceipt:
        """Message `reply.recipient` privately; without a recipient, answer the comment
        `reply.in_reply_to` privately (where the platform allows that)."""
        caps = self.capabilities
        if reply.recipient is None:
            if not (caps.private_replies_to_comments and reply.in_reply_to):
                raise PermanentError(f"{self.name}: a private message needs a recipient")
        elif not caps.private_messages:
            raise PermanentError(f"{self.name}: this channel cannot send private messages")
        self.check_length(reply.text)
        return self._send_private(reply)

    def publish_post(self, post: Reply) -> SendReceipt:
        """Publish `post.text` as a post of the account's own, answering nobody."""
        caps = self.capabilities
        if not caps.posts:
            raise PermanentError(
                f"{self.name}: {self.channel} accounts cannot publish posts", title="cannot post"
            )
        self._check_text(post.text, caps.max_post_length, "post")
        return self._publish(post)

    def find_published(self, post: Reply) -> SendReceipt | None:
        """Read the platform back: the receipt of `post` if it was published, else None.

        Called before publishing again a post whose outcome was ambiguous, so it never goes
        out twice.
        """
        if not self.capabilities.posts:
            return None
        return self._find_published(post)

    def search(self, query: str, cursor: str | None) -> SearchResult:
        """Public posts matching `query` (platform syntax) after `cursor` (None: a first run)."""
        if not self.capabilities.search:
            raise PermanentError(f"{self.name}: {self.channel} accounts cannot search")
        return self._search_posts(query, cursor)

    @abstractmethod
    def find_sent(self, reply: Reply, *, private: bool) -> SendReceipt | None:
        """Read the platform back: the receipt of `reply` if it was stored, else None.

        Called before resending a reply whose outcome was ambiguous, so a customer never
        receives it twice.
        """

    def text_length(self, text: str) -> int:
        """Length as the platform counts it."""
        return len(text)

    def check_length(self, text: str) -> None:
        """Refuse, before any request, a reply the platform would refuse for its length."""
        self._check_text(text, self.capabilities.max_length, "reply")

    def _check_text(self, text: str, limit: int | None, what: str) -> None:
        if not text.strip():
            raise PermanentError(f"{self.name}: the {what} is empty")
        length = self.text_length(text)
        if limit is not None and length > limit:
            raise PermanentError(
                f"{self.name}: the {what} is {length} characters as the platform counts them;"
                f" the limit is {limit}",
                title=f"{what} too long",
            )

    def check_gate(self, endpoint: str) -> None:
        """Raise RateLimited, without any request, while `endpoint` is known to be throttled."""
        window = self.rate_limits.get(endpoint)
        if window is None:
            return
        now = self.clock()
        until = window.blocked_until
        if until is None and window.remaining == 0 and window.reset_at is not None:
            until = window.reset_at
        if until is not None and until > now:
            raise RateLimited(
                f"{self.name}: rate-limited on {endpoint} until {until:%H:%M:%S} UTC",
                reset_at=until,
            )

    def close(self) -> None:  # noqa: B027 - optional hook: most connectors hold nothing
        """Release connections; the default holds none."""

    @abstractmethod
    def _send_public(self, reply: Reply) -> SendReceipt: ...

    @abstractmethod
    def _send_private(self, reply: Reply) -> SendReceipt: ...

    # Only connectors whose capabilities say `posts` are asked for these, and such a
    # connector must offer both: a post it cannot read back could go out twice. One that
    # claims a capability without its method fails inside the error hierarchy, so sync
    # reports one line for the account instead of a traceback.
    def _publish(self, post: Reply) -> SendReceipt:
        raise Unsupported.claimed(self, "publishing posts")

    def _find_published(self, post: Reply) -> SendReceipt | None:
        raise Unsupported.claimed(self, "reading its posts back")

    def _search_posts(self, query: str, cursor: str | None) -> SearchResult:
        raise Unsupported.claimed(self, "searching")


def make_inbound(where: str, **fields: object) -> InboundMessage:
    """An ingest message from a connector's parse, or MalformedResponse naming the bad field."""
    try:
        return InboundMessage.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "message"
        raise MalformedResponse(f"{where}: {loc}: {first['msg']}") from None


def posted_since(created: datetime | None, reply: Reply) -> bool:
    """Whether an item the platform dated `created` can be `reply` (see `Reply.not_before`)."""
    if reply.not_before is None or created is None:
        return True
    return created >= reply.not_before - READBACK_SLACK
