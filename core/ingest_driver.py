"""Ingest's driver connection: placeholders, value forms and multi-row inserts per backend."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from frontdesk.core.clock import as_utc
from frontdesk.core.db import DriverStatement
from frontdesk.core.models import VerbatimText

Row = tuple[Any, ...]

# SQLite's default limit on parameters per statement since 3.32 (PostgreSQL allows 65,535);
# longer multi-row statements are cut into chunks below it.
_MAX_PARAMS = 32_766
_VERBATIM = VerbatimText()


class Driver:
    """The transaction's driver connection, with its backend's placeholders and value forms.

    SQLAlchemy's bulk path (bind processors per value, insertmanyvalues, result processing)
    cost 17-39 µs a row where the driver needs about 6 (bench/README.md), so ingest writes
    through the driver. Values are converted exactly as the models' column types store them,
    so rows written here and rows written through the ORM read back the same.
    """

    def __init__(self, conn: Connection) -> None:
        self.postgresql = conn.dialect.name == "postgresql"
        self._dialect = conn.dialect
        # Inside the Connection's transaction: BEGIN (IMMEDIATE on SQLite) is already issued.
        self._raw: Any = conn.connection.driver_connection
        # A batch names the same instants many times (its `now` on every row); a conversion
        # costs microseconds, a lookup a fraction of one.
        self._stamps: dict[datetime, Any] = {}

    def ts(self, value: datetime) -> Any:
        """A datetime as stored: aware UTC for psycopg, SQLAlchemy's UTC text on SQLite."""
        stamp = self._stamps.get(value)
        if stamp is None:
            utc = as_utc(value)
            stamp = (
                utc if self.postgresql else utc.replace(tzinfo=None).isoformat(" ", "microseconds")
            )
            self._stamps[value] = stamp
        return stamp

    def text(self, value: str) -> str | None:
        """Customer text as VerbatimText stores it (escaped on PostgreSQL when it holds NUL)."""
        return _VERBATIM.process_bind_param(value, self._dialect) if self.postgresql else value

    def named(self, stmt: DriverStatement) -> str:
        return stmt.postgresql if self.postgresql else stmt.sqlite

    def any_of(self, column: str, values: Collection[str]) -> tuple[str, list[Any]]:
        """`column` is one of `values`: one array parameter on PostgreSQL, an IN list on SQLite.

        The IN list is padded to a power of two with repeats of its last value, so the same
        few statements come back and the driver's statement cache saves compiling them.
        """
        if self.postgresql:
            return f"{column} = ANY(%s)", [list(values)]
        padded = list(values)
        padded += padded[-1:] * (_shape(len(padded)) - len(padded))
        return f"{column} IN ({', '.join('?' * len(padded))})", padded

    def select(self, sql: str, params: list[Any]) -> list[Row]:
        rows: list[Row] = self._raw.execute(sql, params).fetchall()
        return rows

    def insert(self, head: str, rows: list[Row], tail: str, types: tuple[str, ...]) -> list[Row]:
        """`head` over all rows, then `tail`; the rows it returns.

        PostgreSQL takes one array per column (`types` name them) and unnests them: one
        statement text however many rows, and no parsing of thousands of parameters.
        SQLite takes multi-row VALUES in chunks of power-of-two sizes: it compiles a
        statement of 700 rows in about ten times the time it runs it, and with a handful
        of sizes every statement after the first batch comes from the statement cache.
        """
        if not rows:
            return []
        if self.postgresql:
            arrays = ", ".join(f"%s::{name}[]" for name in types)
            sql = f"{head} SELECT * FROM unnest({arrays}) {tail}"
            columns = [list(column) for column in zip(*rows, strict=True)]
            found: list[Row] = self._raw.execute(sql, columns).fetchall()
            return found
        width = len(rows[0])
        one = f"({', '.join('?' * width)})"
        most = _shape(max(1, _MAX_PARAMS // width) + 1) // 2
        out: list[Row] = []
        start = 0
        while start < len(rows):
            size = min(most, _shape(len(rows) - start + 1) // 2)
            chunk = rows[start : start + size]
            sql = f"{head} VALUES {', '.join([one] * size)} {tail}"
            out += self._raw.execute(sql, [v for row in chunk for v in row]).fetchall()
            start += size
        return out

    def executemany(self, stmt: DriverStatement, params: list[dict[str, Any]]) -> None:
        if not params:
            return
        if self.postgresql:
            with self._raw.cursor() as cur:
                cur.executemany(stmt.postgresql, params)
        else:
            self._raw.executemany(stmt.sqlite, params)


def _shape(n: int) -> int:
    """The smallest power of two that is at least n."""
    return 1 << max(0, n - 1).bit_length()
