"""Building the desk a command works on, with the start-up self-check in front of it."""

from __future__ import annotations

from frontdesk.core.config import load_settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.errors import DatabaseError
from frontdesk.core.login import current_login


def self_check(db: Database) -> None:
    """Fail with the named fix when this user cannot write the SQLite file or its sidecars.

    Without this, a permission problem surfaces later as an obscure "attempt to write a
    readonly database" in the middle of an action.
    """
    if db.sqlite_path is None:
        return
    from frontdesk.core.doctor import file_checks

    for check in file_checks(db.sqlite_path):
        if check.level == "fail":
            raise DatabaseError(f"{check.detail}; fix: {check.fix}")
    if not db.sqlite_path.exists():
        raise DatabaseError(f"{db.sqlite_path} does not exist; run `frontdesk init`")


def open_desk(*, check_schema: bool = True) -> Desk:
    """The desk for the configured database and the current operator."""
    settings = load_settings()
    desk = Desk(settings, current_login())
    self_check(desk.db)
    if check_schema:
        desk.check_schema()
    return desk
