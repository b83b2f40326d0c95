"""Ideas and requests heard from customers, grouped by wording and routed to a department.

An operator marks a message as an idea; it joins the most similar open idea (rapidfuzz
token_set_ratio over normalised wording, at or above the configured threshold) or starts a
new one, so the number of customers asking for the same thing is one count. The department
is the operator's choice, or where the playbook's routing rules send the wording.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from frontdesk.core import events, feedback
from frontdesk.core.clock import as_utc
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.models import Conversation, Customer, Message
from frontdesk.core.models_broadcast import Idea, IdeaRequest
from frontdesk.core.playbook.playbook import Playbook
from frontdesk.core.playbook.triage import Inbound

_NOT_WORD = re.compile(r"[^\w]+")


def normalise(text: str) -> str:
    """Lower case, accents and punctuation folded away, one space between words."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", plain).split())


@dataclass(frozen=True, slots=True)
class Added:
    """The idea a request landed in, whether it joined an existing one (and how similar),
    and whether this customer was counted now (False: they had asked already)."""

    idea: Idea
    merged: bool
    score: float
    counted: bool


def department_for(
    playbook: Playbook,
    conv: Conversation | None,
    customer: Customer | None,
    text: str,
    chosen: str | None,
) -> tuple[str, str]:
    """The department and why: the operator's choice, else the playbook's routing."""
    if chosen:
        known = playbook.directory.names()
        if known and chosen not in known:
            raise InvalidInput(
                f"no department {chosen!r} in the escalation directory ({', '.join(known)})"
            )
        return chosen, "chosen by the operator"
    assert conv is not None and customer is not None
    inbound = Inbound(
        text=text,
        channel=conv.channel,
        visibility=conv.visibility,
        author_id=customer.platform_user_id,
        author_handle=customer.handle,
        author_name=customer.display_name,
        followers=customer.followers,
    )
    route = playbook.route(inbound)
    if route.team not in playbook.directory.names():
        # Routing names teams; a digest goes to a department of the directory. A team that
        # is not one keeps the idea visible in the list, and the operator can move it.
        return route.team, f"{route.why} (team {route.team} has no contacts in the directory)"
    return route.team, route.why


def add(
    session: Session,
    playbook: Playbook,
    *,
    conversation_id: int,
    operator: str,
    now: datetime,
    threshold: int,
    text: str | None = None,
    department: str | None = None,
) -> Added:
    """Record that the conversation's customer asks for `text` (default: their latest
    message), in the caller's transaction.

    Raises:
        NotFound: no such conversation.
        InvalidInput: nothing to record (no text and no message from the customer).
    """
    conv = session.get(Conversation, conversation_id)
    if conv is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    customer = session.get(Customer, conv.customer_id)
    assert customer is not None
    latest = session.exec(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.direction == "inbound")
        .order_by(col(Message.id).desc())
        .limit(1)
    ).first()
    wording = (text or (latest.body if latest else "")).strip()
    key = normalise(wording)
    if not key:
        raise InvalidInput("the idea is empty: give its wording (--text)")
    idea, score = _similar(session, key, threshold)
    merged = idea is not None
    if idea is None:
        dept, why = department_for(playbook, conv, customer, wording, department)
        idea = Idea(
            text=wording, normalised=key, department=dept, why=why, created_by=operator,
            created_at=now,
        )  # fmt: skip
        session.add(idea)
        session.flush()
    assert idea.id is not None and customer.id is not None
    asked = session.exec(
        select(IdeaRequest.id).where(
            IdeaRequest.idea_id == idea.id, IdeaRequest.customer_id == customer.id
        )
    ).first()
    counted = asked is None
    if counted:
        try:
            # A savepoint: another operator may count this customer at the same moment
            # (PostgreSQL: the check above could not see it yet); then they are counted.
            with session.begin_nested():
                session.add(
                    IdeaRequest(
                        idea_id=idea.id, customer_id=customer.id,
                        conversation_id=conversation_id,
                        message_id=latest.id if latest else None, channel=conv.channel,
                        text=wording, created_by=operator, created_at=now,
                    )
                )  # fmt: skip
        except IntegrityError:
            counted = False
    events.append(
        session,
        at=now,
        actor=operator,
        kind="idea.merged" if merged else "idea.added",
        conversation_id=conversation_id,
        payload={"idea_id": idea.id, "department": idea.department, "score": round(score, 1)},
    )
    return Added(idea, merged, score, counted)


