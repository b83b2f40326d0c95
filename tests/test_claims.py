"""Claims, leases, the reply fence and their events, on every backend, with an injected clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import col, func, select

from frontdesk.core import claims, conversations, events, ingest
from frontdesk.core.claims import Claim
from frontdesk.core.clock import as_utc
from frontdesk.core.config import SlaSettings
from frontdesk.core.db import Database
from frontdesk.core.errors import ClaimConflict, NotFound, StaleVersion
from frontdesk.core.events import EventRecord
from frontdesk.core.models import Conversation, Message

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
# Distinct first-response targets per channel, so each test chooses every sla_due_at.
SLA = SlaSettings(
    targets={"x.public": 30, "facebook.public": 60, "email.public": 90, "email.private": 110}
)


# ---------------------------------------------------------------- helpers


def inbound(
    ext: str,
    *,
    at: datetime,
    thread: str | None = None,
    channel: str = "x",
    visibility: str = "public",
    body: str | None = None,
) -> str:
    """One ingest line; the thread key is `thread` (default: the message's own id)."""
    return json.dumps(
        {
            "channel": channel,
            "external_id": ext,
            "text": body if body is not None else f"message {ext}",
            "created_at": at.isoformat(),
            "author": {"id": f"customer-{thread or ext}", "handle": f"@{thread or ext}"},
            "thread_id": thread or ext,
            "visibility": visibility,
        }
    )


def add_conversation(
    db: Database,
    key: str,
    *,
    at: datetime = T0 - 5 * MINUTE,
    channel: str = "x",
    visibility: str = "public",
    priority: int | None = None,
) -> int:
    """Ingest a first message that opens conversation `key`; returns the conversation id."""
    report = ingest.ingest_stream(
        db,
        [inbound(key, at=at, channel=channel, visibility=visibility)],
        sla=SLA,
        actor="ingest",
        now=T0 - MINUTE,
    )
    assert report.conversations_created == 1, report.as_json()
    with db.write() as session:
        cid = session.exec(select(Conversation.id).where(Conversation.thread_key == key)).one()
        assert cid is not None
        if priority is not None:
            session.connection().execute(
                text("UPDATE conversation SET priority = :p WHERE id = :id"),
                {"p": priority, "id": cid},
            )
    return cid


def customer_writes(db: Database, key: str, ext: str, *, at: datetime, body: str) -> None:
    """A further inbound message on conversation `key`."""
    report = ingest.ingest_stream(
        db, [inbound(ext, at=at, thread=key, body=body)], sla=SLA, actor="ingest", now=at
    )
    assert report.accepted == 1, report.as_json()


def conv(db: Database, cid: int) -> Conversation:
    with db.read() as session:
        row = session.get(Conversation, cid)
        assert row is not None
        session.expunge(row)
        return row


def do_claim(db: Database, cid: int, operator: str, now: datetime) -> Claim:
    with db.write() as session:
        return claims.claim(session, conversation_id=cid, operator=operator, now=now, lease=LEASE)


def do_claim_next(db: Database, operator: str, now: datetime) -> Claim | None:
    with db.write() as session:
        return claims.claim_next(session, operator=operator, now=now, lease=LEASE)


def do_heartbeat(db: Database, claim: Claim, now: datetime) -> Claim:
    with db.write() as session:
        return claims.heartbeat(session, claim=claim, now=now, lease=LEASE)


def do_release(db: Database, cid: int, operator: str, now: datetime) -> None:
    with db.write() as session:
        claims.release(session, conversation_id=cid, operator=operator, now=now)


def do_reply(db: Database, cid: int, operator: str, seen: int, now: datetime, body: str) -> int:
    """Reply and return the new message's id."""
    with db.write() as session:
        message = conversations.reply(
            session,
            conversation_id=cid,
            operator=operator,
            body=body,
            seen_version=seen,
            now=now,
        )
        assert message.id is not None
        return message.id


def do_resolve(
    db: Database, cid: int, operator: str, now: datetime, *, seen: int = -1, force: bool = False
) -> None:
    with db.write() as session:
        claims.resolve(
            session, conversation_id=cid, operator=operator, now=now, seen_version=seen, force=force
        )


def last_event_id(db: Database) -> int:
    with db.read() as session:
        return events.last_id(session)


def events_after(db: Database, after: int) -> list[EventRecord]:
    with db.read() as session:
        return events.after(session, after)


def outbound_count(db: Database, cid: int) -> int:
    with db.read() as session:
        return session.exec(
            select(func.count(col(Message.id))).where(
                Message.conversation_id == cid, Message.direction == "outbound"
            )
        ).one()


def assert_unchanged(db: Database, before: Conversation, event_mark: int) -> None:
    """A refused action left the row and the event log exactly as they were."""
    assert before.id is not None
    after = conv(db, before.id)
    assert after.model_dump() == before.model_dump()
    assert events_after(db, event_mark) == []


# ---------------------------------------------------------------- claim_next ordering


def test_claim_next_takes_earliest_sla_then_priority_then_oldest_then_id(db: Database) -> None:
    # Created newest first: ingest order and id order must not be what decides.
    a = add_conversation(db, "a", channel="x", at=T0 - 20 * MINUTE)  # due T0+10m
    b = add_conversation(db, "b", channel="facebook", at=T0 - 40 * MINUTE, priority=5)  # T0+20m
    c = add_conversation(db, "c", channel="email", at=T0 - 70 * MINUTE)  # due T0+20m
    d = add_conversation(
        db, "d", channel="email", visibility="private", at=T0 - 90 * MINUTE
    )  # due T0+20m, the oldest
    e = add_conversation(db, "e", channel="x", at=T0 + 5 * MINUTE)  # due T0+35m
    f = add_conversation(db, "f", channel="x", at=T0 + 5 * MINUTE)  # same as e: id decides
    dues = {cid: as_utc(conv(db, cid).sla_due_at) for cid in (a, b, c, d, e, f)}  # type: ignore[arg-type]
    assert dues[a] == T0 + 10 * MINUTE
    assert dues[b] == dues[c] == dues[d] == T0 + 20 * MINUTE
    assert dues[e] == dues[f] == T0 + 35 * MINUTE
    assert e < f

    taken = []
    while (got := do_claim_next(db, "alice", T0)) is not None:
        assert got.operator == "alice"
        taken.append(got.conversation_id)
    # a: earliest SLA although newest of a-d and priority 0; b: priority beats age;
    # d before c: oldest first_inbound_at; e before f: the id breaks the tie.
    assert taken == [a, b, d, c, e, f]
    assert [conv(db, cid).status for cid in taken] == ["open"] * 6


def test_claim_next_hands_out_a_lapsed_claim_by_urgency(db: Database) -> None:
    urgent = add_conversation(db, "urgent", at=T0 - 25 * MINUTE)
    later = add_conversation(db, "later", at=T0 - 5 * MINUTE)
    first = do_claim(db, urgent, "alice", T0)
    # While alice holds it, bob gets the next one down.
    got = do_claim_next(db, "bob", T0 + LEASE - SECOND)
    assert got is not None and got.conversation_id == later
    do_release(db, later, "bob", T0 + LEASE - SECOND)
    # Once her lease lapses, her conversation is again the most urgent workable one.
    got = do_claim_next(db, "bob", T0 + LEASE)
    assert got is not None
    assert (got.conversation_id, got.operator, got.token) == (urgent, "bob", first.token + 1)


def test_claim_next_skips_closed_and_waiting_conversations(db: Database) -> None:
    done = add_conversation(db, "done", at=T0 - 25 * MINUTE)
    answered = add_conversation(db, "answered", at=T0 - 20 * MINUTE)
    fresh = add_conversation(db, "fresh", at=T0 - 5 * MINUTE)
    do_resolve(db, done, "alice", T0)
    do_claim(db, answered, "alice", T0)
    do_reply(db, answered, "alice", conv(db, answered).version, T0, "on it")
    do_release(db, answered, "alice", T0)
    assert conv(db, answered).status == "waiting"
    got = do_claim_next(db, "bob", T0)
    assert got is not None and got.conversation_id == fresh
    assert do_claim_next(db, "bob", T0) is None


# ---------------------------------------------------------------- claim / renew


def test_second_operator_is_refused_with_the_holders_name(db: Database) -> None:
    cid = add_conversation(db, "c1")
    held = do_claim(db, cid, "alice", T0)
    assert (held.conversation_id, held.operator, held.expires_at) == (cid, "alice", T0 + LEASE)
    before, mark = conv(db, cid), last_event_id(db)
    with pytest.raises(ClaimConflict, match=r"held by alice until 2026-03-02 09:10:00 UTC"):
        do_claim(db, cid, "bob", T0 + MINUTE)
    assert_unchanged(db, before, mark)
    assert (before.claimed_by, before.claim_token) == ("alice", held.token)


def test_renewing_your_own_claim_keeps_the_token(db: Database) -> None:
    cid = add_conversation(db, "c1")
    assert conv(db, cid).claim_token == 0
    first = do_claim(db, cid, "alice", T0)
    assert first.token == 1
    mark = last_event_id(db)
    renewed = do_claim(db, cid, "alice", T0 + 3 * MINUTE)
    assert renewed.token == first.token
    assert renewed.expires_at == T0 + 3 * MINUTE + LEASE
    row = conv(db, cid)
    assert (row.claimed_by, row.claim_token) == ("alice", first.token)
    assert as_utc(row.claim_expires_at) == T0 + 3 * MINUTE + LEASE  # type: ignore[arg-type]
    [ev] = events_after(db, mark)
    assert (ev.kind, ev.actor, ev.conversation_id) == ("claim.taken", "alice", cid)
    assert ev.payload["token"] == first.token and ev.payload["next"] is False
    # After a lapse the same operator starts a new claim: a new fencing token.
    again = do_claim(db, cid, "alice", renewed.expires_at)
    assert again.token == first.token + 1


def test_claim_of_missing_or_resolved_conversation(db: Database) -> None:
    cid = add_conversation(db, "c1")
    with pytest.raises(NotFound):
        do_claim(db, cid + 1000, "alice", T0)
    do_resolve(db, cid, "alice", T0)
    mark = last_event_id(db)
    with pytest.raises(ClaimConflict, match="is resolved"):
        do_claim(db, cid, "alice", T0)
    assert events_after(db, mark) == []


# ---------------------------------------------------------------- lease boundaries


@pytest.mark.parametrize("offset", [-1, 0, 1], ids=["lease-1s", "lease", "lease+1s"])
def test_lease_boundary_for_claim_next(db: Database, offset: int) -> None:
    held = add_conversation(db, "held", at=T0 - 25 * MINUTE)
    other = add_conversation(db, "other", at=T0 - 5 * MINUTE)
    alice = do_claim(db, held, "alice", T0)
    now = T0 + LEASE + offset * SECOND
    got = do_claim_next(db, "bob", now)
    assert got is not None
    if offset < 0:
        # Still alice's: bob is handed the less urgent conversation instead.
        assert got.conversation_id == other
        assert conv(db, held).claimed_by == "alice"
    else:
        # Expiry is `claim_expires_at <= now`: at exactly the lease it is free.
        assert (got.conversation_id, got.token) == (held, alice.token + 1)
        assert got.expires_at == now + LEASE
        assert conv(db, held).claimed_by == "bob"


@pytest.mark.parametrize("offset", [-1, 0, 1], ids=["lease-1s", "lease", "lease+1s"])
def test_lease_boundary_for_claim(db: Database, offset: int) -> None:
    cid = add_conversation(db, "c1")
    alice = do_claim(db, cid, "alice", T0)
    now = T0 + LEASE + offset * SECOND
    if offset < 0:
        with pytest.raises(ClaimConflict, match="held by alice"):
            do_claim(db, cid, "bob", now)
        assert conv(db, cid).claimed_by == "alice"
    else:
        bob = do_claim(db, cid, "bob", now)
        assert bob.token == alice.token + 1
        assert conv(db, cid).claimed_by == "bob"


@pytest.mark.parametrize("offset", [-1, 0, 1], ids=["lease-1s", "lease", "lease+1s"])
def test_lease_boundary_for_the_holder(db: Database, offset: int) -> None:
    cid = add_conversation(db, "c1")
    alice = do_claim(db, cid, "alice", T0)
    seen = conv(db, cid).version
    now = T0 + LEASE + offset * SECOND
    if offset < 0:
        beat = do_heartbeat(db, alice, now)
        assert beat.expires_at == now + LEASE
        do_reply(db, cid, "alice", seen, now, "still mine")
        assert outbound_count(db, cid) == 1
    else:
        before, mark = conv(db, cid), last_event_id(db)
        with pytest.raises(ClaimConflict, match=r"your claim on conversation .* lapsed"):
            do_heartbeat(db, alice, now)
        with pytest.raises(ClaimConflict, match="lapsed"):
            do_reply(db, cid, "alice", seen, now, "too late")
        assert_unchanged(db, before, mark)
        assert outbound_count(db, cid) == 0


# ---------------------------------------------------------------- heartbeat


def test_heartbeat_extends_the_lease_from_now_without_an_event(db: Database) -> None:
    cid = add_conversation(db, "c1")
    alice = do_claim(db, cid, "alice", T0)
    mark = last_event_id(db)
    beat = do_heartbeat(db, alice, T0 + 5 * MINUTE)
    assert (beat.token, beat.expires_at) == (alice.token, T0 + 5 * MINUTE + LEASE)
    assert as_utc(conv(db, cid).claim_expires_at) == beat.expires_at  # type: ignore[arg-type]
    assert events_after(db, mark) == []
    # Past the original lease, the heartbeat keeps bob out...
    with pytest.raises(ClaimConflict, match="held by alice"):
        do_claim(db, cid, "bob", T0 + LEASE + MINUTE)
    assert do_claim_next(db, "bob", beat.expires_at - SECOND) is None
    # ...until the extended lease runs out.
    got = do_claim_next(db, "bob", beat.expires_at)
    assert got is not None and got.conversation_id == cid


def test_heartbeat_after_lapse_or_takeover_raises(db: Database) -> None:
    cid = add_conversation(db, "c1")
    alice = do_claim(db, cid, "alice", T0)
    before = conv(db, cid)
    with pytest.raises(ClaimConflict, match="lapsed"):
        do_heartbeat(db, alice, T0 + LEASE + SECOND)
    assert conv(db, cid).model_dump() == before.model_dump()
    do_claim(db, cid, "bob", T0 + LEASE + SECOND)
    with pytest.raises(ClaimConflict, match="held by bob"):
        do_heartbeat(db, alice, T0 + LEASE + 2 * SECOND)
    assert conv(db, cid).claimed_by == "bob"


def test_heartbeat_with_an_old_token_is_fenced_off(db: Database) -> None:
    cid = add_conversation(db, "c1")
    old = do_claim(db, cid, "alice", T0)
    new = do_claim(db, cid, "alice", T0 + LEASE)  # lapsed, then claimed again: a new token
    assert new.token == old.token + 1
    with pytest.raises(ClaimConflict):
        do_heartbeat(db, old, T0 + LEASE + SECOND)
    assert as_utc(conv(db, cid).claim_expires_at) == new.expires_at  # type: ignore[arg-type]
    assert do_heartbeat(db, new, T0 + LEASE + SECOND).token == new.token


# ---------------------------------------------------------------- release


def test_release_by_non_holder_is_refused(db: Database) -> None:
    cid = add_conversation(db, "c1")
    with pytest.raises(ClaimConflict, match="claim it first"):
        do_release(db, cid, "alice", T0)
    do_claim(db, cid, "alice", T0)
    before, mark = conv(db, cid), last_event_id(db)
    with pytest.raises(ClaimConflict, match="held by alice"):
        do_release(db, cid, "bob", T0 + MINUTE)
    assert_unchanged(db, before, mark)


def test_release_returns_the_conversation_to_the_queue(db: Database) -> None:
    cid = add_conversation(db, "c1")
    alice = do_claim(db, cid, "alice", T0)
    mark = last_event_id(db)
    do_release(db, cid, "alice", T0 + MINUTE)
    row = conv(db, cid)
    assert (row.claimed_by, row.claim_expires_at, row.status) == (None, None, "open")
    [ev] = events_after(db, mark)
    assert (ev.kind, ev.actor, ev.conversation_id) == ("claim.released", "alice", cid)
    # Free at once, long before the old lease would have lapsed, with a new token.
    got = do_claim_next(db, "bob", T0 + 2 * MINUTE)
    assert got is not None and (got.conversation_id, got.token) == (cid, alice.token + 1)
    with pytest.raises(ClaimConflict, match="held by bob"):
        do_heartbeat(db, alice, T0 + 3 * MINUTE)


# ---------------------------------------------------------------- reply fence


def test_reply_by_non_holder_is_refused_and_writes_nothing(db: Database) -> None:
    cid = add_conversation(db, "c1")
    seen = conv(db, cid).version
    mark = last_event_id(db)
    with pytest.raises(ClaimConflict, match="claim it first"):
        do_reply(db, cid, "bob", seen, T0, "unclaimed")
    do_claim(db, cid, "alice", T0)
    before, mark = conv(db, cid), last_event_id(db)
    with pytest.raises(ClaimConflict, match="held by alice"):
        do_reply(db, cid, "bob", seen, T0 + MINUTE, "not mine")
    assert_unchanged(db, before, mark)
    assert outbound_count(db, cid) == 0


def test_reply_on_a_stale_version_names_the_new_message(db: Database) -> None:
    cid = add_conversation(db, "c1")
    do_claim(db, cid, "alice", T0)
    seen = conv(db, cid).version
    customer_writes(db, "c1", "c1-2", at=T0 + MINUTE, body="Actually it is order 4711\nthanks")
    assert conv(db, cid).version == seen + 1
    before, mark = conv(db, cid), last_event_id(db)
    with pytest.raises(StaleVersion) as raised:
        do_reply(db, cid, "alice", seen, T0 + 2 * MINUTE, "draft written before")
    message = str(raised.value)
    assert f"version {seen}, now {seen + 1}" in message
    assert "1 new message from the customer" in message
    assert "'Actually it is order 4711'" in message and "09:01" in message
    assert "your draft is kept" in message
    assert_unchanged(db, before, mark)
    assert outbound_count(db, cid) == 0
    # Having read the new message, alice's reply goes through.
    do_reply(db, cid, "alice", seen + 1, T0 + 3 * MINUTE, "thanks, looking at 4711")
    assert outbound_count(db, cid) == 1


def test_reply_by_the_live_holder_is_recorded_with_its_event(db: Database) -> None:
    cid = add_conversation(db, "c1")
    do_claim(db, cid, "alice", T0)
    seen = conv(db, cid).version
    mark = last_event_id(db)
    mid = do_reply(db, cid, "alice", seen, T0 + MINUTE, "Hello!\nWe are on it.")
    row = conv(db, cid)
    assert row.version == seen + 1
    assert (row.status, row.sla_due_at, row.preview) == ("waiting", None, "Hello!")
    assert as_utc(row.first_response_at) == T0 + MINUTE  # type: ignore[arg-type]
    assert row.claimed_by == "alice"  # replying keeps the claim
    [ev] = events_after(db, mark)
    assert (ev.kind, ev.actor, ev.conversation_id) == ("reply.queued", "alice", cid)
    assert ev.payload == {"message_id": mid, "version": seen + 1}
    with db.read() as session:
        msg = session.get(Message, mid)
        assert msg is not None
        assert (msg.direction, msg.author, msg.body) == (
            "outbound",
            "alice",
            "Hello!\nWe are on it.",
        )
    # The same version cannot be answered twice.
    with pytest.raises(StaleVersion):
        do_reply(db, cid, "alice", seen, T0 + 2 * MINUTE, "double send")
    assert outbound_count(db, cid) == 1


# ---------------------------------------------------------------- reassign


def test_reassign_moves_the_claim_and_fences_off_the_old_holder(db: Database) -> None:
    cid = add_conversation(db, "c1")
    alice = do_claim(db, cid, "alice", T0)
    seen = conv(db, cid).version
    mark = last_event_id(db)
    with db.write() as session:
        bob = claims.reassign(
            session, conversation_id=cid, target="bob", actor="sue", now=T0 + MINUTE, lease=LEASE
        )
    assert (bob.operator, bob.token, bob.expires_at) == (
        "bob",
        alice.token + 1,
        T0 + MINUTE + LEASE,
    )
    row = conv(db, cid)
    assert (row.claimed_by, row.claim_token) == ("bob", bob.token)
    [ev] = events_after(db, mark)
    assert (ev.kind, ev.actor, ev.conversation_id) == ("claim.reassigned", "sue", cid)
    assert ev.payload == {"to": "bob", "token": bob.token}
    with pytest.raises(ClaimConflict, match="held by bob"):
        do_heartbeat(db, alice, T0 + 2 * MINUTE)
    with pytest.raises(ClaimConflict, match="held by bob"):
        do_reply(db, cid, "alice", seen, T0 + 2 * MINUTE, "mine?")
    assert do_heartbeat(db, bob, T0 + 2 * MINUTE).expires_at == T0 + 2 * MINUTE + LEASE
    do_reply(db, cid, "bob", seen, T0 + 3 * MINUTE, "bob here")
    assert outbound_count(db, cid) == 1


def test_reassign_of_closed_or_missing_conversation_is_refused(db: Database) -> None:
    cid = add_conversation(db, "c1")
    do_resolve(db, cid, "alice", T0)
    mark = last_event_id(db)
    with db.write() as session, pytest.raises(ClaimConflict, match="resolved"):
        claims.reassign(
            session, conversation_id=cid, target="bob", actor="sue", now=T0, lease=LEASE
        )
    with db.write() as session, pytest.raises(NotFound):
        claims.reassign(
            session, conversation_id=cid + 99, target="bob", actor="sue", now=T0, lease=LEASE
        )
    assert events_after(db, mark) == []
    assert conv(db, cid).claimed_by is None


# ---------------------------------------------------------------- resolve


def test_resolve_by_the_holder_frees_the_claim(db: Database) -> None:
    cid = add_conversation(db, "c1")
    do_claim(db, cid, "alice", T0)
    seen = conv(db, cid).version
    mark = last_event_id(db)
    do_resolve(db, cid, "alice", T0 + MINUTE, seen=seen)
    row = conv(db, cid)
    assert (row.status, row.claimed_by, row.claim_expires_at, row.sla_due_at) == (
        "resolved",
        None,
        None,
        None,
    )
    assert as_utc(row.resolved_at) == T0 + MINUTE  # type: ignore[arg-type]
    [ev] = events_after(db, mark)
    assert (ev.kind, ev.actor, ev.conversation_id) == ("conversation.resolved", "alice", cid)
    with pytest.raises(ClaimConflict, match="already resolved"):
        do_resolve(db, cid, "alice", T0 + 2 * MINUTE)
    assert do_claim_next(db, "bob", T0 + 2 * MINUTE) is None


def test_resolve_never_overrides_a_live_holder_unless_forced(db: Database) -> None:
    cid = add_conversation(db, "c1")
    do_claim(db, cid, "alice", T0)
    before, mark = conv(db, cid), last_event_id(db)
    with pytest.raises(ClaimConflict, match="held by alice"):
        do_resolve(db, cid, "bob", T0 + LEASE - SECOND)
    assert_unchanged(db, before, mark)
    do_resolve(db, cid, "sue", T0 + MINUTE, force=True)
    assert conv(db, cid).status == "resolved"
    assert [e.kind for e in events_after(db, mark)] == ["conversation.resolved"]


def test_resolve_of_an_unheld_or_lapsed_conversation_needs_no_claim(db: Database) -> None:
    free = add_conversation(db, "free")
    lapsed = add_conversation(db, "lapsed")
    do_resolve(db, free, "bob", T0)
    do_claim(db, lapsed, "alice", T0)
    do_resolve(db, lapsed, "bob", T0 + LEASE)  # exactly at the lease: lapsed
    assert conv(db, free).status == conv(db, lapsed).status == "resolved"


def test_resolve_on_a_stale_version_is_refused(db: Database) -> None:
    cid = add_conversation(db, "c1")
    do_claim(db, cid, "alice", T0)
    seen = conv(db, cid).version
    customer_writes(db, "c1", "c1-2", at=T0 + MINUTE, body="one more thing")
    before, mark = conv(db, cid), last_event_id(db)
    with pytest.raises(StaleVersion, match=f"version {seen}, now {seen + 1}"):
        do_resolve(db, cid, "alice", T0 + 2 * MINUTE, seen=seen)
    assert_unchanged(db, before, mark)
    with pytest.raises(NotFound):
        do_resolve(db, cid + 99, "alice", T0)


# ---------------------------------------------------------------- events


def test_each_change_writes_its_event_in_order(db: Database) -> None:
    cid = add_conversation(db, "c1")
    mark = last_event_id(db)
    alice = do_claim(db, cid, "alice", T0)
    do_heartbeat(db, alice, T0 + MINUTE)
    mid = do_reply(db, cid, "alice", conv(db, cid).version, T0 + 2 * MINUTE, "hi")
    do_release(db, cid, "alice", T0 + 3 * MINUTE)
    bob = do_claim_next(db, "bob", T0 + 4 * MINUTE)
    assert bob is None  # waiting conversations are not handed out
    bob = do_claim(db, cid, "bob", T0 + 4 * MINUTE)
    do_resolve(db, cid, "bob", T0 + 5 * MINUTE)
    log = events_after(db, mark)
    assert [(e.kind, e.actor) for e in log] == [
        ("claim.taken", "alice"),
        ("reply.queued", "alice"),
        ("claim.released", "alice"),
        ("claim.taken", "bob"),
        ("conversation.resolved", "bob"),
    ]
    assert all(e.conversation_id == cid for e in log)
    ids = [e.id for e in log]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) and ids[0] > mark
    assert [e.at for e in log] == [T0 + n * MINUTE for n in (0, 2, 3, 4, 5)]
    assert log[0].payload == {
        "token": alice.token,
        "expires_at": (T0 + LEASE).isoformat(),
        "next": False,
    }
    assert log[1].payload["message_id"] == mid
    assert log[3].payload["token"] == bob.token == alice.token + 1


def test_claim_next_event_says_next(db: Database) -> None:
    cid = add_conversation(db, "c1")
    mark = last_event_id(db)
    got = do_claim_next(db, "alice", T0)
    assert got is not None
    [ev] = events_after(db, mark)
    assert (ev.kind, ev.conversation_id, ev.payload["next"]) == ("claim.taken", cid, True)
    assert ev.payload["token"] == got.token


def test_a_rolled_back_change_leaves_neither_row_nor_event(db: Database) -> None:
    cid = add_conversation(db, "c1")
    before, mark = conv(db, cid), last_event_id(db)

    class Abort(Exception):
        pass

    with pytest.raises(Abort), db.write() as session:
        claims.claim(session, conversation_id=cid, operator="alice", now=T0, lease=LEASE)
        conversations.reply(
            session,
            conversation_id=cid,
            operator="alice",
            body="never sent",
            seen_version=before.version,
            now=T0,
        )
        assert [e.kind for e in events.after(session, mark)] == ["claim.taken", "reply.queued"]
        raise Abort
    assert_unchanged(db, before, mark)
    assert outbound_count(db, cid) == 0
