"""Ingest: idempotent, line-numbered rejections, reopening, thread rules, SLA, verbatim text."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col, select

from frontdesk.core import claims, conversations
from frontdesk.core.clock import as_utc
from frontdesk.core.config import SlaSettings
from frontdesk.core.db import Database
from frontdesk.core.ingest import IngestReport, ingest_stream
from frontdesk.core.models import Conversation, Customer, Event, Message

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SLA = SlaSettings()
_ids = itertools.count(1)


def inbound(text: Any = "hello", **fields: Any) -> dict[str, Any]:
    """A valid inbound message; every field can be overridden."""
    message: dict[str, Any] = {
        "channel": "x",
        "external_id": f"ext-{next(_ids)}",
        "text": text,
        "created_at": "2025-03-01T11:00:00Z",
        "author": {"id": "cust-1", "handle": "@cust", "name": "Cust Omer"},
    }
    message.update(fields)
    return message


def line(message: dict[str, Any]) -> str:
    return json.dumps(message)


def ingest(
    db: Database,
    messages: Sequence[dict[str, Any] | str],
    *,
    sla: SlaSettings = SLA,
    now: datetime = NOW,
    batch_size: int = 1000,
) -> IngestReport:
    lines = [m if isinstance(m, str) else line(m) for m in messages]
    return ingest_stream(db, lines, sla=sla, actor="feed", now=now, batch_size=batch_size)


def conversations_(db: Database) -> list[Conversation]:
    with db.read() as session:
        rows = list(session.exec(select(Conversation).order_by(col(Conversation.id))))
        session.expunge_all()
        return rows


def conversation_of(db: Database, external_id: str, channel: str = "x") -> Conversation:
    with db.read() as session:
        conv = session.exec(
            select(Conversation)
            .join(Message, col(Message.conversation_id) == Conversation.id)
            .where(Message.external_id == external_id, Message.channel == channel)
        ).one()
        session.expunge(conv)
        return conv


def thread(db: Database, conversation_id: int) -> conversations.Thread:
    with db.read() as session:
        result = conversations.get_thread(session, conversation_id)
        session.expunge_all()
        return result


def event_kinds(db: Database, conversation_id: int | None = None) -> list[str]:
    query = select(Event.kind).order_by(col(Event.id))
    if conversation_id is not None:
        query = query.where(Event.conversation_id == conversation_id)
    with db.read() as session:
        return list(session.exec(query))


def count(db: Database, model: type) -> int:
    with db.read() as session:
        return len(session.exec(select(model)).all())


# --- duplicates -------------------------------------------------------------------------


def test_same_line_twice_in_one_file_is_stored_once(db: Database) -> None:
    message = inbound(external_id="dup")
    report = ingest(db, [message, message])
    assert (report.accepted, report.duplicates, report.rejected) == (1, 1, [])
    assert count(db, Message) == 1
    conv = conversation_of(db, "dup")
    assert conv.version == 1 and conv.message_count == 1
    assert event_kinds(db, conv.id).count("message.received") == 1


def test_duplicate_across_batches_of_one_run_is_a_no_op(db: Database) -> None:
    message = inbound(external_id="dup")
    report = ingest(db, [message, inbound(), message], batch_size=1)
    assert (report.accepted, report.duplicates) == (2, 1)
    assert conversation_of(db, "dup").version == 1


def test_second_run_of_the_same_file_changes_nothing(db: Database) -> None:
    messages = [inbound(external_id=f"m{i}", thread_id="t") for i in range(3)]
    first = ingest(db, messages)
    assert (first.accepted, first.duplicates, first.conversations_created) == (3, 0, 1)
    before_conv = conversations_(db)
    before_events = event_kinds(db)
    later = NOW + timedelta(hours=1)
    second = ingest(db, messages, now=later)
    assert (second.accepted, second.duplicates) == (0, 3)
    assert (second.conversations_created, second.conversations_reopened) == (0, 0)
    after_conv = conversations_(db)
    assert [c.model_dump() for c in after_conv] == [c.model_dump() for c in before_conv]
    assert event_kinds(db) == before_events
    assert count(db, Message) == 3


# --- bad lines --------------------------------------------------------------------------


def test_bad_lines_are_reported_by_number_and_good_lines_still_ingested(db: Database) -> None:
    good = [inbound(external_id=f"good-{i}") for i in range(4)]
    missing = inbound()
    del missing["external_id"]
    lines: list[dict[str, Any] | str] = [
        good[0],  # 1
        '{"channel": "x", "external_id": ',  # 2 truncated JSON
        missing,  # 3
        good[1],  # 4
        inbound(text=42),  # 5 wrong type
        "",  # 6 blank: skipped, but still counts as a line
        inbound(created_at="2025-03-01T11:00:00"),  # 7 naive datetime
        inbound(channel="sms"),  # 8 unknown channel
        good[2],  # 9
        inbound(author={"id": ""}),  # 10 empty author id
        "[1, 2, 3]",  # 11 not an object
        good[3],  # 12
    ]
    report = ingest(db, lines)
    assert report.accepted == 4
    numbers = [n for n, _ in report.rejected]
    assert numbers == [2, 3, 5, 7, 8, 10, 11]
    reasons = dict(report.rejected)
    assert reasons[2].startswith("invalid JSON")
    assert reasons[3] == "external_id: field required"
    assert reasons[5].startswith("text: ") and "string" in reasons[5]
    assert reasons[7].startswith("created_at: ") and "timezone" in reasons[7]
    assert reasons[8].startswith("channel: ")
    assert reasons[10].startswith("author.id: ")
    assert all("\n" not in r for r in reasons.values())
    with db.read() as session:
        stored = set(session.exec(select(Message.external_id)))
    assert stored == {f"good-{i}" for i in range(4)}
    assert report.as_json()["rejected"][0] == {"line": 2, "reason": reasons[2]}


def test_all_bad_input_writes_nothing(db: Database) -> None:
    report = ingest(db, ["nope", "{}", inbound(channel="telegram")])
    assert report.accepted == 0 and len(report.rejected) == 3
    assert count(db, Conversation) == 0 and count(db, Event) == 0


def test_offset_datetimes_are_stored_as_utc(db: Database) -> None:
    ingest(db, [inbound(external_id="tz", created_at="2025-03-01T13:00:00+02:00")])
    conv = conversation_of(db, "tz")
    assert conv.first_inbound_at is not None
    assert as_utc(conv.first_inbound_at) == datetime(2025, 3, 1, 11, 0, tzinfo=UTC)


# --- reopening --------------------------------------------------------------------------


def resolve(db: Database, conversation_id: int) -> None:
    with db.write() as session:
        claims.resolve(session, conversation_id=conversation_id, operator="alice", now=NOW)


def test_new_inbound_message_reopens_a_resolved_conversation(db: Database) -> None:
    ingest(db, [inbound(external_id="first", thread_id="case-1")])
    conv = conversation_of(db, "first")
    assert conv.id is not None
    resolve(db, conv.id)
    resolved = conversation_of(db, "first")
    assert resolved.status == "resolved" and resolved.sla_due_at is None

    later = "2025-03-02T09:00:00Z"
    report = ingest(
        db, [inbound(external_id="again", thread_id="case-1", created_at=later)], now=NOW
    )
    assert report.conversations_reopened == 1 and report.conversations_created == 0
    reopened = conversation_of(db, "again")
    assert reopened.id == conv.id
    assert reopened.status == "open"
    assert reopened.sla_due_at is not None
    assert as_utc(reopened.sla_due_at) == datetime(2025, 3, 2, 9, 30, tzinfo=UTC)
    kinds = event_kinds(db, conv.id)
    assert kinds.count("conversation.reopened") == 1
    assert kinds.index("conversation.reopened") > kinds.index("conversation.resolved")


def test_message_on_a_waiting_conversation_reopens_without_a_reopened_event(
    db: Database,
) -> None:
    ingest(db, [inbound(external_id="q", thread_id="case-2")])
    conv = conversation_of(db, "q")
    assert conv.id is not None
    lease = timedelta(minutes=10)
    with db.write() as session:
        claims.claim(session, conversation_id=conv.id, operator="alice", now=NOW, lease=lease)
        conversations.reply(
            session,
            conversation_id=conv.id,
            operator="alice",
            body="We are on it",
            seen_version=conv.version,
            now=NOW,
        )
    assert conversation_of(db, "q").status == "waiting"
    report = ingest(db, [inbound(external_id="q2", thread_id="case-2")])
    assert report.conversations_reopened == 0
    after = conversation_of(db, "q2")
    assert after.status == "open"
    assert after.sla_due_at is not None  # the customer is waiting on us again
    assert "conversation.reopened" not in event_kinds(db, conv.id)


# --- thread rules -----------------------------------------------------------------------


def test_private_messages_form_one_thread_per_author(db: Database) -> None:
    ingest(
        db,
        [
            inbound(external_id="dm-a1", visibility="private", author={"id": "a"}),
            inbound(external_id="dm-b1", visibility="private", author={"id": "b"}),
            inbound(external_id="dm-a2", visibility="private", author={"id": "a"}),
        ],
    )
    a = conversation_of(db, "dm-a1")
    assert a.thread_key == "dm:a" and a.visibility == "private"
    assert a.message_count == 2
    assert conversation_of(db, "dm-a2").id == a.id
    assert conversation_of(db, "dm-b1").id != a.id
    # A later run finds the same thread in the database.
    ingest(db, [inbound(external_id="dm-a3", visibility="private", author={"id": "a"})])
    assert conversation_of(db, "dm-a3").id == a.id
    assert conversation_of(db, "dm-a3").message_count == 3
    assert count(db, Conversation) == 2


def test_private_threads_are_per_channel(db: Database) -> None:
    ingest(
        db,
        [
            inbound(external_id="p1", channel="x", visibility="private", author={"id": "a"}),
            inbound(external_id="p1", channel="facebook", visibility="private", author={"id": "a"}),
        ],
    )
    assert conversation_of(db, "p1", "x").id != conversation_of(db, "p1", "facebook").id


def test_public_reply_to_a_known_post_joins_its_thread(db: Database) -> None:
    ingest(db, [inbound(external_id="post")])
    # A later run: the replied-to post is found in the database; a reply to the reply
    # in the same batch follows it into the same thread.
    ingest(
        db,
        [
            inbound(external_id="reply", in_reply_to="post", author={"id": "other"}),
            inbound(external_id="reply-2", in_reply_to="reply"),
        ],
    )
    root = conversation_of(db, "post")
    assert root.thread_key == "post"
    assert conversation_of(db, "reply").id == root.id
    assert conversation_of(db, "reply-2").id == root.id
    assert count(db, Conversation) == 1


def test_public_reply_to_an_unknown_post_starts_its_own_thread(db: Database) -> None:
    ingest(db, [inbound(external_id="orphan", in_reply_to="never-seen")])
    conv = conversation_of(db, "orphan")
    assert conv.thread_key == "orphan"


def test_reply_to_a_post_on_another_channel_does_not_join(db: Database) -> None:
    ingest(db, [inbound(external_id="post", channel="facebook")])
    ingest(db, [inbound(external_id="r", channel="x", in_reply_to="post")])
    assert conversation_of(db, "r", "x").thread_key == "r"


def test_explicit_thread_id_wins(db: Database) -> None:
    ingest(db, [inbound(external_id="post")])
    ingest(
        db,
        [
            inbound(external_id="r", in_reply_to="post", thread_id="ticket-9"),
            inbound(external_id="dm", visibility="private", thread_id="ticket-9"),
        ],
    )
    conv = conversation_of(db, "r")
    assert conv.thread_key == "ticket-9"
    assert conversation_of(db, "dm").id == conv.id
    assert conversation_of(db, "post").id != conv.id


# --- SLA and version --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "visibility", "minutes"),
    [
        ("x", "public", 30),
        ("x", "private", 60),
        ("facebook", "public", 60),
        ("email", "public", 240),
    ],
)
def test_sla_due_from_the_channel_target_on_first_inbound(
    db: Database, channel: str, visibility: str, minutes: int
) -> None:
    ingest(db, [inbound(external_id="s", channel=channel, visibility=visibility)])
    conv = conversation_of(db, "s", channel)
    assert conv.sla_due_at is not None
    expected = datetime(2025, 3, 1, 11, 0, tzinfo=UTC) + timedelta(minutes=minutes)
    assert as_utc(conv.sla_due_at) == expected
    assert conv.status == "new"


def test_sla_due_uses_configured_targets_and_ceiling(db: Database) -> None:
    sla = SlaSettings(targets={"x.public": 5, "email.public": 10_000}, ceiling_minutes=120)
    ingest(db, [inbound(external_id="fast"), inbound(external_id="slow", channel="email")], sla=sla)
    start = datetime(2025, 3, 1, 11, 0, tzinfo=UTC)
    fast, slow = conversation_of(db, "fast"), conversation_of(db, "slow", "email")
    assert fast.sla_due_at is not None and slow.sla_due_at is not None
    assert as_utc(fast.sla_due_at) == start + timedelta(minutes=5)
    assert as_utc(slow.sla_due_at) == start + timedelta(minutes=120)


def test_later_messages_keep_the_first_sla_due_and_bump_the_version(db: Database) -> None:
    ingest(db, [inbound(external_id="v1", thread_id="t")])
    first = conversation_of(db, "v1")
    assert first.version == 1 and first.message_count == 1
    ingest(db, [inbound(external_id="v2", thread_id="t", created_at="2025-03-01T11:20:00Z")])
    ingest(
        db,
        [
            inbound(external_id="v3", thread_id="t", created_at="2025-03-01T11:25:00Z"),
            inbound(external_id="v4", thread_id="t", text="latest", created_at="2025-03-01T11:40Z"),
        ],
    )
    conv = conversation_of(db, "v1")
    assert conv.version == 4 and conv.message_count == 4
    assert conv.sla_due_at == first.sla_due_at
    assert conv.preview == "latest"
    assert conv.last_inbound_at is not None
    assert as_utc(conv.last_inbound_at) == datetime(2025, 3, 1, 11, 40, tzinfo=UTC)


def test_customer_is_updated_not_duplicated(db: Database) -> None:
    ingest(db, [inbound(external_id="c1", author={"id": "u", "handle": "@old", "followers": 5})])
    ingest(db, [inbound(external_id="c2", author={"id": "u", "handle": "@new", "followers": 9})])
    with db.read() as session:
        customers = session.exec(select(Customer)).all()
    assert [(c.handle, c.followers) for c in customers] == [("@new", 9)]


# --- verbatim text ----------------------------------------------------------------------

HOSTILE = {
    "emoji": "Thanks 🎉👍🏽👨‍👩‍👧‍👦 🇳🇱",
    "rtl": "invoice \u202eexe.fdp\u202c and \u2066isolate\u2069 \u200f\u061c",
    "nul": "before\x00after\x00",
    "nul-only": "\x00",
    "esc-osc": "\x1b[2J\x1b]0;pwned\x07\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\",
    "c1": "\x9b31m\x9d0;t\x9c\x85",
    "rich-click": "[@click=app.quit]x[/]",
    "rich-open": "[b",
    "rich-markup": "[bold red]alert[/] [link=file:///etc/passwd]x[/link] \\[escaped]",
    "marker": '\ufdd0"not json"',  # starts with the noncharacter PostgreSQL escaping uses
    "crlf": "line one\r\nline two\rthree\n\n",
    "whitespace": "   \t  ",
    "surrogate-free-astral": "𝕳𝖊𝖑𝖑𝖔 \U0010fffd",
    "empty": "",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_text_round_trips_exactly(db: Database, name: str) -> None:
    text = HOSTILE[name]
    author = {"id": f"author-{name}", "handle": "@\x1b[31mevil\x00", "name": text[:255]}
    ingest(db, [inbound(text, external_id=f"h-{name}", author=author)])
    conv = conversation_of(db, f"h-{name}")
    assert conv.id is not None
    result = thread(db, conv.id)
    assert [m.body for m in result.messages] == [text]
    assert result.customer.handle == "@\x1b[31mevil\x00"
    assert result.customer.display_name == text[:255]
    assert result.conversation.preview == conversations.preview_of(text)
    assert result.as_json()["messages"][0]["body"] == text


def test_megabyte_text_round_trips_exactly(db: Database) -> None:
    chunk = "a\x00b\x1b[0m\u202e🎉[b]\n"
    text = (chunk * (1_048_576 // len(chunk) + 1))[:1_048_576]
    assert len(text) == 1_048_576
    ingest(db, [inbound(text, external_id="huge")])
    conv = conversation_of(db, "huge")
    assert conv.id is not None
    body = thread(db, conv.id).messages[0].body
    assert len(body) == len(text)
    assert body == text


def test_text_as_raw_utf8_bytes_round_trips(db: Database) -> None:
    text = "caf\u00e9 \u202e \x7f\x85 \u2028 \U0001f389"
    raw = json.dumps(inbound(text, external_id="raw"), ensure_ascii=False).encode("utf-8")
    assert b"\xe2\x80\xae" in raw  # the bidi override really is raw UTF-8 in the line
    report = ingest_stream(db, [raw], sla=SLA, actor="feed", now=NOW)
    assert report.accepted == 1
    conv = conversation_of(db, "raw")
    assert conv.id is not None
    assert thread(db, conv.id).messages[0].body == text


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=st.text())
def test_any_text_round_trips_exactly(db: Database, text: str) -> None:
    external_id = f"prop-{next(_ids)}"
    ingest(db, [inbound(text, external_id=external_id)])
    conv = conversation_of(db, external_id)
    assert conv.id is not None
    assert thread(db, conv.id).messages[0].body == text
    assert conv.preview == conversations.preview_of(text)
