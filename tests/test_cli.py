"""The `frontdesk` console script, run for real in subprocesses against both backends."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from frontdesk.core import __version__, schema
from frontdesk.core import events as event_log
from frontdesk.core.config import SlaSettings
from frontdesk.core.db import Database
from frontdesk.core.ingest import ingest_stream
from frontdesk.core.models import Conversation, Message

FRONTDESK = str(Path(sys.executable).with_name("frontdesk"))
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

# What a terminal could act on; text output may contain line breaks and nothing else of this.
UNSAFE = (
    {chr(c) for c in range(0x00, 0x20)}
    | {chr(c) for c in range(0x7F, 0xA0)}
    | {chr(c) for c in range(0x202A, 0x202F)}
    | {chr(c) for c in range(0x2066, 0x206A)}
    | {"\u200e", "\u200f", "\u061c"}
) - {"\n"}

HOSTILE = (
    "Refund now!\x1b[2J\x1b]0;pwned\x07 \x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\"
    "\x00nul \x9b31m c1 \x7f del \u202eexe.fdp\u202c \u2066iso\u2069 \u200f"
    "\r\ncarriage [@click=app.quit]x[/] [b [bold]markup[/bold] 🎉 مرحبا"
)
# The same minus NUL, which cannot travel in a command-line argument.
HOSTILE_ARG = HOSTILE.replace("\x00", "")


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def error_line(self) -> str:
        """The single stderr line of a failed command (asserting there is exactly one)."""
        lines = self.stderr.splitlines()
        assert len(lines) == 1, self.stderr
        assert "Traceback" not in self.stderr
        assert lines[0].startswith("frontdesk: ")
        return lines[0]

    def json(self) -> Any:
        return json.loads(self.stdout)


def assert_terminal_safe(text: str) -> None:
    found = sorted({f"U+{ord(c):04X}" for c in text if c in UNSAFE})
    assert found == [], f"raw control characters reach the terminal: {found}"


class Cli:
    """Runs the installed console script with the test database and an operator name."""

    def __init__(self, url: str, cwd: Path) -> None:
        self.url = url
        self.cwd = cwd

    def env(self, operator: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
        env.update(FRONTDESK_DATABASE_URL=self.url, FRONTDESK_OPERATOR=operator)
        env.update(extra or {})
        return env

    def __call__(
        self,
        *args: str,
        operator: str = "alice",
        stdin: bytes | None = None,
        env: dict[str, str] | None = None,
    ) -> Result:
        proc = subprocess.run(
            [FRONTDESK, *args],
            input=stdin if stdin is not None else b"",
            env=self.env(operator, env),
            cwd=self.cwd,
            capture_output=True,
            check=False,
        )
        # Bytes in, so a stray \r is not hidden by universal newlines; output must be UTF-8.
        result = Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())
        assert "Traceback" not in result.stderr
        # Every output of every command is safe for a terminal, JSON included (it is
        # ASCII-escaped); the only exception is a human-readable line break.
        assert_terminal_safe(result.stdout)
        assert_terminal_safe(result.stderr)
        return result

    def popen(self, *args: str, operator: str = "alice") -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [FRONTDESK, *args],
            env=self.env(operator),
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Cli:
    """The CLI on an empty (uninitialised) database."""
    return Cli(db_url, tmp_path)


@pytest.fixture
def desk_cli(db: Database, db_url: str, tmp_path: Path) -> Cli:
    """The CLI on a migrated database."""
    return Cli(db_url, tmp_path)


def message(external_id: str, text: str = "hello", **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "channel": "x",
        "external_id": external_id,
        "text": text,
        "created_at": "2025-03-01T11:00:00Z",
        "author": {"id": f"author-{external_id}", "handle": f"@{external_id}"},
    }
    data.update(fields)
    return data


def seed(db: Database, *messages: dict[str, Any]) -> list[int]:
    """Ingest in-process; returns the conversation ids in the order of `messages`."""
    lines = [json.dumps(m) for m in messages]
    report = ingest_stream(db, lines, sla=SlaSettings(), actor="feed", now=NOW)
    assert report.accepted == len(messages)
    ids = []
    with db.read() as session:
        for m in messages:
            ids.append(
                session.exec(
                    select(Message.conversation_id).where(
                        Message.channel == m["channel"], Message.external_id == m["external_id"]
                    )
                ).one()
            )
    return ids


def stored(db: Database, conversation_id: int) -> list[tuple[str, str]]:
    with db.read() as session:
        rows = session.exec(
            select(Message.direction, Message.body)
            .where(Message.conversation_id == conversation_id)
            .order_by(col(Message.id))
        ).all()
    return [(d, b) for d, b in rows]


def conversation(db: Database, conversation_id: int) -> Conversation:
    with db.read() as session:
        conv = session.get(Conversation, conversation_id)
        assert conv is not None
        session.expunge(conv)
        return conv


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(ln + "\n" for ln in lines), encoding="utf-8")
    return path


# --- version and init -------------------------------------------------------------------


def test_version(tmp_path: Path) -> None:
    for flag in ("--version", "-V"):
        result = subprocess.run(
            [FRONTDESK, flag], capture_output=True, text=True, check=False, cwd=tmp_path
        )
        assert result.returncode == 0
        assert result.stdout == f"frontdesk {__version__}\n"


def test_init_creates_the_schema_and_is_idempotent(cli: Cli, db_url: str) -> None:
    db = Database(db_url)
    try:
        head = schema.head_revision(db)
        first = cli("init")
        assert first.returncode == 0, first.stderr
        assert f"(schema {head})" in first.stdout
        assert schema.current_revision(db) == head
        again = cli("init")
        assert again.returncode == 0
        assert schema.current_revision(db) == head
        assert schema.differences(db) == []
    finally:
        db.dispose()


def test_commands_before_init_name_the_fix(cli: Cli) -> None:
    result = cli("queue")
    assert result.returncode == 1
    assert "frontdesk init" in result.error_line


# --- ingest -----------------------------------------------------------------------------


def test_ingest_file_reports_bad_lines_and_keeps_the_good(
    desk_cli: Cli, db: Database, tmp_path: Path
) -> None:
    path = write_jsonl(
        tmp_path / "in.jsonl",
        [
            json.dumps(message("a")),
            '{"channel": "x", broken',
            json.dumps(message("b")),
            json.dumps(message("c", created_at="2025-03-01T11:00:00")),
            json.dumps(message("d", HOSTILE)),
            json.dumps(message("e", channel="sms")),
        ],
    )
    result = desk_cli("ingest", str(path))
    assert result.returncode == 1
    errors = result.stderr.splitlines()
    assert [e.split(":")[0] for e in errors] == ["line 2", "line 4", "line 6"]
    assert errors[0].startswith("line 2: invalid JSON")
    assert errors[1].startswith("line 4: created_at: ")
    assert errors[2].startswith("line 6: channel: ")
    assert result.stdout.startswith("ingested 3 message(s), 0 duplicate(s), 3 rejected; 3 new")
    with db.read() as session:
        assert set(session.exec(select(Message.external_id))) == {"a", "b", "d"}

    again = desk_cli("ingest", "--json", str(path))
    assert again.returncode == 1
    report = again.json()
    assert (report["accepted"], report["duplicates"]) == (0, 3)
    assert [r["line"] for r in report["rejected"]] == [2, 4, 6]


def test_ingest_from_stdin_whatever_the_locale(desk_cli: Cli, db: Database) -> None:
    """Input is UTF-8 bytes: raw UTF-8 text is kept exactly and an undecodable line is
    rejected on its own, even when Python's stdin decoding would be strict."""
    text = "caf\u00e9 \u202e\x7f \u2028 🎉"
    lines = [
        json.dumps(message("s1")).encode(),
        b'{"channel": "x", "external_id": "bad-utf8", "text": "caf\xe9", '
        b'"created_at": "2025-03-01T11:00:00Z", "author": {"id": "u"}}',
        json.dumps(message("s2", text), ensure_ascii=False).encode("utf-8"),
        b"",
        b"not json at all",
    ]
    result = desk_cli(
        "ingest", "-", stdin=b"\n".join(lines) + b"\n", env={"PYTHONIOENCODING": "utf-8:strict"}
    )
    assert result.returncode == 1, result.stderr
    assert [e.split(":")[0] for e in result.stderr.splitlines()] == ["line 2", "line 5"]
    assert "ingested 2 message(s)" in result.stdout
    [conv_id] = seed_lookup(db, "s2")
    assert stored(db, conv_id) == [("inbound", text)]

    clean = desk_cli("ingest", stdin=json.dumps(message("s3")).encode() + b"\n")
    assert clean.returncode == 0
    assert clean.stderr == ""
    assert clean.stdout.startswith("ingested 1 message(s), 0 duplicate(s), 0 rejected")


