"""Sign-off rules: legal words, large refunds, categories and tags, each reason explained."""

from __future__ import annotations

from decimal import Decimal

import pytest

from frontdesk.core.playbook.config import parse_playbook
from frontdesk.core.playbook.signoff import SignoffConfig, SignoffReason, SignoffRules

RULES = SignoffRules(SignoffConfig())


def rules(toml: str) -> SignoffRules:
    return SignoffRules(parse_playbook(toml).signoff)


def test_an_ordinary_reply_needs_no_sign_off() -> None:
    assert RULES.reasons("Hi Mary, your parcel lands on Tuesday. Refund of $20 on its way.") == []


def test_words_in_the_reply_with_their_spans() -> None:
    reply = "Sorry about the injury. Our LAWYER will not sue."
    assert RULES.reasons(reply) == [
        SignoffReason("word", 'the reply mentions "injury"', (16, 22)),
        SignoffReason("word", 'the reply mentions "LAWYER"', (28, 34)),
        SignoffReason("word", 'the reply mentions "sue"', (44, 47)),
    ]


def test_words_are_whole_words() -> None:
    assert RULES.reasons("Sue Smith pursued a courteous recall-free pursuit") == [
        SignoffReason("word", 'the reply mentions "Sue"', (0, 3)),
        SignoffReason("word", 'the reply mentions "recall"', (30, 36)),
    ]


def test_a_customer_who_mentions_a_lawsuit_makes_every_reply_need_sign_off() -> None:
    reasons = RULES.reasons(
        "Hi, we're looking into it.",
        inbound=["I'll start a LAWSUIT", "my lawsuit is ready", "data\nbreach!"],
    )
    assert reasons == [
        SignoffReason("inbound-word", 'the customer wrote "lawsuit"'),
        SignoffReason("inbound-word", 'the customer wrote "data breach"'),
    ]


def test_every_reply_in_a_category_or_to_a_tag() -> None:
    configured = rules("[signoff]\ncategories = ['complaint']\ntags = ['press', 'influencer']\n")
    assert configured.reasons("ok", category="complaint", tags=["influencer", "tier1"]) == [
        SignoffReason("category", "every complaint reply needs approval"),
        SignoffReason("tag", "every reply to a influencer source needs approval"),
    ]
    assert configured.reasons("ok", category="praise", tags=["tier1"]) == []
    # The default: replies to the press need approval.
    assert [r.rule for r in RULES.reasons("ok", tags=["press"])] == ["tag"]


@pytest.mark.parametrize(
    ("reply", "amounts"),
    [
        ("We'll refund $150 today.", ["$150"]),
        ("We will refund you $100.", []),  # not above the limit
        ("We will refund you $100.01.", ["$100.01"]),
        ("A goodwill credit of £1,250.00 is yours.", ["£1,250.00"]),
        ("We're refunding 180 EUR and 20 euros.", ["180 EUR"]),
        ("Compensation: 200 pounds.", ["200 pounds"]),
        ("Reimbursed €99.99 and € 101", ["€ 101"]),
        ("Your order of $500 shipped. A refund of $20 follows.", []),  # other sentence
        ("Refund due. Order total $500.", []),
        ("We refund 500 within 5 days.", []),  # no currency: not an amount
        ("Money back: $300 and $400!", ["$300", "$400"]),
    ],
)
def test_refunds_above_the_limit_in_one_sentence(reply: str, amounts: list[str]) -> None:
    reasons = [r for r in RULES.reasons(reply) if r.rule == "refund"]
    assert [reply[r.span[0] : r.span[1]] for r in reasons if r.span] == amounts
    for reason in reasons:
        assert reason.why.endswith("is above 100")


def test_refund_limit_and_switching_the_rule_off() -> None:
    assert parse_playbook("[signoff]\nrefund_above = 99.5\n").signoff.refund_above == Decimal(
        "99.5"
    )
    assert [r.rule for r in rules("[signoff]\nrefund_above = 10\n").reasons("Refund: $11.")] == [
        "refund"
    ]
    assert rules("[signoff]\nrefund_words = []\n").reasons("Refund: $1,000,000.") == []


def test_reasons_as_json() -> None:
    (reason,) = RULES.reasons("Refund of $200.")
    assert reason.as_json() == {
        "rule": "refund",
        "why": "a refund of $200 is above 100",
        "span": [10, 14],
    }
    (category,) = rules("[signoff]\ncategories = ['spam']\n").reasons("x", category="spam")
    assert category.as_json()["span"] is None


def test_the_demo_playbook_through_its_entry_point() -> None:
    from frontdesk.core.playbook import Playbook

    playbook = Playbook.demo()
    assert playbook.signoff("A refund of $140 is on its way.") == []  # its limit is 150
    (reason,) = playbook.signoff("A refund of $160 is on its way.")
    assert reason.why == "a refund of $160 is above 150"
    assert [r.rule for r in playbook.signoff("ok", tags=["press"])] == ["tag"]
