"""kill -9 of a process holding a claim: its lease frees the conversation; the database is whole."""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import DateTime, text

from frontdesk.core import claims, ingest
from frontdesk.core.clock import as_utc
from frontdesk.core.config import SlaSettings
from frontdesk.core.db import Database
from frontdesk.core.errors import ClaimConflict, DatabaseBusy, DatabaseError

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)
SECOND = timedelta(seconds=1)
LINE_WAIT_S = 60  # guards against a hung child; never a performance assertion

# The doomed operator's workstation: claim, then heartbeat once a (simulated) second, each
# heartbeat its own write transaction. In "hold" mode the third heartbeat's transaction stays
# open (row updated, not committed) until the process is killed.
CHILD = r"""
import sys, time
from datetime import datetime, timedelta, UTC
from frontdesk.core import claims
from frontdesk.core.db import Database

url, cid, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t0, lease = datetime.fromisoformat(sys.argv[4]), timedelta(seconds=int(sys.argv[5]))
db = Database(url)
with db.write() as session:
    claim = claims.claim(session, conversation_id=cid, operator="doomed", now=t0, lease=lease)
print("claimed", claim.token, flush=True)
beat = 0
while True:
    beat += 1
    with db.write() as session:
        now = t0 + timedelta(seconds=beat)
        claim = claims.heartbeat(session, claim=claim, now=now, lease=lease)
        if mode == "hold" and beat == 3:
            print("in-transaction", beat, flush=True)
            time.sleep(3600)
    print("beat", beat, flush=True)
"""

_LEASE_STATE = text(
    "SELECT claimed_by, claim_token, claim_expires_at FROM conversation WHERE id = :id"
).columns(claim_expires_at=DateTime(timezone=True))


