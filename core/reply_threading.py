"""Email threading of a reply: its "Re:" subject and its References chain (RFC 5322 3.6.4)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from frontdesk.core.models import Conversation, Message

FALLBACK_SUBJECT = "your message"
MAX_REFERENCES = 20
"""Message-IDs a References header keeps: the thread's root and the latest ones, as mail
programs trim long chains (a thread of hundreds must not make a header of kilobytes)."""

# Reply prefixes mail programs add, in English and the common Nordic and German forms, with
# the "Re[2]:" count some add; a reply carries exactly one "Re: ".
_PREFIX = re.compile(r"^(?:re|aw|sv)\s*(?:\[\d+\])?\s*:\s*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Threading:
    """What a reply carries to stay in its thread."""

    subject: str
    references: tuple[str, ...]
    """The reply's References header, oldest first: the parent's chain, then the parent."""


def reply_subject(subject: str | None) -> str:
    """ "Re: " and the subject, whatever reply prefixes it carried already."""
    rest = " ".join((subject or "").split())
    while match := _PREFIX.match(rest):
        rest = rest[match.end() :]
    return f"Re: {rest or FALLBACK_SUBJECT}"


def trim_references(ids: Iterable[str]) -> tuple[str, ...]:
    """Each id once, in order; a long chain keeps its root and its latest ids."""
    unique = tuple(dict.fromkeys(i for i in ids if i))
    if len(unique) <= MAX_REFERENCES:
        return unique
    return (unique[0], *unique[-(MAX_REFERENCES - 1) :])


def for_reply(session: Session, parent: Message) -> Threading:
    """The subject and References of a reply to `parent` (a customer's email).

    RFC 5322: the parent's References followed by its Message-ID; a parent without
    References but with In-Reply-To contributes that id instead. When that id is a message
    we keep (our own reply, say), its stored chain goes first, so a customer whose mail
    program sends only In-Reply-To does not cut the thread short.
    """
    chain = (parent.email_references or "").split()
    if not chain and parent.in_reply_to:
        # Any thread of the same customer: without References the answer may have started a
        # conversation of its own. Never another customer's: that chain is not theirs to see.
        customer = select(Conversation.customer_id).where(Conversation.id == parent.conversation_id)
        ours = session.exec(
            select(Message.email_references)
            .join(Conversation, col(Conversation.id) == Message.conversation_id)
            .where(
                Message.channel == "email",
                Message.external_id == parent.in_reply_to,
                Conversation.customer_id == customer.scalar_subquery(),
            )
        ).first()
        chain = [*(ours or "").split(), parent.in_reply_to]
    subject = parent.subject
    if subject is None:
        # A message ingested without one (by hand, say): the thread's latest subject.
        subject = session.exec(
            select(Message.subject)
            .where(
                Message.conversation_id == parent.conversation_id,
                col(Message.subject).is_not(None),
            )
            .order_by(col(Message.id).desc())
            .limit(1)
        ).first()
    return Threading(reply_subject(subject), trim_references([*chain, str(parent.external_id)]))
