"""The change feed: "events after id N", with a cheap way to sleep until there may be more.

SQLite: `PRAGMA data_version` on one dedicated connection changes whenever another
connection commits, costs microseconds, and so can be polled every 100 ms by hundreds of
clients. PostgreSQL: LISTEN wakes the waiter when an event commits; the wake-up carries no
data and a timeout backs it up, so a lost notification only delays, never loses, an event.
"""

from __future__ import annotations

import time
from typing import Any

from frontdesk.core.db import Database
from frontdesk.core.events import NOTIFY_CHANNEL

POLL_SECONDS = 0.05
"""A change shows on other screens within this plus the reload; a poll is one PRAGMA on an
idle connection (microseconds), so 20 a second per session stays far below 1% of a core."""


class ChangeWaiter:
    """Blocks until the database may have changed, or a timeout passes."""

    def __init__(self, db: Database, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self._conn: Any = None
        self._last_version: int | None = None

    def _open(self) -> None:
        if self.db.is_sqlite:
            self._conn = self.db.engine.raw_connection()
            self._last_version = self._data_version()
        else:
            import psycopg

            url = self.db.url.set(drivername="postgresql")
            self._conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
            self._conn.execute(f"LISTEN {NOTIFY_CHANNEL}")

    def _data_version(self) -> int:
        cur = self._conn.cursor()
        try:
            cur.execute("PRAGMA data_version")
            return int(cur.fetchone()[0])
        finally:
            cur.close()

    def wait(self, timeout: float) -> bool:
        """Return True as soon as a change may have happened, False after `timeout` seconds."""
        if self._conn is None:
            self._open()
        deadline = time.monotonic() + timeout
        if self.db.is_sqlite:
            while True:
                version = self._data_version()
                if version != self._last_version:
                    self._last_version = version
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                time.sleep(min(self.poll_seconds, left))
        woke = False
        for _ in self._conn.notifies(timeout=timeout, stop_after=1):
            woke = True
        return woke

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
