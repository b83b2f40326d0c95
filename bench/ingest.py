"""Ingest burst: JSON lines through core's ingest path into a full database, against raw SQL."""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from machine import environment  # bench/machine.py (bench/ is the script's path)

TARGET_RATIO = 0.5
BATCH = 1000  # ingest_stream's default batch: one transaction per 1,000 lines
SQLITE_TS = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DateTime on SQLite
EVENT_LOCK_KEY = 0x66_64_65_76  # core.events._EVENT_LOCK_KEY
CHANNELS = ("x", "facebook", "email")

CUSTOMER_COLS = (
    "id", "channel", "platform_user_id", "handle", "display_name", "followers", "tags",
    "created_at",
)  # fmt: skip
CONVERSATION_COLS = (
    "id", "channel", "visibility", "thread_key", "customer_id", "status", "priority",
    "category", "tags", "team", "claimed_by", "claim_token", "claim_expires_at",
    "first_inbound_at", "last_inbound_at", "last_message_at", "sla_due_at",
    "first_response_at", "resolved_at", "version", "message_count", "preview", "created_at",
    "updated_at",
)  # fmt: skip
MESSAGE_COLS = (
    "id", "conversation_id", "channel", "direction", "author", "body", "external_id",
    "in_reply_to", "url", "created_at", "recorded_at",
)  # fmt: skip
EVENT_COLS = ("id", "at", "actor", "kind", "conversation_id", "payload")
COLUMNS = {
    "customer": CUSTOMER_COLS,
    "conversation": CONVERSATION_COLS,
    "message": MESSAGE_COLS,
    "event": EVENT_COLS,
}
# What ingest's UPDATE of a stored customer and conversation sets (core/ingest_sql.py); a
# new row is copied with every column it has.
CUSTOMER_UPDATE = ("handle", "display_name", "followers")
CONVERSATION_UPDATE = (
    "status", "version", "message_count", "first_inbound_at", "last_inbound_at",
    "last_message_at", "sla_due_at", "sla_warn_at", "sla_clock", "sla_state", "preview",
    "updated_at",
)  # fmt: skip


# ---------------------------------------------------------------- the world before the burst


