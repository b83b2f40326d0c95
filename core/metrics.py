"""Metrics from the event log: `compute(session, since, until, by, playbook) -> Report`.

Every figure is derived from the `event` table, read in log (id) order, joined to
conversation rows for channel, team, category and tags as they are now, so a report can be
reproduced and audited. Times are whole seconds. Definitions, for [since, until):

- conversations: created in the period; messages_in: customer messages received in it;
  replies: replies queued in it; handled: conversations that got one of those replies.
- A customer's *turn* runs from their first message after the desk's last reply (or their
  first message ever) to the next reply; a resolution without a reply ends it unanswered.
  A survey answer that leaves its conversation resolved starts no turn. A response counts
  in the period of its reply: *first response* for the turn before any reply, *next
  response* after. Wall-clock seconds, and business seconds: the time the conversation's
  team calendar (the playbook's, the one its SLA clocks run on) was open in between.
- SLA: a turn answered in the period with no `sla.breached` event during it is *met*; an
  `sla.breached` event in the period is *breached* (once per turn, answered or not).
  Compliance = met / (met + breached). Every turn counts once, in one period: met when
  answered, breached when it breached. Breaches outside a customer turn are not counted.
- resolution: a `conversation.resolved` in the period; its time runs from the first
  customer message of the episode (since the previous resolution) or the follow-up that
  reopened it. In channel: no `conversation.referred` (to phone or email) in the episode
  (logged before its resolution).
- praise / complaints: conversations of that category created in the period; answered:
  they got a reply before `until`.
- CSAT (1-5) and NPS (0-10): `survey.answered` events in the period, the latest answer per
  conversation and survey; NPS = % promoters (9-10) minus % detractors (0-6).
- backlog: conversations open (created, reopened or follow-up due, and not resolved since)
  at the end of each hour (periods up to 2 days), day (up to 366 days) or week, from
  `since`. A private conversation split off a public one has no creation event and is
  not in it until it is reopened.
- by operator: replies, responses and met clocks go to whoever replied, a breach to whoever
  answered the turn (else "-"), resolutions and referrals to whoever recorded them,
  sign-offs to the reply's author, surveys to whoever last resolved the conversation,
  praise and complaints to the first replier; the rest (new conversations, messages) to "-".
  By tag, a conversation with several tags counts in each; "-" holds the untagged.

`core/metrics_series.py` gives the same totals step by step (for charts) from one read.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from frontdesk.core.clock import as_utc
from frontdesk.core.errors import InvalidInput
from frontdesk.core.metrics_groups import (
    COMPLAINT,
    PRAISE,
    VERDICTS,
    Attributes,
    Column,
    ConversationCodes,
    attributes,
    figures,
    group,
)
from frontdesk.core.metrics_model import GROUPINGS, BacklogPoint, Report
from frontdesk.core.metrics_scan import Facts, scan
from frontdesk.core.metrics_time import BusinessClock, from_epoch
from frontdesk.core.playbook.calendar import Calendar
from frontdesk.core.playbook.playbook import Playbook

__all__ = ["GROUPINGS", "Report", "compute"]

_BUCKETS = (("hour", 3600, 2 * 86400), ("day", 86400, 366 * 86400), ("week", 7 * 86400, None))


def compute(
    session: Session,
    since: datetime,
    until: datetime,
    by: str | None = None,
    playbook: Playbook | None = None,
) -> Report:
    """The figures for [since, until), for the whole desk and per group of `by`.

    Raises:
        InvalidInput: `until` is not after `since`, or `by` is not a grouping.
    """
    since, until = as_utc(since), as_utc(until)
    if until <= since:
        raise InvalidInput(
            f"the period is empty: {until.isoformat()} is not after {since.isoformat()}"
        )
    if by is not None and by not in GROUPINGS:
        raise InvalidInput(f"cannot group by {by!r} (choose from {', '.join(GROUPINGS)})")
    facts = scan(session, since, until)
    attrs = attributes(session, conversations_of(facts), tags=by == "tag")
    columns = columns_of(facts, attrs, playbook or Playbook())
    groups = group(columns, by, attrs) if by is not None else {}
    bucket, points = _backlog(facts)
    return Report(
        since=since,
        until=until,
        by=by,
        total=figures(columns, {}),
        groups={key: figures(columns, groups[key]) for key in sorted(groups)},
        backlog=points,
        bucket=bucket,
        changes=facts.changes,
    )


def conversations_of(facts: Facts) -> set[int]:
    """Every conversation a fact of the period belongs to."""
    ids = {t[0] for t in facts.turns} | {e[0] for e in facts.episodes}
    for rows in (facts.created, facts.received, facts.replies, facts.referrals,
                 facts.signoffs, facts.surveys):  # fmt: skip
        ids.update(row[0] for row in rows)
    return ids


def _ints(values: list[int] | list[bool]) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def _flags(values: list[bool]) -> np.ndarray:
    return np.array(values, dtype=np.bool_)


def columns_of(facts: Facts, attrs: dict[int, Attributes], playbook: Playbook) -> dict[str, Column]:
    """Every fact of the period as a row of its column, durations worked out."""
    since, until = facts.since, facts.until
    calendars = _calendars(playbook, attrs)
    topics = [
        (cid, attrs[cid].category == PRAISE)
        for cid, _ in facts.created
        if cid in attrs and attrs[cid].category in (PRAISE, COMPLAINT)
    ]
    topic_ids = [cid for cid, _ in topics]
    first_by = {cid: facts.first_by.get(cid, ("", until)) for cid in topic_ids}
    received = list(Counter(cid for cid, _ in facts.received).items())
    replies = facts.replies
    answered = [t for t in facts.turns if t[2] is not None and since <= t[2] < until]
    breaches = [t for t in facts.turns if t[5] is not None and since <= t[5] < until]
    starts = _ints([t[1] for t in answered])
    ends = _ints([t[2] or 0 for t in answered])  # every one was answered
    episodes = facts.episodes
    timed = _flags([e[1] is not None for e in episodes])
    began = _ints([e[1] if e[1] is not None else e[2] for e in episodes])
    resolved = _ints([e[2] for e in episodes])
    # The latest answer of each conversation to each survey.
    surveys = list({(row[0], row[1]): row for row in facts.surveys}.values())
    return {
        "created": Column([c[0] for c in facts.created], [None] * len(facts.created)),
        "topics": Column(topic_ids, [first_by[cid][0] or None for cid in topic_ids], {
            "praise": _flags([p for _, p in topics]),
            "answered": _flags([first_by[cid][1] < until for cid in topic_ids]),
        }),
        "received": Column([r[0] for r in received], [None] * len(received),
                           {"count": _ints([r[1] for r in received])}),
        "replies": Column([r[0] for r in replies], [r[1] for r in replies],
                          {"cid": _ints([r[0] for r in replies])}),
        "responses": Column([t[0] for t in answered], [t[3] for t in answered], {
            "first": _flags([t[4] for t in answered]),
            "met": _flags([t[5] is None for t in answered]),
            "wall": ends - starts,
            "business": _business(calendars, [t[0] for t in answered], starts, ends),
        }),
        "breaches": Column([t[0] for t in breaches], [t[3] for t in breaches]),
        "resolutions": Column([e[0] for e in episodes], [e[3] for e in episodes], {
            "timed": timed,
            "referred": _flags([e[4] for e in episodes]),
            "wall": resolved - began,
            "business": _business(calendars, [e[0] for e in episodes], began, resolved),
        }),
        "referrals": Column([r[0] for r in facts.referrals], [r[1] for r in facts.referrals]),
        "signoffs": Column([s[0] for s in facts.signoffs], [s[2] or None for s in facts.signoffs],
                           {"verdict": _ints([VERDICTS.index(s[1]) for s in facts.signoffs])}),
        "surveys": Column([s[0] for s in surveys], [s[3] for s in surveys], {
            "nps": _flags([s[1] == "nps" for s in surveys]),
            "score": _ints([s[2] for s in surveys]),
        }),
    }  # fmt: skip


def _business(
    calendars: tuple[ConversationCodes, list[Calendar]],
    cids: list[int],
    starts: np.ndarray,
    ends: np.ndarray,
) -> np.ndarray:
    """Open seconds between each start and end on the conversation's team calendar."""
    lookup, found = calendars
    result = np.zeros(len(cids), dtype=np.int64)
    codes = lookup.codes(cids)
    for code in np.unique(codes):
        index = np.flatnonzero(codes == code)
        low, high = int(starts[index].min()), int(ends[index].max())
        clock = BusinessClock(found[int(code)], low, high)
        result[index] = clock.seconds(starts[index], ends[index])
    return result


