"""The playbook applied to what operators send: the tone check, then sign-off, then the send.

Every reply, from the workstation or the CLI, goes through `send_reply`: a reply with a
blocking finding is refused with the reasons, one that a sign-off rule catches waits for an
approver, and only the rest is recorded and queued for its platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from frontdesk.core import approvals, conversations, crisis
from frontdesk.core.conversations import Thread
from frontdesk.core.errors import InvalidInput
from frontdesk.core.models import Message
from frontdesk.core.models_playbook import Approval
from frontdesk.core.playbook.playbook import Playbook
from frontdesk.core.playbook.tone import Finding, ReplyContext


class ReplyBlocked(InvalidInput):
    """The tone and safety check blocks the reply; the message lists each finding and fix."""

    title = "reply refused"

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        blocking = [f for f in findings if f.blocks]
        parts = [f"{f.rule} at {f.start}-{f.end}: {f.message} (fix: {f.fix})" for f in blocking]
        super().__init__(
            f"the reply breaks {len(blocking)} rule{'s' if len(blocking) > 1 else ''}: "
            + "; ".join(parts)
            + "; your draft is kept"
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of a reply: sent (queued for the platform) or held for sign-off, and the
    warnings it carried."""

    message: Message | None = None
    approval: Approval | None = None
    findings: list[Finding] = field(default_factory=list)


def first_name(thread: Thread) -> str:
    """How replies address the customer: the first word of their name (or handle)."""
    customer = thread.customer
    return (customer.display_name or customer.handle.lstrip("@")).split(" ")[0]


def reply_context(thread: Thread, operator: str) -> ReplyContext:
    """What the tone check needs to know about where a reply goes and to whom."""
    conv, customer = thread.conversation, thread.customer
    name = first_name(thread)
    return ReplyContext(
        channel=conv.channel,
        visibility=conv.visibility,
        customer_name=name,
        customer_handle=customer.handle,
        values={
            "name": name,
            "handle": customer.handle,
            "agent": operator,
            "conversation": str(conv.id),
        },
    )


def check(playbook: Playbook, thread: Thread, operator: str, body: str) -> list[Finding]:
    """The tone and safety findings for a draft in this thread."""
    return playbook.check_reply(body, reply_context(thread, operator))


def send_reply(
    session: Session,
    playbook: Playbook,
    *,
    conversation_id: int,
    operator: str,
    body: str,
    seen_version: int,
    now: datetime,
) -> Outcome:
    """Check, then hold for sign-off or record and queue the reply, in the caller's
    transaction.

    Raises:
        ReplyBlocked: a blocking finding (nothing is stored).
        ClaimConflict, StaleVersion, InvalidInput, NotFound: as for a reply.
    """
    if not body.strip():
        raise InvalidInput("the reply is empty")
    thread = conversations.get_thread(session, conversation_id)
    findings = check(playbook, thread, operator, body)
    if any(f.blocks for f in findings):
        raise ReplyBlocked(findings)
    conv = thread.conversation
    inbound = [m.body for m in thread.messages if m.direction == "inbound"][-3:]
    reasons = playbook.signoff(
        body, category=conv.category, tags=conv.tags, inbound=inbound, crisis=crisis.is_on(session)
    )
    if reasons:
        approval = approvals.submit(
            session,
            conversation_id=conversation_id,
            operator=operator,
            body=body,
            reasons=[r.why for r in reasons],
            seen_version=seen_version,
            now=now,
        )
        return Outcome(approval=approval, findings=findings)
    message = conversations.reply(
        session,
        conversation_id=conversation_id,
        operator=operator,
        body=body,
        seen_version=seen_version,
        now=now,
    )
    return Outcome(message=message, findings=findings)