def seed_lookup(db: Database, external_id: str) -> list[int]:
    with db.read() as session:
        return list(
            session.exec(select(Message.conversation_id).where(Message.external_id == external_id))
        )


def test_ingest_of_a_missing_file_is_one_line(desk_cli: Cli, tmp_path: Path) -> None:
    result = desk_cli("ingest", str(tmp_path / "absent.jsonl"))
    assert result.returncode == 1
    assert "absent.jsonl: cannot read" in result.error_line


# --- queue and show ---------------------------------------------------------------------


def test_queue_listings(desk_cli: Cli, db: Database) -> None:
    late, early, middle = seed(
        db,
        message("late", channel="email"),  # due 15:00
        message("early"),  # due 11:30
        message("middle", visibility="private"),  # due 12:00
    )
    everything = desk_cli("queue", "--json")
    assert everything.returncode == 0
    assert [r["id"] for r in everything.json()] == [early, middle, late]
    assert {r["handle"] for r in everything.json()} == {"@late", "@early", "@middle"}

    assert desk_cli("claim", str(middle)).returncode == 0
    assert [r["id"] for r in desk_cli("queue", "--json", "--mine").json()] == [middle]
    assert [r["id"] for r in desk_cli("queue", "--json", "--unclaimed").json()] == [early, late]
    assert desk_cli("queue", "--json", "--mine", operator="bob").json() == []
    assert [r["id"] for r in desk_cli("queue", "--json", "--channel", "email").json()] == [late]
    assert desk_cli("queue", "--json", "--status", "resolved").json() == []

    text = desk_cli("queue")
    assert text.returncode == 0
    header, *rows = text.stdout.splitlines()
    assert header.split() == ["ID", "DUE", "CHANNEL", "STATUS", "CUSTOMER", "HOLDER", "LATEST"]
    assert [r.split()[0] for r in rows] == [str(early), str(middle), str(late)]
    assert rows[1].split()[5] == "alice"
    assert rows[0].split()[5] == "-"

    bad = desk_cli("queue", "--status", "bogus")
    assert bad.returncode == 1
    assert "bogus" in bad.error_line


