"""Ingest: normalised inbound messages (JSON Lines) become customers, conversations, messages."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from frontdesk.core.config import SlaSettings
from frontdesk.core.db import Database
from frontdesk.core.errors import DatabaseBusy
from frontdesk.core.ingest_batch import BatchResult, ConcurrentIngest, ingest_batch
from frontdesk.core.ingest_input import Author, InboundMessage, parse_line, thread_key
from frontdesk.core.intake import Intake

__all__ = [
    "Author",
    "InboundMessage",
    "IngestReport",
    "dumps_report",
    "ingest_stream",
    "parse_line",
    "parse_lines",
    "thread_key",
]

# A batch retried this often in a row is being raced by other ingests the whole time.
_ATTEMPTS = 5


@dataclass
class IngestReport:
    """What an ingest run did: counts, and each rejected line with its reason."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    conversations_created: int = 0
    conversations_reopened: int = 0

    def add(self, batch: BatchResult) -> None:
        self.accepted += batch.accepted
        self.duplicates += batch.duplicates
        self.conversations_created += batch.created
        self.conversations_reopened += batch.reopened

    def as_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [{"line": n, "reason": r} for n, r in self.rejected],
            "conversations_created": self.conversations_created,
            "conversations_reopened": self.conversations_reopened,
        }


def parse_lines(lines: Iterable[str | bytes], report: IngestReport) -> Iterator[InboundMessage]:
    """Yield the good lines; record every bad one (blank lines are skipped silently)."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield parse_line(line)
        except ValueError as exc:
            report.rejected.append((number, str(exc)))


def ingest_stream(
    db: Database,
    lines: Iterable[str | bytes],
    *,
    sla: SlaSettings,
    actor: str,
    now: datetime,
    batch_size: int = 1000,
    intake: Intake | None = None,
    account: str | None = None,
) -> IngestReport:
    """Ingest every good line, one transaction per batch so other writers wait briefly.

    With `intake` (the playbook in force) new conversations are triaged, routed and get
    the playbook's SLA clocks; without it only `sla`'s first-response targets apply.
    `account` names the sync account the lines came in on: their conversations record it,
    and replies leave by it.
    """
    report = IngestReport()
    batch: list[InboundMessage] = []
    for message in parse_lines(lines, report):
        batch.append(message)
        if len(batch) >= batch_size:
            report.add(_write(db, batch, sla, actor, now, intake, account))
            batch = []
    if batch:
        report.add(_write(db, batch, sla, actor, now, intake, account))
    return report


def _write(
    db: Database,
    batch: list[InboundMessage],
    sla: SlaSettings,
    actor: str,
    now: datetime,
    intake: Intake | None,
    account: str | None,
) -> BatchResult:
    """One batch in one transaction, run again from the start if another ingest raced it."""
    for _ in range(_ATTEMPTS):
        try:
            with db.write() as session:
                return ingest_batch(
                    session, batch, sla=sla, actor=actor, now=now, intake=intake, account=account
                )
        except ConcurrentIngest:
            continue  # rolled back; the next attempt sees what the other ingest committed
    raise DatabaseBusy(f"{db.describe()}: other ingests kept storing the same messages; try again")


def dumps_report(report: IngestReport) -> str:
    """The report as one JSON object."""
    return json.dumps(report.as_json())
