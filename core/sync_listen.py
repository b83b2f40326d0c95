"""`frontdesk sync`'s listening pass: run each saved search of an account, keep out what its
mutes cover, queue the rest tagged with the stream, then count and move the cursor.

Order of writes, as for polling (core/sync.py): ingest commits the matches, then one
transaction moves the stream's cursor and adds its hourly volume. A crash in between
re-reads the matches, which ingest drops as duplicates and which are counted only once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from frontdesk.core import ingest
from frontdesk.core.clock import as_utc
from frontdesk.core.config import SlaSettings
from frontdesk.core.connectors.accounts import Stream
from frontdesk.core.connectors.base import Connector, SearchResult
from frontdesk.core.connectors.errors import ConnectorError, RateLimited
from frontdesk.core.db import Database
from frontdesk.core.intake import Intake
from frontdesk.core.listening import mutes_for, stream_tag
from frontdesk.core.models_listening import ListeningStream, StreamVolume
from frontdesk.core.sync_send import PassReport

ERROR_CHARS = 2000


class Listener:
    """Runs one account's streams into the queue; sync calls it after the account's poll."""

    def __init__(
        self,
        db: Database,
        *,
        sla: SlaSettings,
        intake: Intake | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.sla = sla
        self.intake = intake
        self.clock = clock

    def listen(
        self, account: str, connector: Connector, streams: Sequence[Stream], report: PassReport
    ) -> None:
        """Every enabled stream once; a throttled search stops the rest of this pass (the
        connector would refuse them without a request until the reset anyway)."""
        throttled: RateLimited | None = None
        for stream in streams:
            if not stream.enabled:
                continue
            if throttled is not None:
                self._record(account, stream, None, error=throttled.message)
                continue
            with self.db.read() as session:
                state = session.get(ListeningStream, stream.name)
                cursor = state.cursor if state is not None else None
            try:
                found = connector.search(stream.query, cursor)
            except ConnectorError as exc:
                if isinstance(exc, RateLimited):
                    throttled = exc
                report.errors.append(f"stream {stream.name}: {exc.message}")
                self._record(account, stream, None, error=exc.message)
                continue
            self._take(account, stream, found, report)

    def _take(self, account: str, stream: Stream, found: SearchResult, report: PassReport) -> None:
        with self.db.read() as session:
            mutes = mutes_for(session, stream.name)
        tags = [stream_tag(stream.name), *(t for t in stream.tags if t != stream_tag(stream.name))]
        kept, hours = [], Counter[tuple[datetime, bool]]()
        for message in found.messages:
            muted = mutes.muted(message)
            hours[(_hour(message.created_at), muted)] += 1
            if not muted:
                kept.append(message.model_copy(update={"tags": tags}))
        report.add("matched", len(found.messages))
        report.add("muted", len(found.messages) - len(kept))
        if kept:
            done = ingest.ingest_stream(
                self.db,
                [m.model_dump_json() for m in kept],
                sla=self.sla,
                actor="sync",
                now=self.clock(),
                intake=self.intake,
                account=account,
            )
            report.add("accepted", done.accepted)
            report.add("duplicates", done.duplicates)
            report.errors += [
                f"stream {stream.name}: message refused by ingest: {r}" for _, r in done.rejected
            ]
        # A partial run's matches come again with the run that reaches the cursor, which
        # counts them; counted now as well, they would count twice.
        self._record(
            account, stream, found.cursor, error="", hours=None if found.partial else hours
        )

    def _record(
        self,
        account: str,
        stream: Stream,
        cursor: str | None,
        *,
        error: str,
        hours: Counter[tuple[datetime, bool]] | None = None,
    ) -> None:
        """The stream's row (created on its first run) and its volume, in one transaction."""
        now = self.clock()
        with self.db.write() as session:
            state = session.get(ListeningStream, stream.name) or ListeningStream(
                name=stream.name, account=account, query=stream.query, updated_at=now
            )
            state.account, state.query, state.tags = account, stream.query, list(stream.tags)
            if cursor is not None:
                state.cursor = cursor
            state.last_poll_at = now
            state.last_error = error[:ERROR_CHARS]
            state.updated_at = now
            session.add(state)
            session.flush()
            for (hour, muted), count in (hours or {}).items():
                _add_volume(session, stream.name, hour, count, muted)


def _hour(at: datetime) -> datetime:
    return as_utc(at).replace(minute=0, second=0, microsecond=0)


def _add_volume(session: Session, stream: str, hour: datetime, count: int, muted: bool) -> None:
    """Add to the stream's count for the hour, creating the row on its first match."""
    values = {"stream": stream, "hour": hour, "matched": count, "muted": count if muted else 0}
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(StreamVolume).values(**values)
    table = StreamVolume.__table__  # type: ignore[attr-defined]
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["stream", "hour"],
            set_={
                "matched": table.c.matched + insert.excluded.matched,
                "muted": table.c.muted + insert.excluded.muted,
            },
        )
    )
