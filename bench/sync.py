"""Channel sync benchmark: from a post on the fake X (served on 127.0.0.1) to its row in the
queue at a 2 s poll, with `frontdesk sync` in its own process; and draining an outbox of
10,000 replies through SyncService against raw httpx posting the same requests, same run."""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the fake platforms live in tests/fakes

import httpx  # noqa: E402
import sqlalchemy  # noqa: E402
from sqlalchemy import text  # noqa: E402

from frontdesk.core import conversations, schema  # noqa: E402
from frontdesk.core.config import SlaSettings  # noqa: E402
from frontdesk.core.connectors.accounts import JsonFeedAccount  # noqa: E402
from frontdesk.core.connectors.jsonfeed import JsonFeedConnector  # noqa: E402
from frontdesk.core.connectors.tokens import OAuthTokens  # noqa: E402
from frontdesk.core.db import Database  # noqa: E402
from frontdesk.core.ingest import ingest_stream  # noqa: E402
from frontdesk.core.sync import SyncService  # noqa: E402
from tests.fakes import server  # noqa: E402
from tests.fakes.jsonfeed import FakeFeed  # noqa: E402
from tests.fakes.platform import FakeClock  # noqa: E402
from tests.fakes.server import serve  # noqa: E402
from tests.fakes.x import FakeX  # noqa: E402

RUNNER = (
    "import argparse, sys\nfrom frontdesk.tui.cli import sync\n"
    "p = argparse.ArgumentParser(prog='frontdesk'); sync.register(p.add_subparsers())\n"
    "a = p.parse_args(sys.argv[1:]); sys.exit(a.handler(a))\n"
)
WATCH_S = 0.005  # how often the bench looks for new rows: the latency's resolution
TOKEN = "bench-token"
SENT = "SELECT count(*), count(DISTINCT external_id) FROM outboxitem WHERE state = 'sent'"


# The fake's HTTP bridge writes a response's headers and body separately; with Nagle's
# algorithm on, the body then waits for the client's delayed ACK (40 ms on Linux), which
# would be most of every request measured here. Real platforms answer without that stall.
server._Bridge.disable_nagle_algorithm = True


class WallClock(FakeClock):
    def __call__(self) -> datetime:
        return datetime.now(UTC)


def pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary(values: list[float], scale: float, unit: str) -> dict[str, float]:
    marks = {"p50": pct(values, 0.50), "p95": pct(values, 0.95), "max": max(values)}
    return {f"{mark}_{unit}": round(value * scale, 3) for mark, value in marks.items()}


def migrated(url: str) -> Database:
    db = Database(url)
    schema.upgrade(db)
    return db


def latency(folder: Path, seconds: float, rate: float, poll: float) -> dict[str, Any]:
    """Posts appear at random (Poisson, `rate` a second) while `frontdesk sync` polls every
    `poll` seconds; each is timed from its creation to its committed row."""
    url = f"sqlite:///{folder / 'latency.db'}"
    migrated(url).dispose()
    fake = FakeX(WallClock())
    fake.rate_limits = False
    tokens = folder / "x-tokens.json"
    pair = OAuthTokens(**fake.oauth_pair(lifetime=timedelta(days=1)))
    tokens.write_text(json.dumps(pair.as_json()), encoding="utf-8")
    tokens.chmod(0o600)
    people = [fake.user(f"customer{n}") for n in range(50)]
    with serve(fake) as base:
        config = folder / "sync.toml"
        config.write_text(
            f'[accounts.acme_x]\ntype = "x"\nbase_url = "{base}"\nuser_id = "{fake.me.id}"\n'
            f'credentials = {{ file = "{tokens}" }}\ndirect_messages = false\n'
            f"poll_seconds = {poll}\n",
            encoding="utf-8",
        )
        config.chmod(0o600)
        env = os.environ | {"FRONTDESK_DATABASE_URL": url}
        command = [sys.executable, "-c", RUNNER, "sync", "--config", str(config)]
        child = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
        assert child.stderr is not None
        for line in child.stderr:  # started and polled once: the clock starts now
            if json.loads(line)["event"] == "poll":
                break
        threading.Thread(target=child.stderr.read, daemon=True).start()
        seen: dict[str, float] = {}
        stop = threading.Event()
        watcher = threading.Thread(target=watch, args=(folder / "latency.db", seen, stop))
        watcher.start()
        rng = random.Random(7)
        appeared: dict[str, float] = {}
        end = time.time() + seconds
        while time.time() < end:
            time.sleep(rng.expovariate(rate))
            post = fake.mention(rng.choice(people), f"question {len(appeared)}")
            appeared[post.id] = time.time()
        deadline = time.time() + 10 * poll
        while len(seen.keys() & appeared.keys()) < len(appeared) and time.time() < deadline:
            time.sleep(0.05)
        stop.set()
        watcher.join()
        child.terminate()
        child.wait(timeout=30)
        polls = sorted(e.at.timestamp() for e in fake.requests_to("mentions"))
    total, waiting, working = [], [], []
    for post_id, t0 in appeared.items():
        t1 = seen[post_id]
        picked = next(p for p in polls if p >= t0)  # the poll that found it
        total.append(t1 - t0)
        waiting.append(picked - t0)
        working.append(t1 - picked)
    return {
        "poll_seconds": poll,
        "posts": len(appeared),
        "found": len(seen.keys() & appeared.keys()),
        "post_to_row": summary(total, 1, "s"),
        "waiting_for_the_poll": summary(waiting, 1, "s"),
        "poll_to_committed_row": summary(working, 1000, "ms"),
        "floor_from_the_interval": {"p50_s": 0.5 * poll, "p95_s": 0.95 * poll},
        "resolution_ms": WATCH_S * 1000,
        "sync_exit": child.returncode,
    }


