"""Personal data in a public reply: what is found, what is not, and the playbook's own kinds."""

from __future__ import annotations

import pytest

from frontdesk.core.playbook.config import parse_playbook
from frontdesk.core.playbook.tone import Finding, ReplyContext, ToneChecker

FACEBOOK = ReplyContext("facebook", "public")
DEFAULT = ToneChecker(parse_playbook("").tone)


def only(rule: str, text: str, context: ReplyContext = FACEBOOK) -> list[Finding]:
    return [f for f in DEFAULT.check(text, context) if f.rule == rule]


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("mail Mary.Smith+care@example.co.uk or @mary", ["Mary.Smith+care@example.co.uk"]),
        ("call 555 0100 or +44 (0)20 7946 0100", ["555 0100", "+44 (0)20 7946 0100"]),
        ("or 1.800.555.0100 today", ["1.800.555.0100"]),
        ("order NW-123456, order no. 987654, #55555", ["NW-123456", "order no. 987654", "#55555"]),
        ("send to 12 Birch Road, Leeds LS1 4DY", ["12 Birch Road", "LS1 4DY"]),
    ],
)
def test_personal_data_in_a_public_reply_is_blocked(text: str, spans: list[str]) -> None:
    findings = only("personal-data", text)
    assert [text[f.start : f.end] for f in findings] == spans
    assert all(f.severity == "block" for f in findings)
    assert all(f.fix == "move this to a private message" for f in findings)


def test_what_is_not_personal_data() -> None:
    text = (
        "Open 09.00-17.00 Mon-Fri since 2019-2024; on 2026-11-23 at 10:30; order 1234; "
        "£1,250.00; 3-5 days; size 10; SKU123456; ab-12345"
    )
    assert only("personal-data", text) == []


def test_data_inside_a_link_is_part_of_the_link() -> None:
    text = "Track it at https://northwind.example/track/NW-123456?tel=5550100123"
    assert only("personal-data", text) == []
    text += " or NW-654321"
    assert [text[f.start : f.end] for f in only("personal-data", text)] == ["NW-654321"]


def test_private_replies_may_carry_personal_data() -> None:
    text = "I've noted mary@example.com and 12 Birch Road for order NW-123456."
    assert only("personal-data", text, ReplyContext("email", "private")) == []
    assert len(only("personal-data", text, ReplyContext("x", "public"))) == 3


def test_the_brands_own_order_pattern_and_extra_kinds() -> None:
    tone = ToneChecker(
        parse_playbook(
            "[tone.personal_data]\norder_number = 'NW-\\d{6}(?!\\d)'\nemail = false\n"
            "patterns = { 'loyalty number' = 'LN\\d{8}' }\n"
        ).tone
    )
    text = "NW-123456 AB-98765 LN12345678 mary@example.com"
    findings = [f for f in tone.check(text, FACEBOOK) if f.rule == "personal-data"]
    assert [(text[f.start : f.end], f.message) for f in findings] == [
        ("NW-123456", "order number in a public reply"),
        ("LN12345678", "loyalty number in a public reply"),
    ]


def test_the_demo_playbook_blocks_its_own_order_numbers() -> None:
    from frontdesk.core.playbook import Playbook, ReplyContext

    text = "Hi Mary, order NW-123456 ships today; your reference AB-98765 too."
    findings = Playbook.demo().check_reply(text, ReplyContext("x", "public", customer_name="Mary"))
    assert [(f.rule, text[f.start : f.end]) for f in findings] == [("personal-data", "NW-123456")]
    assert findings[0].blocks