def test_show_json_keeps_the_body_exactly(desk_cli: Cli, db: Database) -> None:
    author = {"id": "evil", "handle": "@\x1b[31mevil\u202e", "name": "[b]Boss[/b]\x00"}
    [conv_id] = seed(db, message("h", HOSTILE, author=author))
    result = desk_cli("show", str(conv_id), "--json")
    assert result.returncode == 0
    assert result.stdout.isascii()
    data = result.json()
    assert data["conversation"]["id"] == conv_id
    assert [m["body"] for m in data["messages"]] == [HOSTILE]
    assert data["customer"]["handle"] == author["handle"]
    assert data["customer"]["name"] == author["name"]
    assert data["messages"][0]["author"] == author["handle"]


def test_show_text_makes_hostile_text_visible_and_inert(desk_cli: Cli, db: Database) -> None:
    author = {"id": "evil", "handle": "@\x1b[31mevil\u202e", "name": "[b]Boss[/b]"}
    [conv_id] = seed(db, message("h", HOSTILE, author=author))
    result = desk_cli("show", str(conv_id))
    assert result.returncode == 0
    out = result.stdout
    assert out.startswith(f"#{conv_id} x public new  version 1")
    assert "\u241b[2J" in out  # ESC as ␛
    assert "<U+202E>exe.fdp<U+202C>" in out
    assert "<U+009B>31m" in out and "\u2400nul" in out
    assert "[@click=app.quit]x[/] [b [bold]markup[/bold]" in out  # printed, not interpreted
    assert "🎉 مرحبا" in out
    assert "@\u241b[31mevil<U+202E>" in out


