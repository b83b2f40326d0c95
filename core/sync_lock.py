"""One `frontdesk sync` per database: a file lock beside SQLite, an advisory lock on PostgreSQL.

Recovery at start turns every "sending" outbox row into "unknown". That is only right when
no other sender can be in the middle of a send, so a second sync must not start at all.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection

from frontdesk.core.db import Database
from frontdesk.core.errors import ConfigError, DatabaseError

# Any constant works, as long as every frontdesk sync uses the same one.
ADVISORY_KEY = 0x66_64_73_79  # "fdsy"
RETRY_SECONDS = 0.1


class SyncLock:
    """Held for the life of the service; the operating system or the database server drops
    it when the process dies, however it dies."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._fd: int | None = None
        self._conn: Connection | None = None

    @property
    def path(self) -> Path | None:
        """The lock file of a SQLite database."""
        database = self.db.sqlite_path
        return database.with_name(database.name + ".sync-lock") if database else None

    def acquire(self, *, wait: float) -> None:
        """Take the lock, waiting up to `wait` seconds for a sync that is stopping.

        Raises:
            ConfigError: another sync holds it.
        """
        deadline = time.monotonic() + wait
        while not self._try():
            if time.monotonic() >= deadline:
                where = self.path or self.db.describe()
                raise ConfigError(
                    f"another frontdesk sync is running against this database ({where});"
                    " stop it first: only one may send replies"
                )
            time.sleep(RETRY_SECONDS)

    def _try(self) -> bool:
        path = self.path
        if path is not None:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o660)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._fd = fd
            return True
        if self.db.is_sqlite:
            return True  # an in-memory database: no other process can share it
        conn = self.db.engine.connect()
        try:
            held = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY})
            got = bool(held.scalar())
            conn.commit()
        except Exception as exc:
            conn.close()
            raise DatabaseError(f"{self.db.describe()}: cannot take the sync lock: {exc}") from exc
        if not got:
            conn.close()
            return False
        self._conn = conn  # the lock lives as long as this session
        return True

    def release(self) -> None:
        """Let go (also done by process exit)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                self._conn.commit()
            finally:
                self._conn.close()
                self._conn = None
