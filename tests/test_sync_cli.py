"""`frontdesk sync` and `frontdesk schedule` from the command line: the private config, JSON
logs, one pass against a fake served on 127.0.0.1, a clean stop on SIGTERM, one sync only."""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from frontdesk.core import sync_config
from frontdesk.core.connectors.tokens import OAuthTokens
from frontdesk.core.db import Database
from frontdesk.core.errors import ConfigError, PermissionDenied
from frontdesk.core.models import Message
from frontdesk.core.models_channels import ChannelState
from frontdesk.core.sync_lock import SyncLock
from frontdesk.tui.cli import sync as sync_cli
from tests.fakes.platform import FakeClock
from tests.fakes.server import serve
from tests.fakes.x import FakeX

LINE_WAIT_S = 60  # guards against a hung child; never a performance assertion
RUNNER = """
import argparse, sys
from frontdesk.tui.cli import sync
parser = argparse.ArgumentParser(prog="frontdesk")
sync.register(parser.add_subparsers())
args = parser.parse_args(sys.argv[1:])
sys.exit(args.handler(args))
"""


class WallClock(FakeClock):
    """The fake platform on real time, as a separate sync process sees it."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)


def cli(*argv: str) -> int:
    """Run a sync or schedule command in this process, as `frontdesk` would."""
    parser = argparse.ArgumentParser(prog="frontdesk")
    sync_cli.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return int(args.handler(args))


def write_config(folder: Path, body: str, mode: int = 0o600) -> Path:
    path = folder / "sync.toml"
    path.write_text(body, encoding="utf-8")
    path.chmod(mode)
    return path


def x_table(fake: FakeX, base: str, folder: Path) -> str:
    tokens = folder / "x-tokens.json"
    pair = OAuthTokens(**fake.oauth_pair(lifetime=timedelta(days=30)))
    tokens.write_text(json.dumps(pair.as_json()), encoding="utf-8")
    tokens.chmod(0o600)
    return (
        f'[accounts.acme_x]\ntype = "x"\nbase_url = "{base}"\nuser_id = "{fake.me.id}"\n'
        f'credentials = {{ file = "{tokens}" }}\ndirect_messages = false\npoll_seconds = 1\n'
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[FakeX, str]]:
    fake = FakeX(WallClock())
    fake.rate_limits = False
    with serve(fake) as base:
        yield fake, x_table(fake, base, tmp_path)


@pytest.fixture
def env(db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"FRONTDESK_DATABASE_URL": db_url, "FRONTDESK_OPERATOR": "alice"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def test_a_config_other_users_can_read_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path, "", mode=0o644)
    with pytest.raises(ConfigError) as refused:
        sync_config.load(path)
    assert str(refused.value) == (
        f"{path} is mode 0644, so other users can read or change the platform settings;"
        f" run: chmod 600 {path}"
    )
    path.chmod(0o640)  # the service's group may read it
    assert sync_config.load(path).accounts == {}
    with pytest.raises(ConfigError, match="no such file"):
        sync_config.load(tmp_path / "missing.toml")


def test_config_errors_name_the_key(tmp_path: Path) -> None:
    feed = '[accounts.{0}]\ntype = "jsonfeed"\nurl = "https://f.example/{0}"\nchannel = "{1}"\n'
    cases = {
        "[mystery]\n": "mystery: unknown table",
        "[sync]\ndrain_seconds = 0\n": "sync.drain_seconds: Input should be greater",
        '[accounts.a]\ntype = "fax"\n': "accounts.a.type: must be one of",
    }
    for body, error in cases.items():
        with pytest.raises(ConfigError, match=error):
            sync_config.load(write_config(tmp_path, body))
    # Two accounts on one queue channel: each conversation records the one it came in on.
    both = write_config(tmp_path, feed.format("web", "x") + feed.format("social", "x"))
    assert list(sync_config.select(sync_config.load(both))) == ["web", "social"]
    config = sync_config.load(
        write_config(tmp_path, feed.format("web", "x") + feed.format("mail", "email"))
    )
    assert list(sync_config.select(config)) == ["web", "mail"]
    assert list(sync_config.select(config, "mail")) == ["mail"]
    assert list(sync_config.select(config, "jsonfeed")) == ["web", "mail"]
    assert sync_config.queue_channel(config.accounts["mail"]) == "email"
    with pytest.raises(ConfigError, match="no enabled account or type 'fb'"):
        sync_config.select(config, "fb")


def test_one_pass_from_the_cli_logs_json_lines(tmp_path, served, env, db, capsys) -> None:
    fake, table = served
    post = fake.mention(fake.user("jane"), "is the shop open?")
    config = write_config(tmp_path, table)
    assert cli("sync", "--once", "--config", str(config)) == 0
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines()]
    assert [x["event"] for x in lines] == ["start", "poll", "stop"]
    assert all({"time", "level", "event"} <= set(x) for x in lines)
    poll = lines[1]
    assert (poll["account"], poll["counts"]["accepted"]) == ("acme_x", 1)
    with db.read() as session:
        stored = session.get(Message, 1)
        assert stored is not None and stored.external_id == post.id


class Child:
    """`frontdesk sync` in its own process, its JSON log lines read on a thread."""

    def __init__(self, config: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", RUNNER, "sync", "--config", str(config)],
            env=os.environ | env,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self.lines.put(json.loads(raw))
        self.lines.put(None)

    def expect(self, event: str) -> dict[str, Any]:
        while True:
            try:
                line = self.lines.get(timeout=LINE_WAIT_S)
            except queue.Empty:
                self.proc.kill()
                pytest.fail(f"sync logged no {event!r} line")
            if line is None:
                pytest.fail(f"sync exited ({self.proc.wait()}) before logging {event!r}")
            if line["event"] == event:
                return line


def test_sync_stops_cleanly_on_sigterm_and_lets_go_of_the_lock(tmp_path, served, env, db):
    fake, table = served
    fake.mention(fake.user("jane"), "anyone there?")
    child = Child(write_config(tmp_path, table), env)
    try:
        assert child.expect("poll")["counts"]["accepted"] == 1
        child.expect("poll")  # polled again: it runs on, one poll a second
        child.proc.send_signal(signal.SIGTERM)
        stopped = child.expect("stop")
        assert (stopped["clean"], stopped["reason"]) == (True, "SIGTERM")
        assert child.proc.wait(timeout=LINE_WAIT_S) == 0
    finally:
        if child.proc.poll() is None:
            child.proc.kill()
            child.proc.wait()
    lock = SyncLock(db)
    lock.acquire(wait=0)
    lock.release()


def test_only_one_sync_runs_against_a_database(db: Database) -> None:
    first, second = SyncLock(db), SyncLock(db)
    first.acquire(wait=0)
    try:
        with pytest.raises(ConfigError, match="another frontdesk sync is running"):
            second.acquire(wait=0.3)
    finally:
        first.release()
    second.acquire(wait=0)
    second.release()


def test_schedule_commands(tmp_path, env, db, capsys, monkeypatch) -> None:
    with db.write() as session:
        session.add(ChannelState(account="acme_x", channel="x", updated_at=datetime.now(UTC)))
    when = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="minutes")
    assert cli("schedule", "add", "--account", "acme_x", "--at", when, "--text", "Sale!") == 0
    assert "scheduled post 1 on acme_x" in capsys.readouterr().out
    assert cli("schedule", "hold", "--reason", "outage") == 0
    assert "hold on" in capsys.readouterr().out
    assert cli("schedule", "list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["hold"]["reason"] == "outage"
    assert [(p["id"], p["state"], p["text"]) for p in listed["posts"]] == [(1, "held", "Sale!")]
    assert cli("schedule", "list") == 0
    assert "HOLD ON" in capsys.readouterr().out
    with pytest.raises(PermissionDenied, match="only supervisor may release"):
        cli("schedule", "release")
    team = tmp_path / "team.toml"
    team.write_text('[roles]\nsupervisors = ["alice"]\n', encoding="utf-8")
    monkeypatch.setenv("FRONTDESK_CONFIG", str(team))
    assert cli("schedule", "release") == 0
    assert "hold released" in capsys.readouterr().out
    assert cli("schedule", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out)["posts"][0]["state"] == "scheduled"
    assert cli("schedule", "cancel", "1") == 0
    assert "scheduled post 1 cancelled" in capsys.readouterr().out
    assert cli("schedule", "list") == 0
    assert "no scheduled posts" in capsys.readouterr().out
