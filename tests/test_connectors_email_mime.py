"""Email without a server: MIME bodies, charsets, ids, threading headers, capabilities."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from frontdesk.core.connectors.accounts import EmailAccount
from frontdesk.core.connectors.base import Reply
from frontdesk.core.connectors.email import EmailConnector
from frontdesk.core.connectors.errors import PermanentError
from frontdesk.core.connectors.mime import (
    build_reply,
    html_to_text,
    inbound_message,
    parse_email,
    reply_message_id,
)
from frontdesk.core.reply_threading import MAX_REFERENCES, reply_subject, trim_references

RECEIVED = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def test_an_html_only_mail_is_read_as_its_visible_text() -> None:
    msg = EmailMessage()
    msg["From"] = "jane@c.example"
    msg["Message-ID"] = "<h@c.example>"
    msg.set_content(
        "<html><head><style>p{color:red}</style></head><body><p>Order <b>12</b></p>"
        "<p>is late</p><script>alert(1)</script></body></html>",
        subtype="html",
    )
    mail = parse_email(msg.as_bytes(), received=RECEIVED)
    assert mail.text == "Order 12\nis late"


def test_the_plain_body_is_kept_when_a_file_is_attached() -> None:
    msg = EmailMessage()
    msg["From"] = "jane@c.example"
    msg.set_content("See the photo of the box.")
    msg.add_attachment(b"\x89PNG...", maintype="image", subtype="png", filename="box.png")
    assert parse_email(msg.as_bytes(), received=RECEIVED).text == "See the photo of the box."


def test_an_unknown_charset_is_read_with_replacements_not_dropped() -> None:
    raw = (
        b"From: jane@c.example\r\nMessage-ID: <cs@c.example>\r\n"
        b"Content-Type: text/plain; charset=x-unknown-charset\r\n\r\nCaf\xe9 order\r\n"
    )
    mail = parse_email(raw, received=RECEIVED)
    assert mail.text.startswith("Caf") and mail.text.endswith("order")


def test_a_missing_date_takes_the_server_time_and_a_bad_one_too() -> None:
    raw = b"From: jane@c.example\r\nMessage-ID: <d@c.example>\r\n\r\nhi\r\n"
    assert parse_email(raw, received=RECEIVED).date == RECEIVED
    bad = b"From: jane@c.example\r\nDate: the other day\r\n\r\nhi\r\n"
    assert parse_email(bad, received=RECEIVED).date == RECEIVED


def test_an_overlong_message_id_keeps_its_identity_within_ingest_limits() -> None:
    long_id = "<" + "x" * 300 + "@c.example>"
    raw = f"From: jane@c.example\r\nMessage-ID: {long_id}\r\n\r\nhi\r\n".encode()
    first = parse_email(raw, received=RECEIVED)
    again = parse_email(raw, received=RECEIVED)
    assert first.message_id == again.message_id and len(first.message_id) < 255
    message = inbound_message(first, "test")
    assert message.external_id == first.message_id


def test_a_reply_threads_under_its_parent_and_keeps_its_id_across_resends() -> None:
    reply = Reply(
        "Sorted!",
        "outbox-9",
        in_reply_to="<p@c.example>",
        recipient="jane@c.example",
        subject="RE: Order 12",
        references=("<root@c.example>", "<p@c.example>"),
    )
    now = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    first = build_reply(
        reply, address="care@acme.example", display_name="", domain="acme.example", now=now
    )
    again = build_reply(
        reply, address="care@acme.example", display_name="", domain="acme.example", now=now
    )
    assert (
        first["Message-ID"] == again["Message-ID"] == reply_message_id("outbox-9", "acme.example")
    )
    assert first["Subject"] == "Re: Order 12"  # one "Re: ", never "Re: RE: ..."
    assert first["References"] == "<root@c.example> <p@c.example>"  # the parent once
    assert first["From"] == "care@acme.example"
    fresh = build_reply(
        Reply("Hi", "outbox-10", recipient="jane@c.example"),
        address="care@acme.example",
        display_name="Acme Care",
        domain="acme.example",
        now=now,
    )
    assert fresh["Subject"] == "Re: your message" and fresh["In-Reply-To"] is None


def test_a_reply_subject_carries_one_re_and_references_stay_bounded() -> None:
    cases = {
        "Order 12": "Re: Order 12",
        "Re: Order 12": "Re: Order 12",
        "RE: re:Order 12": "Re: Order 12",
        "Re[2]: AW: SV: Order   12": "Re: Order 12",
        "Return of order 12": "Re: Return of order 12",  # "Re" only as a prefix with a colon
        "": "Re: your message",
        None: "Re: your message",
    }
    assert {subject: reply_subject(subject) for subject in cases} == cases
    chain = [f"<{n}@c.example>" for n in range(50)]
    kept = trim_references([*chain, "<3@c.example>"])
    assert len(kept) == MAX_REFERENCES and kept[0] == "<0@c.example>"
    assert kept[-1] == "<49@c.example>" and len(set(kept)) == len(kept)


def test_html_to_text_keeps_paragraphs_apart() -> None:
    assert html_to_text("<div>one</div><div>two<br>three</div>") == "one\ntwo\nthree"


def test_email_has_no_public_replies_and_says_so_before_connecting() -> None:
    account = EmailAccount.model_validate(
        {
            "type": "email",
            "imap_url": "imap://127.0.0.1:1",
            "smtp_url": "smtp://127.0.0.1:1",
            "username": "care",
            "address": "care@acme.example",
            "credentials": {"env": "UNUSED"},
        }
    )
    connector = EmailConnector("acme_mail", account, password="x")
    assert not connector.capabilities.comments and connector.capabilities.max_length is None
    with pytest.raises(PermanentError, match="cannot send public replies"):
        connector.send_public_reply(Reply("Hi", "k", in_reply_to="<a@b>"))


def test_a_message_that_answers_no_mail_keeps_its_own_subject() -> None:
    """An ideas digest starts its thread: its subject is its own, not "Re:" anything."""
    digest = Reply(
        "Hello Jonah,", "outbox-11", recipient="it@acme.example",
        subject="Ideas and requests from customers: it, 03 Mar 2025",
    )  # fmt: skip
    sent = build_reply(
        digest, address="care@acme.example", display_name="", domain="acme.example",
        now=datetime(2025, 3, 3, 9, 0, tzinfo=UTC),
    )  # fmt: skip
    assert sent["Subject"] == "Ideas and requests from customers: it, 03 Mar 2025"
    assert sent["In-Reply-To"] is None and sent["References"] is None
