"""The playbook outside the workstation: a CLI command on a broken file warns once and runs
the last good copy, and `frontdesk doctor` names the file and its state."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from frontdesk.core import doctor
from frontdesk.core.db import Database
from frontdesk.core.playbook import last_good
from tests.test_cli import Cli

GOOD = '[[triage.rules]]\nname = "refunds"\nkeywords = ["refund"]\ncategory = "complaint"\n'
BROKEN = GOOD + "weigth = 5\n"
PROBLEM = "triage.rules[0].weigth: Extra inputs are not permitted"


def message(ext: str, text: str) -> bytes:
    line = {
        "channel": "x",
        "external_id": ext,
        "text": text,
        "created_at": datetime(2026, 3, 2, 10, 0, tzinfo=UTC).isoformat(),
        "author": {"id": "u1", "handle": "@jane", "name": "Jane"},
    }
    return (json.dumps(line) + "\n").encode()


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    folder.mkdir()
    return folder


@pytest.fixture
def cli(db: Database, db_url: str, tmp_path: Path) -> Cli:
    return Cli(db_url, tmp_path)


def test_a_command_on_a_broken_playbook_warns_once_and_runs_the_last_good(
    cli: Cli, kb: Path
) -> None:
    path = kb / "playbook.toml"
    path.write_text(GOOD, encoding="utf-8")
    env = {"FRONTDESK_KB": str(kb)}
    done = cli("ingest", "-", stdin=message("1", "a refund please"), env=env)
    assert (done.returncode, done.stderr) == (0, "")

    path.write_text(BROKEN, encoding="utf-8")
    done = cli("ingest", "-", stdin=message("2", "another refund"), env=env)
    assert done.returncode == 0
    assert done.stderr.splitlines() == [
        f"frontdesk: warning: {path}:5: {PROBLEM};"
        f" the last good copy ({last_good.copy_path(path)}) is in force"
    ]
    shown = cli("show", "2", "--json", env=env)
    assert shown.json()["conversation"]["category"] == "complaint"  # the last good rules

    # A command that never opens the playbook has nothing to say about it.
    listed = cli("queue", env=env)
    assert (listed.returncode, listed.stderr) == (0, "")


def test_doctor_names_the_playbook_and_says_ok_broken_or_missing(cli: Cli, kb: Path) -> None:
    path = kb / "playbook.toml"
    env = {"FRONTDESK_KB": str(kb)}

    def playbook_line() -> tuple[int, str]:
        result = cli("doctor", env=env)
        [found] = [x for x in result.stdout.splitlines() if "] playbook: " in x]
        return result.returncode, found

    assert playbook_line() == (0, f"[  ok] playbook: {path} missing: built-in defaults in use")
    path.write_text(GOOD, encoding="utf-8")
    assert playbook_line() == (0, f"[  ok] playbook: {path} ok")
    assert not last_good.copy_path(path).exists()  # a health check writes nothing
    path.write_text(BROKEN, encoding="utf-8")
    assert playbook_line() == (
        1,
        f"[fail] playbook: broken: {path}:5: {PROBLEM}; the built-in defaults are in force"
        f"  fix: correct line 5 of {path}",
    )
    path.write_text(GOOD, encoding="utf-8")
    assert cli("ingest", "-", stdin=message("1", "a refund"), env=env).returncode == 0
    assert last_good.copy_path(path).exists()  # kept by a command that ran on it
    path.write_text(BROKEN, encoding="utf-8")
    assert playbook_line() == (
        1,
        f"[fail] playbook: broken: {path}:5: {PROBLEM}; the last good copy"
        f" ({last_good.copy_path(path)}) is in force  fix: correct line 5 of {path}",
    )
    [as_json] = [
        c for c in cli("doctor", "--json", env=env).json()["checks"] if c["name"] == "playbook"
    ]
    assert as_json["level"] == "fail" and as_json["detail"].startswith(f"broken: {path}:5: ")


def test_the_playbook_check_without_a_file_configured(tmp_path: Path) -> None:
    assert doctor.playbook_check(None).level == "ok"
    named = doctor.playbook_check(tmp_path / "playbok.toml", explicit=True)
    assert (named.level, named.detail) == (
        "warn",
        f"{tmp_path / 'playbok.toml'} missing: built-in defaults in use",
    )