class Child:
    """The doomed process, with its stdout read line by line on a thread."""

    def __init__(self, url: str, cid: int, mode: str) -> None:
        self.tag = f"frontdesk-doomed-{uuid.uuid4().hex[:8]}"
        if not url.startswith("sqlite"):
            # Named, so the parent can tell when PostgreSQL has dropped all its sessions.
            url = f"{url}{'&' if '?' in url else '?'}application_name={self.tag}"
        args = [url, str(cid), mode, T0.isoformat(), str(int(LEASE.total_seconds()))]
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[list[str]] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.split())
        self.lines.put([])  # end of output

    def expect(self, word: str) -> list[str]:
        """The next line starting with `word` (earlier lines are skipped)."""
        while True:
            try:
                fields = self.lines.get(timeout=LINE_WAIT_S)
            except queue.Empty:
                self.kill()
                pytest.fail(f"child printed no {word!r} line")
            if not fields:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                pytest.fail(f"child exited ({self.proc.wait()}) before {word!r}: {err}")
            if fields[0] == word:
                return fields

    def kill(self) -> int:
        """SIGKILL the child (unless it already died) and return its exit status."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        status = self.proc.wait(timeout=LINE_WAIT_S)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return status


@pytest.fixture
def two_conversations(db: Database) -> tuple[int, int]:
    """Two conversations; the first (more urgent) is the one the doomed process claims."""
    lines = [
        json.dumps(
            {
                "channel": "x",
                "external_id": key,
                "text": f"help {key}",
                "created_at": (T0 - minutes * timedelta(minutes=1)).isoformat(),
                "author": {"id": f"customer-{key}"},
                "thread_id": key,
            }
        )
        for key, minutes in (("urgent", 20), ("later", 5))
    ]
    ingest.ingest_stream(db, lines, sla=SlaSettings(), actor="ingest", now=T0)
    with db.read() as session:
        ids = session.connection().execute(text("SELECT id FROM conversation ORDER BY sla_due_at"))
        urgent, later = ids.scalars().all()
    return urgent, later


def lease_state(db: Database, cid: int) -> tuple[str | None, int, datetime | None]:
    with db.read() as session:
        row = session.connection().execute(_LEASE_STATE, {"id": cid}).one()
    expires = as_utc(row.claim_expires_at) if row.claim_expires_at is not None else None
    return row.claimed_by, row.claim_token, expires


def pg_sessions(db: Database, child: Child) -> int:
    """How many PostgreSQL sessions the child opened are still there."""
    query = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :tag")
    with db.read() as session:
        return int(session.connection().execute(query, {"tag": child.tag}).scalar_one())


def wait_for_sessions_to_end(db: Database, child: Child) -> None:
    """PostgreSQL: block until the server has noticed the killed client and rolled back.

    A condition wait, not a timing assertion: the deadline only stops a hung run.
    """
    if db.is_sqlite:
        return  # the kernel drops a dead process's file locks as it dies
    deadline = time.monotonic() + LINE_WAIT_S
    while pg_sessions(db, child) > 0:
        if time.monotonic() > deadline:
            pytest.fail(f"PostgreSQL sessions {child.tag} outlived their killed client")
        time.sleep(0.05)


def assert_row_lock(db: Database, cid: int, *, held: bool) -> None:
    """Whether some transaction holds a write lock that a new writer would run into."""
    if db.is_sqlite:
        quick = Database(str(db.url), busy_timeout_ms=50)
        try:
            with quick.write() as session:
                session.connection().execute(text("SELECT 1"))
            locked = False
        except DatabaseBusy:
            locked = True
        finally:
            quick.dispose()
    else:
        try:
            with db.write() as session:
                session.connection().execute(
                    text("SELECT id FROM conversation WHERE id = :id FOR UPDATE NOWAIT"),
                    {"id": cid},
                )
            locked = False
        except DatabaseError as exc:
            assert "could not obtain lock" in str(exc), exc
            locked = True
    assert locked is held


def assert_sqlite_whole_and_writable(db: Database) -> None:
    if not db.is_sqlite:
        return
    path = db.sqlite_path
    assert path is not None
    with sqlite3.connect(path, timeout=0.1) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        # Not left locked: a write transaction starts at once (busy timeout 0.1 s).
        conn.isolation_level = None
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE conversation SET priority = priority")
        conn.execute("COMMIT")
    conn.close()


def test_killed_mid_transaction_rolls_back_and_the_lease_frees_the_conversation(
    db: Database, db_url: str, two_conversations: tuple[int, int]
) -> None:
    urgent, later = two_conversations
    child = Child(db_url, urgent, "hold")
    try:
        _, token = child.expect("claimed")
        child.expect("in-transaction")
        # The third heartbeat is written but not committed, and its lock is held.
        assert_row_lock(db, urgent, held=True)
        if not db.is_sqlite:
            assert pg_sessions(db, child) >= 1
    finally:
        status = child.kill()
    assert status == -signal.SIGKILL
    wait_for_sessions_to_end(db, child)
    assert_row_lock(db, urgent, held=False)
    assert_sqlite_whole_and_writable(db)

    # Heartbeats 1 and 2 committed; the third died with its transaction.
    expires = T0 + 2 * SECOND + LEASE
    assert lease_state(db, urgent) == ("doomed", int(token), expires)

    # A second before the lease ends the dead process still holds it...
    with db.write() as session:
        got = claims.claim_next(session, operator="bob", now=expires - SECOND, lease=LEASE)
        assert got is not None and got.conversation_id == later
        with pytest.raises(ClaimConflict, match="held by doomed"):
            claims.claim(
                session, conversation_id=urgent, operator="bob", now=expires - SECOND, lease=LEASE
            )
    # ...and at the lease it is handed out again, under a new fencing token.
    with db.write() as session:
        got = claims.claim_next(session, operator="carol", now=expires, lease=LEASE)
    assert got is not None
    assert (got.conversation_id, got.operator, got.token) == (urgent, "carol", int(token) + 1)
    assert lease_state(db, urgent) == ("carol", int(token) + 1, expires + LEASE)
    assert_sqlite_whole_and_writable(db)


@pytest.mark.parametrize("beats", [5, 25])
def test_killed_at_an_arbitrary_point_of_its_heartbeat_loop(
    db: Database, db_url: str, two_conversations: tuple[int, int], beats: int
) -> None:
    urgent, later = two_conversations
    child = Child(db_url, urgent, "loop")
    try:
        _, token = child.expect("claimed")
        while int(child.expect("beat")[1]) < beats:
            pass
    finally:
        status = child.kill()  # wherever it is: between transactions or inside one
    assert status == -signal.SIGKILL
    wait_for_sessions_to_end(db, child)
    assert_row_lock(db, urgent, held=False)
    assert_sqlite_whole_and_writable(db)

    holder, current, expires = lease_state(db, urgent)
    assert (holder, current) == ("doomed", int(token))
    assert expires is not None
    # Every heartbeat it reported as committed survived the kill.
    committed = (expires - LEASE - T0) / SECOND
    assert committed == int(committed) and committed >= beats

    with db.write() as session:
        got = claims.claim_next(session, operator="bob", now=expires - SECOND, lease=LEASE)
    assert got is not None and got.conversation_id == later  # still the dead one's
    with db.write() as session:
        got = claims.claim_next(session, operator="carol", now=expires, lease=LEASE)
    assert got is not None and (got.conversation_id, got.token) == (urgent, int(token) + 1)
    assert_sqlite_whole_and_writable(db)
