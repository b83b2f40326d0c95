"""Listening streams for operators: mute rules (add, list, remove, match) and each stream's
recent volume."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from frontdesk.core import events
from frontdesk.core.clock import as_utc
from frontdesk.core.db import Database
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.ingest_input import InboundMessage
from frontdesk.core.models_listening import MUTE_KINDS, ListeningStream, StreamMute, StreamVolume

STREAM_TAG = "stream:"
"""Conversations a stream started carry `stream:NAME`; the queue filters on it."""
PHRASE_CHARS = (2, 200)


def stream_tag(name: str) -> str:
    return f"{STREAM_TAG}{name}"


def streams_of(tags: list[str]) -> list[str]:
    """The streams named by a conversation's tags."""
    return [t.removeprefix(STREAM_TAG) for t in tags if t.startswith(STREAM_TAG)]


def _handle(value: str) -> str:
    return value.strip().removeprefix("@").casefold()


def _words(text: str) -> str:
    return " ".join(text.casefold().split())


@dataclass(frozen=True, slots=True)
class Mutes:
    """One stream's mute rules, ready to test messages against."""

    authors: frozenset[str]
    phrases: tuple[re.Pattern[str], ...]

    @staticmethod
    def of(rules: list[StreamMute]) -> Mutes:
        authors = frozenset(_handle(r.value) for r in rules if r.kind == "author")
        # Whole words: muting "sue" must not silence every "issue".
        phrases = tuple(
            re.compile(rf"(?<!\w){re.escape(_words(r.value))}(?!\w)")
            for r in rules
            if r.kind == "phrase"
        )
        return Mutes(authors, phrases)

    def muted(self, message: InboundMessage) -> bool:
        author = {_handle(message.author.handle), _handle(message.author.id)} - {""}
        if not author.isdisjoint(self.authors):
            return True
        text = _words(message.text)
        return any(p.search(text) for p in self.phrases)


def mutes_for(session: Session, stream: str) -> Mutes:
    query = select(StreamMute).where(StreamMute.stream == stream)
    return Mutes.of(list(session.exec(query)))


def add_mute(
    db: Database, *, stream: str, kind: str, value: str, by: str, now: datetime
) -> StreamMute:
    """Record a mute rule; the stream's next matches that fit it are not ingested.

    Raises:
        InvalidInput: an unknown stream or kind, an empty or overlong value, a repeat.
    """
    if kind not in MUTE_KINDS:
        raise InvalidInput(f"a mute is by {' or '.join(MUTE_KINDS)}, not {kind!r}")
    # Matching ignores case, so the stored form does too: one rule per author or phrase.
    value = _handle(value) if kind == "author" else _words(value)
    low, high = PHRASE_CHARS
    if not (low if kind == "phrase" else 1) <= len(value) <= high:
        raise InvalidInput(f"a muted {kind} is {low} to {high} characters")
    try:
        return _insert_mute(db, stream=stream, kind=kind, value=value, by=by, now=now)
    except IntegrityError:
        # Someone added the same rule at the same moment (PostgreSQL: the repeat check in
        # _insert_mute could not see it yet; the unique constraint could).
        raise InvalidInput(f"{stream} already mutes {kind} {value!r}") from None


def _insert_mute(
    db: Database, *, stream: str, kind: str, value: str, by: str, now: datetime
) -> StreamMute:
    with db.write() as session:
        if session.get(ListeningStream, stream) is None:
            known = ", ".join(session.exec(select(ListeningStream.name))) or "none yet"
            raise InvalidInput(f"no listening stream {stream!r} (streams sync has run: {known})")
        existing = session.exec(
            select(StreamMute).where(
                StreamMute.stream == stream, StreamMute.kind == kind, StreamMute.value == value
            )
        ).first()
        if existing is not None:
            raise InvalidInput(f"{stream} already mutes {kind} {value!r} (mute {existing.id})")
        rule = StreamMute(stream=stream, kind=kind, value=value, created_by=by, created_at=now)
        session.add(rule)
        session.flush()
        payload = {"mute_id": rule.id, "stream": stream, "kind": kind, "value": value}
        events.append(session, at=now, actor=by, kind="stream.muted", payload=payload)
        session.expunge(rule)
    return rule


