"""Sixteen separate processes drain 2,000 conversations with claim_next: each is claimed once."""

from __future__ import annotations

import json
import multiprocessing
import queue
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from frontdesk.core import claims, ingest
from frontdesk.core.config import SlaSettings
from frontdesk.core.db import Database
from frontdesk.core.errors import DatabaseBusy

WORKERS = 16
CONVERSATIONS = 2000
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)
# Guards against a hung or dead child, not performance assertions.
BARRIER_WAIT_S = 180
RESULT_WAIT_S = 300


def drain(url: str, index: int, barrier: Any, results: Any) -> None:
    """Child process: claim_next until nothing is left; report the ids claimed."""
    try:
        db = Database(url)
        operator = f"op{index:02d}"
        claimed: list[int] = []
        busy = 0
        barrier.wait(timeout=BARRIER_WAIT_S)
        while True:
            try:
                with db.write() as session:
                    got = claims.claim_next(session, operator=operator, now=T0, lease=LEASE)
            except DatabaseBusy:
                # Documented as safe to retry: the transaction never started.
                busy += 1
                continue
            if got is None:
                break
            assert got.operator == operator
            claimed.append(got.conversation_id)
        db.dispose()
        results.put((index, operator, claimed, busy, None))
    except BaseException as exc:  # report, so the parent fails with the child's reason
        results.put((index, f"op{index:02d}", [], 0, f"{type(exc).__name__}: {exc}"))


def seed(db: Database) -> list[int]:
    lines = [
        json.dumps(
            {
                "channel": "x",
                "external_id": f"m{n}",
                "text": f"message {n}",
                # Spread over time so the urgency order is a real order, not all ties.
                "created_at": (T0 - timedelta(seconds=n % 997)).isoformat(),
                "author": {"id": f"customer{n}"},
                "thread_id": f"t{n}",
            }
        )
        for n in range(CONVERSATIONS)
    ]
    report = ingest.ingest_stream(
        db, lines, sla=SlaSettings(), actor="ingest", now=T0, batch_size=CONVERSATIONS
    )
    assert report.conversations_created == CONVERSATIONS, report.as_json()
    with db.read() as session:
        return list(session.connection().execute(text("SELECT id FROM conversation")).scalars())


@pytest.mark.slow
def test_processes_racing_claim_next_claim_each_conversation_once(
    db: Database, db_url: str
) -> None:
    all_ids = seed(db)
    assert len(all_ids) == CONVERSATIONS
    db.dispose()  # the children must not share anything with this process but the URL

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=drain, args=(db_url, i, barrier, results), daemon=True)
        for i in range(WORKERS)
    ]
    for proc in procs:
        proc.start()
    try:
        reports = [results.get(timeout=RESULT_WAIT_S) for _ in procs]
    except queue.Empty:
        pytest.fail("a claiming process neither reported nor failed")
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    assert [p.exitcode for p in procs] == [0] * WORKERS
    errors = [(op, err) for _, op, _, _, err in reports if err]
    assert errors == []

    by_operator = {op: ids for _, op, ids, _, _ in reports}
    counts = Counter(cid for ids in by_operator.values() for cid in ids)
    assert [cid for cid, n in counts.items() if n > 1] == []  # nobody claimed twice
    assert set(counts) == set(all_ids)  # and nothing was left behind
    assert sum(counts.values()) == CONVERSATIONS
    # It was a real race: several processes got work.
    assert sum(1 for ids in by_operator.values() if ids) > 1

    with db.read() as session:
        conn = session.connection()
        taken = conn.execute(
            text("SELECT conversation_id, actor FROM event WHERE kind = 'claim.taken'")
        ).all()
        rows = conn.execute(text("SELECT id, claimed_by, claim_token FROM conversation")).all()
    assert len(taken) == CONVERSATIONS
    # The log agrees with what each process was told, and with the rows.
    assert {(cid, op) for cid, op in taken} == {
        (cid, op) for op, ids in by_operator.items() for cid in ids
    }
    holder = {cid: op for op, ids in by_operator.items() for cid in ids}
    assert {r.id: r.claimed_by for r in rows} == holder
    assert {r.claim_token for r in rows} == {1}
