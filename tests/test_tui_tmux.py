"""The real `frontdesk` console script in tmux: keys typed, the screen read as operators see it."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.tui_support import DEMO_KB

FRONTDESK = Path(sys.executable).with_name("frontdesk")
COLS, ROWS = 160, 48
KEY_PAUSE = 0.4  # focus changes and workers land after the key; an operator is slower still

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(
        not FRONTDESK.exists(), reason="the frontdesk console script is not installed"
    ),
]


class Tmux:
    """A private tmux server (its own socket), one window per running frontdesk."""

    def __init__(self, socket: str) -> None:
        self.socket = socket
        self.session: str | None = None

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def start(self, window: str, env: dict[str, str], *argv: str) -> str:
        """Run `frontdesk argv...` in a new window; its exit status stays on screen."""
        assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        # COLUMNS and LINES can reach the server from the test runner's environment and
        # would override the pane's real size: the app must ask the terminal.
        command = (
            f"env -u COLUMNS -u LINES {assignments} {shlex.quote(str(FRONTDESK))} "
            f"{shlex.join(argv)}; "
            'echo "[frontdesk exited $?]"; sleep 600'
        )
        if self.session is None:
            self.session = "fd"
            size = ["-x", str(COLS), "-y", str(ROWS)]
            self.tmux("new-session", "-d", "-s", self.session, "-n", window, *size, command)
        else:
            self.tmux("new-window", "-d", "-t", self.session, "-n", window, command)
            self.tmux("resize-window", "-t", f"{self.session}:{window}", "-x", str(COLS))
        return f"{self.session}:{window}"

    def screen(self, target: str) -> str:
        return self.tmux("capture-pane", "-p", "-t", target)

    def keys(self, target: str, *keys: str) -> None:
        """Press tmux key names (`n`, `C-s`, `Escape`) one by one, as a person would."""
        for key in keys:
            self.tmux("send-keys", "-t", target, key)
            time.sleep(KEY_PAUSE)

    def type(self, target: str, text: str) -> None:
        self.tmux("send-keys", "-t", target, "-l", text)
        time.sleep(KEY_PAUSE)

    def wait_for(
        self, target: str, seen: Callable[[str], bool], what: str, seconds: float = 30
    ) -> str:
        """Poll the screen until `seen(screen)`; a readiness deadline, not a speed check."""
        deadline = time.monotonic() + seconds
        screen = self.screen(target)
        while not seen(screen):
            if time.monotonic() > deadline:
                pytest.fail(f"{what}: not on screen after {seconds:.0f} s:\n{screen}")
            time.sleep(0.2)
            screen = self.screen(target)
        return screen

    def close(self) -> None:
        # Only this test's server, found by its own socket name.
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    server = Tmux(f"frontdesk-test-{uuid.uuid4().hex[:10]}")
    try:
        yield server
    finally:
        server.close()


def frontdesk(env: dict[str, str], *argv: str) -> str:
    """Run a frontdesk CLI command against the workspace (out of process, like a script)."""
    done = subprocess.run(
        [str(FRONTDESK), *argv],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"frontdesk {' '.join(argv)}: {done.stderr}"
    return done.stdout


def seed_lines(count: int) -> list[str]:
    """`count` X mentions; @walker01 wrote first, so it is the most urgent."""
    now = datetime.now(UTC)
    return [
        json.dumps(
            {
                "channel": "x",
                "external_id": f"tmux-{n}",
                "text": f"@NorthwindOut where is my order number {n}?",
                "created_at": (now - timedelta(minutes=100 - n)).isoformat(),
                "author": {"id": f"w{n}", "handle": f"@walker{n:02d}", "name": f"Walker {n}"},
            }
        )
        for n in range(1, count + 1)
    ]


@pytest.fixture
def workspace(tmp_path: Path) -> dict[str, str]:
    """A config, an initialised SQLite database with 12 conversations, and a copy of the KB,
    all made through the CLI; returns the environment that points frontdesk at it."""
    kb = tmp_path / "kb"
    shutil.copytree(DEMO_KB, kb)
    config = tmp_path / "config.toml"
    config.write_text(
        f'database_url = "sqlite:///{tmp_path / "frontdesk.db"}"\nkb_dir = "{kb}"\n',
        encoding="utf-8",
    )
    env = {"FRONTDESK_CONFIG": str(config), "FRONTDESK_OPERATOR": "seed"}
    frontdesk(env, "init")
    feed = tmp_path / "seed.jsonl"
    feed.write_text("\n".join(seed_lines(12)) + "\n", encoding="utf-8")
    assert "12 new" in frontdesk(env, "ingest", str(feed))
    return {"FRONTDESK_CONFIG": str(config)}


def as_operator(workspace: dict[str, str], login: str) -> dict[str, str]:
    return {**workspace, "FRONTDESK_OPERATOR": login}


def thread_of(workspace: dict[str, str], conversation_id: int) -> dict[str, Any]:
    shown = frontdesk(as_operator(workspace, "check"), "show", str(conversation_id), "--json")
    thread: dict[str, Any] = json.loads(shown)
    return thread


def queue_row(screen: str, handle: str) -> str:
    """The screen line of the queue row for `handle` (the queue is the left pane)."""
    return next((line for line in screen.splitlines() if handle in line), "")


def test_demo_opens_the_workstation_on_a_throwaway_workspace(tmux: Tmux, tmp_path: Path) -> None:
    target = tmux.start(
        "demo",
        {"FRONTDESK_OPERATOR": "alice"},
        "demo",
        "--dir",
        str(tmp_path / "demo"),
        "--conversations",
        "60",
        "--no-live",
    )
    # The header fills in as its workers answer: the KB, the operator's role, the counts.
    screen = tmux.wait_for(
        target,
        lambda s: (
            re.search(r"KB \d+ articles", s) is not None
            and re.search(r"unclaimed \d+ · breaching \d+ · mine 0", s) is not None
            and "(…)" not in s
        ),
        "the header with the KB, the role and the counts",
    )
    assert "frontdesk · alice (supervisor)" in screen  # the demo makes its user a supervisor
    channel_marks = [
        line for line in screen.splitlines() if re.search(r"│ *-?\S+ (X |FB|@ ) ", line)
    ]
    assert len(channel_marks) >= 10  # queue rows: countdown, channel, customer, preview
    assert (tmp_path / "demo" / "frontdesk.db").exists()
    tmux.keys(target, "q")
    tmux.wait_for(target, lambda s: "[frontdesk exited 0]" in s, "a clean exit")


def test_an_operator_claims_the_next_conversation_and_replies(
    tmux: Tmux, workspace: dict[str, str]
) -> None:
    target = tmux.start("alice", as_operator(workspace, "alice"), "open")
    screen = tmux.wait_for(target, lambda s: "@walker01" in s, "the queue")
    assert "@walker12" in screen
    assert screen.index("@walker01") < screen.index("@walker02")  # most urgent first

    tmux.keys(target, "n")  # claim the most urgent conversation and open it
    # The thread and the queue are reloaded by separate workers: wait for both.
    screen = tmux.wait_for(
        target,
        lambda s: "held by alice" in s and "alice" in queue_row(s, "@walker01") and "mine 1" in s,
        "the claimed thread, its row in the queue and the header's count",
    )
    assert "where is my order number 1?" in screen

    tmux.keys(target, "r")
    tmux.type(target, "Hello Walker, it left our depot this morning.")
    tmux.keys(target, "C-s")
    screen = tmux.wait_for(target, lambda s: "alice (reply)" in s, "the reply in the thread")
    assert "Hello Walker, it left our depot this morning." in screen

    outbound = [m for m in thread_of(workspace, 1)["messages"] if m["direction"] == "outbound"]
    assert [m["body"] for m in outbound] == ["Hello Walker, it left our depot this morning."]
    tmux.keys(target, "Escape", "u")  # give it back, so quitting asks nothing
    tmux.wait_for(target, lambda s: "mine 0" in s, "the release")
    tmux.keys(target, "q")
    tmux.wait_for(target, lambda s: "[frontdesk exited 0]" in s, "a clean exit")


def test_two_operators_see_each_others_claims_without_a_key(
    tmux: Tmux, workspace: dict[str, str]
) -> None:
    alice = tmux.start("alice", as_operator(workspace, "alice"), "open")
    bob = tmux.start("bob", as_operator(workspace, "bob"), "open")
    for target in (alice, bob):
        tmux.wait_for(target, lambda s: "@walker01" in s, f"{target}'s queue")

    tmux.keys(alice, "n")
    tmux.wait_for(alice, lambda s: "held by alice" in s, "alice's claimed thread")
    # Nobody touches bob's keyboard: the change feed brings alice's claim to his screen.
    screen = tmux.wait_for(
        bob, lambda s: "alice" in queue_row(s, "@walker01"), "alice as holder on bob's screen"
    )
    assert "frontdesk · bob" in screen

    tmux.keys(bob, "c")  # bob's cursor rests on the top row, which alice holds
    screen = tmux.wait_for(bob, lambda s: "claim conflict" in s, "the refusal")
    assert "held by alice" in screen
    conversation = thread_of(workspace, 1)["conversation"]
    assert conversation["claimed_by"] == "alice"
    assert "mine 0" in screen
