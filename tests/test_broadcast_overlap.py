"""Broadcasts that overlap: one article reaches a conversation once whichever broadcast sends
it, even at the same moment; and a resolved conversation stays resolved after its copy."""

from __future__ import annotations

import threading
import time

from sqlmodel import select

from frontdesk.core import broadcast_send
from frontdesk.core.broadcast import CopyResult, Selection
from frontdesk.core.db import Database
from frontdesk.core.models import Conversation
from frontdesk.core.models_broadcast import Broadcast
from tests.test_broadcast import T0, article, broadcast, desk, outbox, seed


def sent_to(db: Database) -> list[int]:
    return sorted(i.conversation_id for i in outbox(db))


def test_a_copy_skipped_by_one_broadcast_and_sent_by_another_is_not_sent_again(
    db: Database,
) -> None:
    ids = seed(db, 2)
    bob = desk(db, "bob")
    bob.claim(ids[1])
    alice = desk(db)
    first = broadcast(alice, article(), Selection(ids=tuple(ids)))
    assert alice.broadcast_summary(first).counts == {"queued": 1, "skipped": 1}
    bob.release(ids[1])
    # Another broadcast of the same article answers the one the first skipped ...
    broadcast(desk(db, "carol"), article(), Selection(ids=(ids[1],)))
    assert sent_to(db) == ids
    # ... so running the first again must not answer it a second time.
    rerun = [p.result for p in alice.broadcast_run(article(), first)]
    assert [(r.conversation_id, r.state) for r in rerun] == [(ids[1], "skipped")]
    assert "already" in rerun[0].reason
    assert sent_to(db) == ids


def test_two_broadcasts_started_before_either_runs_send_each_copy_once(db: Database) -> None:
    ids = seed(db, 3)
    alice, bob = desk(db), desk(db, "bob")
    a = alice.broadcast_start(article(), Selection(channel="x"), resolve=False)
    b = bob.broadcast_start(article(), Selection(ids=tuple(ids)), resolve=False)
    list(alice.broadcast_run(article(), a))
    states = [p.result.state for p in bob.broadcast_run(article(), b)]
    assert states == ["skipped"] * 3
    assert sent_to(db) == ids
    assert bob.broadcast_summary(b).state == "done"


def test_a_copy_racing_another_broadcasts_copy_is_skipped(db: Database) -> None:
    """Two copies of one article to one conversation in flight at once: the one that commits
    second finds the first (SQLite: it waits for the write lock, then re-checks; PostgreSQL:
    it waits on the conversation row, then the unique index refuses the second copy)."""
    [cid] = seed(db, 1)
    art = article()
    alice, bob = desk(db), desk(db, "bob")
    a = alice.broadcast_start(art, Selection(ids=(cid,)), resolve=False)
    b = bob.broadcast_start(art, Selection(ids=(cid,)), resolve=False)
    with db.read() as session:
        rows = {r.id: r for r in session.exec(select(Broadcast))}
        session.expunge_all()

    def send(bid: int, operator: str) -> CopyResult:
        with db.write() as session:
            return broadcast_send.send_copy(
                session, alice.playbook, art, broadcast=rows[bid], conversation_id=cid,
                operator=operator, now=T0, lease=alice.lease,
            )  # fmt: skip

    second: list[CopyResult] = []
    racer = threading.Thread(target=lambda: second.append(send(b, "bob")))
    with db.write() as session:
        first = broadcast_send.send_copy(
            session, alice.playbook, art, broadcast=rows[a], conversation_id=cid,
            operator="alice", now=T0, lease=alice.lease,
        )  # fmt: skip
        racer.start()
        time.sleep(0.5)  # bob's copy is now waiting on this transaction
    racer.join(timeout=60)
    assert first.state == "queued"
    assert [(r.state, "already" in r.reason) for r in second] == [("skipped", True)]
    assert sent_to(db) == [cid]


def test_two_overlapping_broadcasts_at_once_answer_each_conversation_once(db: Database) -> None:
    ids = seed(db, 12)
    a = desk(db).broadcast_start(article(), Selection(channel="x"), resolve=False)
    b = desk(db, "bob").broadcast_start(article(), Selection(ids=tuple(ids)), resolve=False)
    results: list[list[str]] = []

    def run(login: str, bid: int) -> None:
        results.append([p.result.state for p in desk(db, login).broadcast_run(article(), bid)])

    threads = [
        threading.Thread(target=run, args=("alice", a)),
        threading.Thread(target=run, args=("bob", b)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == 2
    assert sent_to(db) == ids
    both = results[0] + results[1]
    assert both.count("queued") == len(ids) and set(both) <= {"queued", "skipped"}


def test_a_resolved_conversation_stays_resolved_after_its_copy(db: Database) -> None:
    ids = seed(db, 3)
    d = desk(db)
    d.resolve(ids[0])
    d.resolve(ids[1])
    with db.read() as session:
        resolved_at = session.get(Conversation, ids[0]).resolved_at  # type: ignore[union-attr]
    broadcast(d, article(), Selection(ids=(ids[0], ids[2])))
    broadcast(d, article(rel="care/other.md"), Selection(ids=(ids[1],)), resolve=True)
    assert sent_to(db) == ids
    with db.read() as session:
        convs = {c.id: c for c in session.exec(select(Conversation))}
    assert [(convs[i].status, convs[i].claimed_by) for i in ids] == [
        ("resolved", None),
        ("resolved", None),
        ("waiting", None),
    ]
    # The copy is a notice after the resolution, not a new one.
    assert convs[ids[0]].resolved_at == resolved_at
