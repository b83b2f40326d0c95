"""The engine and the unit of work: SQLite in WAL with BEGIN IMMEDIATE writes, or PostgreSQL."""

from __future__ import annotations

import random
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from frontdesk.core.db_queue import LockTimeout, WriteQueue
from frontdesk.core.errors import DatabaseBusy, DatabaseError

BUSY_TIMEOUT_MS = 5000
# SQLite's own busy handler sleeps up to 100 ms between tries, so the write lock sits idle
# while waiters doze and some starve for seconds. Writers wait their turn in the write queue
# (core/db_queue.py); where it cannot be used, and for reads, waits come in short slices.
BUSY_SLICE_MS = 10
# Set on the Connection of one checkout (execution_options would do, at ten times the cost);
# a Connection that never had it, such as engine.connect() elsewhere, begins deferred.
_WRITE = "frontdesk_write"
_LATER = "later"  # a write whose lock is taken by write() itself, not at BEGIN
_TICKET = "frontdesk_turn"  # the write queue's turn, given back after COMMIT
_NO_WAIT = "frontdesk_no_busy_wait"  # in the pooled connection's info: busy_timeout is 0


class DriverStatement:
    """SQL for the hot paths, run straight through the driver.

    SQLAlchemy's per-execution work (cache lookup, bind and result processing) was most of
    the time a claim held SQLite's write lock (bench/README.md). Written once with `:name`
    parameters; the PostgreSQL form uses psycopg's `%(name)s`. Datetimes are passed as
    SQLite stores them through SQLAlchemy (UTC text), so both paths read the same values.
    """

    def __init__(self, sql: str) -> None:
        self.sqlite = sql
        self.postgresql = re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql)

    def run(self, conn: Connection, params: dict[str, Any]) -> Any:
        """Execute in the connection's transaction; returns the driver's cursor (tuples)."""
        if conn.dialect.name != "sqlite":
            return driver(conn).execute(self.postgresql, params)
        return driver(conn).execute(self.sqlite, {k: sqlite_value(v) for k, v in params.items()})


def connection_of(unit: OrmSession | Connection) -> Connection:
    """The Connection of a unit of work: a Session's, or the Connection itself (hot paths
    such as claim_next run without a Session; see Desk.claim_next)."""
    return unit if isinstance(unit, Connection) else unit.connection()


def driver(conn: Connection) -> Any:
    """The DBAPI connection under `conn` (sqlite3 or psycopg), inside its transaction."""
    return conn.connection.driver_connection