def test_show_of_a_missing_conversation(desk_cli: Cli) -> None:
    result = desk_cli("show", "999")
    assert result.returncode == 1
    assert result.error_line == "frontdesk: conversation 999 does not exist"


# --- claims -----------------------------------------------------------------------------


def test_claim_next_release_and_empty_queue(desk_cli: Cli, db: Database) -> None:
    first, second = seed(db, message("one"), message("two", created_at="2025-03-01T11:05:00Z"))
    claimed = desk_cli("claim", str(second))
    assert claimed.returncode == 0
    assert claimed.stdout.startswith(f"claimed #{second} until ")
    assert conversation(db, second).claimed_by == "alice"

    taken = desk_cli("claim", str(second), operator="bob")
    assert taken.returncode == 1
    assert f"conversation {second} is held by alice" in taken.error_line

    nxt = desk_cli("claim", "--next", "--json", operator="bob")
    assert nxt.returncode == 0
    assert nxt.json()["conversation_id"] == first
    assert nxt.json()["operator"] == "bob"

    empty = desk_cli("claim", "--next", operator="carol")
    assert empty.returncode == 3
    assert empty.stdout == "nothing to claim: the queue is empty\n"
    empty_json = desk_cli("claim", "--next", "--json", operator="carol")
    assert (empty_json.returncode, empty_json.json()) == (3, None)

    not_mine = desk_cli("release", str(second), operator="carol")
    assert not_mine.returncode == 1
    assert "carol" in not_mine.error_line or str(second) in not_mine.error_line
    assert conversation(db, second).claimed_by == "alice"

    released = desk_cli("release", str(second))
    assert (released.returncode, released.stdout) == (0, f"released #{second}\n")
    assert conversation(db, second).claimed_by is None
    again = desk_cli("claim", "--next", operator="carol")
    assert again.returncode == 0 and f"#{second}" in again.stdout


def test_claim_requires_an_id_or_next(tmp_path: Path) -> None:
    """Argument errors are argparse's (usage and one error line, exit 2), before any database."""
    cli = Cli(f"sqlite:///{tmp_path / 'never-created.db'}", tmp_path)
    for args, complaint in (
        (["claim"], "one of the arguments id --next is required"),
        (["claim", "abc"], "'abc' is not a conversation id"),
        (["claim", "0"], "'0' is not a conversation id"),
        (["claim", "1", "--next"], "not allowed with argument"),
    ):
        result = cli(*args)
        assert result.returncode == 2
        assert result.stderr.splitlines()[-1].startswith("frontdesk claim: error: ")
        assert complaint in result.stderr
    assert not (tmp_path / "never-created.db").exists()


# --- reply, note, resolve ---------------------------------------------------------------


def test_reply_note_and_resolve(desk_cli: Cli, db: Database) -> None:
    [conv_id] = seed(db, message("r"))
    assert desk_cli("claim", str(conv_id)).returncode == 0

    intruder = desk_cli("reply", str(conv_id), "--text", "I am not the holder", operator="bob")
    assert intruder.returncode != 0
    assert "held by alice" in intruder.error_line

    stale = desk_cli("reply", str(conv_id), "--text", "draft", "--seen-version", "0")
    assert stale.returncode == 1
    line = stale.error_line
    assert "changed since you read it" in line and "your draft is kept" in line
    assert stored(db, conv_id) == [("inbound", "hello")]

    sent = desk_cli(
        "reply", str(conv_id), "--text", "On it \x1b[1m!", "--seen-version", "1", "--json"
    )
    assert sent.returncode == 0
    assert sent.json()["direction"] == "outbound"
    assert sent.json()["body"] == "On it \x1b[1m!"
    assert conversation(db, conv_id).status == "waiting"

    noted = desk_cli("note", str(conv_id), "--text", "VIP, be nice", operator="bob")
    assert noted.returncode == 0
    assert noted.stdout.endswith(f"added to #{conv_id}\n")

    empty_note = desk_cli("note", str(conv_id), "--text", "   ")
    assert empty_note.returncode == 1
    assert "empty" in empty_note.error_line

    resolved = desk_cli("resolve", str(conv_id))
    assert (resolved.returncode, resolved.stdout) == (0, f"resolved #{conv_id}\n")
    view = desk_cli("show", str(conv_id), "--json").json()
    assert view["conversation"]["status"] == "resolved"
    assert view["conversation"]["claimed_by"] is None
    assert [(m["direction"], m["body"]) for m in view["messages"]] == [
        ("inbound", "hello"),
        ("outbound", "On it \x1b[1m!"),
        ("note", "VIP, be nice"),
    ]


