"""kill -9 of `frontdesk sync` at random points of ingest and send, against the fake X served
on 127.0.0.1: every acknowledged message is in the queue, no reply is posted twice, and the
outbox loses no row and leaves none half-sent once a sync has started again."""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.connection
import os
import random
import signal
import socketserver
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from frontdesk.core import conversations
from frontdesk.core.connectors.tokens import OAuthTokens
from frontdesk.core.db import Database
from frontdesk.core.models import Message
from frontdesk.core.models_channels import ChannelState, OutboxItem
from tests.conftest import BACKENDS
from tests.fakes import server
from tests.fakes.platform import FakeClock
from tests.fakes.server import serve
from tests.fakes.x import FakeX

pytestmark = pytest.mark.slow

# At least 50 kills in all, shared between the backends under test.
KILLS = -(-60 // len(BACKENDS))
MAX_TRIALS = 3 * KILLS
WAIT_S = 60  # guards against a hung child; never a performance assertion
MODES = ("before", "after", "later")
PAGE = 5  # mentions per page: a backlog takes several requests
# The first poll reads at most max_pages pages by design (the backfill); a backlog built
# up by kills during first polls must stay within it, or its oldest part is never read.
BACKFILL_PAGES = 100
# The children are forked from a server process that has imported all of this already, so
# a trial costs a fork, not a Python start-up (which is most of a second here).
CONTEXT = multiprocessing.get_context("forkserver")
CONTEXT.set_forkserver_preload(
    [
        "httpcore",
        "frontdesk.core.desk",
        "frontdesk.core.sync_config",
        "frontdesk.core.sync_lock",
        "frontdesk.core.sync_loop",
        "frontdesk.tui.cli.context",
        "frontdesk.tui.cli.sync",
        "tests.test_sync_crash",
    ]
)


class WallClock(FakeClock):
    def __call__(self) -> datetime:
        return datetime.now(UTC)


def sync_once(config: str, env: dict[str, str], log: str, go: Any) -> None:
    """The child: `frontdesk sync --once` once the kill switch is armed, its log in a file
    the parent shows on failure."""
    import argparse

    from frontdesk.tui.cli import sync as sync_cli

    go.wait()
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 2)
    os.environ.update(env)
    parser = argparse.ArgumentParser(prog="frontdesk")
    sync_cli.register(parser.add_subparsers())
    args = parser.parse_args(["sync", "--once", "--config", config, "--log-level", "warning"])
    raise SystemExit(args.handler(args))


class KillSwitch:
    """In front of the fake: SIGKILLs the sync child at its n-th request, either before the
    fake acts on it, after the fake stored it but before the answer, or a moment after the
    answer (while the child writes to the database)."""

    def __init__(self, fake: FakeX) -> None:
        self.fake = fake
        self.lock = threading.Lock()
        self.proc: Any = None
        self.count, self.target, self.mode, self.delay = 0, 0, "", 0.0
        self.routes: list[str] = []
        self.timers: list[threading.Timer] = []

    def arm(self, proc: Any, target: int, mode: str, delay: float) -> None:
        with self.lock:
            self.proc, self.count, self.target = proc, 0, target
            self.mode, self.delay = mode, delay

    def kill(self) -> None:
        with self.lock:
            if self.proc is not None and self.proc.is_alive():
                os.kill(self.proc.pid, signal.SIGKILL)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.count += 1
            fire = self.proc is not None and self.count == self.target
            mode = self.mode
        if fire:
            routed = self.fake.route(request)
            self.routes.append(routed.route if routed else "?")
        if fire and mode == "before":
            self.kill()
            raise httpx.ConnectError("killed before the platform acted", request=request)
        response = self.fake(request)
        if fire and mode == "after":
            self.kill()
        elif fire:
            timer = threading.Timer(self.delay, self.kill)
            self.timers.append(timer)
            timer.start()
        return response

    def settle(self) -> None:
        """Wait for pending kills and for every request of the dead child to be handled."""
        for timer in self.timers:
            timer.join()
        self.timers.clear()
        with self.lock:
            self.proc = None
        for thread in threading.enumerate():
            if "process_request_thread" in thread.name:
                thread.join(WAIT_S)


def quiet(self: Any, request: Any, address: Any) -> None:
    """The fake server's error hook: a child killed mid-request resets its connection."""
    if not isinstance(sys.exc_info()[1], ConnectionError):
        socketserver.BaseServer.handle_error(self, request, address)


@pytest.fixture
def platform(tmp_path: Path, monkeypatch) -> Iterator[tuple[FakeX, KillSwitch, Path]]:
    monkeypatch.setattr(server._Server, "handle_error", quiet)
    # Headers and body leave in separate writes: without this each answer waits 40 ms for
    # the client's delayed ACK, which only slows the trials down.
    monkeypatch.setattr(server._Bridge, "disable_nagle_algorithm", True)
    fake = FakeX(WallClock())
    fake.rate_limits = False
    fake.duplicate_window = None  # a reply sent twice is stored twice, so the test sees it
    switch = KillSwitch(fake)
    tokens = tmp_path / "x-tokens.json"
    pair = OAuthTokens(**fake.oauth_pair(lifetime=timedelta(days=30)))
    tokens.write_text(json.dumps(pair.as_json()), encoding="utf-8")
    tokens.chmod(0o600)
    with serve(switch) as base:
        config = tmp_path / "sync.toml"
        config.write_text(
            f'[accounts.acme_x]\ntype = "x"\nbase_url = "{base}"\nuser_id = "{fake.me.id}"\n'
            f'credentials = {{ file = "{tokens}" }}\ndirect_messages = false\n'
            f"page_size = {PAGE}\nmax_pages = {BACKFILL_PAGES}\n",
            encoding="utf-8",
        )
        config.chmod(0o600)
        yield fake, switch, config


