"""kill -9 of a broadcast halfway through 500 copies: a re-run sends the rest, none twice."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import select

from frontdesk.core.broadcast import Selection
from frontdesk.core.clock import utcnow
from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.models import Message
from frontdesk.core.models_broadcast import Broadcast, BroadcastCopy
from frontdesk.core.models_channels import OutboxItem
from tests.test_crash import assert_sqlite_whole_and_writable, wait_for_sessions_to_end

COUNT = 500
KILL_AT = 250
LINE_WAIT_S = 120  # guards against a hung child; never a performance assertion
BODY = "Hi {name}, the website is working again. Thanks for your patience!"

# The doomed broadcaster. In "hold" mode copy KILL_AT's transaction stops after its outbox
# row is written and before it commits, until the process is killed; in "loop" mode it is
# killed wherever it is once KILL_AT copies are reported.
CHILD = r"""
import sys, time
from frontdesk.core import outbox
from frontdesk.core.broadcast import Selection
from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.kb.article import parse_text

url, mode, kill_at, body = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
art = parse_text(f"---\ntitle: Fixed\n---\n# Fixed\n\n{body}\n".encode(), "care/fixed.md")
desk = Desk(Settings(), "alice", db=Database(url))
bid = desk.broadcast_start(art, Selection(channel="x"), resolve=True)
print("started", bid, flush=True)
enqueue, sent = outbox.enqueue, [0]
def slow_enqueue(session, **kw):
    item = enqueue(session, **kw)
    sent[0] += 1
    if mode == "hold" and sent[0] == kill_at:
        print("in-transaction", kw["conversation"].id, flush=True)
        time.sleep(3600)
    return item
outbox.enqueue = slow_enqueue
for p in desk.broadcast_run(art, bid):
    print("copy", p.done, p.result.state, flush=True)
"""


class Broadcaster:
    def __init__(self, url: str, mode: str) -> None:
        self.tag = f"frontdesk-doomed-{uuid.uuid4().hex[:8]}"
        if not url.startswith("sqlite"):
            url = f"{url}{'&' if '?' in url else '?'}application_name={self.tag}"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, url, mode, str(KILL_AT), BODY],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[list[str]] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for text in self.proc.stdout:
            self.lines.put(text.split())
        self.lines.put([])

    def expect(self, word: str, until: int | None = None) -> list[str]:
        """The next line starting with `word` (with `until`: whose number reaches it)."""
        while True:
            try:
                fields = self.lines.get(timeout=LINE_WAIT_S)
            except queue.Empty:
                self.kill()
                pytest.fail(f"broadcaster printed no {word!r} line")
            if not fields:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                pytest.fail(f"broadcaster exited ({self.proc.wait()}) before {word!r}: {err}")
            if fields[0] == word and (until is None or int(fields[1]) >= until):
                return fields

    def kill(self) -> int:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        status = self.proc.wait(timeout=LINE_WAIT_S)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return status


def seed(db: Database) -> None:
    at = (utcnow() - timedelta(minutes=5)).isoformat()
    Desk(Settings(), "ingest", db=db).ingest(
        json.dumps(
            {
                "channel": "x",
                "external_id": f"m{n}",
                "text": "is the site down?",
                "created_at": at,
                "author": {"id": f"c{n}", "handle": f"@cust{n}", "name": f"Name{n} S"},
                "thread_id": f"t{n}",
            }
        )
        for n in range(COUNT)
    )


def state(db: Database) -> tuple[Counter[int], Counter[str], int]:
    """Outbox rows per conversation, copy rows per state, outbound messages."""
    with db.read() as session:
        per_conv = Counter(i.conversation_id for i in session.exec(select(OutboxItem)))
        copies = Counter(c.state for c in session.exec(select(BroadcastCopy)))
        replies = len(list(session.exec(select(Message).where(Message.direction == "outbound"))))
    return per_conv, copies, replies


@pytest.mark.parametrize("mode", ["hold", "loop"])
def test_killed_halfway_then_rerun_sends_each_copy_exactly_once(
    db: Database, db_url: str, mode: str
) -> None:
    seed(db)
    child = Broadcaster(db_url, mode)
    try:
        bid = int(child.expect("started")[1])
        if mode == "hold":
            child.expect("in-transaction")
        else:
            child.expect("copy", until=KILL_AT)
    finally:
        status = child.kill()
    assert status == -signal.SIGKILL
    wait_for_sessions_to_end(db, child)  # type: ignore[arg-type]
    assert_sqlite_whole_and_writable(db)

    per_conv, copies, replies = state(db)
    sent = sum(per_conv.values())
    # Each committed copy is whole (reply, outbox row, copy row); the one in flight is gone.
    assert set(per_conv.values()) == {1}
    assert copies["queued"] == sent == replies
    assert copies["pending"] == COUNT - sent
    if mode == "hold":
        assert sent == KILL_AT - 1
    else:
        assert KILL_AT <= sent < COUNT

    # The same command again resumes the same broadcast and sends exactly the rest.
    from tests.test_broadcast import article

    desk = Desk(Settings(), "alice", db=db)
    art = article(BODY)
    assert desk.broadcast_start(art, Selection(channel="x"), resolve=True) == bid
    results = [p.result.state for p in desk.broadcast_run(art, bid)]
    assert results == ["queued"] * (COUNT - sent)

    per_conv, copies, replies = state(db)
    assert len(per_conv) == COUNT and set(per_conv.values()) == {1}
    assert copies == Counter({"queued": COUNT})
    assert replies == COUNT
    with db.read() as session:
        row = session.get(Broadcast, bid)
        assert row is not None and row.state == "done"