def sqlite_value(value: Any) -> Any:
    """A parameter as SQLAlchemy's SQLite dialect would store it."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(" ", "microseconds")
    return value


def _try_begin(raw: sqlite3.Connection) -> bool:
    """One BEGIN IMMEDIATE; False if another writer holds the lock (after the busy wait)."""
    try:
        raw.execute("BEGIN IMMEDIATE")
        return True
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):
            return False
        raise sa_exc.OperationalError("BEGIN IMMEDIATE", None, exc) from exc


class Database:
    """One database URL, its engine, and short transactions over it.

    Every write transaction on SQLite starts with BEGIN IMMEDIATE: a deferred BEGIN that
    reads and then writes fails with "database is locked" at the upgrade without waiting
    for the busy timeout, whereas IMMEDIATE takes the write lock up front and waits.
    Read transactions stay short so the WAL can checkpoint.
    """

    def __init__(
        self, url: str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS, page_cache_kib: int | None = None
    ) -> None:
        self.url = make_url(url)
        self.page_cache_kib = page_cache_kib
        """SQLite's page cache per connection (None: SQLite's default, 2 MiB)."""
        self.backend = "sqlite" if self.url.get_backend_name() == "sqlite" else "postgresql"
        self.busy_timeout_ms = busy_timeout_ms
        self._slice_ms = int(min(busy_timeout_ms, BUSY_SLICE_MS))
        path = self.sqlite_path
        self._queue = WriteQueue(path) if path is not None else None
        self.engine = self._create_engine()

    @property
    def is_sqlite(self) -> bool:
        return self.backend == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        """The database file, for SQLite URLs that name one."""
        if not self.is_sqlite or not self.url.database or self.url.database == ":memory:":
            return None
        return Path(self.url.database)

    def describe(self) -> str:
        """The URL with any password hidden, for status lines and errors."""
        return self.url.render_as_string(hide_password=True)

    def _create_engine(self) -> Engine:
        if not self.is_sqlite:
            return create_engine(self.url, pool_pre_ping=True, pool_size=2, max_overflow=8)
        engine = create_engine(
            self.url,
            connect_args={"timeout": self.busy_timeout_ms / 1000, "check_same_thread": False},
        )

        @event.listens_for(engine, "connect")
        def _configure(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
            # Take transaction control away from the driver so BEGIN is ours to emit.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout = {self._slice_ms}")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.execute("PRAGMA foreign_keys = ON")
            if self.page_cache_kib is not None:
                cur.execute(f"PRAGMA cache_size = -{int(self.page_cache_kib)}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # Straight through the driver: this runs on every transaction.
            mode = getattr(conn, _WRITE, False)
            if mode is _LATER:
                return  # write() takes the lock once its session is ready
            if mode:
                self._lock_for_write(conn)
            else:
                raw = driver(conn)
                if conn.connection.info.pop(_NO_WAIT, False):
                    raw.execute(f"PRAGMA busy_timeout = {self._slice_ms}")
                raw.execute("BEGIN")

        return engine

    def _lock_for_write(self, conn: Connection) -> None:
        """BEGIN IMMEDIATE, waiting for the write lock in turn (or in short slices)."""
        raw = driver(conn)
        deadline = time.monotonic() + self.busy_timeout_ms / 1000
        queue = self._queue
        info = conn.connection.info
        if queue is not None and queue.usable():
            # Each attempt must fail at once when the lock is taken; the queue does the
            # waiting. Reads keep the short busy wait (WAL recovery can make them wait), so
            # the next read transaction on this connection restores it (see _begin): a run
            # of writes, a drain of claims say, then costs no PRAGMA at all.
            if not info.get(_NO_WAIT):
                raw.execute("PRAGMA busy_timeout = 0")
                info[_NO_WAIT] = True
            try:
                setattr(conn, _TICKET, queue.acquire(lambda: _try_begin(raw), deadline))
            except LockTimeout as exc:
                raise self.busy() from exc
            return
        if info.pop(_NO_WAIT, False):
            raw.execute(f"PRAGMA busy_timeout = {self._slice_ms}")
        while not _try_begin(raw):
            if time.monotonic() > deadline:
                raise self.busy()
            time.sleep(random.uniform(0.001, 0.004))

    @contextmanager
    def connect(self, *, write: bool) -> Iterator[Connection]:
        """A Connection inside one transaction, committed on success, rolled back on error."""
        with self.translate_errors(), self.engine.connect() as conn:
            setattr(conn, _WRITE, write)
            try:
                with conn.begin():
                    yield conn
            finally:
                self._leave_queue(conn)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A unit of work that may write; the caller's block is one transaction."""
        with self.translate_errors(), self.engine.connect() as conn:
            setattr(conn, _WRITE, _LATER)
            session = Session(bind=conn)
            session.begin()
            try:
                with conn.begin():
                    # Everything that can happen before SQLite's write lock is taken does
                    # (the session made and joined to the connection; it is closed after the
                    # lock is released), so other writers wait only for the caller's
                    # statements and the commit.
                    session.connection()
                    if self.is_sqlite:
                        self._lock_for_write(conn)
                    yield session
                    session.flush()
            finally:
                self._leave_queue(conn)
                session.close()

    def _leave_queue(self, conn: Connection) -> None:
        """After COMMIT or ROLLBACK: the next writer in the queue may go."""
        turn = getattr(conn, _TICKET, None)
        if turn is not None and self._queue is not None:
            setattr(conn, _TICKET, None)
            self._queue.release(turn)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A short read-only unit of work."""
        with self.connect(write=False) as conn, Session(bind=conn) as session:
            yield session

    @contextmanager
    def translate_errors(self) -> Iterator[None]:
        """Turn driver errors raised in the block into one-line DatabaseErrors."""
        try:
            yield
        except sa_exc.OperationalError as exc:
            raise self.explain(exc) from exc
        except sa_exc.ProgrammingError as exc:
            raise self.explain(exc) from exc

    def explain(self, exc: sa_exc.DBAPIError) -> DatabaseError:
        """Turn a driver error into one line that names the database and the way out."""
        text = str(exc.orig) if exc.orig is not None else str(exc)
        first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        where = str(self.sqlite_path) if self.sqlite_path else self.describe()
        if re.search(r"database is locked|database table is locked|busy", first):
            return self.busy()
        if re.search(r"no such table|relation .* does not exist", first):
            return DatabaseError(f"{where}: not initialised ({first}); run `frontdesk init`")
        if "readonly database" in first or "unable to open database" in first:
            return DatabaseError(f"{where}: {first}; run `frontdesk doctor` for the fix")
        return DatabaseError(f"{where}: {first}")

    def busy(self) -> DatabaseBusy:
        """The error for a write lock not had within the busy timeout."""
        where = str(self.sqlite_path) if self.sqlite_path else self.describe()
        return DatabaseBusy(
            f"{where}: database is locked by another writer "
            f"(waited {self.busy_timeout_ms / 1000:g} s); try again"
        )

    def sqlite_settings(self) -> dict[str, Any]:
        """The journal mode, synchronous level and busy timeout a connection runs with."""
        levels = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
        with self.engine.connect() as conn:
            read = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout")
            }
        return {
            "journal_mode": read["journal_mode"],
            "synchronous": levels.get(int(read["synchronous"] or 0), read["synchronous"]),
            "busy_timeout_ms": read["busy_timeout"],
        }

    def dispose(self) -> None:
        """Close every pooled connection (before a fork, or at exit)."""
        self.engine.dispose()
        if self._queue is not None:
            self._queue.close()