class Prefill:
    """A deterministic history of `messages` messages: 3 per conversation, 2 conversations per
    customer, over 90 days; 95 % resolved, the newest 5 % still in the queue."""

    def __init__(self, messages: int, newest: datetime) -> None:
        self.messages = messages
        self.conversations = -(-messages // 3)
        self.customers = -(-self.conversations // 2)
        # Naive UTC inside; `ts` turns each value into what the backend stores.
        self.start = newest.astimezone(UTC).replace(tzinfo=None) - timedelta(days=90)
        self.step = timedelta(days=90) / max(1, self.conversations)

    @staticmethod
    def customer_channel(j: int) -> str:
        d = j % 10
        return "x" if d < 5 else "facebook" if d < 8 else "email"

    @staticmethod
    def external_id(channel: str, m: int) -> str:
        if channel == "x":
            return str(1_790_000_000_000_000_000 + m * 1000)
        if channel == "facebook":
            return f"1029384756_{10_000_000 + m}"
        return f"<{(m * 2_654_435_761) % 4_294_967_296:08x}.{m}@mail.example.com>"

    def conversation_of(self, i: int) -> tuple[int, str, bool]:
        """(customer index, channel, private) of conversation i."""
        j = i // 2
        return j, self.customer_channel(j), i % 2 == 1 and j % 5 == 0

    def root_external_id(self, i: int) -> str:
        return self.external_id(self.conversation_of(i)[1], 3 * i)

    def customer_rows(self, ts: Callable[[datetime], Any]) -> Iterator[tuple[Any, ...]]:
        for j in range(self.customers):
            yield (j + 1, self.customer_channel(j), f"p{j}", f"@p{j}", f"Person {j}", j % 5000,
                   "[]", ts(self.start + self.step * (2 * j)))  # fmt: skip

    def conversation_rows(self, ts: Callable[[datetime], Any]) -> Iterator[tuple[Any, ...]]:
        queued_from = int(self.conversations * 0.95)
        for i in range(self.conversations):
            j, channel, private = self.conversation_of(i)
            first = self.start + self.step * i
            count = min(3, self.messages - 3 * i)
            last = first + timedelta(minutes=5 * (count - 1))
            open_ = i >= queued_from
            status = ("new", "open", "waiting")[i % 3] if open_ else "resolved"
            yield (
                i + 1, channel, "private" if private else "public",
                f"dm:p{j}" if private else self.root_external_id(i), j + 1, status, 0, None,
                "[]", None, None, 0, None, ts(first), ts(last), ts(last),
                ts(first + timedelta(minutes=30)) if open_ else None,
                None if status == "new" else ts(first + timedelta(minutes=5)),
                None if open_ else ts(first + timedelta(hours=1)),
                count + 1, count, f"Thanks, that sorted it out ({i})", ts(first), ts(last),
            )  # fmt: skip

    def message_rows(self, ts: Callable[[datetime], Any]) -> Iterator[tuple[Any, ...]]:
        body = "Hi, my parcel {0} still has not arrived and the tracking page shows nothing."
        for m in range(self.messages):
            i, k = divmod(m, 3)
            j, channel, _ = self.conversation_of(i)
            at = self.start + self.step * i + timedelta(minutes=5 * k)
            outbound = k == 1
            yield (
                m + 1, i + 1, channel, "outbound" if outbound else "inbound",
                "agent7" if outbound else f"@p{j}",
                "Sorry to hear that, we are on it." if outbound else body.format(m),
                self.external_id(channel, m), None if k == 0 else self.root_external_id(i),
                None, ts(at), ts(at),
            )  # fmt: skip

    def event_rows(self, ts: Callable[[datetime], Any]) -> Iterator[tuple[Any, ...]]:
        n = 0
        queued_from = int(self.conversations * 0.95)
        for i in range(self.conversations):
            at = self.start + self.step * i
            n += 1
            yield (n, ts(at), "ingest", "conversation.created", i + 1, "{}")
            for m in range(3 * i, min(3 * i + 3, self.messages)):
                n += 1
                kind = "reply.queued" if m % 3 == 1 else "message.received"
                payload = json.dumps({"message_id": m + 1})
                yield (n, ts(at + timedelta(minutes=5 * (m % 3))), "ingest", kind, i + 1, payload)
            if i < queued_from:
                n += 1
                yield (n, ts(at + timedelta(hours=1)), "agent7", "conversation.resolved", i + 1,
                       "{}")  # fmt: skip

    def tables(self, ts: Callable[[datetime], Any]) -> list[tuple[str, Iterator[tuple[Any, ...]]]]:
        return [
            ("customer", self.customer_rows(ts)),
            ("conversation", self.conversation_rows(ts)),
            ("message", self.message_rows(ts)),
            ("event", self.event_rows(ts)),
        ]


# ---------------------------------------------------------------- the burst


def burst_lines(n: int, prefill: Prefill, newest: datetime, seed: int = 20261123) -> list[str]:
    """`n` JSON lines as a backfill delivers them.

    50 % new public posts, 20 % replies into threads of this burst, 10 % replies to old
    conversations (these reopen), 19 % private messages (one thread per author, some of them
    old), 1 % re-delivered duplicates. Half the authors are existing customers.
    """
    rnd = random.Random(seed)
    lines: list[str] = []
    roots: list[tuple[str, str]] = []
    new_authors: list[tuple[str, str]] = []

    def author(channel: str | None = None) -> tuple[str, dict[str, Any]]:
        if rnd.random() < 0.5:
            j = rnd.randrange(prefill.customers)
            while channel is not None and prefill.customer_channel(j) != channel:
                j = rnd.randrange(prefill.customers)
            return prefill.customer_channel(j), {
                "id": f"p{j}", "handle": f"@p{j}", "name": f"Person {j}", "followers": j % 5000,
            }  # fmt: skip
        if new_authors and rnd.random() < 0.3:
            ch, aid = new_authors[rnd.randrange(len(new_authors))]
            if channel is None or ch == channel:
                return ch, {"id": aid, "handle": f"@{aid}", "name": f"New {aid}"}
        ch = channel or rnd.choice(CHANNELS)
        aid = f"n{len(new_authors)}"
        new_authors.append((ch, aid))
        return ch, {"id": aid, "handle": f"@{aid}", "name": f"New {aid}"}

    for i in range(n):
        r = i % 100
        created = (newest - timedelta(seconds=2 * (n - i))).isoformat()
        text = f"Order {500_000 + i}: still waiting for a refund.\nPlease check, thanks!"
        if r == 99 and lines:
            lines.append(lines[rnd.randrange(len(lines))])
            continue
        msg: dict[str, Any] = {"text": text, "created_at": created, "visibility": "public"}
        if r < 50 or (r < 70 and not roots):
            channel, msg["author"] = author()
            roots.append((channel, f"b{i}"))
        elif r < 70:
            channel, root = roots[rnd.randrange(max(0, len(roots) - 3000), len(roots))]
            _, msg["author"] = author(channel)
            msg["in_reply_to"] = root
        elif r < 80:
            c = rnd.randrange(prefill.conversations) & ~1  # even conversations are public
            j, channel, _ = prefill.conversation_of(c)
            msg["author"] = {"id": f"p{j}", "handle": f"@p{j}", "name": f"Person {j}"}
            msg["in_reply_to"] = prefill.root_external_id(c)
        else:
            channel, msg["author"] = author()
            msg["visibility"] = "private"
        msg["channel"] = channel
        msg["external_id"] = f"b{i}"
        lines.append(json.dumps(msg))
    return lines


# ---------------------------------------------------------------- SQLite


def sqlite_ts(value: datetime) -> str:
    """A naive UTC datetime as SQLAlchemy stores it on SQLite (same text as SQLITE_TS)."""
    return value.isoformat(" ", "microseconds")


def pg_ts(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC)


def build_sqlite_template(path: Path, prefill: Prefill) -> dict[str, Any]:
    """Migrate with core, then fill the tables with raw executemany.

    For speed the load runs without a journal and builds the secondary indexes (the ix_*
    ones) after the rows, from the very statements the migration created; the unique
    indexes are kept up to date row by row. The file ends in WAL mode like any other.
    """
    from frontdesk.core import schema
    from frontdesk.core.db import Database

    db = Database(f"sqlite:///{path}")
    schema.upgrade(db)
    db.dispose()
    started = time.perf_counter()
    con = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -1000000"):
        con.execute(f"PRAGMA {pragma}")
    tables = ", ".join(f"'{t}'" for t in COLUMNS)
    indexes = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({tables})"
    ).fetchall()
    for name, _ in indexes:
        con.execute(f'DROP INDEX "{name}"')
    counts = {}
    con.execute("BEGIN")
    for table, rows in prefill.tables(sqlite_ts):
        cols = COLUMNS[table]
        sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        con.executemany(sql, rows)
        counts[table] = con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    for _, sql in indexes:
        con.execute(sql)
    con.execute("COMMIT")
    con.execute("PRAGMA journal_mode = WAL")
    con.close()
    return {"rows": counts, "build_s": round(time.perf_counter() - started, 2),
            "db_bytes": path.stat().st_size}  # fmt: skip


def core_sqlite_settings(path: Path) -> dict[str, Any]:
    """The pragmas core's engine sets on its connections, as SQLite reports them."""
    from frontdesk.core.db import Database

    db = Database(f"sqlite:///{path}")
    try:
        return db.sqlite_settings()
    finally:
        db.dispose()


def copy_sqlite(template: Path, path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, path)


class SqliteSide:
    """Reading rows back and writing them raw, for a SQLite file."""

    def __init__(self, path: Path) -> None:
        self.con = sqlite3.connect(path, isolation_level=None, timeout=5.0)
        for pragma in ("busy_timeout = 5000", "journal_mode = WAL", "synchronous = NORMAL"):
            self.con.execute(f"PRAGMA {pragma}")
        self.con.execute("PRAGMA foreign_keys = ON")

    def fetch(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        cur = self.con.execute(sql.replace("%s", "?"), params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]

    def columns(self, table: str) -> list[str]:
        return [row[1] for row in self.con.execute(f"PRAGMA table_info({table})")]

    def insert_sql(self, table: str) -> str:
        cols = self.columns(table)
        return (
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"
        )

    def update_sql(self, table: str, cols: tuple[str, ...]) -> str:
        return f"UPDATE {table} SET {', '.join(f'{c} = :{c}' for c in cols)} WHERE id = :id"

    def adapt(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        return row

    def write_batches(self, batches: list[dict[str, list[dict[str, Any]]]]) -> float:
        plan = self.plan()
        started = time.perf_counter()
        for batch in batches:
            self.con.execute("BEGIN IMMEDIATE")
            for key, sql in plan:
                if batch[key]:
                    self.con.executemany(sql, batch[key])
            self.con.execute("COMMIT")
        return time.perf_counter() - started

    def plan(self) -> list[tuple[str, str]]:
        return [
            ("customer_new", self.insert_sql("customer")),
            ("customer_upd", self.update_sql("customer", CUSTOMER_UPDATE)),
            ("conversation_new", self.insert_sql("conversation")),
            ("conversation_upd", self.update_sql("conversation", CONVERSATION_UPDATE)),
            ("message_new", self.insert_sql("message")),
            ("event_new", self.insert_sql("event")),
        ]

    def close(self) -> None:
        self.con.close()


# ---------------------------------------------------------------- PostgreSQL


class PgSide(SqliteSide):
    """The same for one PostgreSQL schema, through psycopg alone."""

    def __init__(self, dsn: str) -> None:
        import psycopg
        from psycopg.rows import dict_row

        self.pg = psycopg.connect(dsn, row_factory=dict_row)

    def fetch(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return list(self.pg.execute(sql, params).fetchall())

    def columns(self, table: str) -> list[str]:
        rows = self.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s"
            " AND table_schema = current_schema() ORDER BY ordinal_position",
            (table,),
        )
        return [row["column_name"] for row in rows]

    def insert_sql(self, table: str) -> str:
        cols = self.columns(table)
        values = ", ".join(f"%({c})s" for c in cols)
        return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({values})"

    def update_sql(self, table: str, cols: tuple[str, ...]) -> str:
        return f"UPDATE {table} SET {', '.join(f'{c} = %({c})s' for c in cols)} WHERE id = %(id)s"

    def adapt(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        from psycopg.types.json import Json

        for key, value in row.items():
            if isinstance(value, dict | list):  # the JSON columns, as psycopg read them
                row[key] = Json(value)
        return row

    def write_batches(self, batches: list[dict[str, list[dict[str, Any]]]]) -> float:
        plan = self.plan()
        started = time.perf_counter()
        for batch in batches:
            with self.pg.transaction(), self.pg.cursor() as cur:
                for key, sql in plan:
                    if key == "event_new":  # what core.events.append_many adds on PostgreSQL
                        cur.execute("SELECT pg_advisory_xact_lock(%s)", (EVENT_LOCK_KEY,))
                    if batch[key]:
                        cur.executemany(sql, batch[key])
                cur.execute("NOTIFY frontdesk_events")
        return time.perf_counter() - started

    def close(self) -> None:
        self.pg.close()


def pg_url(base: str, schema_name: str) -> str:
    from frontdesk.core.config_files import normalise_url

    url = normalise_url(base)
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema_name}')}"


def libpq(url: str) -> str:
    from frontdesk.core.config_files import normalise_url

    return normalise_url(url).replace("postgresql+psycopg://", "postgresql://", 1)


def build_pg(admin: Any, base: str, names: list[str], prefill: Prefill) -> dict[str, Any]:
    """Migrate each schema with core; COPY the history into the first, copy it to the rest."""
    from frontdesk.core import schema
    from frontdesk.core.db import Database

    for name in names:
        db = Database(pg_url(base, name))
        schema.upgrade(db)
        db.dispose()
    started = time.perf_counter()
    first = names[0]
    for table, rows in prefill.tables(pg_ts):
        cols = ", ".join(COLUMNS[table])
        with admin.cursor() as cur, cur.copy(f'COPY "{first}".{table} ({cols}) FROM STDIN') as cp:
            for row in rows:
                cp.write_row(row)
    for name in names[1:]:
        for table in COLUMNS:
            admin.execute(f'INSERT INTO "{name}".{table} SELECT * FROM "{first}".{table}')
    counts = {}
    for name in names:
        for table in COLUMNS:
            admin.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{name}\".{table}', 'id'),"
                f' COALESCE(MAX(id), 0) + 1, false) FROM "{name}".{table}'
            )
            admin.execute(f'VACUUM ANALYZE "{name}".{table}')
            counts[table] = admin.execute(f'SELECT COUNT(*) FROM "{name}".{table}').fetchone()[0]
    return {"rows": counts, "build_s": round(time.perf_counter() - started, 2)}


# ---------------------------------------------------------------- the two sides


def run_core(url: str, lines: list[str], now: datetime) -> dict[str, Any]:
    from frontdesk.core.config import SlaSettings
    from frontdesk.core.db import Database
    from frontdesk.core.ingest import ingest_stream

    db = Database(url)
    with db.read() as session:  # connected and warm, like a running `frontdesk ingest`
        session.connection().exec_driver_sql("SELECT 1")
    started = time.perf_counter()
    report = ingest_stream(db, lines, sla=SlaSettings(), actor="bench", now=now, batch_size=BATCH)
    wall = time.perf_counter() - started
    db.dispose()
    return {
        "wall_s": round(wall, 3),
        "msgs_per_s": round(len(lines) / wall, 1),
        "accepted": report.accepted,
        "duplicates": report.duplicates,
        "rejected": len(report.rejected),
        "conversations_created": report.conversations_created,
        "conversations_reopened": report.conversations_reopened,
    }


def parse_only(lines: list[str]) -> float:
    """Seconds pydantic needs for the lines alone (a part of the core figure, shown apart)."""
    from frontdesk.core.ingest import parse_line

    started = time.perf_counter()
    for line in lines:
        parse_line(line)
    return time.perf_counter() - started


def raw_batches(
    side: SqliteSide, lines: list[str], before: dict[str, int], now_key: Any
) -> list[dict[str, list[dict[str, Any]]]]:
    """What core wrote, read back and grouped into ingest_stream's transactions.

    Every row core inserted (customers, conversations, messages, events, in their final
    form) is inserted once in the transaction of the batch that created it; every customer
    and conversation core updated is updated once in each batch that touched it.
    """
    first_line: dict[tuple[str, str], int] = {}
    author_batches: dict[tuple[str, str], set[int]] = {}
    for n, line in enumerate(lines):
        msg = json.loads(line)
        first_line.setdefault((msg["channel"], msg["external_id"]), n)
        key = (msg["channel"], msg["author"]["id"])
        author_batches.setdefault(key, set()).add(n // BATCH)
    nbatches = -(-len(lines) // BATCH)
    batches: list[dict[str, list[dict[str, Any]]]] = [
        {k: [] for k in ("customer_new", "customer_upd", "conversation_new",
                         "conversation_upd", "message_new", "event_new")}
        for _ in range(nbatches)
    ]  # fmt: skip

    messages = side.fetch("SELECT * FROM message WHERE id > %s ORDER BY id", (before["message"],))
    message_batch = {}
    conv_batches: dict[int, set[int]] = {}
    for row in messages:
        b = first_line[(row["channel"], row["external_id"])] // BATCH
        message_batch[row["id"]] = b
        conv_batches.setdefault(row["conversation_id"], set()).add(b)
        batches[b]["message_new"].append(side.adapt("message", row))

    events = side.fetch("SELECT * FROM event WHERE id > %s ORDER BY id", (before["event"],))
    created_in: dict[int, int] = {}
    current = nbatches - 1
    for row in reversed(events):  # created/reopened precede their batch's message.received
        payload = row["payload"] if isinstance(row["payload"], dict) else json.loads(row["payload"])
        if row["kind"] == "message.received":
            current = message_batch[payload["message_id"]]
        elif row["kind"] == "conversation.created":
            created_in[row["conversation_id"]] = current
        row["_batch"] = current
    for row in events:
        b = row.pop("_batch")
        batches[b]["event_new"].append(side.adapt("event", row))

    for row in side.fetch("SELECT * FROM conversation WHERE id > %s", (before["conversation"],)):
        batches[created_in[row["id"]]]["conversation_new"].append(side.adapt("conversation", row))
    touched = side.fetch(
        "SELECT * FROM conversation WHERE id <= %s AND updated_at = %s",
        (before["conversation"], now_key),
    )
    for row in touched + [r for b in batches for r in b["conversation_new"]]:
        update = {c: row[c] for c in ("id", *CONVERSATION_UPDATE)}
        for b in sorted(conv_batches.get(row["id"], ())):
            if created_in.get(row["id"]) != b:
                batches[b]["conversation_upd"].append(update)

    customers = side.fetch("SELECT * FROM customer")
    for row in customers:
        key = (row["channel"], row["platform_user_id"])
        seen = sorted(author_batches.get(key, ()))
        if not seen:
            continue
        new = row["id"] > before["customer"]
        if new:
            batches[seen[0]]["customer_new"].append(side.adapt("customer", row))
        update = {c: row[c] for c in ("id", *CUSTOMER_UPDATE)}
        for b in seen[1:] if new else seen:
            batches[b]["customer_upd"].append(update)
    return batches


def digest(side: SqliteSide, before: dict[str, int], now_key: Any) -> str:
    """A fingerprint of every row the burst wrote, to prove both sides wrote the same."""
    h = hashlib.sha256()
    for table in ("customer", "conversation", "message", "event"):
        for row in side.fetch(f"SELECT * FROM {table} WHERE id > %s ORDER BY id", (before[table],)):
            h.update(repr(sorted(row.items())).encode())
    touched = side.fetch(
        "SELECT * FROM conversation WHERE id <= %s AND updated_at = %s ORDER BY id",
        (before["conversation"], now_key),
    )
    for row in touched:
        h.update(repr(sorted(row.items())).encode())
    return h.hexdigest()[:16]


def count_rows(batches: list[dict[str, list[dict[str, Any]]]]) -> dict[str, int]:
    return {k: sum(len(b[k]) for b in batches) for k in batches[0]}


def compare(core: dict[str, Any], raw_wall: float, lines: int) -> dict[str, Any]:
    raw = {"wall_s": round(raw_wall, 3), "msgs_per_s": round(lines / raw_wall, 1)}
    ratio = core["msgs_per_s"] / raw["msgs_per_s"]
    return {"raw": raw, "ratio": round(ratio, 3), "pass": ratio >= TARGET_RATIO}


def run_sqlite(prefill: Prefill, lines: list[str], workdir: Path) -> dict[str, Any]:
    from frontdesk.core.clock import utcnow

    template = workdir / "template.db"
    built = build_sqlite_template(template, prefill)
    before = dict(built["rows"])  # ids run 1..count in every table
    core_path, raw_path = workdir / "core.db", workdir / "raw.db"
    copy_sqlite(template, core_path)
    copy_sqlite(template, raw_path)
    template.unlink()
    ingest_now = utcnow()
    core = run_core(f"sqlite:///{core_path}", lines, ingest_now)
    now_key = ingest_now.strftime(SQLITE_TS)
    core_side = SqliteSide(core_path)
    batches = raw_batches(core_side, lines, before, now_key)
    raw_side = SqliteSide(raw_path)
    raw_wall = raw_side.write_batches(batches)
    same = digest(core_side, before, now_key) == digest(raw_side, before, now_key)
    core_side.close()
    raw_side.close()
    return {
        "backend": "sqlite",
        "settings": {"sqlite_version": sqlite3.sqlite_version, **core_sqlite_settings(raw_path)},
        "prefill": built,
        "core": core,
        "raw_rows": count_rows(batches),
        "raw_matches_core": same,
        **compare(core, raw_wall, len(lines)),
    }  # fmt: skip


def run_pg(base: str, prefill: Prefill, lines: list[str]) -> dict[str, Any]:
    import psycopg

    from frontdesk.core.clock import utcnow

    admin = psycopg.connect(libpq(base), autocommit=True)
    tag = f"fdbench_ingest_{uuid.uuid4().hex[:8]}"
    names = [f"{tag}_core", f"{tag}_raw"]
    try:
        for name in names:
            admin.execute(f'CREATE SCHEMA "{name}"')
        built = build_pg(admin, base, names, prefill)
        before = dict(built["rows"])
        ingest_now = utcnow()
        core = run_core(pg_url(base, names[0]), lines, ingest_now)
        core_side = PgSide(libpq(pg_url(base, names[0])))
        batches = raw_batches(core_side, lines, before, ingest_now)
        raw_side = PgSide(libpq(pg_url(base, names[1])))
        raw_wall = raw_side.write_batches(batches)
        same = digest(core_side, before, ingest_now) == digest(raw_side, before, ingest_now)
        core_side.close()
        raw_side.close()
        settings = {
            "server_version": admin.execute("SHOW server_version").fetchone()[0],  # type: ignore[index]
            "synchronous_commit": admin.execute("SHOW synchronous_commit").fetchone()[0],  # type: ignore[index]
        }
        return {
            "backend": "postgresql",
            "settings": settings,
            "prefill": built,
            "core": core,
            "raw_rows": count_rows(batches),
            "raw_matches_core": same,
            **compare(core, raw_wall, len(lines)),
        }
    finally:
        for name in names:
            admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=None, help="burst size (50000)")
    parser.add_argument("--prefill", type=int, default=None, help="messages already stored (1e6)")
    parser.add_argument("--quick", action="store_true", help="10,000 into 100,000")
    parser.add_argument("--pg", default=None, help="also run on this PostgreSQL URL")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--dir", default=None, help="where the SQLite files go (a temp dir)")
    args = parser.parse_args(argv)
    if args.messages is None:
        args.messages = 10_000 if args.quick else 50_000
    if args.prefill is None:
        args.prefill = 100_000 if args.quick else 1_000_000
    if args.no_sqlite and not args.pg:
        parser.error("--no-sqlite needs --pg URL")

    now = datetime.now(UTC)
    report: dict[str, Any] = {
        "benchmark": "ingest",
        "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
        "environment": environment(),
        "params": {"messages": args.messages, "prefill_messages": args.prefill,
                   "batch_size": BATCH, "quick": args.quick},
        "target": {"ratio_min": TARGET_RATIO},
        "backends": [],
    }  # fmt: skip
    prefill = Prefill(args.prefill, now - timedelta(days=2))
    lines = burst_lines(args.messages, prefill, now - timedelta(minutes=1))
    workdir = Path(tempfile.mkdtemp(prefix="fdbench-ingest-", dir=args.dir))
    try:
        if not args.no_sqlite:
            report["backends"].append(run_sqlite(prefill, lines, workdir))
        if args.pg:
            report["backends"].append(run_pg(args.pg, prefill, lines))
        report["parse_only_s"] = round(parse_only(lines), 3)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report["pass"] = all(b["pass"] and b["raw_matches_core"] for b in report["backends"])
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