def remove_mute(db: Database, mute_id: int, *, by: str, now: datetime) -> StreamMute:
    """Delete a mute rule (the event log keeps who added and who removed it)."""
    with db.write() as session:
        rule = session.get(StreamMute, mute_id)
        if rule is None:
            raise NotFound(f"no mute rule {mute_id} (frontdesk mute list shows them)")
        payload = {
            "mute_id": mute_id,
            "stream": rule.stream,
            "kind": rule.kind,
            "value": rule.value,
        }
        gone = StreamMute.model_validate(rule.model_dump())
        session.delete(rule)
        events.append(session, at=now, actor=by, kind="stream.unmuted", payload=payload)
    return gone


def list_mutes(db: Database, stream: str | None = None) -> list[StreamMute]:
    with db.read() as session:
        query = select(StreamMute).order_by(col(StreamMute.stream), col(StreamMute.id))
        if stream is not None:
            query = query.where(StreamMute.stream == stream)
        rules = list(session.exec(query))
        for rule in rules:
            session.expunge(rule)
    return rules


def mute_json(rule: StreamMute) -> dict[str, Any]:
    return {
        "id": rule.id,
        "stream": rule.stream,
        "kind": rule.kind,
        "value": rule.value,
        "created_by": rule.created_by,
        "created_at": as_utc(rule.created_at).isoformat(),
    }


@dataclass(frozen=True, slots=True)
class StreamReport:
    """A stream's state and the volume of the last `hours` hours."""

    name: str
    account: str
    query: str
    tags: list[str]
    last_poll_at: datetime | None
    last_error: str
    matched: int
    muted: int
    mutes: int

    def as_json(self) -> dict[str, Any]:
        polled = as_utc(self.last_poll_at).isoformat() if self.last_poll_at else None
        return {
            "name": self.name,
            "account": self.account,
            "query": self.query,
            "tags": self.tags,
            "last_poll_at": polled,
            "last_error": self.last_error,
            "matched_24h": self.matched,
            "muted_24h": self.muted,
            "mutes": self.mutes,
        }


def report(db: Database, *, now: datetime, hours: int = 24) -> list[StreamReport]:
    """Every stream sync has run, with its matches in the last `hours` whole hours."""
    since = as_utc(now).replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    with db.read() as session:
        volume = {
            stream: (int(m or 0), int(u or 0))
            for stream, m, u in session.exec(
                select(
                    StreamVolume.stream,
                    func.sum(StreamVolume.matched),
                    func.sum(StreamVolume.muted),
                )
                .where(col(StreamVolume.hour) >= since)
                .group_by(col(StreamVolume.stream))
            )
        }
        mutes = dict(
            session.exec(
                select(StreamMute.stream, func.count()).group_by(col(StreamMute.stream))
            ).all()
        )
        rows = list(session.exec(select(ListeningStream).order_by(col(ListeningStream.name))))
        return [
            StreamReport(
                s.name, s.account, s.query, list(s.tags), s.last_poll_at, s.last_error,
                *volume.get(s.name, (0, 0)), int(mutes.get(s.name, 0)),
            )
            for s in rows
        ]  # fmt: skip


def hourly(db: Database, stream: str, *, since: datetime) -> list[tuple[datetime, int, int]]:
    """A stream's (hour, matched, muted) from `since` on, oldest first: for the crisis
    detector and reports."""
    with db.read() as session:
        query = (
            select(StreamVolume.hour, StreamVolume.matched, StreamVolume.muted)
            .where(StreamVolume.stream == stream, col(StreamVolume.hour) >= as_utc(since))
            .order_by(col(StreamVolume.hour))
        )
        return [(as_utc(h), m, u) for h, m, u in session.exec(query)]
