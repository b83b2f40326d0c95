"""Listening streams against the fake X search: pagination, since_id, 429, tags, mutes, volume."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from frontdesk.core import listening, retriage
from frontdesk.core.config import SlaSettings
from frontdesk.core.connectors import x_feeds
from frontdesk.core.connectors.accounts import Stream
from frontdesk.core.db import Database
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.intake import Intake
from frontdesk.core.models import Conversation, Event, Message
from frontdesk.core.models_listening import ListeningStream, StreamMute, StreamVolume
from frontdesk.core.playbook.playbook import Playbook
from frontdesk.core.queue import QueueFilter, list_queue
from frontdesk.core.sync import SyncService
from tests.fakes.connect import x_connector
from tests.fakes.platform import THROTTLE, FakeClock
from tests.fakes.x import FakeX

ACCOUNT = "acme_x"
BRAND = Stream(name="brand", query='acme OR "acme gear" -is:retweet -from:acme', tags=["brand"])
RIVALS = Stream(name="competitors", query="peakway OR trailhead", tags=["market"])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeX:
    return FakeX(clock)


def service(
    db: Database, fake: FakeX, clock: FakeClock, *streams: Stream, **kw: Any
) -> SyncService:
    # Listening only: mentions and DMs off, so every request here is a search.
    connector = x_connector(fake, clock, mentions=False, direct_messages=False, **kw)
    return SyncService(
        db,
        {ACCOUNT: connector},
        sla=SlaSettings(),
        intake=Intake(Playbook.demo()),
        clock=clock,
        streams={ACCOUNT: list(streams)},
    )


def stored(db: Database) -> list[str]:
    with db.read() as session:
        query = select(Message.external_id).where(Message.direction == "inbound")
        return sorted(str(e) for e in session.exec(query))


def conversation_of(db: Database, external_id: str) -> Conversation:
    with db.read() as session:
        query = select(Conversation).join(Message).where(Message.external_id == external_id)
        found = session.exec(query).one()
        session.expunge(found)
        return found


def state(db: Database, name: str) -> ListeningStream:
    with db.read() as session:
        row = session.get(ListeningStream, name)
        assert row is not None
        session.expunge(row)
        return row


def test_a_stream_pages_through_matches_then_reads_only_after_its_since_id(db, fake, clock):
    jane, omar, acme = fake.user("jane"), fake.user("omar"), fake.me
    hits = [fake.post(jane if n % 2 else omar, f"my acme tent number {n}") for n in range(23)]
    fake.post(jane, "nothing to do with us")
    fake.post(jane, "RT @someone: acme is great")  # excluded: -is:retweet
    fake.post(acme, "acme news from acme itself")  # excluded: -from:acme
    phrase = fake.post(omar, "Loving my ACME   gear so far")
    sync = service(db, fake, clock, BRAND, page_size=10)
    report = sync.poll(ACCOUNT)
    assert report.errors == []
    assert report.counts["matched"] == report.counts["accepted"] == 24
    assert len(fake.requests_to("search")) == 3  # 10 + 10 + 4, following next_token
    assert stored(db) == sorted([p.id for p in hits] + [phrase.id])
    assert state(db, "brand").cursor == max((p.id for p in [*hits, phrase]), key=int)

    clock.advance(60)
    later = fake.post(omar, "acme again")
    report = sync.poll(ACCOUNT)
    asked = fake.requests_to("search")[-1].params
    assert asked["since_id"] == max((p.id for p in [*hits, phrase]), key=int)
    assert (report.counts["matched"], report.counts["accepted"]) == (1, 1)
    assert later.id in stored(db)


def test_a_run_stopped_at_the_page_cap_keeps_its_cursor_so_the_rest_is_read_later(
    db, fake, clock, monkeypatch
):
    jane = fake.user("jane")
    first = fake.post(jane, "acme one")
    sync = service(db, fake, clock, BRAND, page_size=10)
    sync.poll(ACCOUNT)
    assert state(db, "brand").cursor == first.id
    clock.advance(60)
    burst = [fake.post(jane, f"acme burst {n}") for n in range(25)]
    # Two pages of ten, newest first, and X still has a next_token: five are unread.
    monkeypatch.setattr(x_feeds, "PAGE_CAP", 2)  # the shared post walk
    assert sync.poll(ACCOUNT).counts["accepted"] == 20
    assert state(db, "brand").cursor == first.id  # not the newest: the rest comes next
    monkeypatch.undo()
    sync.poll(ACCOUNT)
    assert stored(db) == sorted([first.id, *(p.id for p in burst)])
    assert state(db, "brand").cursor == burst[-1].id
    with db.read() as session:  # the twenty read twice are counted once
        assert sum(v.matched for v in session.exec(select(StreamVolume))) == 26


def test_matches_are_tagged_with_the_stream_triaged_and_filterable(db, fake, clock):
    pat = fake.user("pat")
    lead = fake.post(pat, "Peakway tent fell apart after one night, never again")
    other = fake.post(pat, "my acme stove works")
    service(db, fake, clock, BRAND, RIVALS).poll(ACCOUNT)
    conv = conversation_of(db, lead.id)
    assert "stream:competitors" in conv.tags and "market" in conv.tags
    assert conv.category == "sales_lead"  # the demo playbook's competitor complaint rule
    assert any(r["rule"] == "competitor complaint" for r in conv.triage)
    with db.read() as session:
        rows = list_queue(session, QueueFilter(stream="competitors"))
        assert [r.conversation.id for r in rows] == [conv.id]
        rows = list_queue(session, QueueFilter(stream="brand"))
        assert [r.conversation.id for r in rows] == [conversation_of(db, other.id).id]


def test_an_operator_retagging_a_stream_conversation_keeps_the_stream(db, fake, clock):
    lead = fake.post(fake.user("pat"), "Peakway again")
    service(db, fake, clock, RIVALS).poll(ACCOUNT)
    conv = conversation_of(db, lead.id)
    with db.write() as session:
        retriage.override(
            session,
            Playbook.demo(),
            conversation_id=conv.id or 0,
            operator="alice",
            now=clock(),
            tags=[*conv.tags, "press"],
        )
    assert set(conversation_of(db, lead.id).tags) == {*conv.tags, "press"}
    assert "stream:competitors" in conv.tags
    with pytest.raises(InvalidInput, match="unknown tag 'stream:other'"), db.write() as session:
        retriage.override(
            session,
            Playbook.demo(),
            conversation_id=conv.id or 0,
            operator="alice",
            now=clock(),
            tags=["stream:other"],
        )


def test_a_throttled_search_waits_for_the_reset_and_loses_nothing(db, fake, clock):
    jane = fake.user("jane")
    first = fake.post(jane, "acme one")
    fake.faults.arm(THROTTLE, "search", reset_in=600)
    sync = service(db, fake, clock, BRAND, RIVALS)
    report = sync.poll(ACCOUNT)
    assert any("rate-limited until" in e for e in report.errors)
    assert len(fake.requests_to("search")) == 1  # the second stream asked nothing
    assert stored(db) == [] and state(db, "brand").cursor is None
    assert "rate-limited" in state(db, "competitors").last_error

    clock.advance(300)
    sync.poll(ACCOUNT)
    assert len(fake.requests_to("search")) == 1  # still before the reset: no request
    clock.advance(301)
    report = sync.poll(ACCOUNT)
    assert report.errors == [] and stored(db) == [first.id]
    assert state(db, "brand").last_error == ""


def test_mutes_keep_matches_out_are_counted_and_can_be_removed(db, fake, clock):
    spam, jane = fake.user("DealsBot"), fake.user("jane")
    sync = service(db, fake, clock, BRAND)
    sync.poll(ACCOUNT)  # the stream exists once sync has run it
    now = clock()
    by_author = listening.add_mute(
        db, stream="brand", kind="author", value="@dealsbot", by="alice", now=now
    )
    listening.add_mute(
        db, stream="brand", kind="phrase", value="Giveaway  Code", by="alice", now=now
    )
    with pytest.raises(InvalidInput, match="already mutes"):
        listening.add_mute(db, stream="brand", kind="author", value="DEALSBOT", by="bob", now=now)
    with pytest.raises(InvalidInput, match="no listening stream"):
        listening.add_mute(db, stream="nope", kind="author", value="x", by="bob", now=now)

    muted = [fake.post(spam, "acme 50% off"), fake.post(jane, "acme giveaway code inside!")]
    kept = fake.post(jane, "acme giveaways are fun")  # whole words only
    report = sync.poll(ACCOUNT)
    assert (report.counts["matched"], report.counts["muted"]) == (3, 2)
    assert stored(db) == [kept.id]
    assert [m.value for m in listening.list_mutes(db, "brand")] == ["dealsbot", "giveaway code"]

    listening.remove_mute(db, by_author.id or 0, by="bob", now=clock())
    with pytest.raises(NotFound):
        listening.remove_mute(db, by_author.id or 0, by="bob", now=clock())
    clock.advance(60)
    back = fake.post(spam, "acme deal of the day")
    sync.poll(ACCOUNT)
    assert back.id in stored(db) and all(m.id not in stored(db) for m in muted)
    with db.read() as session:
        kinds = session.exec(select(Event.kind).where(col(Event.kind).like("stream.%"))).all()
    assert kinds == ["stream.muted", "stream.muted", "stream.unmuted"]


def test_volume_is_kept_per_hour_with_muted_matches_and_ages_out_of_the_report(db, fake, clock):
    jane = fake.user("jane")
    sync = service(db, fake, clock, BRAND)
    for _ in range(3):
        fake.post(jane, "acme")
    sync.poll(ACCOUNT)
    listening.add_mute(db, stream="brand", kind="phrase", value="spam", by="a", now=clock())
    clock.advance(3600)
    fake.post(jane, "acme")
    fake.post(jane, "acme spam")
    sync.poll(ACCOUNT)
    with db.read() as session:
        hours = session.exec(select(StreamVolume).order_by(col(StreamVolume.hour))).all()
        assert [(v.matched, v.muted) for v in hours] == [(3, 0), (2, 1)]
    # Streams answer with the last 24 hours; the volume older than that drops out.
    [row] = listening.report(db, now=clock())
    assert (row.name, row.account, row.matched, row.muted, row.mutes) == ("brand", ACCOUNT, 5, 1, 1)
    [row] = listening.report(db, now=clock() + timedelta(hours=23))
    assert (row.matched, row.muted) == (2, 1)
    since = clock() - timedelta(hours=2)
    assert [m for _, m, _ in listening.hourly(db, "brand", since=since)] == [3, 2]


def test_a_crash_after_ingest_re_reads_the_matches_and_counts_them_once(
    db, fake, clock, monkeypatch
):
    jane = fake.user("jane")
    posts = [fake.post(jane, f"acme {n}") for n in range(4)]
    sync = service(db, fake, clock, BRAND)
    real = sync.listener._record

    def crash(*args: object, **kw: object) -> None:
        raise SystemExit("killed between ingest and the cursor")

    monkeypatch.setattr(sync.listener, "_record", crash)
    with pytest.raises(SystemExit):
        sync.poll(ACCOUNT)
    assert stored(db) == sorted(p.id for p in posts)  # committed; cursor and volume not
    monkeypatch.setattr(sync.listener, "_record", real)
    report = sync.poll(ACCOUNT)
    assert (report.counts["matched"], report.counts["duplicates"]) == (4, 4)
    [row] = listening.report(db, now=clock())
    assert row.matched == 4 and state(db, "brand").cursor == max((p.id for p in posts), key=int)


def test_the_same_mute_added_twice_at_once_is_refused_in_one_line(db, fake, clock):
    """PostgreSQL: the second insert waits for the first, then hits the unique constraint;
    SQLite: the second waits for the write lock and finds the first."""
    service(db, fake, clock, BRAND).poll(ACCOUNT)
    errors: list[Exception] = []

    def again() -> None:
        try:
            listening.add_mute(db, stream="brand", kind="author", value="x", by="bob", now=clock())
        except Exception as exc:  # the test reports whatever it is
            errors.append(exc)

    racer = threading.Thread(target=again)
    with db.write() as session:
        session.add(
            StreamMute(
                stream="brand", kind="author", value="x", created_by="al", created_at=clock()
            )
        )
        session.flush()
        racer.start()
        time.sleep(0.5)  # bob's rule now waits on this transaction
    racer.join(timeout=60)
    [error] = errors
    assert isinstance(error, InvalidInput) and "brand already mutes author 'x'" in error.message
    assert [m.created_by for m in listening.list_mutes(db, "brand")] == ["al"]
