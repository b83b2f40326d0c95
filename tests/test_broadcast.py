"""Resolution broadcasts: one copy per conversation, names filled, through the tone check and
sign-off, skipping conversations someone else holds, never twice."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from frontdesk.core.broadcast import Selection
from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.errors import InvalidInput
from frontdesk.core.models import Conversation, Event
from frontdesk.core.models_broadcast import Broadcast, BroadcastCopy
from frontdesk.core.models_channels import OutboxItem
from frontdesk.core.models_playbook import Approval
from frontdesk.kb.article import Article, parse_text

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FIXED = "Hi {name}, the website is working again. Thanks for your patience!"


def article(body: str = FIXED, rel: str = "care/fixed.md") -> Article:
    text = f"---\ntitle: Fixed\ntags: [outage]\n---\n# Fixed\n\n{body}\n"
    return parse_text(text.encode(), rel)


def line(n: int, *, text: str = "is the site down?", channel: str = "x") -> str:
    return json.dumps(
        {
            "channel": channel,
            "external_id": f"m{n}",
            "text": text,
            "created_at": (T0 - timedelta(minutes=5)).isoformat(),
            "author": {"id": f"c{n}", "handle": f"@cust{n}", "name": f"Name{n} Surname"},
            "thread_id": f"t{n}",
        }
    )


def desk(db: Database, login: str = "alice") -> Desk:
    return Desk(Settings(), login, db=db, clock=lambda: T0)


def seed(db: Database, count: int, **kw: str) -> list[int]:
    desk(db, "ingest").ingest([line(n, **kw) for n in range(count)])
    with db.read() as session:
        return sorted(c.id for c in session.exec(select(Conversation)) if c.id is not None)


def broadcast(d: Desk, art: Article, sel: Selection, *, resolve: bool = False) -> int:
    bid = d.broadcast_start(art, sel, resolve=resolve)
    list(d.broadcast_run(art, bid))
    return bid


def outbox(db: Database) -> list[OutboxItem]:
    with db.read() as session:
        return list(session.exec(select(OutboxItem).order_by(col(OutboxItem.conversation_id))))


def test_one_copy_each_with_the_customers_name_and_progress(db: Database) -> None:
    ids = seed(db, 4)
    d = desk(db)
    bid = d.broadcast_start(article(), Selection(channel="x"), resolve=False)
    progress = list(d.broadcast_run(article(), bid))
    assert [(p.done, p.total, p.result.state) for p in progress] == [
        (i, 4, "queued") for i in range(1, 5)
    ]
    items = outbox(db)
    assert [i.conversation_id for i in items] == ids
    assert [i.body for i in items] == [FIXED.format(name=f"Name{n}") for n in range(4)]
    summary = d.broadcast_summary(bid)
    assert (summary.state, summary.counts, summary.not_sent) == ("done", {"queued": 4}, [])
    with db.read() as session:
        convs = list(session.exec(select(Conversation)))
    # Answered, and given back: the broadcaster did not hold them before.
    assert {(c.status, c.claimed_by) for c in convs} == {("waiting", None)}


def test_resolve_resolves_every_answered_conversation(db: Database) -> None:
    seed(db, 3)
    broadcast(desk(db), article(), Selection(channel="x"), resolve=True)
    with db.read() as session:
        assert {c.status for c in session.exec(select(Conversation))} == {"resolved"}
    assert len(outbox(db)) == 3


def test_held_by_someone_else_is_skipped_and_listed_then_sent_on_a_rerun(db: Database) -> None:
    ids = seed(db, 3)
    bob = desk(db, "bob")
    bob.claim(ids[1])
    d = desk(db)
    bid = broadcast(d, article(), Selection(ids=tuple(ids)))
    summary = d.broadcast_summary(bid)
    assert summary.counts == {"queued": 2, "skipped": 1}
    [skipped] = summary.not_sent
    assert skipped.conversation_id == ids[1] and "held by bob" in skipped.reason
    assert [i.conversation_id for i in outbox(db)] == [ids[0], ids[2]]
    with db.read() as session:
        held = session.get(Conversation, ids[1])
        assert held is not None and held.claimed_by == "bob" and held.status == "open"
    # Once bob lets go, running it again answers that one and nothing twice.
    bob.release(ids[1])
    list(d.broadcast_run(article(), bid))
    assert sorted(i.conversation_id for i in outbox(db)) == ids
    assert d.broadcast_summary(bid).counts == {"queued": 3}


def test_own_claim_is_kept(db: Database) -> None:
    ids = seed(db, 2)
    d = desk(db)
    d.claim(ids[0])
    broadcast(d, article(), Selection(ids=tuple(ids)))
    with db.read() as session:
        holders = [session.get(Conversation, i).claimed_by for i in ids]  # type: ignore[union-attr]
    assert holders == ["alice", None]


def test_blocking_tone_findings_stop_the_copy(db: Database) -> None:
    seed(db, 2)
    d = desk(db)
    bad = article("Hi {name}, call us on 0161 496 0000 and we'll fix this damn thing.")
    bid = broadcast(d, bad, Selection(channel="x"))
    summary = d.broadcast_summary(bid)
    assert summary.counts == {"blocked": 2}
    assert all("personal-data" in r.reason and "profanity" in r.reason for r in summary.not_sent)
    assert outbox(db) == []


def test_copies_needing_signoff_wait_for_approval_not_the_outbox(db: Database) -> None:
    ids = seed(db, 2)
    d = desk(db)
    refund = article("Hi {name}, we have refunded $150 to your card for the trouble.")
    bid = broadcast(d, refund, Selection(channel="x"))
    assert d.broadcast_summary(bid).counts == {"held": 2}
    assert outbox(db) == []
    with db.read() as session:
        approvals = list(session.exec(select(Approval)))
        copies = list(session.exec(select(BroadcastCopy)))
    assert sorted(a.conversation_id for a in approvals) == ids
    assert {c.approval_id for c in copies} == {a.id for a in approvals}
    assert all("refund" in c.reason for c in copies)


def test_the_same_article_never_goes_twice_to_a_conversation(db: Database) -> None:
    seed(db, 2)
    d = desk(db)
    broadcast(d, article(), Selection(channel="x"))
    with pytest.raises(InvalidInput, match="had care/fixed already"):
        d.broadcast_start(article(), Selection(channel="x"), resolve=False)
    previews = d.broadcast_preview(article(), Selection(channel="x"))
    assert {p.verdict for p in previews} == {"skip"}
    assert len(outbox(db)) == 2


def test_starting_the_same_unfinished_broadcast_resumes_it(db: Database) -> None:
    seed(db, 3)
    d = desk(db)
    first = d.broadcast_start(article(), Selection(channel="x"), resolve=False)
    run = d.broadcast_run(article(), first)
    next(run)  # one copy goes, then the operator's session dies
    run.close()
    assert d.broadcast_start(article(), Selection(channel="x"), resolve=False) == first
    list(d.broadcast_run(article(), first))
    assert len(outbox(db)) == 3
    with db.read() as session:
        assert len(list(session.exec(select(Broadcast)))) == 1
        kinds = [e.kind for e in session.exec(select(Event)) if e.kind.startswith("broadcast")]
    assert kinds == ["broadcast.started", "broadcast.finished"]


def test_preview_writes_nothing_and_says_who_would_be_skipped(db: Database) -> None:
    ids = seed(db, 3)
    desk(db, "bob").claim(ids[2])
    with db.read() as session:
        before = len(list(session.exec(select(Event))))
    previews = desk(db).broadcast_preview(article(), Selection(channel="x"))
    assert [(p.conversation_id, p.verdict) for p in previews] == [
        (ids[0], "queue"),
        (ids[1], "queue"),
        (ids[2], "skip"),
    ]
    assert previews[0].body == FIXED.format(name="Name0")
    assert previews[2].reasons == ("held by bob",)
    with db.read() as session:
        assert len(list(session.exec(select(Event)))) == before
        assert list(session.exec(select(Broadcast))) == []


def test_an_empty_selection_is_refused(db: Database) -> None:
    seed(db, 1)
    with pytest.raises(InvalidInput, match="say which conversations"):
        desk(db).broadcast_start(article(), Selection(), resolve=False)


def test_two_runs_of_one_broadcast_at_once_send_each_copy_once(db: Database) -> None:
    ids = seed(db, 20)
    d = desk(db)
    bid = d.broadcast_start(article(), Selection(channel="x"), resolve=False)
    results: list[list[str]] = []

    def run() -> None:
        # Each session its own desk (and engine connection), as two terminals would be.
        results.append([p.result.state for p in desk(db).broadcast_run(article(), bid)])

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == 2
    both = results[0] + results[1]
    assert both.count("queued") == len(ids) and set(both) <= {"queued", "done"}
    assert sorted(i.conversation_id for i in outbox(db)) == ids


def test_each_channel_gets_its_own_variant_and_email_threads(db: Database) -> None:
    email_line = {**json.loads(line(1, channel="email")), "visibility": "private"}
    desk(db, "ingest").ingest([line(0), json.dumps(email_line)])
    art = parse_text(
        b"---\ntitle: Fixed\n---\n# Fixed\n\nHi {name}, fixed.\n\n## email\n"
        b"Dear {name},\n\nThe website works again.\n\nBest wishes,\n{agent}\n",
        "care/fixed.md",
    )
    broadcast(desk(db), art, Selection(statuses=("new",)))
    x, email = outbox(db)
    assert (x.channel, x.kind, x.body) == ("x", "public_reply", "Hi Name0, fixed.")
    assert (email.channel, email.kind, email.recipient) == ("email", "private_message", "c1")
    assert email.body == "Dear Name1,\n\nThe website works again.\n\nBest wishes,\nalice"
    assert email.subject is not None and email.subject.startswith("Re: ")
