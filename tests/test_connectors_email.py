"""The email connector against real IMAP (Dovecot) and SMTP (aiosmtpd) servers on 127.0.0.1."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest

from frontdesk.core.connectors.accounts import EmailAccount
from frontdesk.core.connectors.base import Reply
from frontdesk.core.connectors.email import EmailConnector
from frontdesk.core.connectors.errors import (
    AmbiguousOutcome,
    AuthFailed,
    PermanentError,
    TransientError,
)
from tests.fakes.dovecot import PASSWORD, USER, Dovecot, dovecot_binary
from tests.fakes.platform import FakeClock
from tests.fakes.smtp import (
    DROP_AFTER_DATA,
    REJECT_RECIPIENT,
    TEMPORARY,
    FakeSmtp,
    free_port,
)

ADDRESS = "care@acme.example"
_names = itertools.count(1)


def start_dovecot() -> Dovecot:
    binary = dovecot_binary()
    if binary is None:
        pytest.skip("no dovecot binary: install dovecot-imapd (apt-get install -y dovecot-imapd)")
    server = Dovecot(binary)
    problem = server.wait_ready()
    if problem is not None:
        server.stop()
        if os.geteuid() == 0:
            pytest.fail(problem)
        pytest.skip(f"dovecot cannot run as this user here: {problem}")
    return server


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    server = start_dovecot()
    yield server
    server.stop()


@pytest.fixture
def mailbox(dovecot: Dovecot) -> str:
    """A mailbox of this test's own on the shared server."""
    name = f"Care{next(_names)}"
    dovecot.create(name)
    dovecot.create(f"{name}-Sent")
    return name


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))


@pytest.fixture
def smtp() -> Iterator[FakeSmtp]:
    with FakeSmtp() as server:
        yield server


def connect(
    imap_url: str, smtp_url: str, mailbox: str | None, clock: FakeClock, **overrides: Any
) -> EmailConnector:
    settings: dict[str, Any] = {
        "type": "email",
        "imap_url": imap_url,
        "smtp_url": smtp_url,
        "username": USER,
        "credentials": {"env": "ACME_MAIL_PASSWORD"},
        "address": ADDRESS,
        "display_name": "Acme Care",
        "mailbox": mailbox or "INBOX",
        "sent_mailbox": f"{mailbox}-Sent" if mailbox else None,
    }
    account = EmailAccount.model_validate(settings | overrides)
    return EmailConnector("acme_mail", account, password=PASSWORD, clock=clock)


