"""What ingest accepts: the inbound message schema, parsing one line, and the thread rule."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError


class Author(BaseModel):
    """Who wrote an inbound message, as the platform names them."""

    model_config = ConfigDict(extra="ignore", strict=True)

    id: str = Field(min_length=1, max_length=255)
    handle: str = Field(default="", max_length=255)
    name: str = Field(default="", max_length=255)
    followers: int | None = Field(default=None, ge=0)


class InboundMessage(BaseModel):
    """One line of `frontdesk ingest` input."""

    model_config = ConfigDict(extra="ignore", strict=True)

    channel: Literal["x", "facebook", "email"]
    external_id: str = Field(min_length=1, max_length=255)
    text: str
    created_at: AwareDatetime = Field(strict=False)
    author: Author
    thread_id: str | None = Field(default=None, min_length=1, max_length=255)
    visibility: Literal["public", "private"] = "public"
    in_reply_to: str | None = Field(default=None, max_length=255)
    url: str | None = None
    subject: str | None = Field(default=None, max_length=998)
    """Email: the Subject header, so a reply can answer "Re: <subject>" (998: RFC 5322's
    line limit)."""
    references: list[Annotated[str, Field(min_length=1, max_length=255)]] = Field(
        default_factory=list, max_length=100
    )
    """Email: the References header's Message-IDs, oldest first, so a reply extends them."""
    tags: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=20
    )
    """Tags a new conversation starts with besides the playbook's (a listening stream's
    `stream:NAME` and the stream's own tags)."""


def parse_line(line: str | bytes) -> InboundMessage:
    """Validate one JSON line; raises ValueError with a one-line reason."""
    try:
        return InboundMessage.model_validate_json(line)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        if first["type"] == "json_invalid":
            raise ValueError(f"invalid JSON: {first['ctx'].get('error', first['msg'])}") from None
        reason = first["msg"][0].lower() + first["msg"][1:]
        raise ValueError(f"{where}: {reason}" if where else reason) from None


def thread_key(msg: InboundMessage, known: dict[tuple[str, str], str]) -> str:
    """Which thread a message belongs to.

    An explicit thread_id wins. Private messages form one thread per author. A public
    message joins the thread of the post it replies to when frontdesk knows that post,
    and otherwise starts a thread of its own (its root is itself).
    """
    if msg.thread_id:
        return msg.thread_id
    if msg.visibility == "private":
        return dm_thread_key(msg.author.id)
    if msg.in_reply_to and (msg.channel, msg.in_reply_to) in known:
        return known[(msg.channel, msg.in_reply_to)]
    return msg.external_id


def dm_thread_key(author_id: str) -> str:
    """The thread of a customer's one-to-one private messages on X or Facebook (whose
    connectors send no thread_id for them). Email has no such key: every mail names its
    thread by its References root, which is not known before the first mail goes."""
    return f"dm:{author_id}"
