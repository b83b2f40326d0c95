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
from sqlmodel import Session

from frontdesk.core.errors import DatabaseBusy, DatabaseError

BUSY_TIMEOUT_MS = 5000
# SQLite's own busy handler sleeps up to 100 ms between tries, so the write lock sits idle
# while waiters doze and some starve for seconds. Waiting in short slices and retrying
# BEGIN IMMEDIATE ourselves hands the lock over within about a millisecond.
BUSY_SLICE_MS = 10
_WRITE = "frontdesk_write"


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

    def run(self, conn: Connection, params: dict[str, Any] | list[dict[str, Any]]) -> Any:
        """Execute once for a dict of parameters, or once per dict of a list (executemany)."""
        if conn.dialect.name != "sqlite":
            return conn.exec_driver_sql(self.postgresql, params)
        if isinstance(params, dict):
            return conn.exec_driver_sql(self.sqlite, _sqlite_params(params))
        return conn.exec_driver_sql(self.sqlite, [_sqlite_params(p) for p in params])


def _sqlite_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: sqlite_value(v) for k, v in params.items()}


def sqlite_value(value: Any) -> Any:
    """A parameter as SQLAlchemy's SQLite dialect would store it."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


class Database:
    """One database URL, its engine, and short transactions over it.

    Every write transaction on SQLite starts with BEGIN IMMEDIATE: a deferred BEGIN that
    reads and then writes fails with "database is locked" at the upgrade without waiting
    for the busy timeout, whereas IMMEDIATE takes the write lock up front and waits.
    Read transactions stay short so the WAL can checkpoint.
    """

    def __init__(self, url: str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.url = make_url(url)
        self.backend = "sqlite" if self.url.get_backend_name() == "sqlite" else "postgresql"
        self.busy_timeout_ms = busy_timeout_ms
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
        timeout = min(self.busy_timeout_ms, BUSY_SLICE_MS)
        total = self.busy_timeout_ms / 1000

        @event.listens_for(engine, "connect")
        def _configure(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
            # Take transaction control away from the driver so BEGIN is ours to emit.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout = {int(timeout)}")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.execute("PRAGMA foreign_keys = ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            if not conn.get_execution_options().get(_WRITE, False):
                conn.exec_driver_sql("BEGIN")
                return
            deadline = time.monotonic() + total
            while True:
                try:
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                    return
                except sa_exc.OperationalError as exc:
                    if "locked" not in str(exc.orig) or time.monotonic() > deadline:
                        raise
                time.sleep(random.uniform(0.001, 0.004))

        return engine

    @contextmanager
    def connect(self, *, write: bool) -> Iterator[Connection]:
        """A Connection inside one transaction, committed on success, rolled back on error."""
        with self.translate_errors(), self.engine.connect() as conn:
            conn.execution_options(**{_WRITE: write})
            with conn.begin():
                yield conn

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A unit of work that may write; the caller's block is one transaction."""
        with self.connect(write=True) as conn, Session(bind=conn) as session:
            yield session
            session.flush()

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
            return DatabaseBusy(
                f"{where}: database is locked by another writer "
                f"(waited {self.busy_timeout_ms / 1000:g} s); try again"
            )
        if re.search(r"no such table|relation .* does not exist", first):
            return DatabaseError(f"{where}: not initialised ({first}); run `frontdesk init`")
        if "readonly database" in first or "unable to open database" in first:
            return DatabaseError(f"{where}: {first}; run `frontdesk doctor` for the fix")
        return DatabaseError(f"{where}: {first}")

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