def mail(
    sender: str,
    text: str,
    *,
    message_id: str | None = "<{n}@customer.example>",
    subject: str = "Order 12",
    date: datetime = datetime(2025, 3, 2, 8, 30, tzinfo=UTC),
    in_reply_to: str | None = None,
    references: str | None = None,
    html: str | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ADDRESS
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    if message_id:
        msg["Message-ID"] = message_id.format(n=next(_names))
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


def test_a_poll_reads_new_mail_as_ingest_messages(dovecot, mailbox, clock) -> None:
    dovecot.deliver(
        mail("Jane Doe <Jane@Customer.example>", "Where is my order?", message_id="<a1@c.example>"),
        mailbox,
    )
    dovecot.deliver(
        mail(
            "omar@customer.example",
            "plain part",
            message_id="<b2@c.example>",
            in_reply_to="<ours@acme.example>",
            references="<root@c.example> <ours@acme.example>",
            html="<p>Hello <b>there</b></p>",
        ),
        mailbox,
    )
    result = connect(dovecot.url, "smtp://127.0.0.1:1", mailbox, clock).fetch(None)
    first, second = result.messages
    assert (first.channel, first.visibility, first.external_id) == (
        "email",
        "private",
        "<a1@c.example>",
    )
    assert first.text == "Where is my order?"
    assert (first.author.id, first.author.name) == ("jane@customer.example", "Jane Doe")
    assert first.created_at == datetime(2025, 3, 2, 8, 30, tzinfo=UTC)
    assert first.thread_id == "<a1@c.example>"  # a new thread of its own
    assert second.thread_id == "<root@c.example>" and second.in_reply_to == "<ours@acme.example>"
    assert second.text == "plain part"  # the plain alternative is preferred
    # Kept for the reply: its "Re:" subject, and References extending the chain.
    assert (first.subject, first.references) == ("Order 12", [])
    assert second.references == ["<root@c.example>", "<ours@acme.example>"]
    assert json.loads(result.cursor or "")["last_uid"] == 2


def test_the_cursor_survives_the_uid_range_quirk(dovecot, mailbox, clock) -> None:
    """`UID SEARCH UID n:*` names the last message even when its UID is below n."""
    connector = connect(dovecot.url, "smtp://127.0.0.1:1", mailbox, clock)
    dovecot.deliver(mail("jane@c.example", "one"), mailbox)
    first = connector.fetch(None)
    assert dovecot.search(mailbox, "UID", "2:*") == [1]  # the server really does this
    again = connector.fetch(first.cursor)
    assert again.messages == [] and again.cursor == first.cursor
    dovecot.deliver(mail("jane@c.example", "two"), mailbox)
    later = connector.fetch(again.cursor)
    assert [m.text for m in later.messages] == ["two"]


def test_a_new_uidvalidity_resyncs_by_date(dovecot, mailbox, clock) -> None:
    connector = connect(dovecot.url, "smtp://127.0.0.1:1", mailbox, clock)
    old = mail("jane@c.example", "before", message_id="<before@c.example>")
    dovecot.deliver(old, mailbox)
    first = connector.fetch(None)
    dovecot.recreate(mailbox)
    dovecot.deliver(old, mailbox)
    dovecot.deliver(mail("jane@c.example", "after", message_id="<after@c.example>"), mailbox)
    second = connector.fetch(first.cursor)
    # Both are read again; ingest drops the one it has by its Message-ID.
    assert [m.external_id for m in second.messages] == ["<before@c.example>", "<after@c.example>"]
    cursors = json.loads(first.cursor or ""), json.loads(second.cursor or "")
    assert cursors[0]["uidvalidity"] != cursors[1]["uidvalidity"]


def test_one_message_delivered_twice_is_read_once(dovecot, mailbox, clock) -> None:
    twice = mail("jane@c.example", "hello", message_id="<same@c.example>")
    dovecot.deliver(twice, mailbox)
    dovecot.deliver(twice, mailbox)
    result = connect(dovecot.url, "smtp://127.0.0.1:1", mailbox, clock).fetch(None)
    assert [m.external_id for m in result.messages] == ["<same@c.example>"]


def test_a_message_without_message_id_gets_the_same_key_every_time(dovecot, mailbox, clock) -> None:
    dovecot.deliver(mail("jane@c.example", "no id", message_id=None), mailbox)
    connector = connect(dovecot.url, "smtp://127.0.0.1:1", mailbox, clock)
    (first,) = connector.fetch(None).messages
    (again,) = connector.fetch(None).messages
    assert first.external_id == again.external_id
    assert first.external_id.endswith("@frontdesk.invalid>")


def test_a_batch_limit_moves_the_cursor_in_steps(dovecot, mailbox, clock) -> None:
    for n in range(5):
        dovecot.deliver(mail("jane@c.example", f"m{n}"), mailbox)
    connector = connect(dovecot.url, "smtp://127.0.0.1:1", mailbox, clock, batch_size=2)
    cursor, seen = None, []
    for _ in range(3):
        result = connector.fetch(cursor)
        seen.append([m.text for m in result.messages])
        cursor = result.cursor
    assert seen == [["m0", "m1"], ["m2", "m3"], ["m4"]]


def test_our_own_mail_in_the_mailbox_is_reported_as_sent(dovecot, mailbox, clock) -> None:
    dovecot.deliver(mail(f"Acme Care <{ADDRESS}>", "a copy of ours"), mailbox)
    result = connect(dovecot.url, "smtp://127.0.0.1:1", mailbox, clock).fetch(None)
    assert result.messages == [] and [s.text for s in result.sent] == ["a copy of ours"]


def test_refusals_and_outages_are_told_apart(dovecot, mailbox, clock) -> None:
    with pytest.raises(TransientError, match="cannot connect") as down:
        connect(f"imap://127.0.0.1:{free_port()}", "smtp://127.0.0.1:1", mailbox, clock).fetch(None)
    assert "\n" not in str(down.value)
    with pytest.raises(PermanentError, match="cannot open the mailbox"):
        connect(dovecot.url, "smtp://127.0.0.1:1", "Nowhere", clock).fetch(None)
    with pytest.raises(PermanentError, match="not IMAP's"):
        connect(dovecot.url, "smtp://127.0.0.1:1", mailbox, clock).fetch("[1, 2]")


def test_a_refused_login_is_an_auth_failure(clock) -> None:
    # A server of its own: Dovecot slows the next login from an address after a failure.
    server = start_dovecot()
    try:
        wrong = connect(server.url, "smtp://127.0.0.1:1", None, clock)
        wrong._password = "not-the-password"
        with pytest.raises(AuthFailed, match="login refused for care") as caught:
            wrong.fetch(None)
        assert "\n" not in str(caught.value)
    finally:
        server.stop()


def test_a_reply_is_threaded_sent_filed_and_found(dovecot, mailbox, clock, smtp) -> None:
    connector = connect(dovecot.url, smtp.url, mailbox, clock)
    reply = Reply(
        "Your parcel left today.",
        "outbox-17",
        in_reply_to="<b2@c.example>",
        recipient="jane@customer.example",
        subject="Order 12",
        references=("<root@c.example>", "<ours@acme.example>"),
    )
    assert connector.find_sent(reply, private=True) is None
    receipt = connector.send_private_message(reply)
    (received,) = smtp.received
    sent = received.message
    assert received.recipients == ["jane@customer.example"] and received.sender == ADDRESS
    assert sent["Message-ID"] == receipt.external_id
    assert sent["Message-ID"].endswith("@acme.example>")
    assert sent["In-Reply-To"] == "<b2@c.example>"
    assert sent["References"] == "<root@c.example> <ours@acme.example> <b2@c.example>"
    assert sent["Subject"] == "Re: Order 12" and sent["From"] == f"Acme Care <{ADDRESS}>"
    assert sent.get_content().strip() == "Your parcel left today."
    assert receipt.warning is None
    found = connector.find_sent(reply, private=True)
    assert found is not None and found.external_id == receipt.external_id
    assert len(dovecot.search(f"{mailbox}-Sent", "ALL")) == 1


def test_a_dropped_connection_after_data_is_ambiguous_and_a_resend_keeps_the_id(
    dovecot, mailbox, clock, smtp
) -> None:
    connector = connect(dovecot.url, smtp.url, mailbox, clock)
    reply = Reply("On its way", "outbox-18", recipient="jane@customer.example")
    smtp.arm(DROP_AFTER_DATA)
    with pytest.raises(AmbiguousOutcome, match="look in Sent before resending"):
        connector.send_private_message(reply)
    assert len(smtp.received) == 1
    # Not filed (the send did not complete), so reading back cannot prove it went; the
    # resend carries the same Message-ID, which mail programs show once.
    assert connector.find_sent(reply, private=True) is None
    connector.send_private_message(reply)
    first, second = (r.message["Message-ID"] for r in smtp.received)
    assert first == second


def test_smtp_refusals_are_transient_or_permanent_by_code(dovecot, mailbox, clock, smtp) -> None:
    connector = connect(dovecot.url, smtp.url, mailbox, clock)
    reply = Reply("Hello", "outbox-19", recipient="nobody@customer.example")
    smtp.arm(TEMPORARY)
    with pytest.raises(TransientError, match="DATA answered 451"):
        connector.send_private_message(reply)
    smtp.arm(REJECT_RECIPIENT)
    with pytest.raises(PermanentError, match=r"RCPT TO nobody@customer\.example answered 550"):
        connector.send_private_message(reply)
    assert smtp.received == []
    down = connect(dovecot.url, f"smtp://127.0.0.1:{free_port()}", mailbox, clock)
    with pytest.raises(TransientError, match="cannot connect"):
        down.send_private_message(reply)


def test_a_send_that_cannot_be_filed_still_counts_with_a_warning(
    dovecot, mailbox, clock, smtp
) -> None:
    connector = connect(dovecot.url, smtp.url, mailbox, clock, sent_mailbox="Missing")
    receipt = connector.send_private_message(Reply("Hi", "outbox-20", recipient="j@c.example"))
    assert len(smtp.received) == 1
    assert receipt.warning is not None and receipt.warning.startswith("sent, but not filed")