def watch(path: Path, seen: dict[str, float], stop: threading.Event) -> None:
    """Record when each inbound message becomes visible to a reader of the database."""
    conn = sqlite3.connect(path)
    last = 0
    while not stop.is_set():
        rows = conn.execute(
            "SELECT id, external_id FROM message WHERE id > ? AND direction = 'inbound'", (last,)
        ).fetchall()
        now = time.time()
        for row_id, external_id in rows:
            seen.setdefault(external_id, now)
            last = max(last, row_id)
        time.sleep(WATCH_S)
    conn.close()


def serve_feed(pipe: Any) -> None:
    """The fake JSON feed in its own process, so its work is not on the measured core."""
    with serve(FakeFeed(WallClock(), token=TOKEN)) as base:
        pipe.send(base)
        pipe.recv()  # until told to stop


def feed_server() -> tuple[str, Any, Any]:
    parent, child = mp.get_context("spawn").Pipe()
    proc = mp.get_context("spawn").Process(target=serve_feed, args=(child,), daemon=True)
    proc.start()
    return parent.recv(), parent, proc


def queued_outbox(url: str, count: int) -> Database:
    """`count` conversations with one queued public reply each (not timed)."""
    db = migrated(url)
    now = datetime.now(UTC)
    lines = (
        json.dumps(
            {
                "channel": "email",
                "external_id": f"in-{n}",
                "text": f"Where is order {100_000 + n}?",
                "created_at": (now - timedelta(minutes=5)).isoformat(),
                "author": {"id": f"c{n}", "name": f"Customer {n}"},
                "visibility": "public",
            }
        )
        for n in range(count)
    )
    ingest_stream(db, lines, sla=SlaSettings(), actor="bench", now=now)
    for start in range(1, count + 1, 1000):
        with db.write() as session:
            for cid in range(start, min(start + 1000, count + 1)):
                conversations.record_reply(
                    session,
                    conversation_id=cid,
                    author="bench",
                    body=f"Your order {100_000 + cid - 1} left the warehouse today.",
                    now=now,
                    extra={},
                )
    return db


def drain_core(db: Database, base: str) -> tuple[float, tuple[int, int]]:
    table = {"type": "jsonfeed", "url": f"{base}/feed", "reply_url": f"{base}/replies"}
    account = JsonFeedAccount.model_validate(table | {"channel": "email"})
    connector = JsonFeedConnector("feed", account, token=TOKEN)
    service = SyncService(
        db, {"feed": connector}, sla=SlaSettings(), channels={"feed": "email"}, budget=1 << 30
    )
    started = time.perf_counter()
    service.drain("feed")
    took = time.perf_counter() - started
    connector.close()
    with db.read() as session:  # every reply went, and each as its own platform post
        sent, distinct = session.execute(text(SENT)).one()
    return took, (int(sent), int(distinct))


def drain_raw(base: str, count: int) -> float:
    """The same requests as the connector makes, from a loop over plain httpx."""
    started = time.perf_counter()
    with httpx.Client(timeout=20.0, headers={"user-agent": "frontdesk-sync"}) as client:
        for n in range(count):
            key = f"raw-outbox-{n}"
            words = f"Your order {100_000 + n} left the warehouse today."
            body = dict(key=key, text=words, private=False, in_reply_to=f"in-{n}", recipient=None)
            headers = {"authorization": f"Bearer {TOKEN}", "idempotency-key": key}
            response = client.post(f"{base}/replies", json=body, headers=headers)
            response.raise_for_status()
    return time.perf_counter() - started


def drain(folder: Path, count: int) -> dict[str, Any]:
    db = queued_outbox(f"sqlite:///{folder / 'drain.db'}", count)
    runs: dict[str, float] = {}
    for side in ("raw_before", "core", "raw_after"):
        base, pipe, proc = feed_server()
        try:
            if side == "core":
                runs[side], sent = drain_core(db, base)
            else:
                runs[side] = drain_raw(base, count)
        finally:
            pipe.send("stop")
            proc.join(10)
    db.dispose()
    raw = statistics.mean([runs["raw_before"], runs["raw_after"]])
    return {
        "replies": count,
        "sent": sent[0],
        "distinct_platform_ids": sent[1],
        "core_s": round(runs["core"], 2),
        "core_per_s": round(count / runs["core"]),
        "raw_s": [round(runs["raw_before"], 2), round(runs["raw_after"], 2)],
        "raw_per_s": round(count / raw),
        "ratio": round(raw / runs["core"], 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="posting time (60)")
    parser.add_argument("--rate", type=float, default=4.0, help="posts a second (4)")
    parser.add_argument("--poll", type=float, default=2.0, help="poll interval (2)")
    parser.add_argument("--replies", type=int, default=10_000, help="outbox size (10,000)")
    parser.add_argument("--quick", action="store_true", help="20 s of posts, 2,000 replies")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.replies = min(args.seconds, 20.0), min(args.replies, 2000)
    result: dict[str, Any] = {
        "benchmark": "sync",
        "environment": {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "cpu_count": os.cpu_count(),
            "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
            "sqlite_version": sqlite3.sqlite_version,
            "sqlalchemy": sqlalchemy.__version__,
        },
    }
    with tempfile.TemporaryDirectory(prefix="fdbench-sync-") as tmp:
        folder = Path(tmp)
        result["latency"] = latency(folder, args.seconds, args.rate, args.poll)
        result["drain"] = drain(folder, args.replies)
    result["environment"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
