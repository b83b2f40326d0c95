"""Email in and out: MIME parsed into ingest messages, replies built with RFC 5322 threading."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from frontdesk.core.connectors.base import Reply, make_inbound
from frontdesk.core.ingest import InboundMessage
from frontdesk.core.reply_threading import reply_subject, trim_references

MSGID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    """What the connector needs from one message."""

    message_id: str
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str
    sender: str
    sender_name: str
    date: datetime
    text: str

    @property
    def thread_root(self) -> str:
        """The first message of the thread, as References records it (RFC 5322 3.6.4)."""
        if self.references:
            return self.references[0]
        return self.in_reply_to or self.message_id


class _Text(HTMLParser):
    """Visible text of an HTML body: enough for a queue preview and an operator's read."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._hidden += 1
        elif tag in ("br", "p", "div", "li", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _Text()
    parser.feed(markup)
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _ids(value: str | None) -> tuple[str, ...]:
    return tuple(MSGID.findall(value or ""))


def _bounded(message_id: str) -> str:
    # Ingest keys are at most 255 characters; a longer id keeps its identity as a digest.
    if len(message_id) <= 255:
        return message_id
    return f"<sha256.{hashlib.sha256(message_id.encode()).hexdigest()}@frontdesk.invalid>"


def parse_email(raw: bytes, *, received: datetime) -> ParsedEmail:
    """A raw RFC 5322 message. `received` (the server's INTERNALDATE) stands in for a
    missing or unreadable Date header."""
    msg = message_from_bytes(raw, policy=policy.default)
    subject = str(msg.get("subject", "") or "")
    addresses = getaddresses([str(msg.get("from", "") or "")])
    name, address = addresses[0] if addresses else ("", "")
    text = _body(msg)
    try:
        date = parsedate_to_datetime(str(msg["date"])) if msg["date"] else received
    except (TypeError, ValueError):
        date = received
    date = date.replace(tzinfo=UTC) if date.tzinfo is None else date.astimezone(UTC)
    found = _ids(str(msg.get("message-id", "") or ""))
    if found:
        message_id = found[0]
    else:
        # No Message-ID: the same message must still get the same key on every poll.
        digest = hashlib.sha256(
            "\x00".join([str(msg.get("date", "")), address, subject, text]).encode()
        ).hexdigest()[:32]
        message_id = f"<{digest}@frontdesk.invalid>"
    replied = _ids(str(msg.get("in-reply-to", "") or ""))
    return ParsedEmail(
        message_id=_bounded(message_id),
        in_reply_to=_bounded(replied[0]) if replied else None,
        references=tuple(_bounded(r) for r in _ids(str(msg.get("references", "") or ""))),
        subject=subject,
        sender=address.strip().lower(),
        sender_name=name,
        date=date,
        text=text,
    )


def _body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):
        # An unknown or lying charset: keep what can be read rather than drop the mail.
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    # Mail travels with CRLF line ends; the queue stores plain newlines.
    content = content.replace("\r\n", "\n")
    if part.get_content_type() == "text/html":
        return html_to_text(content)
    return content.strip("\n")


def inbound_message(mail: ParsedEmail, where: str) -> InboundMessage:
    """An email as ingest takes it: one thread per References root, one customer per address."""
    return make_inbound(
        f"{where}: message {mail.message_id}",
        channel="email",
        external_id=mail.message_id,
        text=mail.text,
        created_at=mail.date,
        author={"id": mail.sender, "handle": mail.sender, "name": mail.sender_name},
        thread_id=mail.thread_root,
        visibility="private",
        in_reply_to=mail.in_reply_to,
        # Kept for the reply: "Re: <subject>", and References extending this chain.
        subject=" ".join(mail.subject.split())[:998] or None,
        references=list(trim_references(mail.references)),
    )


def reply_message_id(key: str, domain: str) -> str:
    """The Message-ID of an outbox row: derived from its key, so a resend after an ambiguous
    outcome carries the same id and the recipient's mail program sees one message."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<frontdesk.{digest}@{domain}>"


def build_reply(
    reply: Reply, *, address: str, display_name: str, domain: str, now: datetime
) -> EmailMessage:
    """A plain-text reply threaded under `reply.in_reply_to` (In-Reply-To, References), or
    a message that answers no mail (an ideas digest) under its own subject."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = formataddr((display_name, address)) if display_name else address
    msg["To"] = str(reply.recipient)
    own = " ".join((reply.subject or "").split())
    msg["Subject"] = own if own and not reply.in_reply_to else reply_subject(reply.subject)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = reply_message_id(reply.key, domain)
    if reply.in_reply_to:
        msg["In-Reply-To"] = reply.in_reply_to
        msg["References"] = " ".join(trim_references([*reply.references, reply.in_reply_to]))
    msg.set_content(reply.text)
    return msg
