"""Building the desk a command works on, with the start-up self-check in front of it."""

from __future__ import annotations

from frontdesk.core.config import load_settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.errors import DatabaseError
from frontdesk.core.login import current_login
from frontdesk.tui.cli.output import warning


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


def open_desk(
    *, check_schema: bool = True, report_playbook: bool = True, page_cache_kib: int | None = None
) -> Desk:
    """The desk for the configured database and the current operator. A broken playbook file
    is one warning line when the command first uses the playbook (a desk opens it once);
    `report_playbook=False` is for commands that say it their own way (the workstation, sync's
    log)."""
    settings = load_settings()
    db = Database(settings.resolved_database_url(), page_cache_kib=page_cache_kib)
    desk = Desk(settings, current_login(), db=db)
    if report_playbook:
        desk.on_playbook_problem = warning
    self_check(desk.db)
    if check_schema:
        desk.check_schema()
    return desk
