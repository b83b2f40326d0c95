"""Health checks for a shared database: the SQLite file's ownership and modes, its version,
and the schema, and the playbook file; each problem comes with the command that fixes it."""

from __future__ import annotations

import grp
import os
import pwd
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path

from frontdesk.core import schema_version
from frontdesk.core.db import Database

# The WAL-reset corruption bug (sqlite.org/wal.html#walresetbug): 3.7.0 up to 3.51.2.
WAL_RESET_BUG = ((3, 7, 0), (3, 51, 2))
RETURNING_SINCE = (3, 35, 0)
NETWORK_FILESYSTEMS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "sshfs", "fuse.sshfs", "9p", "afs"}


@dataclass(frozen=True, slots=True)
class Check:
    """One finding: `level` is ok, warn or fail; `fix` says what to run when it is not ok."""

    name: str
    level: str
    detail: str
    fix: str = ""

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "level": self.level, "detail": self.detail, "fix": self.fix}


def sqlite_version_check(version: str = sqlite3.sqlite_version) -> Check:
    """Warn on SQLite versions with the WAL-reset bug; fail on ones without RETURNING."""
    parts = tuple(int(p) for p in version.split(".")[:3])
    if parts < RETURNING_SINCE:
        return Check(
            "sqlite version",
            "fail",
            f"SQLite {version} has no RETURNING (needs 3.35+)",
            "use a Python built against a newer SQLite, or PostgreSQL",
        )
    low, high = WAL_RESET_BUG
    if low <= parts <= high:
        return Check(
            "sqlite version",
            "warn",
            f"SQLite {version} has the WAL-reset bug (fixed in 3.51.3/3.52.0); corruption is "
            "rare but possible with many writers",
            "use a Python built against SQLite 3.52+, or PostgreSQL for a busy team",
        )
    return Check("sqlite version", "ok", f"SQLite {version}")


def _describe(path: Path) -> tuple[str, str, int]:
    st = path.stat()
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    return owner, group, stat.S_IMODE(st.st_mode)


def file_checks(path: Path) -> list[Check]:
    """Can this user read and write the database, its directory and its -wal/-shm files?"""
    checks: list[Check] = []
    directory = path.parent
    if not directory.exists():
        return [
            Check(
                "database directory",
                "fail",
                f"{directory} does not exist",
                f"run `frontdesk init` (or mkdir -p {directory})",
            )
        ]
    if not os.access(directory, os.W_OK | os.X_OK):
        owner, group, mode = _describe(directory)
        checks.append(
            Check(
                "database directory",
                "fail",
                f"{directory} is owned by {owner}:{group} with mode {mode:04o}; you cannot create "
                "the -wal and -shm files there",
                f"add yourself to group {group}, "
                f"or run `frontdesk init --group {group}` as its owner",
            )
        )
        if not _searchable(directory):
            return checks  # the files inside cannot even be looked at (exists() would raise)
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if not candidate.exists():
            continue
        owner, group, mode = _describe(candidate)
        if not os.access(candidate, os.R_OK | os.W_OK):
            checks.append(
                Check(
                    candidate.name,
                    "fail",
                    f"{candidate} is owned by {owner}:{group} with mode {mode:04o}; "
                    "you cannot write it",
                    f"as {owner}: chgrp {group} {candidate} && chmod 0660 {candidate} "
                    f"(or `frontdesk init --group {group}`)",
                )
            )
        else:
            checks.append(Check(candidate.name, "ok", f"{candidate} {owner}:{group} {mode:04o}"))
    fs = filesystem_type(path)
    if fs in NETWORK_FILESYSTEMS:
        checks.append(
            Check(
                "filesystem",
                "fail",
                f"{directory} is on {fs}; SQLite WAL needs a local disk",
                "move the database to a local disk, or use PostgreSQL",
            )
        )
    return checks


def _searchable(directory: Path) -> bool:
    """Whether this user may look inside `directory` (without it, Path.exists() raises)."""
    return os.access(directory, os.X_OK)


def filesystem_type(path: Path) -> str:
    """The type of the filesystem holding `path`, from /proc/mounts ("" when unknown)."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return ""
    target = path.resolve().parent
    best, kind = "", ""
    for entry in mounts:
        fields = entry.split()
        if len(fields) >= 3 and (str(target) + "/").startswith(fields[1].rstrip("/") + "/"):
            if len(fields[1]) >= len(best):
                best, kind = fields[1], fields[2]
    return kind


def run(db: Database) -> list[Check]:
    """Every check for `db`, in the order `frontdesk doctor` prints them."""
    checks = [Check("database url", "ok", db.describe())]
    if db.is_sqlite:
        checks.append(sqlite_version_check())
        if db.sqlite_path is not None:
            checks.extend(file_checks(db.sqlite_path))
            directory = db.sqlite_path.parent
            if directory.exists() and not _searchable(directory):
                return checks  # file_checks said why and named the fix
            if not db.sqlite_path.exists():
                checks.append(
                    Check(
                        "database file",
                        "fail",
                        f"{db.sqlite_path} does not exist",
                        "run `frontdesk init`",
                    )
                )
                return checks
    try:
        current, head = schema_version.current_revision(db), schema_version.head_revision()
    except Exception as exc:  # any connection failure is a finding, not a crash
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return [*checks, Check("connection", "fail", first, "check the URL and the server")]
    if current is None:
        checks.append(Check("schema", "fail", "no schema", "run `frontdesk init`"))
    elif current != head:
        checks.append(
            Check(
                "schema", "fail", f"at {current}, code needs {head}", "run `frontdesk db upgrade`"
            )
        )
    else:
        checks.append(Check("schema", "ok", f"at {current}"))
    return checks


def playbook_check(path: Path | None, *, explicit: bool = False) -> Check:
    """The playbook file in use: ok, broken (file:line: reason, and what is in force while it
    is) or missing (the built-in defaults). `explicit`: the configuration names the file, so
    a missing one is more likely a wrong path than a team running on the defaults."""
    if path is None:
        return Check("playbook", "ok", "no playbook or kb_dir configured: built-in defaults in use")
    # The rule engines are slow to import, and every command runs file_checks from here.
    from frontdesk.core.playbook.store import PlaybookStore

    store = PlaybookStore.open(path, read_only=True)  # this user's kept copy, if any
    problem = store.problem
    if problem is not None:
        where = f"line {problem.line} of " if problem.line else ""
        fix = f"correct {where}{problem.path}"
        return Check("playbook", "fail", f"broken: {problem}; {store.fallback}", fix)
    if store.origin == "defaults":
        level = "warn" if explicit else "ok"
        fix = f"create {path}, or point `playbook` in the config at the right file"
        return Check("playbook", level, f"{path} missing: built-in defaults in use", fix)
    return Check("playbook", "ok", f"{path} ok")


def share_with_group(path: Path, group: str) -> None:
    """Let every member of `group` write the database: setgid directory, 0660 files.

    SQLite creates -wal and -shm with the database file's mode, so once the file is 0660
    and group-owned the sidecars follow; the setgid bit gives new files the group.
    """
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        raise ValueError(f"group {group!r} does not exist (create it with groupadd)") from None
    directory = path.parent
    os.chown(directory, -1, gid)
    os.chmod(directory, 0o2770)
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if candidate.exists():
            os.chown(candidate, -1, gid)
            os.chmod(candidate, 0o660)