def test_reply_without_seen_version_uses_the_current_one(desk_cli: Cli, db: Database) -> None:
    [conv_id] = seed(db, message("r"))
    assert desk_cli("claim", str(conv_id)).returncode == 0
    result = desk_cli("reply", str(conv_id), "--text", "thanks")
    assert result.returncode == 0
    assert result.stdout.endswith(f"queued on #{conv_id}\n")


# --- events -----------------------------------------------------------------------------


def test_events_json(desk_cli: Cli, db: Database) -> None:
    [conv_id] = seed(db, message("e"))
    assert desk_cli("claim", str(conv_id)).returncode == 0
    result = desk_cli("events", "--json")
    assert result.returncode == 0
    events = [json.loads(ln) for ln in result.stdout.splitlines()]
    ids = [e["id"] for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    kinds = [e["kind"] for e in events]
    assert kinds[:2] == ["conversation.created", "message.received"]
    assert kinds[-1] == "claim.taken"
    assert events[-1]["actor"] == "alice" and events[-1]["conversation_id"] == conv_id

    later = desk_cli("events", "--json", "--after", str(ids[1]))
    assert [json.loads(ln)["id"] for ln in later.stdout.splitlines()] == ids[2:]

    text = desk_cli("events")
    assert text.stdout.splitlines()[-1].endswith(f"alice claim.taken #{conv_id}")


def read_lines(stream: Any, sink: queue.Queue[bytes | None]) -> None:
    for raw in iter(stream.readline, b""):
        sink.put(raw)
    sink.put(None)


def next_event(sink: queue.Queue[bytes | None], proc: subprocess.Popen[bytes]) -> dict[str, Any]:
    # The timeout only keeps a broken follower from hanging the suite; it asserts nothing
    # about speed (the follower is woken at once, or within its own 5 s fallback).
    raw = sink.get(timeout=60)
    assert raw is not None, proc.stderr.read() if proc.stderr else b""
    event: dict[str, Any] = json.loads(raw)
    return event


def test_events_follow_sees_a_claim_made_by_another_process(desk_cli: Cli, db: Database) -> None:
    [conv_id] = seed(db, message("f"))
    with db.read() as session:
        last = event_log.last_id(session)
    proc = desk_cli.popen("events", "--follow", "--json")
    sink: queue.Queue[bytes | None] = queue.Queue()
    reader = threading.Thread(target=read_lines, args=(proc.stdout, sink), daemon=True)
    reader.start()
    try:
        backlog = [next_event(sink, proc) for _ in range(last)]
        assert [e["id"] for e in backlog] == list(range(1, last + 1))
        assert desk_cli("claim", str(conv_id), operator="bob").returncode == 0
        seen = next_event(sink, proc)
        while seen["kind"] != "claim.taken":  # bob's operator.joined comes first
            assert seen["kind"] == "operator.joined"
            seen = next_event(sink, proc)
        assert (seen["actor"], seen["conversation_id"]) == ("bob", conv_id)
        assert proc.poll() is None  # still following
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        reader.join(timeout=30)


# --- errors and roles -------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["claim", "999"],
        ["release", "999"],
        ["reply", "999", "--text", "hi"],
        ["note", "999", "--text", "hi"],
        ["resolve", "999"],
    ],
    ids=lambda a: a[0],
)
def test_errors_are_one_line(desk_cli: Cli, args: list[str]) -> None:
    result = desk_cli(*args)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "999" in result.error_line


