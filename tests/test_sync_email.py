"""Email replies through sync on real IMAP and SMTP servers: "Re: <subject>", whole References."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from frontdesk.core.config import Settings, SlaSettings
from frontdesk.core.connectors.base import Connector
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.models import Conversation, Message
from frontdesk.core.models_channels import OutboxItem
from frontdesk.core.sync import SyncService
from tests.fakes.dovecot import Dovecot
from tests.fakes.platform import FakeClock
from tests.fakes.smtp import FakeSmtp, Received
from tests.test_connectors_email import connect, mail, start_dovecot
from tests.test_ideas import DEMO_PLAYBOOK

ACCOUNT = "acme_mail"
JANE = "Jane Doe <jane@customer.example>"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    server = start_dovecot()
    yield server
    server.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))


@pytest.fixture
def smtp() -> Iterator[FakeSmtp]:
    with FakeSmtp() as server:
        yield server


@pytest.fixture
def service(db: Database, dovecot: Dovecot, smtp: FakeSmtp, clock: FakeClock) -> SyncService:
    mailbox = f"Sync{uuid.uuid4().hex[:8]}"  # the server outlives each test
    dovecot.create(mailbox)
    dovecot.create(f"{mailbox}-Sent")
    connector = connect(dovecot.url, smtp.url, mailbox, clock)
    return SyncService(db, {ACCOUNT: connector}, sla=SlaSettings(), clock=clock)


def arrive(service: SyncService, dovecot: Dovecot, raw: bytes) -> None:
    connector = service.connectors[ACCOUNT]
    dovecot.deliver(raw, connector.account.mailbox)  # type: ignore[attr-defined]
    assert service.poll(ACCOUNT).errors == []


def answer(db: Database, desk: Desk, service: SyncService, smtp: FakeSmtp, text: str) -> Received:
    """The operator answers the conversation of the latest inbound mail; sync sends it."""
    with db.read() as session:
        latest = select(Message.conversation_id).where(Message.direction == "inbound")
        conversation_id = session.exec(latest.order_by(col(Message.id).desc())).first()
    assert conversation_id is not None
    desk.claim(conversation_id)
    assert desk.reply(conversation_id, text).message is not None
    assert service.drain(ACCOUNT).counts == {"sent": 1}
    return smtp.received[-1]


def test_replies_keep_the_subject_and_extend_the_references_chain(
    db: Database, dovecot: Dovecot, smtp: FakeSmtp, service: SyncService, clock: FakeClock
) -> None:
    desk = Desk(Settings(), "alice", db=db, clock=clock)
    arrive(service, dovecot, mail(JANE, "Where is it?", message_id="<a1@customer.example>",
                                  subject="Order 12 is late"))  # fmt: skip
    first = answer(db, desk, service, smtp, "It left today.").message
    ours = first["Message-ID"]
    assert first["Subject"] == "Re: Order 12 is late"
    assert (first["In-Reply-To"], first["References"]) == ("<a1@customer.example>",) * 2
    with db.read() as session:
        (conv,) = session.exec(select(Conversation)).all()
        assert conv.account == ACCOUNT
        sent = session.exec(select(Message).where(Message.direction == "outbound")).one()
        assert (sent.external_id, sent.subject) == (ours, "Re: Order 12 is late")
        assert sent.email_references == "<a1@customer.example>"
        item = session.exec(select(OutboxItem)).one()
        assert (item.account, item.subject) == (ACCOUNT, "Re: Order 12 is late")

    # A mail program that threads properly: References, and "Re:" already on the subject.
    arrive(service, dovecot, mail(JANE, "Still nothing", message_id="<a2@customer.example>",
                                  subject="RE: Order 12 is late", in_reply_to=ours,
                                  references=f"<a1@customer.example> {ours}"))  # fmt: skip
    second = answer(db, desk, service, smtp, "Checking with the courier.").message
    assert second["Subject"] == "Re: Order 12 is late"  # never "Re: RE: ..."
    assert second["In-Reply-To"] == "<a2@customer.example>"
    chain = f"<a1@customer.example> {ours} <a2@customer.example>"
    assert second["References"] == chain

    # One that sends In-Reply-To alone: the chain stored with our reply keeps the thread.
    arrive(service, dovecot, mail(JANE, "Any news?", message_id="<a3@customer.example>",
                                  subject="Re: Order 12 is late",
                                  in_reply_to=second["Message-ID"]))  # fmt: skip
    third = answer(db, desk, service, smtp, "It arrives tomorrow.").message
    assert third["Subject"] == "Re: Order 12 is late"
    assert third["References"] == f"{chain} {second['Message-ID']} <a3@customer.example>"
    # Every reply was filed where a read-back before a resend would look.
    connector = service.connectors[ACCOUNT]
    sent_box = f"{connector.account.mailbox}-Sent"  # type: ignore[attr-defined]
    assert len(dovecot.search(sent_box, "ALL")) == 3


def test_a_subject_comes_in_through_ingest_json_too(db: Database, clock: FakeClock) -> None:
    desk = Desk(Settings(), "alice", db=db, clock=clock)
    line = (
        '{"channel": "email", "external_id": "<m1@c.example>", "text": "Hi",'
        ' "created_at": "2025-03-03T08:00:00+00:00", "visibility": "private",'
        ' "author": {"id": "ann@c.example"}, "subject": "Re: Refund",'
        ' "references": ["<root@c.example>"], "thread_id": "<root@c.example>"}'
    )
    assert desk.ingest([line]).accepted == 1
    with db.read() as session:
        stored = session.exec(select(Message)).one()
    assert (stored.subject, stored.email_references) == ("Re: Refund", "<root@c.example>")
    desk.claim(stored.conversation_id)
    desk.reply(stored.conversation_id, "Refunded today.")
    with db.read() as session:
        item = session.exec(select(OutboxItem)).one()
    assert item.subject == "Re: Refund" and item.account is None  # not brought in by sync
    assert item.email_references == "<root@c.example> <m1@c.example>"


def test_a_digest_keeps_its_subject_and_leaves_by_one_of_several_mailboxes(
    db: Database, dovecot: Dovecot, smtp: FakeSmtp, clock: FakeClock
) -> None:
    """A digest answers no mail, so there is no account it came in on: with two mailboxes
    the first drain to reach it sends it (once), and it keeps its own subject, no "Re:"."""
    connectors: dict[str, Connector] = {}
    for name in ("care_mail", "sales_mail"):
        mailbox = f"Sync{uuid.uuid4().hex[:8]}"
        dovecot.create(mailbox)
        dovecot.create(f"{mailbox}-Sent")
        connectors[name] = connect(dovecot.url, smtp.url, mailbox, clock)
    service = SyncService(db, connectors, sla=SlaSettings(), clock=clock)
    desk = Desk(Settings(playbook=str(DEMO_PLAYBOOK)), "alice", db=db, clock=clock)
    line = (
        '{"channel": "email", "external_id": "<d1@c.example>", "text": "Add dark mode!",'
        ' "created_at": "2025-03-03T08:00:00+00:00", "visibility": "private",'
        ' "author": {"id": "ann@c.example"}}'
    )
    assert desk.ingest([line]).accepted == 1
    with db.read() as session:
        conversation_id = session.exec(select(Conversation.id)).one()
    assert conversation_id is not None
    desk.idea_add(conversation_id, department="it")
    digest, (item,) = desk.ideas_digest("it", send=True)
    assert item.account is None
    assert service.drain("sales_mail").counts == {"sent": 1}
    assert service.drain("care_mail").counts == {}
    (sent,) = smtp.received
    assert sent.message["Subject"] == digest.subject and sent.message["In-Reply-To"] is None
    with db.read() as session:
        row = session.get(OutboxItem, item.id)
        assert row is not None and (row.state, row.account) == ("sent", "sales_mail")
