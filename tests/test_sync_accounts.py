"""Two X accounts in one sync: each reply leaves by the account its conversation came in on."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from frontdesk.core import outbox, schema
from frontdesk.core.config import Settings, SlaSettings
from frontdesk.core.connectors.base import Connector
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.models import Conversation, Message
from frontdesk.core.models_channels import OutboxItem
from frontdesk.core.sync import SyncService
from tests.fakes.connect import x_connector
from tests.fakes.platform import FakeClock
from tests.fakes.x import FakeX
from tests.fakes.x_state import Post

MAIN, HELP = "acme_x", "help_x"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def main(clock: FakeClock) -> FakeX:
    return FakeX(clock)


@pytest.fixture
def help_desk(clock: FakeClock) -> FakeX:
    fake = FakeX(clock, username="acmehelp", user_id="3355000001")
    # Both fakes stand for one X, whose ids never repeat across its accounts.
    fake.world._sequence = 1 << 20
    return fake


@pytest.fixture
def service(db: Database, main: FakeX, help_desk: FakeX, clock: FakeClock) -> SyncService:
    connectors: dict[str, Connector] = {
        MAIN: x_connector(main, clock, name=MAIN),
        HELP: x_connector(help_desk, clock, name=HELP),
    }
    return SyncService(db, connectors, sla=SlaSettings(), clock=clock)


@pytest.fixture
def desk(db: Database, clock: FakeClock) -> Desk:
    return Desk(Settings(), "alice", db=db, clock=clock)


def answer(db: Database, desk: Desk, external_id: str, text: str) -> OutboxItem:
    with db.read() as session:
        query = select(Message.conversation_id).where(Message.external_id == external_id)
        conversation_id = session.exec(query).one()
    desk.claim(conversation_id)
    message = desk.reply(conversation_id, text).message
    assert message is not None
    with db.read() as session:
        return session.exec(select(OutboxItem).where(OutboxItem.message_id == message.id)).one()


def accounts(db: Database) -> dict[str, str | None]:
    """The account of each conversation, by the external id of its first message."""
    with db.read() as session:
        rows = session.exec(
            select(Conversation.thread_key, Conversation.account).order_by(col(Conversation.id))
        ).all()
    return dict(rows)


def test_each_reply_leaves_by_the_account_it_came_in_on(db, main, help_desk, service, desk) -> None:
    jane = main.mention(main.user("jane"), "where is my order?")
    omar = help_desk.mention(help_desk.user("omar"), "my login fails")
    ann = help_desk.user("ann")
    dm = help_desk.dm(ann, "a private detail")
    for name in (MAIN, HELP):
        assert service.poll(name).errors == []
    assert accounts(db) == {jane.id: MAIN, omar.id: HELP, f"dm:{ann.id}": HELP}

    to_jane = answer(db, desk, jane.id, "Checking, Jane")
    to_omar = answer(db, desk, omar.id, "Resetting it, Omar")
    to_ann = answer(db, desk, dm.id, "Noted, Ann")
    assert (to_jane.account, to_omar.account, to_ann.account) == (MAIN, HELP, HELP)
    # Each drain takes only its own account's rows, whatever the order.
    assert service.drain(HELP).counts == {"sent": 2}
    assert service.drain(MAIN).counts == {"sent": 1}
    assert service.drain(HELP).counts == service.drain(MAIN).counts == {}
    assert [(p.text, p.replied_to) for p in main.replies()] == [("Checking, Jane", jane.id)]
    assert [(p.text, p.replied_to) for p in help_desk.replies()] == [
        ("Resetting it, Omar", omar.id)
    ]
    assert [e.text for e in help_desk.sent_dms()] == ["Noted, Ann"] and main.sent_dms() == []
    with db.read() as session:
        assert {outbox.get(session, i.id or 0).state for i in (to_jane, to_omar, to_ann)} == {
            "sent"
        }


def legacy(desk: Desk, post: Post) -> None:
    """`post` queued without an account: ingested by hand, or before accounts were kept."""
    line = {
        "channel": "x",
        "external_id": post.id,
        "text": post.text,
        "created_at": post.created_at.isoformat(),
        "author": {"id": post.author_id, "handle": "jane"},
    }
    assert desk.ingest([json.dumps(line)]).accepted == 1


def test_a_reply_naming_no_account_is_not_sent_from_a_guess(
    db, main, help_desk, service, desk
) -> None:
    jane = main.user("jane")
    post = main.mention(jane, "is the shop open?")
    legacy(desk, post)
    item = answer(db, desk, post.id, "Open till six")
    assert item.account is None
    report = service.drain(HELP)
    assert report.counts == {"failed": 1}
    (error,) = report.errors
    assert error.startswith(f"outbox item {item.id}: conversation #{item.conversation_id}")
    assert "which x account" in error and "2 x accounts (acme_x, help_x)" in error
    assert service.drain(MAIN).counts == {}  # refused once, by whichever drain came first
    assert main.requests_to("tweets.create") == help_desk.requests_to("tweets.create") == []
    with db.read() as session:
        failed = outbox.get(session, item.id or 0)
    assert (failed.state, failed.next_attempt_at, failed.last_error) == ("failed", None, error)

    # The customer writes again through acme_x: the conversation learns its account, and
    # the operator's retry sends the reply from it.
    main.mention(jane, "hello?", replied_to=post.id)
    service.poll(MAIN)
    assert accounts(db)[post.id] == MAIN
    assert desk.retry_send(item.id or 0).account == MAIN
    assert service.drain(HELP).counts == {}
    assert service.drain(MAIN).counts == {"sent": 1}
    assert [(p.text, p.replied_to) for p in main.replies()] == [("Open till six", post.id)]


def test_the_only_account_of_a_channel_sends_what_names_none(db, main, clock, desk) -> None:
    post = main.mention(main.user("jane"), "hi")
    legacy(desk, post)
    item = answer(db, desk, post.id, "Hello Jane")
    # A sync that runs one account but knows of a second one on the channel (`channels`)
    # cannot tell which of the two the reply belongs to.
    connector = x_connector(main, clock)
    both = SyncService(db, {MAIN: connector}, sla=SlaSettings(), channels={HELP: "x"}, clock=clock)
    assert both.drain(MAIN).counts == {"failed": 1}
    desk.retry_send(item.id or 0)
    alone = SyncService(db, {MAIN: connector}, sla=SlaSettings(), clock=clock)
    assert alone.drain(MAIN).counts == {"sent": 1}
    assert [p.text for p in main.replies()] == ["Hello Jane"]


def test_upgrading_records_the_account_where_a_channel_had_only_one(db_url: str) -> None:
    """Before 0007 sync allowed one enabled account per channel, so where the database knows
    a single account of a channel, that account is recorded; with two, none is guessed."""
    database = Database(db_url)
    try:
        assert schema.upgrade(database, "0006") == "0006"
        t = {"t": FakeClock()()}
        with database.engine.begin() as conn:
            for account, channel in (("acme_x", "x"), ("fb_a", "facebook"), ("fb_b", "facebook")):
                conn.execute(
                    text(
                        "INSERT INTO channelstate (account, channel, cursor, last_error,"
                        " updated_at) VALUES (:a, :c, '{}', '', :t)"
                    ),
                    {"a": account, "c": channel, **t},
                )
            conn.execute(
                text(
                    "INSERT INTO customer (id, channel, platform_user_id, handle, display_name,"
                    " tags, created_at) VALUES (1, 'x', 'u1', '@u1', 'U', '[]', :t)"
                ),
                t,
            )
            for n, channel in enumerate(("x", "facebook", "email"), start=1):
                conn.execute(
                    text(
                        "INSERT INTO conversation (id, channel, visibility, thread_key,"
                        " customer_id, status, priority, tags, claim_token, version,"
                        " message_count, preview, created_at, updated_at, sla_state, triage,"
                        " awaiting_signoff) VALUES (:n, :c, 'public', :k, 1, 'open', 0, '[]',"
                        " 0, 1, 1, 'hi', :t, :t, 'ok', '[]', false)"
                    ),
                    {"n": n, "c": channel, "k": f"t{n}", **t},
                )
                conn.execute(
                    text(
                        "INSERT INTO message (id, conversation_id, channel, direction, author,"
                        " body, created_at, recorded_at) VALUES (:n, :n, :c, 'outbound', 'al',"
                        " 'hi', :t, :t)"
                    ),
                    {"n": n, "c": channel, **t},
                )
                conn.execute(
                    text(
                        "INSERT INTO outboxitem (message_id, conversation_id, channel, kind,"
                        " body, state, attempts, last_error, created_at, updated_at)"
                        " VALUES (:n, :n, :c, 'public_reply', 'hi', 'queued', 0, '', :t, :t)"
                    ),
                    {"n": n, "c": channel, **t},
                )
        assert schema.upgrade(database) == schema.head_revision(database)
        with database.read() as session:
            conversations = session.exec(select(Conversation).order_by(col(Conversation.id))).all()
            items = session.exec(select(OutboxItem).order_by(col(OutboxItem.id))).all()
        assert [c.account for c in conversations] == ["acme_x", None, None]
        assert [i.account for i in items] == ["acme_x", None, None]
    finally:
        database.dispose()
