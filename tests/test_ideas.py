"""Ideas and requests: similar wording merges and counts customers, routing picks the
department, the digest reaches key contacts by email, and "done" tells every customer."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

import frontdesk.core.playbook as playbook_pkg
from frontdesk.core import ideas
from frontdesk.core.broadcast import Selection
from frontdesk.core.config import IdeasSettings, Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.ideas import normalise
from frontdesk.core.models import Conversation, Event
from frontdesk.core.models_channels import OutboxItem
from tests.test_broadcast import article

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DEMO_PLAYBOOK = Path(playbook_pkg.__file__).parent / "demo_playbook.toml"

ASKS = [
    "Please add a dark mode to the app!",
    "please add dark mode to the app",
    "Any plans for dark mode in the app? please add it",
    "Could you stock the trail shoes in wide fit?",
]


def desk(db: Database, login: str = "alice", similarity: int = 80) -> Desk:
    settings = Settings(playbook=str(DEMO_PLAYBOOK), ideas=IdeasSettings(similarity=similarity))
    return Desk(settings, login, db=db, clock=lambda: T0)


def seed(db: Database, texts: list[str], channel: str = "x") -> list[int]:
    lines = [
        json.dumps(
            {
                "channel": channel,
                "external_id": f"m{n}",
                "text": text,
                "created_at": (T0 - timedelta(minutes=5)).isoformat(),
                "author": {"id": f"c{n}", "handle": f"@cust{n}", "name": f"Name{n} S"},
                "thread_id": f"t{n}",
            }
        )
        for n, text in enumerate(texts)
    ]
    desk(db, "ingest").ingest(lines)
    with db.read() as session:
        return sorted(c.id for c in session.exec(select(Conversation)) if c.id is not None)


def test_normalise_folds_case_accents_and_punctuation() -> None:
    assert normalise("  Café — DARK-mode, please!! ") == "cafe dark mode please"


def test_similar_wording_merges_and_counts_each_customer_once(db: Database) -> None:
    ids = seed(db, ASKS)
    d = desk(db)
    first = d.idea_add(ids[0])
    second = d.idea_add(ids[1])
    third = d.idea_add(ids[2])
    other = d.idea_add(ids[3])
    again = d.idea_add(ids[1])  # the same customer asking again is not a second customer
    assert not first.merged and second.merged and third.merged and not other.merged
    assert second.idea.id == third.idea.id == first.idea.id != other.idea.id
    assert second.score >= 80 and not again.counted
    rows = d.ideas()
    assert [(r.idea.id, r.customers) for r in rows] == [(first.idea.id, 3), (other.idea.id, 1)]
    assert rows[0].idea.text == ASKS[0]  # the first wording names the idea


def test_a_higher_threshold_keeps_looser_wording_apart(db: Database) -> None:
    ids = seed(db, ["dark mode for the app", "a darker colour scheme on the website"])
    d = desk(db, similarity=95)
    assert not d.idea_add(ids[0]).merged
    assert not d.idea_add(ids[1]).merged
    assert len(d.ideas()) == 2


def test_routing_picks_the_department_unless_the_operator_chooses(db: Database) -> None:
    ids = seed(db, ["the app needs a wishlist", "sell gift cards", "more stores up north"])
    d = desk(db)
    routed = d.idea_add(ids[0]).idea
    assert routed.department == "tech" and "app" in routed.why
    assert d.idea_add(ids[1]).idea.department == "care"  # no rule: the default team
    chosen = d.idea_add(ids[2], department="warehouse").idea
    assert (chosen.department, chosen.why) == ("warehouse", "chosen by the operator")


def test_explicit_text_and_unknown_conversation(db: Database) -> None:
    ids = seed(db, ["hello"])
    d = desk(db)
    assert d.idea_add(ids[0], text="Loyalty points on gift cards").idea.text == (
        "Loyalty points on gift cards"
    )
    with pytest.raises(NotFound):
        d.idea_add(999)
    with pytest.raises(InvalidInput, match="empty"):
        d.idea_add(ids[0], text=" ?! ")


def test_digest_lists_the_departments_ideas_and_goes_to_contacts_with_email(
    db: Database,
) -> None:
    ids = seed(db, [*ASKS[:3], "the login page is slow"])
    d = desk(db)
    for cid in ids:
        d.idea_add(cid, department="it")
    digest, items = d.ideas_digest("it")
    assert items == []
    assert digest.body.splitlines()[0] == "Hello Jonah Kim and Leila Haddad,"
    assert "2 ideas and requests from 4 customers" in digest.body
    listed = [x for x in digest.body.splitlines() if x.startswith("#")]
    assert listed[0].endswith(f"3 customers (x): {ASKS[0]}")
    assert listed[1].endswith("1 customer (x): the login page is slow")

    _, items = d.ideas_digest("it", send=True)
    # Only the primary has an email address; the backup has a phone number.
    assert [(i.channel, i.kind, i.recipient) for i in items] == [
        ("email", "private_message", "it-oncall@northwind.example")
    ]
    assert items[0].subject == digest.subject and items[0].body == digest.body
    with db.read() as session:
        conv = session.get(Conversation, items[0].conversation_id)
        assert conv is not None and conv.status == "resolved"  # never in the queue
        assert len(list(session.exec(select(OutboxItem)))) == 1


def test_digest_refuses_a_department_without_email_and_an_unknown_one(db: Database) -> None:
    d = desk(db)
    with pytest.raises(InvalidInput, match="no open ideas for it"):
        d.ideas_digest("it", send=True)
    d.idea_add(seed(db, ["open a store in Boise"])[0], department="warehouse")
    with pytest.raises(InvalidInput, match="no key contact of warehouse has an email"):
        d.ideas_digest("warehouse", send=True)
    with pytest.raises(NotFound, match="no department 'nope'"):
        d.ideas_digest("nope")


def test_done_tells_every_customer_who_asked_once(db: Database) -> None:
    ids = seed(db, ASKS)
    d = desk(db)
    idea = d.idea_add(ids[0]).idea
    d.idea_add(ids[1])
    d.resolve(ids[1])  # a resolved conversation still hears back
    assert idea.id is not None
    shipped = article("Hi {name}, you asked and we did it: dark mode is in the app today!")
    done, bid = d.idea_done(idea.id, shipped)
    assert done.state == "done" and bid is not None
    list(d.broadcast_run(shipped, bid))
    with db.read() as session:
        items = list(session.exec(select(OutboxItem)))
        kinds = [e.kind for e in session.exec(select(Event)) if e.kind.startswith("idea")]
    assert sorted(i.conversation_id for i in items) == ids[:2]
    assert items[0].body.startswith("Hi Name")
    assert kinds == ["idea.added", "idea.merged", "idea.done"]
    # The report's "you said, we did" lists it, with the conversations that asked.
    (change,) = d.yousaid()
    assert change.conversations == ids[:2] and change.summary.endswith(f"(done: {shipped.id})")
    # Running the command again finds the same broadcast and sends nothing more.
    assert d.idea_done(idea.id, shipped)[1] == bid
    assert [p.result.state for p in d.broadcast_run(shipped, bid)] == []
    assert idea.id not in {x.idea.id for x in d.ideas()}
    with pytest.raises(InvalidInput, match="done already"):
        d.idea_done(idea.id, article(rel="care/other.md"))


def test_done_keeps_a_resolved_conversation_resolved(db: Database) -> None:
    ids = seed(db, ASKS[:2])
    d = desk(db)
    idea = d.idea_add(ids[0]).idea
    d.idea_add(ids[1])
    d.resolve(ids[1])
    assert idea.id is not None
    shipped = article("Hi {name}, you asked and we did it: dark mode is in the app today!")
    _, bid = d.idea_done(idea.id, shipped)
    assert bid is not None
    list(d.broadcast_run(shipped, bid))
    with db.read() as session:
        status = {c.id: c.status for c in session.exec(select(Conversation))}
    assert [status[i] for i in ids] == ["waiting", "resolved"]


def test_done_when_everyone_has_the_article_already_marks_it_done_and_sends_nothing(
    db: Database,
) -> None:
    ids = seed(db, ASKS[:2])
    d = desk(db)
    idea = d.idea_add(ids[0]).idea
    d.idea_add(ids[1])
    assert idea.id is not None
    shipped = article("Hi {name}, you asked and we did it: dark mode is in the app today!")
    bid = d.broadcast_start(shipped, Selection(ids=tuple(ids)), resolve=False)
    list(d.broadcast_run(shipped, bid))
    done, none = d.idea_done(idea.id, shipped)
    assert (done.state, done.done_article, none) == ("done", shipped.id, None)
    assert idea.id not in {x.idea.id for x in d.ideas()}
    assert d.idea_done(idea.id, shipped)[1] is None  # again: still nothing to send
    with db.read() as session:
        assert len(list(session.exec(select(OutboxItem)))) == 2


def test_the_same_request_added_twice_at_once_counts_the_customer_once(db: Database) -> None:
    """PostgreSQL: the second insert waits for the first and hits the unique constraint;
    SQLite: the second waits for the write lock and finds the first. Either way, one line."""
    ids = seed(db, ASKS[:2])
    d = desk(db)
    idea = d.idea_add(ids[0]).idea
    bob = desk(db, "bob")
    bob.operator()  # made now: making it during the race would wait on the event lock
    results: list[ideas.Added] = []
    racer = threading.Thread(target=lambda: results.append(bob.idea_add(ids[1])))
    with db.write() as session:
        first = ideas.add(
            session, d.playbook, conversation_id=ids[1], operator="alice", now=T0, threshold=80
        )
        racer.start()
        time.sleep(0.5)  # bob's request now waits on this transaction
    racer.join(timeout=60)
    assert first.counted and first.idea.id == idea.id
    [second] = results
    assert (second.idea.id, second.merged, second.counted) == (idea.id, True, False)
    assert [(r.idea.id, r.customers) for r in d.ideas()] == [(idea.id, 2)]