def test_invalid_operator_name_is_one_line(desk_cli: Cli) -> None:
    result = desk_cli("queue", operator="bad\x1b[31mname")
    assert result.returncode == 1
    assert "FRONTDESK_OPERATOR" in result.error_line


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    cli = Cli("postgresql://postgres@127.0.0.1:1/nothing", tmp_path)
    result = cli("queue")
    assert result.returncode == 1
    line = result.error_line
    assert "127.0.0.1:1" in line
    assert "internal error" not in line


def test_hostile_text_never_reaches_the_terminal_raw(desk_cli: Cli, db: Database) -> None:
    """Every command that prints customer text (checked by Cli for every call)."""
    author = {"id": "x\x1b", "handle": "\x1b]0;owned\x07", "name": "\u202eeman"}
    [conv_id] = seed(db, message("evil", HOSTILE, author=author))
    outputs = [
        desk_cli("queue"),
        desk_cli("show", str(conv_id)),
        desk_cli("claim", "--next"),
        desk_cli("queue", "--mine"),
        desk_cli("reply", str(conv_id), "--text", HOSTILE_ARG, "--seen-version", "0"),  # stale
        desk_cli("reply", str(conv_id), "--text", HOSTILE_ARG),
        desk_cli("note", str(conv_id), "--text", HOSTILE_ARG),
        desk_cli("show", str(conv_id)),
        desk_cli("events"),
    ]
    # The stale reply quotes the customer's latest message in its error: still inert.
    assert "\\x1b" in outputs[4].stderr or "\u241b" in outputs[4].stderr
    assert all(o.returncode in (0, 1) for o in outputs)
    assert outputs[-2].stdout.count("\u241b[2J") == 3  # inbound, reply and note


def test_reassign_needs_a_supervisor(desk_cli: Cli, db: Database, tmp_path: Path) -> None:
    [conv_id] = seed(db, message("s"))
    assert desk_cli("claim", str(conv_id)).returncode == 0
    refused = desk_cli("reassign", str(conv_id), "--to", "bob")
    assert refused.returncode == 1
    assert "only supervisor may reassign" in refused.error_line
    assert conversation(db, conv_id).claimed_by == "alice"

    config = tmp_path / "team.toml"
    config.write_text('[roles]\nsupervisors = ["boss"]\n', encoding="utf-8")
    env = {"FRONTDESK_CONFIG": str(config)}
    done = desk_cli("reassign", str(conv_id), "--to", "bob", operator="boss", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"#{conv_id} now held by bob\n"
    assert conversation(db, conv_id).claimed_by == "bob"

    # The new holder can answer; the old one has lost the claim.
    assert desk_cli("reply", str(conv_id), "--text", "hi", operator="bob").returncode == 0
    lost = desk_cli("note", str(conv_id), "--text", "still here")  # notes need no claim
    assert lost.returncode == 0
    assert desk_cli("reply", str(conv_id), "--text", "me too").returncode == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[roles]\nsupervisor = ["boss"]\n', "roles.supervisor"),
        ("[roles]\nthis is not toml\n", "line 2"),
        ("[claims]\nlease_seconds = -5\n", "claims.lease_seconds"),
    ],
)
def test_invalid_config_file_is_one_line_naming_file_and_key(
    desk_cli: Cli, tmp_path: Path, text: str, expected: str
) -> None:
    config = tmp_path / "broken.toml"
    config.write_text(text, encoding="utf-8")
    result = desk_cli("queue", env={"FRONTDESK_CONFIG": str(config)})
    assert result.returncode == 1
    line = result.error_line
    assert str(config) in line and expected in line


def test_missing_config_file_is_one_line(desk_cli: Cli, tmp_path: Path) -> None:
    result = desk_cli("queue", env={"FRONTDESK_CONFIG": str(tmp_path / "nope.toml")})
    assert result.returncode == 1
    assert "nope.toml" in result.error_line
