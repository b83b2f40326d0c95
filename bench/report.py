"""The report over a large event log: core/metrics.py against the same figures in raw SQL.

Builds a SQLite file of about N events (conversations worked the way the desk works them:
messages, claims, replies held for sign-off, SLA warnings and breaches, referrals,
resolutions, reopenings, CSAT and NPS answers, "you said, we did" records), then times
`metrics.compute` over the whole log (once for the desk, once per grouping), over one day
of it, and the anchor: the same total figures written straight against stdlib sqlite3
(window functions for turns and episodes, GROUP BY for counts, json_extract for surveys,
percentiles and business time by hand). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from machine import environment  # bench/machine.py (bench/ is the script's path)

LIMIT_S = 5.0

START = datetime(2026, 6, 1, tzinfo=UTC)  # a Monday
DAYS = 90
OPERATORS = [f"op{i:02d}" for i in range(12)]
CHANNELS = ("x", "facebook", "email")
TEAMS = ("care", "social")  # care: Mon-Fri 09:00-17:00 UTC; social: around the clock
CATEGORIES = ("question", "complaint", "praise", "problem", "request")
TAGS = ("refund", "delivery", "account", "store")
PLAYBOOK = """
[calendars.office]
timezone = "UTC"
hours = { "mon-fri" = "09:00-17:00" }

[teams.care]
calendar = "office"

[teams.social]
calendar = "always"
"""

Event = tuple[float, str, str, int | None, str]


def _stamp(seconds: float) -> str:
    """Epoch seconds as SQLAlchemy stores a DateTime on SQLite (UTC text)."""
    return (START + timedelta(seconds=seconds)).replace(tzinfo=None).isoformat(" ", "microseconds")


def conversation_events(rng: random.Random, cid: int, t: float) -> Iterator[Event]:
    """One conversation's events from its first message at `t` (seconds after START)."""
    yield t, "ingest", "conversation.created", cid, "{}"
    op = rng.choice(OPERATORS)
    turns = 1 + (rng.random() < 0.3) + (rng.random() < 0.1)
    for turn in range(turns):
        for _ in range(1 + (rng.random() < 0.25)):
            yield t, "ingest", "message.received", cid, '{"message_id": 1}'
            t += rng.randint(5, 120)
        if turn == 0:
            yield t, op, "claim.taken", cid, '{"next": true}'
        wait = int(rng.expovariate(1 / 2400)) + 30
        if rng.random() < 0.2:
            yield t + wait * 0.7, "sla", "sla.warning", cid, "{}"
        if rng.random() < 0.1:
            yield t + wait * 0.9, "sla", "sla.breached", cid, "{}"
        if rng.random() < 0.05:
            yield t + wait * 0.5, op, "approval.requested", cid, '{"reasons": ["refund"]}'
            verdict = "approval.approved" if rng.random() < 0.8 else "approval.rejected"
            yield t + wait * 0.95, "sup", verdict, cid, json.dumps({"author": op})
        if rng.random() < 0.1:
            yield t + wait * 0.3, op, "note.added", cid, "{}"
        t += wait
        yield t, op, "reply.queued", cid, '{"version": 2}'
        yield t + 5, "sync", "outbox.sent", cid, "{}"
        t += rng.randint(600, 30_000)
    if rng.random() < 0.05:
        to = "phone" if rng.random() < 0.5 else "email"
        yield t - 60, op, "conversation.referred", cid, json.dumps({"to": to})
    if rng.random() < 0.85:
        yield t, op, "conversation.resolved", cid, "{}"
        if rng.random() < 0.3:
            score = rng.choice((1, 2, 3, 4, 4, 5, 5, 5))
            payload = {"survey": "csat", "score": score, "comment": ""}
            yield t + 3600, "ingest", "survey.answered", cid, json.dumps(payload)
        if rng.random() < 0.1:
            payload = {"survey": "nps", "score": rng.randint(0, 10), "comment": ""}
            yield t + 3700, "ingest", "survey.answered", cid, json.dumps(payload)
        if rng.random() < 0.05:  # the customer writes again: reopened, answered, resolved
            t += rng.randint(3600, 86_400)
            yield t, "ingest", "conversation.reopened", cid, "{}"
            yield t, "ingest", "message.received", cid, '{"message_id": 2}'
            t += int(rng.expovariate(1 / 1800)) + 30
            yield t, op, "reply.queued", cid, '{"version": 9}'
            yield t + 600, op, "conversation.resolved", cid, "{}"