def queue_replies(db: Database, rng: random.Random, serial: int) -> int:
    """Operators answer up to three conversations that have no reply yet."""
    with db.write() as session:
        answered = select(OutboxItem.conversation_id)
        open_ = session.exec(
            select(Message.conversation_id, Message.external_id)
            .where(Message.direction == "inbound", col(Message.conversation_id).not_in(answered))
            .order_by(col(Message.id))
        ).all()
        chosen = rng.sample(list(open_), min(len(open_), rng.randint(1, 3)))
        for n, (conversation_id, external_id) in enumerate(chosen):
            conversations.record_reply(
                session,
                conversation_id=conversation_id,
                author="alice",
                body=f"answer {serial}.{n} to {external_id}",
                now=datetime.now(UTC),
                extra={},
            )
        return len(chosen)


def pick_target(db: Database, fake: FakeX, rng: random.Random, trial: int) -> int | None:
    """Which request of the next sync kills it: one of the mention pages it is sure to read
    (a page per five mentions not yet acknowledged), or one of the requests it is sure to
    make for the replies still to settle. Every fourth sync is left alone, so the backlog a
    run of kills builds up is worked off and later kills find replies to interrupt."""
    if trial % 4 == 0:
        return None
    with db.read() as session:
        states = session.exec(select(OutboxItem.state)).all()
        state = session.get(ChannelState, "acme_x")
    since = int(json.loads(state.cursor["value"])["mentions"]) if state else 0
    unread = sum(int(p.id) > since for p in fake.world.mentions())
    pages = max(1, -(-unread // PAGE))
    due = sum(s in ("queued", "sending", "unknown") for s in states)
    if due and rng.random() < 0.6:
        return rng.randint(pages + 1, pages + due)
    return rng.randint(1, pages)


def check(db: Database, fake: FakeX, *, final: bool) -> None:
    posts = fake.replies()
    texts = [p.text for p in posts]
    assert len(texts) == len(set(texts)), "a reply was posted twice"
    with db.read() as session:
        inbound = set(
            session.exec(select(Message.external_id).where(Message.direction == "inbound"))
        )
        outbound = session.exec(select(Message).where(Message.direction == "outbound")).all()
        rows = {r.message_id: r for r in session.exec(select(OutboxItem))}
        state = session.get(ChannelState, "acme_x")
    mentions = [p for p in fake.world.mentions()]
    acknowledged = int(json.loads(state.cursor["value"])["mentions"]) if state else 0
    missing = [p.id for p in mentions if int(p.id) <= acknowledged and p.id not in inbound]
    assert missing == [], "acknowledged mentions missing from the queue"
    assert sorted(rows) == sorted(m.id or 0 for m in outbound), "an outbox row was lost"
    by_text = {p.text: p for p in posts}
    for message in outbound:
        assert message.id is not None
        row = rows[message.id]
        post = by_text.get(message.body)
        if row.state == "sent":
            assert post is not None and row.external_id == post.id == message.external_id
            assert post.replied_to == row.in_reply_to
        elif post is not None:
            assert row.state in ("sending", "unknown", "queued"), row.state
    if final:
        assert inbound == {p.id for p in mentions}
        assert {r.state for r in rows.values()} <= {"sent"}
        assert len(posts) == len(rows)


def test_kill_9_during_ingest_and_send(db: Database, db_url: str, platform, tmp_path) -> None:
    fake, switch, config = platform
    rng = random.Random(20261123)
    env = {"FRONTDESK_DATABASE_URL": db_url, "FRONTDESK_OPERATOR": "sync"}
    people = [fake.user(f"customer{n}") for n in range(20)]
    log = tmp_path / "child.log"
    kills, trials, serial = 0, 0, 0

    def run_child(target: int | None) -> int:
        go = CONTEXT.Event()
        proc = CONTEXT.Process(target=sync_once, args=(str(config), env, str(log), go))
        proc.start()
        if target is not None:
            switch.arm(proc, target, rng.choice(MODES), rng.uniform(0.0, 0.03))
        go.set()
        # Wait on the sentinel rather than join(): the kill switch's threads ask the same
        # Process is_alive(), and when two threads poll it at once both read its exit-status
        # pipe; the one that finds it drained is told 255 by multiprocessing.
        if not multiprocessing.connection.wait([proc.sentinel], WAIT_S):
            proc.kill()
            pytest.fail("a sync child hung")
        switch.settle()  # no thread of the switch polls the child after this
        proc.join()
        code = proc.exitcode
        assert code is not None
        assert code in (0, -signal.SIGKILL), log.read_text(encoding="utf-8")
        return code

    while kills < KILLS and trials < MAX_TRIALS:
        trials += 1
        for _ in range(rng.randint(0, 4)):
            serial += 1
            fake.mention(rng.choice(people), f"question {serial}")
        serial += 1
        queue_replies(db, rng, serial)
        kills += run_child(pick_target(db, fake, rng, trials)) == -signal.SIGKILL
        check(db, fake, final=False)
    assert kills >= KILLS
    assert {"mentions", "tweets.create"} <= set(switch.routes)  # killed in both phases
    assert fake.requests_to("timeline") != []  # replies cut off mid-send were read back
    assert run_child(None) == 0  # a sync that is left alone: recovers and finishes the work
    check(db, fake, final=True)