def _similar(session: Session, key: str, threshold: int) -> tuple[Idea | None, float]:
    """The open idea closest to `key` at or above `threshold`, with its score."""
    open_ideas = list(session.exec(select(Idea).where(Idea.state == "open")))
    if not open_ideas:
        return None, 0.0
    choices = {i: idea.normalised for i, idea in enumerate(open_ideas)}
    best = process.extractOne(key, choices, scorer=fuzz.token_set_ratio, score_cutoff=threshold)
    if best is None:
        return None, 0.0
    _, score, index = best
    return open_ideas[index], float(score)


@dataclass(frozen=True, slots=True)
class IdeaCount:
    """An idea with how many customers asked for it, on which channels."""

    idea: Idea
    customers: int
    channels: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        i = self.idea
        return {
            "id": i.id,
            "text": i.text,
            "department": i.department,
            "why": i.why,
            "state": i.state,
            "customers": self.customers,
            "channels": list(self.channels),
            "created_at": as_utc(i.created_at).isoformat(),
            "done_at": as_utc(i.done_at).isoformat() if i.done_at else None,
            "done_article": i.done_article,
            "broadcast_id": i.broadcast_id,
        }


def counted(
    session: Session, *, state: str | None = "open", department: str | None = None
) -> list[IdeaCount]:
    """Ideas with their customer counts, most asked for first."""
    query = select(Idea)
    if state is not None:
        query = query.where(Idea.state == state)
    if department is not None:
        query = query.where(Idea.department == department)
    ideas = {idea.id: idea for idea in session.exec(query) if idea.id is not None}
    if not ideas:
        return []
    per: dict[int, tuple[int, set[str]]] = {}
    rows = session.exec(
        select(IdeaRequest.idea_id, IdeaRequest.channel, func.count())
        .where(col(IdeaRequest.idea_id).in_(list(ideas)))
        .group_by(col(IdeaRequest.idea_id), col(IdeaRequest.channel))
    )
    for idea_id, channel, n in rows:
        total, channels = per.get(idea_id, (0, set()))
        per[idea_id] = (total + int(n), channels | {channel})
    out = [
        IdeaCount(idea, per.get(i, (0, set()))[0], tuple(sorted(per.get(i, (0, set()))[1])))
        for i, idea in ideas.items()
    ]
    out.sort(key=lambda c: (-c.customers, c.idea.id or 0))
    return out


def requests(session: Session, idea_id: int) -> list[IdeaRequest]:
    return list(
        session.exec(
            select(IdeaRequest).where(IdeaRequest.idea_id == idea_id).order_by(col(IdeaRequest.id))
        )
    )


def mark_done(
    session: Session, idea_id: int, *, operator: str, article: str, now: datetime
) -> tuple[Idea, list[int]]:
    """ "You said, we did": the idea is done; returns it and the conversations to tell.

    Raises:
        NotFound: no such idea.
        InvalidInput: it is done already, with another article.
    """
    idea = session.get(Idea, idea_id)
    if idea is None:
        raise NotFound(f"idea {idea_id} does not exist")
    targets = sorted({r.conversation_id for r in requests(session, idea_id)})
    if idea.state == "done":
        # The same command again (after a crash, say) resumes its broadcast.
        if idea.done_article == article:
            return idea, targets
        raise InvalidInput(f"idea {idea_id} is done already (by {idea.done_by})")
    idea.state, idea.done_by, idea.done_at, idea.done_article = "done", operator, now, article
    session.add(idea)
    session.flush()
    events.append(
        session,
        at=now,
        actor=operator,
        kind="idea.done",
        payload={"idea_id": idea_id, "article": article, "conversations": len(targets)},
    )
    if targets:  # the report's "you said, we did" then lists it with who asked
        summary = f"{idea.text[: feedback.MAX_SUMMARY - 40]} (done: {article})"
        feedback.record(session, summary=summary, conversations=targets, by=operator, now=now)
    return idea, targets


def move(
    session: Session, idea_id: int, *, department: str, playbook: Playbook, operator: str,
    now: datetime,
) -> Idea:  # fmt: skip
    """Give an idea to another department of the directory (routing guessed wrong).

    Raises:
        NotFound: no such idea. InvalidInput: no such department.
    """
    idea = session.get(Idea, idea_id)
    if idea is None:
        raise NotFound(f"idea {idea_id} does not exist")
    before = idea.department
    idea.department, idea.why = department_for(playbook, None, None, "", department)
    session.add(idea)
    session.flush()
    events.append(
        session,
        at=now,
        actor=operator,
        kind="idea.moved",
        payload={"idea_id": idea_id, "from": before, "to": department},
    )
    return idea
