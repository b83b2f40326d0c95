"""A Hypothesis state machine of three operators claiming and replying, checked against a model."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import DateTime, text
from sqlmodel import SQLModel

from frontdesk.core import claims, conversations, events, ingest
from frontdesk.core.claims import Claim
from frontdesk.core.clock import as_utc
from frontdesk.core.config import SlaSettings
from frontdesk.core.db import Database
from frontdesk.core.errors import ClaimConflict, StaleVersion

OPERATORS = ("alice", "bob", "carol")
CONVERSATIONS = 2
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
SECOND = timedelta(seconds=1)
SLA = SlaSettings()
SLA_TARGET = timedelta(minutes=SLA.target_minutes("x", "public"))
# Clock steps include the lease itself and both its neighbours: expiry is `<= now`.
STEPS = (SECOND, 5 * SECOND, 20 * SECOND, 30 * SECOND, LEASE - SECOND, LEASE, LEASE + SECOND)
OPEN = ("new", "open", "waiting")

SETTINGS = settings(
    max_examples=60,
    stateful_step_count=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# A broken fence must be caught: search longer (it stops at the first failure), and skip
# shrinking, whose minimal example nobody reads here.
BROKEN_SETTINGS = settings(SETTINGS, max_examples=1000, phases=[Phase.generate])


@dataclass
class Model:
    """What the database should hold for one conversation."""

    id: int
    thread: str
    first_inbound_at: datetime
    sla_due_at: datetime | None
    version: int
    status: str = "new"
    holder: str | None = None
    token: int = 0
    expires: datetime | None = None
    priority: int = 0

    def live_holder(self, now: datetime) -> str | None:
        return self.holder if self.expires is not None and self.expires > now else None

    def urgency(self) -> tuple[datetime, int, datetime, int]:
        assert self.sla_due_at is not None  # every workable conversation has an SLA due
        return (self.sla_due_at, -self.priority, self.first_inbound_at, self.id)


@dataclass
class Reply:
    """A reply the database accepted."""

    conversation_id: int
    operator: str
    seen_version: int
    at: datetime


def _line(ext: str, thread: str, at: datetime) -> str:
    return json.dumps(
        {
            "channel": "x",
            "external_id": ext,
            "text": f"customer says {ext}",
            "created_at": at.isoformat(),
            "author": {"id": f"customer-{thread}"},
            "thread_id": thread,
        }
    )


def _reset(db: Database) -> None:
    # Every table, children first: replies also write rows that point at their message
    # (the outbox), and later features will add more.
    with db.write() as session:
        for table in reversed(SQLModel.metadata.sorted_tables):
            session.connection().execute(text(f'DELETE FROM "{table.name}"'))


def machine_for(db: Database) -> type[RuleBasedStateMachine]:
    """The machine class bound to one migrated database (emptied before every example)."""

    class ClaimMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            _reset(db)
            self.now = T0
            self.serial = 0
            self.convs: list[Model] = []
            for n in range(CONVERSATIONS):
                # Staggered arrivals, so the SLA order between them is decided by the test.
                at = T0 - (CONVERSATIONS - n) * SECOND
                thread = f"thread-{n}"
                self._ingest(thread, at)
                with db.read() as session:
                    cid = session.connection().execute(
                        text("SELECT id FROM conversation WHERE thread_key = :t"), {"t": thread}
                    )
                    cid = cid.scalar_one()
                self.convs.append(Model(cid, thread, at, at + SLA_TARGET, version=1))
            # What each operator holds (as far as it knows) and which version it last saw.
            self.held: dict[str, dict[int, Claim]] = {op: {} for op in OPERATORS}
            self.seen: dict[str, dict[int, int]] = {op: {} for op in OPERATORS}
            self.replies: list[Reply] = []
            # Every claim ever handed out: an old workstation window may still hold one.
            self.issued: list[Claim] = []
            with db.read() as session:
                self.mark = events.last_id(session)

        # ------------------------------------------------------------ helpers

        def _conv(self, cid: int) -> Model:
            return next(c for c in self.convs if c.id == cid)

        def _ingest(self, thread: str, at: datetime) -> None:
            self.serial += 1
            report = ingest.ingest_stream(
                db, [_line(f"m{self.serial}", thread, at)], sla=SLA, actor="ingest", now=self.now
            )
            assert report.accepted == 1, report.as_json()

        def _expect_events(self, rows: list[tuple[str, str, int]]) -> list[events.EventRecord]:
            with db.read() as session:
                new = events.after(session, self.mark)
            assert [(e.kind, e.actor, e.conversation_id) for e in new] == rows
            if new:
                self.mark = new[-1].id
            return new

        def _take(self, conv: Model, op: str, got: Claim, *, renewal: bool) -> None:
            assert got.conversation_id == conv.id and got.operator == op
            assert got.token == (conv.token if renewal else conv.token + 1)
            assert got.expires_at == self.now + LEASE
            conv.holder, conv.token, conv.expires = op, got.token, got.expires_at
            if conv.status == "new":
                conv.status = "open"
            self.held[op][conv.id] = got
            self.issued.append(got)
            self.seen[op][conv.id] = conv.version  # claiming opens the thread

        # ------------------------------------------------------------ rules

        @rule(op=st.sampled_from(OPERATORS), n=st.integers(0, CONVERSATIONS - 1))
        def claim(self, op: str, n: int) -> None:
            conv = self.convs[n]
            free = conv.holder in (None, op) or conv.live_holder(self.now) is None
            predicted = conv.status in OPEN and free
            try:
                with db.write() as session:
                    got = claims.claim(
                        session, conversation_id=conv.id, operator=op, now=self.now, lease=LEASE
                    )
            except ClaimConflict as exc:
                assert not predicted, f"{op} refused {conv.id}: {exc}"
                if conv.live_holder(self.now):
                    assert f"held by {conv.holder}" in str(exc)
                self.held[op].pop(conv.id, None)
                self._expect_events([])
                return
            assert predicted, f"{op} claimed {conv.id} held live by {conv.holder}"
            renewal = conv.live_holder(self.now) == op
            self._take(conv, op, got, renewal=renewal)
            [ev] = self._expect_events([("claim.taken", op, conv.id)])
            assert ev.payload["token"] == got.token

        @rule(op=st.sampled_from(OPERATORS))
        def claim_next(self, op: str) -> None:
            workable = [
                c
                for c in self.convs
                if c.status in ("new", "open") and c.live_holder(self.now) is None
            ]
            expected = min(workable, key=Model.urgency) if workable else None
            with db.write() as session:
                got = claims.claim_next(session, operator=op, now=self.now, lease=LEASE)
            if expected is None:
                assert got is None, f"claim_next handed {op} {got} though nothing is workable"
                self._expect_events([])
                return
            assert got is not None, f"claim_next found nothing; expected {expected.id}"
            assert got.conversation_id == expected.id
            self._take(expected, op, got, renewal=False)
            self._expect_events([("claim.taken", op, expected.id)])

        @precondition(lambda self: any(self.held.values()))
        @rule(data=st.data())
        def heartbeat(self, data: st.DataObject) -> None:
            # An operator heartbeats the claims it was given (live or not, as far as it knows).
            op, cid = data.draw(
                st.sampled_from(sorted((op, cid) for op in OPERATORS for cid in self.held[op]))
            )
            self._heartbeat(self.held[op][cid])

        @precondition(lambda self: bool(self.issued))
        @rule(data=st.data())
        def heartbeat_from_an_old_window(self, data: st.DataObject) -> None:
            # Any claim ever issued, perhaps superseded by a newer one of the same operator:
            # only the fencing token tells them apart.
            self._heartbeat(data.draw(st.sampled_from(self.issued)))

        def _heartbeat(self, mine: Claim) -> None:
            op, conv = mine.operator, self._conv(mine.conversation_id)
            current = conv.holder == op and conv.token == mine.token
            predicted = current and conv.live_holder(self.now) == op
            try:
                with db.write() as session:
                    got = claims.heartbeat(session, claim=mine, now=self.now, lease=LEASE)
            except ClaimConflict:
                assert not predicted, f"{op}'s live claim on {conv.id} refused a heartbeat"
                if current or self.held[op].get(conv.id) == mine:
                    self.held[op].pop(conv.id, None)  # the workstation says so at once
                self._expect_events([])
                return
            assert predicted, (
                f"{op} heartbeat claim {mine.token} on {conv.id}; "
                f"{conv.live_holder(self.now) or 'nobody'} holds token {conv.token}"
            )
            assert (got.token, got.expires_at) == (mine.token, self.now + LEASE)
            conv.expires = got.expires_at
            self.held[op][conv.id] = got
            self._expect_events([])

        @rule(step=st.sampled_from(STEPS))
        def advance_clock(self, step: timedelta) -> None:
            self.now += step

        @precondition(lambda self: any(c.expires is not None for c in self.convs))
        @rule(data=st.data(), offset=st.sampled_from((-SECOND, timedelta(0), SECOND)))
        def advance_to_a_lease_end(self, data: st.DataObject, offset: timedelta) -> None:
            # Land on a boundary: a second before, exactly at, or a second after an expiry.
            expiries = [c.expires for c in self.convs if c.expires is not None]
            ends = sorted({t + offset for t in expiries if t + offset >= self.now})
            if ends:  # the clock never runs backwards
                self.now = data.draw(st.sampled_from(ends))

        @rule(op=st.sampled_from(OPERATORS), n=st.integers(0, CONVERSATIONS - 1))
        def release(self, op: str, n: int) -> None:
            conv = self.convs[n]
            predicted = conv.holder == op  # release needs the name, not a live lease
            try:
                with db.write() as session:
                    claims.release(session, conversation_id=conv.id, operator=op, now=self.now)
            except ClaimConflict:
                assert not predicted, f"{op} could not release {conv.id}"
                self.held[op].pop(conv.id, None)
                self._expect_events([])
                return
            assert predicted, f"{op} released {conv.id} held by {conv.holder}"
            conv.holder, conv.expires = None, None
            self.held[op].pop(conv.id, None)
            self._expect_events([("claim.released", op, conv.id)])

        @rule(op=st.sampled_from(OPERATORS), n=st.integers(0, CONVERSATIONS - 1))
        def look(self, op: str, n: int) -> None:
            conv = self.convs[n]
            with db.read() as session:
                version = conversations.get_thread(session, conv.id).conversation.version
            assert version == conv.version
            self.seen[op][conv.id] = version

        @rule(op=st.sampled_from(OPERATORS), n=st.integers(0, CONVERSATIONS - 1))
        def reply(self, op: str, n: int) -> None:
            self._reply(op, self.convs[n])

        @precondition(lambda self: any(self.held.values()))
        @rule(data=st.data())
        def reply_on_own_claim(self, data: st.DataObject) -> None:
            # Operators mostly answer what they claimed (their claim may have lapsed since).
            op, cid = data.draw(
                st.sampled_from(sorted((op, cid) for op in OPERATORS for cid in self.held[op]))
            )
            self._reply(op, self._conv(cid))

        def _reply(self, op: str, conv: Model) -> None:
            seen = self.seen[op].get(conv.id, 1)  # everyone saw the first message in the queue
            live = conv.live_holder(self.now) == op
            try:
                with db.write() as session:
                    conversations.reply(
                        session,
                        conversation_id=conv.id,
                        operator=op,
                        body=f"{op} answers version {seen}",
                        seen_version=seen,
                        now=self.now,
                    )
            except ClaimConflict:
                assert not live, f"{op}, live holder of {conv.id}, was refused as non-holder"
                self.held[op].pop(conv.id, None)
                self._expect_events([])
                return
            except StaleVersion as exc:
                assert live and seen != conv.version, f"{op} refused as stale: {exc}"
                assert f"now {conv.version}" in str(exc)
                self.seen[op][conv.id] = conv.version  # the error shows what is new
                self._expect_events([])
                return
            self.replies.append(Reply(conv.id, op, seen, self.now))
            assert live, (
                f"reply accepted from {op} on conversation {conv.id}, "
                f"which {conv.live_holder(self.now) or 'nobody'} holds"
            )
            assert seen == conv.version, (
                f"reply accepted from {op} on conversation {conv.id} "
                f"that it saw at version {seen}, now {conv.version}"
            )
            conv.version += 1
            conv.status, conv.sla_due_at = "waiting", None
            self.seen[op][conv.id] = conv.version
            [ev] = self._expect_events([("reply.queued", op, conv.id)])
            assert ev.payload["version"] == conv.version

        @rule(n=st.integers(0, CONVERSATIONS - 1))
        def customer_writes(self, n: int) -> None:
            self._customer_writes(self.convs[n])

        @precondition(lambda self: any(self.held.values()))
        @rule(data=st.data())
        def customer_writes_while_claimed(self, data: st.DataObject) -> None:
            # The interesting moment: a message arrives while someone drafts a reply.
            cid = data.draw(st.sampled_from(sorted({c for op in OPERATORS for c in self.held[op]})))
            self._customer_writes(self._conv(cid))

        def _customer_writes(self, conv: Model) -> None:
            self._ingest(conv.thread, self.now)
            if conv.status not in ("new", "open") or conv.sla_due_at is None:
                conv.sla_due_at = self.now + SLA_TARGET
            if conv.status in ("waiting", "resolved", "closed"):
                conv.status = "open"
            conv.version += 1
            self._expect_events([("message.received", "ingest", conv.id)])

        # ------------------------------------------------------------ invariants

        @invariant()
        def database_matches_the_model(self) -> None:
            with db.read() as session:
                rows = session.connection().execute(_STATE)
                actual = [
                    (
                        r.id,
                        r.claimed_by,
                        r.claim_token,
                        r.claim_expires_at,
                        r.version,
                        r.status,
                        r.sla_due_at,
                    )
                    for r in rows
                ]
            expected = [
                (c.id, c.holder, c.token, c.expires, c.version, c.status, c.sla_due_at)
                for c in sorted(self.convs, key=lambda c: c.id)
            ]
            assert [_norm(r) for r in actual] == expected

        @invariant()
        def at_most_one_operator_believes_it_holds_each_conversation(self) -> None:
            for conv in self.convs:
                believers = [
                    op
                    for op in OPERATORS
                    if (c := self.held[op].get(conv.id)) is not None and c.expires_at > self.now
                ]
                assert len(believers) <= 1, f"{believers} all hold {conv.id} live"
                if believers:
                    mine = self.held[believers[0]][conv.id]
                    assert (conv.holder, conv.token, conv.expires) == (
                        mine.operator,
                        mine.token,
                        mine.expires_at,
                    )

        @invariant()
        def one_reply_per_conversation_version(self) -> None:
            answered = [(r.conversation_id, r.seen_version) for r in self.replies]
            assert len(answered) == len(set(answered)), f"two replies to one version: {answered}"

    return ClaimMachine


_STATE = text(
    "SELECT id, claimed_by, claim_token, claim_expires_at, version, status, sla_due_at"
    " FROM conversation ORDER BY id"
).columns(claim_expires_at=DateTime(timezone=True), sla_due_at=DateTime(timezone=True))


def _norm(row: tuple[object, ...]) -> tuple[object, ...]:
    """SQLite hands back naive datetimes (and PostgreSQL aware ones): compare both as UTC."""
    return tuple(as_utc(v) if isinstance(v, datetime) else v for v in row)


def test_claims_and_replies_follow_the_model(db: Database) -> None:
    run_state_machine_as_test(machine_for(db), settings=SETTINGS)


# Each weakening drops one half of the fence on customer-visible writes.
BROKEN_FENCES = {
    "no-holder-check": ("version = :seen", "reply accepted from .* which"),
    "no-version-check": (
        "claimed_by = :operator AND claim_expires_at > :now",
        "reply accepted from .* that it saw at version",
    ),
}


@pytest.mark.parametrize("broken", sorted(BROKEN_FENCES))
def test_the_machine_catches_a_broken_fence(
    db: Database, broken: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fence, failure = BROKEN_FENCES[broken]
    assert claims.FENCE != fence
    # _fenced_stmt caches statements by assignment list: give it an empty cache to fill.
    monkeypatch.setattr(claims, "FENCE", fence)
    monkeypatch.setattr(claims, "_FENCED_CACHE", {})
    with pytest.raises(AssertionError, match=failure):
        run_state_machine_as_test(machine_for(db), settings=BROKEN_SETTINGS)

    # Restored: the real fence refuses a reply from an operator holding nothing.
    monkeypatch.undo()
    _reset(db)
    ingest.ingest_stream(db, [_line("r1", "restored", T0)], sla=SLA, actor="ingest", now=T0)
    with db.read() as session:
        cid = session.connection().execute(text("SELECT id FROM conversation")).scalar_one()
    with pytest.raises(ClaimConflict), db.write() as session:
        conversations.reply(
            session, conversation_id=cid, operator="bob", body="x", seen_version=1, now=T0
        )
