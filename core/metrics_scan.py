"""One ordered pass over the event log up to `until`: the facts the metrics are made of."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, text
from sqlalchemy.orm import Session

from frontdesk.core.clock import as_utc
from frontdesk.core.db import DriverStatement
from frontdesk.core.metrics_model import Change
from frontdesk.core.metrics_time import epoch, from_epoch

# The kinds the metrics read, by the code the scan's SQL turns each into.
KINDS = (
    "message.received",  # 0  a customer's turn starts (or continues)
    "reply.queued",  # 1  the desk answers: the turn ends
    "sla.breached",  # 2  the running clock passed its due time
    "conversation.resolved",  # 3  an episode ends
    "conversation.referred",  # 4  the customer was sent to phone or email
    "follow_up.due",  # 5  a resolved public conversation is open again for its follow-up
    "conversation.created",  # 6
    "conversation.reopened",  # 7
    "approval.requested",  # 8
    "approval.approved",  # 9
    "approval.rejected",  # 10
    "survey.answered",  # 11
    "feedback.change_recorded",  # 12
)
_ACTOR_KINDS = ("reply.queued", "conversation.resolved", "conversation.referred",
                "approval.requested", "feedback.change_recorded")  # fmt: skip
_PAYLOAD_KINDS = ("approval.approved", "approval.rejected", "survey.answered",
                  "feedback.change_recorded")  # fmt: skip
_SIGNOFF = {8: "requested", 9: "approved", 10: "rejected"}
_BATCH = 20_000  # rows fetched at a time: whole batches are faster than row by row
SURVEY_RANGES = {"csat": range(1, 6), "nps": range(11)}


def _quoted(kinds: tuple[str, ...]) -> str:
    return ", ".join(f"'{k}'" for k in kinds)


# Only the history of conversations with an event in the period (and the period's own
# conversation-less events): for a period that is a small part of the log.
_TOUCHED = (
    " AND (conversation_id IN (SELECT conversation_id FROM event"
    " WHERE at >= :since AND at < :until AND conversation_id IS NOT NULL)"
    " OR (conversation_id IS NULL AND at >= :since))"
)


def _scan_sql(epoch_of_at: str, touched: bool) -> str:
    code = " ".join(f"WHEN '{kind}' THEN {i}" for i, kind in enumerate(KINDS))
    return (
        f"SELECT conversation_id, CASE kind {code} END, {epoch_of_at},"
        f" CASE WHEN kind IN ({_quoted(_ACTOR_KINDS)}) THEN actor END,"
        f" CASE WHEN at >= :since AND kind IN ({_quoted(_PAYLOAD_KINDS)}) THEN payload END"
        f" FROM event WHERE at < :until AND kind IN ({_quoted(KINDS)})"
        f"{_TOUCHED if touched else ''} ORDER BY id"
    )


# Whole seconds since 1970, computed by the database so no datetime is built per row.
_EPOCH = {
    "sqlite": "CAST(strftime('%s', at) AS INTEGER)",
    "postgresql": "CAST(FLOOR(EXTRACT(EPOCH FROM at)) AS BIGINT)",
}
_SCANS = {
    (dialect, touched): DriverStatement(_scan_sql(sql, touched))
    for dialect, sql in _EPOCH.items()
    for touched in (False, True)
}
# Conversations open at `since`: those whose last open-or-resolve event before it opened
# them (the fold's state machine ends in the state its last event set). `+ 0` keeps SQLite
# from walking the conversation_id index row by row instead of scanning once.
_OPEN_AT = DriverStatement(
    "SELECT COUNT(*) FROM event WHERE id IN (SELECT MAX(id) FROM event"
    " WHERE at < :since AND conversation_id IS NOT NULL AND kind IN ('conversation.created',"
    " 'conversation.reopened', 'follow_up.due', 'conversation.resolved')"
    " GROUP BY conversation_id + 0) AND kind <> 'conversation.resolved'"
)
_ENDS = text(
    "SELECT (SELECT at FROM event ORDER BY id LIMIT 1) AS first,"
    " (SELECT at FROM event ORDER BY id DESC LIMIT 1) AS last"
).columns(first=DateTime(timezone=True), last=DateTime(timezone=True))
TOUCHED_SHARE = 0.25
"""A period shorter than this share of the log's time span reads only the history of the
conversations it touches (and counts the backlog at `since` in SQL)."""

Turn = tuple[int, int, int | None, str | None, bool, int | None]
"""conversation, asked, answered (None: not yet), by whom, first response?, breached at."""
Episode = tuple[int, int | None, int, str, bool]
"""conversation, started, resolved, by whom, referred to phone or email?"""


@dataclass
class Facts:
    """What happened in [since, until), with the history it needs resolved (epoch seconds)."""

    since: int
    until: int
    turns: list[Turn] = field(default_factory=list)
    """Customer turns answered in the period, or whose clock breached in it."""
    episodes: list[Episode] = field(default_factory=list)
    """Resolutions in the period, each with the start of its episode."""
    created: list[tuple[int, int]] = field(default_factory=list)
    """(conversation, when) of every fact below, in log order."""
    received: list[tuple[int, int]] = field(default_factory=list)
    replies: list[tuple[int, str, int]] = field(default_factory=list)
    referrals: list[tuple[int, str, int]] = field(default_factory=list)
    signoffs: list[tuple[int, str, str, int]] = field(default_factory=list)
    """conversation, requested | approved | rejected, the author of the reply, when."""
    surveys: list[tuple[int, str, int, str | None, int]] = field(default_factory=list)
    """conversation, survey, score, the operator who last resolved it, when (every answer;
    the figures keep each conversation's latest per survey)."""
    first_by: dict[int, tuple[str, int]] = field(default_factory=dict)
    """Who sent each conversation's first reply, and when (any time before `until`)."""
    lifecycle: list[tuple[int, int]] = field(default_factory=list)
    """(when, +1 opened | -1 resolved), every change of open state before `until` (of the
    conversations read)."""
    open_at_since: int | None = None
    """Open conversations at `since` when counted in SQL (not every history was read)."""
    changes: list[Change] = field(default_factory=list)


def scan(session: Session, since: datetime, until: datetime, history: str = "auto") -> Facts:
    """Read the events before `until` in log order and keep what the period needs.

    `history`: "full" reads every conversation's, "touched" only those with an event in
    the period, "auto" picks by the period's share of the log (the figures are the same).
    """
    conn = session.connection()
    if history == "auto":
        history = "touched" if _short(session, since, until) else "full"
    touched = history == "touched"
    params = {"since": since, "until": until}
    cursor = _SCANS[(conn.dialect.name, touched)].run(conn, params)
    facts = Facts(epoch(since), epoch(until))
    _fold(facts, iter(lambda: cursor.fetchmany(_BATCH), []))
    if touched:
        facts.open_at_since = int(_OPEN_AT.run(conn, {"since": since}).fetchone()[0])
    return facts


def _short(session: Session, since: datetime, until: datetime) -> bool:
    first, last = session.connection().execute(_ENDS).one()
    if first is None or last is None or as_utc(first) >= since:
        return False
    return until - since < TOUCHED_SHARE * (as_utc(last) - as_utc(first))


def _fold(facts: Facts, batches: Iterable[Sequence[Any]]) -> None:
    """The pass itself. Per conversation: [asked, replies, breached, episode start, referred,
    last resolver, open, survey answered at]; a turn runs from the first customer message
    after a reply (or the first ever) to the next reply. A survey answer that keeps its
    conversation resolved is logged as survey.answered then message.received at the same
    time without a reopening: that message starts no turn. Most frequent kinds first."""
    since = facts.since
    states: dict[int, list[Any]] = {}
    get_state = states.get
    turn, episode, lifecycle = facts.turns.append, facts.episodes.append, facts.lifecycle.append
    received, first_by, reply = facts.received.append, facts.first_by, facts.replies.append
    for cid, kind, at, actor, payload in itertools.chain.from_iterable(batches):
        st = get_state(cid)
        if st is None:
            if cid is None:
                if kind == 12 and payload is not None:
                    facts.changes.append(_change(at, actor, payload))
                continue
            st = states[cid] = [None, 0, None, None, False, None, False, None]
        if kind == 0:
            if st[7] != at:  # not a survey answer that left its conversation resolved
                if st[0] is None:
                    st[0] = at
                if st[3] is None:
                    st[3] = at
            if at >= since:
                received((cid, at))
        elif kind == 1:
            asked = st[0]
            if asked is not None:
                breached = st[2]
                if at >= since or (breached is not None and breached >= since):
                    turn((cid, asked, at, actor, st[1] == 0, breached))
                st[0] = st[2] = None
            st[1] += 1
            if cid not in first_by:
                first_by[cid] = (actor, at)
            if at >= since:
                reply((cid, actor, at))
        elif kind == 6 or kind == 7 or kind == 5:
            if kind == 6 and at >= since:
                facts.created.append((cid, at))
            elif kind == 7:
                st[7] = None
            elif kind == 5 and st[3] is None:
                st[3] = at
            if not st[6]:
                st[6] = True
                lifecycle((at, 1))
        elif kind == 3:
            if at >= since:
                episode((cid, st[3], at, actor, st[4]))
            if st[0] is not None:  # resolved without a reply: the turn ends unanswered
                if st[2] is not None and st[2] >= since:
                    turn((cid, st[0], None, None, st[1] == 0, st[2]))
                st[0] = st[2] = None
            st[3], st[4], st[5] = None, False, actor
            if st[6]:
                st[6] = False
                lifecycle((at, -1))
        elif kind == 2:
            if st[0] is not None and st[2] is None:
                st[2] = at
        elif kind == 4:
            st[4] = True
            if at >= since:
                facts.referrals.append((cid, actor, at))
        elif kind == 11:
            st[7] = at
            if at >= since:
                _survey(facts, cid, _load(payload), st[5], at)
        elif at < since:
            continue
        elif kind in _SIGNOFF:
            author = actor if kind == 8 else _load(payload).get("author")
            facts.signoffs.append((cid, _SIGNOFF[kind], str(author or ""), at))
        elif kind == 12:
            facts.changes.append(_change(at, actor, payload))
    # Turns still unanswered at `until` whose clock breached in the period.
    for cid, st in states.items():
        if st[0] is not None and st[2] is not None and st[2] >= since:
            turn((cid, st[0], None, None, st[1] == 0, st[2]))


def _load(payload: Any) -> dict[str, Any]:
    """The payload as a dict: SQLite hands JSON back as text, psycopg already parsed."""
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            return {}
    return payload if isinstance(payload, dict) else {}


def _survey(facts: Facts, cid: int, payload: dict[str, Any], operator: str | None, at: int) -> None:
    survey, score = payload.get("survey"), payload.get("score")
    scores = SURVEY_RANGES.get(survey) if isinstance(survey, str) else None
    if scores is None or not isinstance(score, int) or isinstance(score, bool):
        return
    if score in scores:
        assert isinstance(survey, str)
        facts.surveys.append((cid, survey, score, operator, at))


def _change(at: int, actor: str | None, payload: Any) -> Change:
    data = _load(payload)
    ids = data.get("conversations")
    conversations = tuple(i for i in ids if isinstance(i, int)) if isinstance(ids, list) else ()
    return Change(from_epoch(at), actor or "", str(data.get("summary", "")), conversations)
