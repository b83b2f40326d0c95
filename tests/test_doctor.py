"""`frontdesk doctor` and `init --group`: SQLite versions, file permissions seen by another
user, group-shared databases, and exit codes with named fixes."""

from __future__ import annotations

import grp
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frontdesk.core import doctor, schema
from frontdesk.core.db import Database

FRONTDESK = str(Path(sys.executable).with_name("frontdesk"))
NOBODY = 65534
SETPRIV = shutil.which("setpriv")
IS_ROOT = os.geteuid() == 0


def run(args: list[str], env: dict[str, str], cwd: Path, prefix: list[str] | None = None) -> Any:
    return subprocess.run(
        [*(prefix or []), FRONTDESK, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def cli_env(url: str, **extra: str) -> dict[str, str]:
    """The child's environment: the test database, and XDG dirs that hold no config.

    The XDG dirs do not exist rather than sit in conftest's tmp_path: a child running as
    another user cannot search pytest's 0700 tmp_path (see test_config for that bug).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env.update(
        FRONTDESK_DATABASE_URL=url,
        FRONTDESK_OPERATOR="alice",
        XDG_CONFIG_HOME="/nonexistent/frontdesk-test/config",
        XDG_DATA_HOME="/nonexistent/frontdesk-test/data",
    )
    env.update(extra)
    return env


def as_nobody(*groups: str) -> list[str]:
    """A setpriv prefix that runs the command as uid/gid nobody with only `groups`."""
    assert SETPRIV is not None
    group_arg = ["--groups=" + ",".join(groups)] if groups else ["--clear-groups"]
    return [SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}", *group_arg]


needs_other_user = pytest.mark.skipif(
    not (IS_ROOT and SETPRIV),
    reason="needs root and setpriv to run a child as another user "
    "(as root os.access always succeeds, so the check cannot be observed in-process)",
)


@pytest.fixture
def public_dir() -> Iterator[Path]:
    """A directory under /tmp that other users can traverse (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="frontdesk-test-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def group() -> Iterator[str]:
    """A throw-away Unix group, removed afterwards."""
    if not IS_ROOT or shutil.which("groupadd") is None:
        pytest.skip("creating a Unix group needs root and groupadd")
    name = f"fdt{uuid.uuid4().hex[:8]}"
    subprocess.run(["groupadd", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["groupdel", name], check=False)


# --- SQLite version ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "level"),
    [
        ("3.34.0", "fail"),  # no RETURNING
        ("3.34.1", "fail"),
        ("3.35.0", "warn"),  # RETURNING, but the WAL-reset bug
        ("3.40.1", "warn"),
        ("3.51.2", "warn"),
        ("3.51.3", "ok"),  # fixed
        ("3.52.0", "ok"),
        ("3.60.1", "ok"),
    ],
)
def test_sqlite_version_check(version: str, level: str) -> None:
    check = doctor.sqlite_version_check(version)
    assert check.level == level
    assert version in check.detail
    if level != "ok":
        assert check.fix  # every problem names its way out


def test_version_check_messages_explain_the_problem() -> None:
    assert "RETURNING" in doctor.sqlite_version_check("3.34.0").detail
    assert "WAL-reset" in doctor.sqlite_version_check("3.40.1").detail


# --- file checks ------------------------------------------------------------------------


def test_file_checks_on_a_healthy_file(tmp_path: Path) -> None:
    path = tmp_path / "frontdesk.db"
    db = Database(f"sqlite:///{path}")
    schema.upgrade(db)
    db.dispose()
    checks = {c.name: c for c in doctor.file_checks(path)}
    assert checks["frontdesk.db"].level == "ok"
    assert checks["frontdesk.db"].detail.startswith(str(path))
    assert {c.level for c in checks.values()} == {"ok"}


def test_file_checks_on_a_missing_directory(tmp_path: Path) -> None:
    checks = doctor.file_checks(tmp_path / "absent" / "frontdesk.db")
    assert [(c.name, c.level) for c in checks] == [("database directory", "fail")]
    assert "frontdesk init" in checks[0].fix


PROBE = """
import json, sys
from pathlib import Path
from typing import Any
from frontdesk.core.doctor import file_checks
print(json.dumps([c.as_json() for c in file_checks(Path(sys.argv[1]))]))
"""


@needs_other_user
def test_file_checks_report_a_database_another_user_cannot_write(public_dir: Path) -> None:
    path = public_dir / "frontdesk.db"
    db = Database(f"sqlite:///{path}")
    schema.upgrade(db)
    db.dispose()
    path.chmod(0o644)  # root's file, world-readable, not writable by anyone else
    result = subprocess.run(
        [*as_nobody(), sys.executable, "-c", PROBE, str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=public_dir,
    )
    assert result.returncode == 0, result.stderr
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    directory = checks["database directory"]
    assert directory["level"] == "fail"
    assert "root:root" in directory["detail"] and "0755" in directory["detail"]
    assert "-wal" in directory["detail"]
    file_check = checks["frontdesk.db"]
    assert file_check["level"] == "fail"
    assert "cannot write" in file_check["detail"] and "0644" in file_check["detail"]
    assert f"chmod 0660 {path}" in file_check["fix"]


@needs_other_user
def test_cli_refuses_up_front_with_the_fix_when_the_user_cannot_write(public_dir: Path) -> None:
    path = public_dir / "frontdesk.db"
    url = f"sqlite:///{path}"
    assert run(["init"], cli_env(url), public_dir).returncode == 0
    path.chmod(0o644)
    result = run(["queue"], cli_env(url), public_dir, prefix=as_nobody())
    assert result.returncode == 1
    assert result.stdout == ""
    [message] = result.stderr.splitlines()
    assert message.startswith("frontdesk: ")
    assert "fix:" in message and "Traceback" not in result.stderr
    doctor_run = run(["doctor", "--json"], cli_env(url), public_dir, prefix=as_nobody())
    assert doctor_run.returncode == 1
    levels = {c["name"]: c["level"] for c in json.loads(doctor_run.stdout)["checks"]}
    assert levels["database directory"] == "fail"


# --- init --group -----------------------------------------------------------------------


def test_init_group_shares_the_database_with_the_group(public_dir: Path, group: str) -> None:
    shared = public_dir / "shared"
    path = shared / "frontdesk.db"
    url = f"sqlite:///{path}"
    result = run(["init", "--group", group], cli_env(url), public_dir)
    assert result.returncode == 0, result.stderr
    gid = grp.getgrnam(group).gr_gid
    dir_stat = shared.stat()
    assert stat.S_IMODE(dir_stat.st_mode) == 0o2770
    assert dir_stat.st_gid == gid
    file_stat = path.stat()
    assert stat.S_IMODE(file_stat.st_mode) == 0o660
    assert file_stat.st_gid == gid
    for sidecar in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        if sidecar.exists():
            assert stat.S_IMODE(sidecar.stat().st_mode) == 0o660
            assert sidecar.stat().st_gid == gid

    if not SETPRIV:
        return
    # A member of the group can now work on the database, and what they create stays shared.
    member = as_nobody(group)
    line = json.dumps(
        {
            "channel": "x",
            "external_id": "m1",
            "text": "hi",
            "created_at": "2025-01-01T10:00:00Z",
            "author": {"id": "u1"},
        }
    )
    ingest = subprocess.run(
        [*member, FRONTDESK, "ingest"],
        input=line + "\n",
        env=cli_env(url),
        cwd=public_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ingest.returncode == 0, ingest.stderr
    claim = run(["claim", "--next"], cli_env(url, FRONTDESK_OPERATOR="bob"), public_dir, member)
    assert claim.returncode == 0, claim.stderr
    for created in shared.iterdir():
        assert created.stat().st_gid == gid, created
    # Someone outside the group cannot even look into the directory: refused with the fix
    # named, by the command and by the doctor (neither may crash on the unsearchable dir).
    outsider = run(["queue"], cli_env(url), public_dir, prefix=as_nobody())
    assert outsider.returncode == 1, outsider.stderr
    [message] = outsider.stderr.splitlines()
    assert f"add yourself to group {group}" in message
    checkup = run(["doctor"], cli_env(url), public_dir, prefix=as_nobody())
    assert checkup.returncode == 1, checkup.stderr
    assert checkup.stderr == ""
    assert f"[fail] database directory: {shared} is owned by root:{group} with mode 2770" in (
        checkup.stdout
    )


def test_init_group_with_an_unknown_group_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db' / 'frontdesk.db'}"
    result = run(["init", "--group", "no-such-group-fdt"], cli_env(url), tmp_path)
    assert result.returncode == 1
    [message] = result.stderr.splitlines()
    assert "no-such-group-fdt" in message and "groupadd" in message


# --- frontdesk doctor -------------------------------------------------------------------


def test_doctor_exits_zero_on_a_healthy_database(db: Database, db_url: str, tmp_path: Path) -> None:
    result = run(["doctor"], cli_env(db_url), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[fail]" not in result.stdout
    assert "schema: at " in result.stdout
    as_json = run(["doctor", "--json"], cli_env(db_url), tmp_path)
    assert as_json.returncode == 0
    checks = json.loads(as_json.stdout)["checks"]
    assert {c["level"] for c in checks} <= {"ok", "warn"}
    assert any(c["name"] == "schema" and c["level"] == "ok" for c in checks)


def test_doctor_names_the_fix_when_the_database_is_missing(db_url: str, tmp_path: Path) -> None:
    """No file (SQLite) or no schema (PostgreSQL): exit 1 and `frontdesk init` as the fix."""
    result = run(["doctor"], cli_env(db_url), tmp_path)
    assert result.returncode == 1
    failing = [ln for ln in result.stdout.splitlines() if ln.startswith("[fail]")]
    assert failing
    assert all("fix: run `frontdesk init`" in ln for ln in failing)
    checks = json.loads(run(["doctor", "--json"], cli_env(db_url), tmp_path).stdout)["checks"]
    assert [c["fix"] for c in checks if c["level"] == "fail"][-1] == "run `frontdesk init`"
    # After the fix the same doctor is happy.
    assert run(["init"], cli_env(db_url), tmp_path).returncode == 0
    assert run(["doctor"], cli_env(db_url), tmp_path).returncode == 0


def test_doctor_reports_an_unreachable_server_as_a_finding(tmp_path: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:1/nothing"
    result = run(["doctor", "--json"], cli_env(url), tmp_path)
    assert result.returncode == 1
    checks = json.loads(result.stdout)["checks"]
    assert checks[-1]["name"] == "connection" and checks[-1]["level"] == "fail"
    assert "\n" not in checks[-1]["detail"]