def _calendars(
    playbook: Playbook, attrs: dict[int, Attributes]
) -> tuple[ConversationCodes, list[Calendar]]:
    """Each conversation's calendar code, code 0 the default team's (for unknown rows)."""
    default = playbook.calendar_for(None)
    names = {default.name: 0}
    found = {default.name: default}
    teams: dict[str | None, str] = {}

    def calendar_of(attributes: Attributes) -> str:
        name = teams.get(attributes.team)
        if name is None:
            calendar = playbook.calendar_for(attributes.team)
            name = teams[attributes.team] = calendar.name
            found[name] = calendar
        return name

    lookup = ConversationCodes(attrs, calendar_of, names)
    return lookup, [found[name] for name in sorted(names, key=names.__getitem__)]


def _backlog(facts: Facts) -> tuple[str, list[BacklogPoint]]:
    """Open conversations at the end of each bucket of the period."""
    length = facts.until - facts.since
    name, step = next((n, s) for n, s, most in _BUCKETS if most is None or length <= most)
    count = -(-length // step)
    opened, resolved = [0] * count, [0] * count
    counted = facts.open_at_since
    base = counted or 0
    for at, delta in facts.lifecycle:
        if at < facts.since:
            if counted is None:
                base += delta
            continue
        index = (at - facts.since) // step
        if delta > 0:
            opened[index] += 1
        else:
            resolved[index] += 1
    points = []
    start = from_epoch(facts.since)
    for i in range(count):
        base += opened[i] - resolved[i]
        points.append(
            BacklogPoint(start + timedelta(seconds=i * step), base, opened[i], resolved[i])
        )
    return name, points