def fill(path: str, events: int, seed: int = 7) -> dict[str, Any]:
    """Write conversations and about `events` events into a migrated SQLite file."""
    rng = random.Random(seed)
    rows: list[Event] = []
    conversations: list[tuple[Any, ...]] = []
    cid = 0
    while len(rows) < events:
        cid += 1
        t = rng.uniform(0, DAYS * 86_400)
        rows.extend(conversation_events(rng, cid, t))
        tags = json.dumps(rng.sample(TAGS, rng.choice((0, 1, 1, 2))))
        created = _stamp(t)
        conversations.append(
            (cid, CHANNELS[cid % 3], "public", f"t{cid}", cid, "resolved", 0,
             rng.choice(CATEGORIES), tags, rng.choice(TEAMS), 0, 1, 2, "", created, created)
        )  # fmt: skip
    for i in range(200):
        ids = rng.sample(range(1, cid + 1), 3)
        payload = json.dumps({"summary": f"change {i}", "conversations": ids})
        rows.append(
            (rng.uniform(0, DAYS * 86_400), "sup", "feedback.change_recorded", None, payload)
        )
    rows.sort(key=lambda r: r[0])  # ids in commit order, as the desk writes them
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO customer (id, channel, platform_user_id, handle, display_name, tags,"
            " created_at) VALUES (?, ?, ?, '', '', '[]', ?)",
            ((c[0], c[1], f"u{c[0]}", c[14]) for c in conversations),
        )
        conn.executemany(
            "INSERT INTO conversation (id, channel, visibility, thread_key, customer_id, status,"
            " priority, category, tags, team, claim_token, version, message_count, preview,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            conversations,
        )
        conn.executemany(
            "INSERT INTO event (at, actor, kind, conversation_id, payload) VALUES (?, ?, ?, ?, ?)",
            ((_stamp(r[0]), r[1], r[2], r[3], r[4]) for r in rows),
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {"events": len(rows), "conversations": cid}


# ---------------------------------------------------------------- the anchor: raw SQL

EPOCH = "CAST(strftime('%s', {}) AS INTEGER)"
STREAM = """
WITH s AS (
  SELECT conversation_id AS cid, kind, at, actor,
    SUM(kind IN ('reply.queued', 'conversation.resolved')) OVER w AS enders,
    SUM(kind = 'reply.queued') OVER w AS replies,
    SUM(kind = 'conversation.resolved') OVER w AS resolutions
  FROM event
  WHERE at < :until AND conversation_id IS NOT NULL AND kind IN ('message.received',
    'reply.queued', 'sla.breached', 'conversation.resolved', 'conversation.referred',
    'follow_up.due')
  WINDOW w AS (PARTITION BY conversation_id ORDER BY id ROWS UNBOUNDED PRECEDING))
"""
# A turn ends with a reply or a resolution; its number is the count of those before it.
TURNS = (
    STREAM
    + f"""
SELECT cid, team, {EPOCH.format("asked")}, {EPOCH.format("answered")},
  {EPOCH.format("breached")}, first FROM (
  SELECT cid, MIN(CASE WHEN kind = 'message.received' THEN at END) AS asked,
    MAX(CASE WHEN kind = 'reply.queued' THEN at END) AS answered,
    MIN(CASE WHEN kind = 'sla.breached' THEN at END) AS breached,
    MIN(CASE WHEN kind = 'reply.queued' THEN replies - 1 ELSE replies END) = 0 AS first
  FROM (SELECT *, CASE WHEN kind IN ('reply.queued', 'conversation.resolved')
                  THEN enders - 1 ELSE enders END AS turn FROM s
        WHERE kind IN ('message.received', 'reply.queued', 'sla.breached',
                       'conversation.resolved'))
  GROUP BY cid, turn)
JOIN conversation c ON c.id = cid
WHERE asked IS NOT NULL AND (answered >= :since OR breached >= :since)
"""
)
EPISODES = (
    STREAM
    + f"""
SELECT cid, team, {EPOCH.format("started")}, {EPOCH.format("resolved")}, referred FROM (
  SELECT cid, MIN(CASE WHEN kind IN ('message.received', 'follow_up.due') THEN at END)
      AS started,
    MAX(CASE WHEN kind = 'conversation.resolved' THEN at END) AS resolved,
    MAX(kind = 'conversation.referred') AS referred
  FROM (SELECT *, CASE WHEN kind = 'conversation.resolved' THEN resolutions - 1
                  ELSE resolutions END AS episode FROM s)
  GROUP BY cid, episode)
JOIN conversation c ON c.id = cid
WHERE resolved >= :since
"""
)
COUNTS = """
SELECT kind, COUNT(*), COUNT(DISTINCT conversation_id) FROM event
WHERE at >= :since AND at < :until AND kind IN ('conversation.created', 'message.received',
  'reply.queued', 'conversation.referred', 'approval.requested', 'approval.approved',
  'approval.rejected')
GROUP BY kind
"""
TOPICS = """
SELECT c.category, COUNT(*), SUM(EXISTS (SELECT 1 FROM event r WHERE r.conversation_id = c.id
  AND r.kind = 'reply.queued' AND r.at < :until))
FROM event e JOIN conversation c ON c.id = e.conversation_id
WHERE e.kind = 'conversation.created' AND e.at >= :since AND e.at < :until
  AND c.category IN ('praise', 'complaint')
GROUP BY c.category
"""
SURVEYS = """
SELECT json_extract(payload, '$.survey'), json_extract(payload, '$.score'), COUNT(*)
FROM event WHERE id IN (
  SELECT MAX(id) FROM event WHERE kind = 'survey.answered' AND at >= :since AND at < :until
  GROUP BY conversation_id, json_extract(payload, '$.survey'))
GROUP BY 1, 2
"""
BACKLOG = """
WITH l AS (
  SELECT at, kind <> 'conversation.resolved' AS state,
    LAG(kind <> 'conversation.resolved', 1, 0) OVER (PARTITION BY conversation_id ORDER BY id)
      AS before
  FROM event WHERE at < :until AND conversation_id IS NOT NULL AND kind IN (
    'conversation.created', 'conversation.reopened', 'follow_up.due', 'conversation.resolved'))
SELECT CASE WHEN at < :since THEN -1
            ELSE (CAST(strftime('%s', at) AS INTEGER) - :since_s) / :step END,
  SUM(state > before), SUM(state < before)
FROM l WHERE state <> before GROUP BY 1
"""


def office_until(t: int) -> int:
    """Open seconds of Mon-Fri 09:00-17:00 UTC from Monday 1970-01-05 to `t`."""
    day, sec = divmod(t, 86_400)
    weeks, weekday = divmod(day - 4, 7)
    total = weeks * 5 * 28_800 + min(weekday, 5) * 28_800
    if weekday < 5:
        total += min(max(sec - 32_400, 0), 28_800)
    return total


def stats(values: list[int]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "p90": None}
    ordered = sorted(values)
    n = len(ordered)
    return {"median": (ordered[(n - 1) // 2] + ordered[n // 2]) / 2,
            "p90": float(ordered[(9 * n + 9) // 10 - 1])}  # fmt: skip


def timing(pairs: list[tuple[str, int, int]]) -> dict[str, Any]:
    wall = [end - start for _, start, end in pairs]
    business = [
        office_until(end) - office_until(start) if team == "care" else end - start
        for team, start, end in pairs
    ]
    return {"count": len(pairs), "wall": stats(wall), "business": stats(business)}


def anchor(path: str, since: datetime, until: datetime) -> dict[str, Any]:
    """The total figures of core/metrics.py through stdlib sqlite3 and hand-written SQL."""
    conn = sqlite3.connect(path)
    since_s = int(since.timestamp())
    step = 86_400 if until - since <= timedelta(days=366) else 7 * 86_400
    params = {"since": _stamp_of(since), "until": _stamp_of(until), "since_s": since_s,
              "step": step}  # fmt: skip
    turns = conn.execute(TURNS, params).fetchall()
    answered = [t for t in turns if t[3] is not None and t[3] >= since_s]
    met = sum(1 for t in answered if t[4] is None or t[4] < t[2])
    breached = sum(1 for t in turns if t[4] is not None and t[4] >= since_s and t[4] >= t[2])
    episodes = conn.execute(EPISODES, params).fetchall()
    counts = {kind: (n, distinct) for kind, n, distinct in conn.execute(COUNTS, params)}
    topics = {cat: (n, answered_) for cat, n, answered_ in conn.execute(TOPICS, params)}
    surveys: dict[str, dict[int, int]] = {"csat": {}, "nps": {}}
    for survey, score, n in conn.execute(SURVEYS, params):
        surveys[survey][score] = n
    length = int((until - since).total_seconds())
    opened, resolved = [0] * -(-length // step), [0] * -(-length // step)
    base = 0
    for bucket, up, down in conn.execute(BACKLOG, params):
        if bucket < 0:
            base += up - down
        else:
            opened[bucket], resolved[bucket] = up, down
    backlog = []
    for up, down in zip(opened, resolved, strict=True):
        base += up - down
        backlog.append(base)
    conn.close()

    def count(kind: str) -> int:
        return int(counts.get(kind, (0, 0))[0])

    def scores(survey: str, scale: range) -> dict[str, Any]:
        found = surveys[survey]
        n = sum(found.values())
        data: dict[str, Any] = {
            "count": n,
            "average": sum(s * k for s, k in found.items()) / n if n else None,
            "distribution": {str(s): found.get(s, 0) for s in scale},
        }
        if survey == "nps":
            good = found.get(9, 0) + found.get(10, 0)
            bad = sum(found.get(s, 0) for s in range(7))
            data["nps"] = 100 * (good - bad) / n if n else None
        return data

    in_channel = sum(1 for e in episodes if not e[4])
    return {
        "conversations": count("conversation.created"),
        "messages_in": count("message.received"),
        "replies": count("reply.queued"),
        "handled": counts.get("reply.queued", (0, 0))[1],
        "first_response": timing([(t[1], t[2], t[3]) for t in answered if t[5]]),
        "next_response": timing([(t[1], t[2], t[3]) for t in answered if not t[5]]),
        "sla": {"met": met, "breached": breached,
                "compliance_pct": 100 * met / (met + breached) if met + breached else None},
        "resolved": len(episodes),
        "resolution": timing([(e[1], e[2], e[3]) for e in episodes if e[2] is not None]),
        "resolved_in_channel": in_channel,
        "in_channel_pct": 100 * in_channel / len(episodes) if episodes else None,
        "referred": count("conversation.referred"),
        "signoffs": {"requested": count("approval.requested"),
                     "approved": count("approval.approved"),
                     "rejected": count("approval.rejected")},
        "praise": {"count": topics.get("praise", (0, 0))[0],
                   "answered": topics.get("praise", (0, 0))[1]},
        "complaints": {"count": topics.get("complaint", (0, 0))[0],
                       "answered": topics.get("complaint", (0, 0))[1]},
        "csat": scores("csat", range(1, 6)),
        "nps": scores("nps", range(11)),
        "backlog": backlog,
    }  # fmt: skip


def _stamp_of(at: datetime) -> str:
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


# ---------------------------------------------------------------- the run


def core_report(url: str, since: datetime, until: datetime, by: str | None) -> tuple[float, Any]:
    from frontdesk.core import metrics
    from frontdesk.core.db import Database
    from frontdesk.core.playbook.playbook import Playbook

    playbook = Playbook.from_text(PLAYBOOK)
    db = Database(url)
    try:
        started = time.perf_counter()
        with db.read() as session:
            report = metrics.compute(session, since, until, by, playbook)
        return time.perf_counter() - started, report
    finally:
        db.dispose()


def core_series(url: str, since: datetime, step: timedelta) -> float:
    """`metrics_series.series`: one day hour by hour, as a dashboard asks for it."""
    from frontdesk.core import metrics_series
    from frontdesk.core.db import Database
    from frontdesk.core.playbook.playbook import Playbook

    playbook = Playbook.from_text(PLAYBOOK)
    db = Database(url)
    try:
        started = time.perf_counter()
        with db.read() as session:
            metrics_series.series(session, since, since + timedelta(days=1), step, playbook)
        return time.perf_counter() - started
    finally:
        db.dispose()


def cli_report(path: Path, workdir: Path, since: datetime, until: datetime) -> float:
    """`frontdesk report --format json` end to end: start-up, imports, the report, output."""
    kb = workdir / "kb"
    kb.mkdir(exist_ok=True)
    (kb / "playbook.toml").write_text(PLAYBOOK, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env.update(FRONTDESK_DATABASE_URL=f"sqlite:///{path}", FRONTDESK_KB=str(kb),
               FRONTDESK_OPERATOR="bench")  # fmt: skip
    command = [str(Path(sys.executable).with_name("frontdesk")), "report", "--format", "json",
               "--since", since.isoformat(), "--until", until.isoformat()]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=None, help="log size (1,000,000)")
    parser.add_argument("--quick", action="store_true", help="100,000 events")
    parser.add_argument("--dir", default=None, help="where the SQLite file goes (a temp dir)")
    args = parser.parse_args(argv)
    events = args.events or (100_000 if args.quick else 1_000_000)

    from frontdesk.core import schema
    from frontdesk.core.db import Database

    report: dict[str, Any] = {
        "benchmark": "report",
        "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
        "environment": environment(),
        "params": {"events": events, "quick": args.quick},
        "limit_s": LIMIT_S,
    }
    workdir = Path(tempfile.mkdtemp(prefix="fdbench-report-", dir=args.dir))
    try:
        path = workdir / "report.db"
        url = f"sqlite:///{path}"
        db = Database(url)
        schema.upgrade(db)
        db.dispose()
        started = time.perf_counter()
        report["data"] = fill(str(path), events)
        report["data"]["fill_s"] = round(time.perf_counter() - started, 2)
        since, until = START, START + timedelta(days=DAYS + 15)
        report["period"] = [since.isoformat(), until.isoformat()]
        anchor(str(path), since, until)  # warm the page cache for both sides alike
        core_s, result = core_report(url, since, until, None)
        started = time.perf_counter()
        raw = anchor(str(path), since, until)
        anchor_s = time.perf_counter() - started
        figures = result.total.as_json()
        figures["backlog"] = [p.open for p in result.backlog]
        by_s = {by: round(core_report(url, since, until, by)[0], 3)
                for by in ("channel", "team", "operator", "category", "tag")}  # fmt: skip
        day = since + timedelta(days=60)
        day_s = core_report(url, day, day + timedelta(days=1), None)[0]
        report["core_series_24h_s"] = round(core_series(url, day, timedelta(hours=1)), 3)
        report["core_s"] = round(core_s, 3)
        report["core_by_s"] = by_s
        report["core_one_day_s"] = round(day_s, 3)
        report["cli_s"] = round(cli_report(path, workdir, since, until), 3)
        report["anchor_s"] = round(anchor_s, 3)
        report["ratio"] = round(core_s / anchor_s, 3)
        report["anchor_matches_core"] = raw == figures
        if raw != figures:
            report["differences"] = {k: [figures.get(k), raw[k]] for k in raw
                                     if raw[k] != figures.get(k)}  # fmt: skip
        report["figures"] = {k: v for k, v in figures.items() if k != "backlog"}
        report["figures"]["backlog_last"] = figures["backlog"][-1]
        worst = max(core_s, day_s, *by_s.values())
        report["pass"] = worst <= LIMIT_S and raw == figures
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
