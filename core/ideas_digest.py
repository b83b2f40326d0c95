"""A department's digest of open ideas for its key contacts, printed or emailed via the outbox.

The escalation directory names each department's contacts; those whose `reach` holds an
email address get the digest through the email channel's outbox, like any reply. Each sent
digest is an email conversation with the contact, created resolved so it never enters the
queue, which gives the outbox row its message and thread (a contact's answer lands there).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from frontdesk.core import events, ideas, outbox
from frontdesk.core.errors import InvalidInput
from frontdesk.core.models import Conversation, Customer, Message
from frontdesk.core.models_channels import OutboxItem
from frontdesk.core.playbook.playbook import Playbook

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass(frozen=True, slots=True)
class Recipient:
    """A key contact and the address the digest goes to (None: no email address known)."""

    name: str
    reach: str
    email: str | None


@dataclass(frozen=True, slots=True)
class Digest:
    department: str
    subject: str
    body: str
    recipients: tuple[Recipient, ...]
    ideas: int


def recipients(playbook: Playbook, department: str, now: datetime) -> tuple[Recipient, ...]:
    """The department's primary and backup contacts. Raises NotFound for an unknown one."""
    found = playbook.escalation(department, now)
    out = []
    for contact in (found.primary, found.backup):
        if contact is not None:
            email = _EMAIL.search(contact.reach)
            out.append(Recipient(contact.name, contact.reach, email.group(0) if email else None))
    return tuple(out)


def build(session: Session, playbook: Playbook, department: str, *, now: datetime) -> Digest:
    """The digest text: every open idea of the department, most asked for first."""
    people = recipients(playbook, department, now)
    rows = ideas.counted(session, state="open", department=department)
    subject = f"Ideas and requests from customers: {department}, {now:%d %b %Y}"
    names = " and ".join(r.name for r in people)
    lines = [f"Hello {names},", ""]
    if rows:
        total = sum(r.customers for r in rows)
        lines.append(
            f"{len(rows)} idea{'s' if len(rows) != 1 else ''} and request"
            f"{'s' if len(rows) != 1 else ''} from {total} customer{'s' if total != 1 else ''}"
            " are open for you, most asked for first:"
        )
        lines.append("")
        for row in rows:
            channels = ", ".join(row.channels)
            noun = "customer" if row.customers == 1 else "customers"
            lines.append(f"#{row.idea.id}  {row.customers} {noun} ({channels}): {row.idea.text}")
    else:
        lines.append("No open ideas or requests for you this time.")
    lines += [
        "",
        "When one is done, tell us and we will let every customer who asked know.",
        "Customer care",
    ]
    return Digest(department, subject, "\n".join(lines), people, len(rows))


def send(session: Session, digest: Digest, *, operator: str, now: datetime) -> list[OutboxItem]:
    """Queue the digest to every contact with an email address, in the caller's transaction.

    Raises:
        InvalidInput: no open ideas, or no contact of the department has an email address.
    """
    if not digest.ideas:
        raise InvalidInput(f"no open ideas for {digest.department}: nothing to send")
    targets = [r for r in digest.recipients if r.email]
    if not targets:
        raise InvalidInput(
            f"no key contact of {digest.department} has an email address in the escalation"
            " directory; add one to `reach`, or print the digest and pass it on"
        )
    items = []
    for person in targets:
        assert person.email is not None
        conv = _conversation(session, person, now)
        assert conv.id is not None
        message = Message(
            conversation_id=conv.id, channel="email", direction="outbound", author=operator,
            body=digest.body, subject=digest.subject, created_at=now, recorded_at=now,
        )  # fmt: skip
        session.add(message)
        session.flush()
        item = outbox.enqueue(session, message=message, conversation=conv)
        item.subject = message.subject = digest.subject
        session.add_all([item, message])
        session.flush()
        events.append(
            session,
            at=now,
            actor=operator,
            kind="ideas.digest_queued",
            conversation_id=conv.id,
            payload={"department": digest.department, "to": person.email, "outbox_id": item.id},
        )
        items.append(item)
    return items


def _conversation(session: Session, person: Recipient, now: datetime) -> Conversation:
    """A new resolved email conversation with the contact (their customer row reused)."""
    assert person.email is not None
    customer = session.exec(
        select(Customer).where(
            Customer.channel == "email", Customer.platform_user_id == person.email
        )
    ).first()
    if customer is None:
        customer = Customer(
            channel="email", platform_user_id=person.email, handle=person.email,
            display_name=person.name, created_at=now,
        )  # fmt: skip
        session.add(customer)
        session.flush()
    assert customer.id is not None
    conv = Conversation(
        channel="email", visibility="private", thread_key=f"digest:{uuid.uuid4().hex}",
        customer_id=customer.id, status="resolved", resolved_at=now, message_count=1,
        last_message_at=now, preview=f"ideas digest to {person.name}", created_at=now,
        updated_at=now,
    )  # fmt: skip
    session.add(conv)
    session.flush()
    return conv
