"""The tone and safety check: every rule, its span and fix, severities, and tricky text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontdesk.core.playbook.config import parse_playbook
from frontdesk.core.playbook.lengths import x_cut, x_length
from frontdesk.core.playbook.tone import Finding, ReplyContext, ToneChecker
from frontdesk.kb import lint

FACEBOOK = ReplyContext("facebook", "public")


def checker(toml: str = "") -> ToneChecker:
    return ToneChecker(parse_playbook(toml).tone)


DEFAULT = checker()


def found(
    text: str, context: ReplyContext = FACEBOOK, tone: ToneChecker = DEFAULT
) -> list[tuple[str, str]]:
    """(rule, the text of the span) for every finding."""
    return [(f.rule, text[f.start : f.end]) for f in tone.check(text, context)]


def only(rule: str, text: str, context: ReplyContext = FACEBOOK) -> list[Finding]:
    return [f for f in DEFAULT.check(text, context) if f.rule == rule]


def test_a_clean_reply_has_no_findings() -> None:
    text = "Hi Mary, thanks for letting us know. Your parcel is on its way and lands Tuesday."
    assert DEFAULT.check(text, ReplyContext("x", "public", customer_name="Mary Jones")) == []


# -- banned phrases


def test_banned_phrase_with_its_alternative() -> None:
    (finding,) = only("banned-phrase", "Unfortunately, we can't.")
    assert (finding.start, finding.end, finding.severity) == (0, 13, "warn")
    assert finding.message == '"Unfortunately" is not in the brand\'s voice'
    assert finding.fix.startswith("Lead with what you can do")


def test_banned_phrases_per_entry_severity_and_curly_apostrophes() -> None:
    tone = checker(
        "[[tone.banned]]\nphrase = \"can't\"\nseverity = 'block'\n"
        "[[tone.banned]]\nphrase = 'as per'\n"
        "[[tone.banned]]\nphrase = 'per our policy'\nseverity = 'off'\n"
    )
    findings = tone.check("We can’t, as per\nour policy. CAN'T.", FACEBOOK)
    assert [(f.start, f.end, f.severity) for f in findings if f.rule == "banned-phrase"] == [
        (3, 8, "block"),
        (10, 16, "warn"),
        (29, 34, "block"),
    ]
    assert findings[1].fix == 'rephrase without "as per"'


def test_banned_words_only_as_whole_words() -> None:
    assert only("banned-phrase", "Fortunately, unfortunatelyish is not a word.") == []


# -- the customer's name


@pytest.mark.parametrize(
    ("text", "name", "handle", "missing"),
    [
        ("Thanks Mary!", "Mary Jones", "", False),
        ("THANKS MARY", "Mary Jones", "", False),
        ("Thanks, that's sorted.", "Mary Jones", "", True),
        ("Thanks Maryanne", "Mary Jones", "", True),
        ("Thanks @mary_j, sorted", "Mary Jones", "@mary_j", False),
        ("Gracias, José.", "José García", "", False),
        ("Gracias, JOSÉ.", "José García", "", False),
        ("Thanks Wendy!", "Wendy Haddad 🏕️", "", False),
        ("Thanks!", "", "@someone", False),  # no name known: nothing to check
        ("Thanks!", "🏕️", "", False),
    ],
)
def test_customer_name(text: str, name: str, handle: str, missing: bool) -> None:
    context = ReplyContext("x", "public", customer_name=name, customer_handle=handle)
    findings = only("customer-name", text, context)
    assert bool(findings) is missing
    if findings:
        assert (findings[0].start, findings[0].end) == (0, 0)
        assert findings[0].fix == f'start with "Hi {name.split()[0]},"'


# -- length


def test_x_counts_links_as_23_and_wide_characters_as_two() -> None:
    link = "https://northwind.example/help/returns/a-very-long-path-indeed?ref=x"
    assert x_length(link) == 23
    assert x_length("a " + link + " b") == 27
    assert x_length("日本") == 4
    assert x_length("ok 👍") == 5
    assert x_length("") == 0


@given(st.text())
def test_x_length_agrees_with_the_knowledge_base_lint(text: str) -> None:
    assert x_length(text) == lint.x_length(text)


@given(
    st.lists(st.sampled_from(["a", " ", "日", "👍", " https://x.example/p "])).map("".join),
    st.integers(1, 60),
)
def test_x_cut_is_where_the_count_passes_the_limit(text: str, limit: int) -> None:
    cut = x_cut(text, limit)
    if x_length(text) <= limit:
        assert cut == len(text)
    else:
        assert x_length(text[:cut]) <= limit
        assert 0 <= cut < len(text)


def test_x_reply_over_280_marks_the_part_past_the_limit() -> None:
    text = "Hi Mary, " + "a" * 300
    (finding,) = only("length", text, ReplyContext("x", "public"))
    assert (finding.start, finding.end) == (280, len(text))
    assert finding.severity == "block"
    assert finding.message == "309 characters as X counts it; the limit is 280"


def test_links_keep_an_x_reply_short() -> None:
    text = "Here you go: " + "https://northwind.example/" + "p" * 400
    assert only("length", text, ReplyContext("x", "public")) == []


def test_a_link_that_crosses_the_limit_is_marked_from_its_start() -> None:
    text = "a" * 270 + " https://northwind.example/help"
    (finding,) = only("length", text, ReplyContext("x", "public"))
    assert finding.start == 271


def test_facebook_and_email_limits() -> None:
    assert only("length", "a" * 2000) == []
    (finding,) = only("length", "a" * 2001)
    assert (finding.start, finding.end) == (2000, 2001)
    assert only("length", "a" * 50_000, ReplyContext("email", "private")) == []
    tone = checker("[tone.lengths]\nemail = 100\n")
    assert found("a" * 101, ReplyContext("email", "private"), tone) == [("length", "a")]


# -- placeholders


def test_unfilled_placeholders_with_known_values_offered() -> None:
    context = ReplyContext("email", "private", values={"name": "Mary", "order number": "NW-1"})
    text = "Hi {name}, {{ agent }} here about [ORDER NUMBER] and <NAME>. {not closed"
    findings = only("placeholder", text, context)
    assert [text[f.start : f.end] for f in findings] == [
        "{name}",
        "{{ agent }}",
        "[ORDER NUMBER]",
        "<NAME>",
    ]
    assert [f.fix for f in findings] == [
        'replace it with "Mary"',
        "fill it in or remove it",
        'replace it with "NW-1"',
        'replace it with "Mary"',
    ]
    assert findings[0].message == "unfilled {name}"


def test_ordinary_brackets_are_not_placeholders() -> None:
    text = "Sizes [S] to [XL] fit; see {} and <b> and [a link]"
    assert only("placeholder", text) == []


# -- profanity, shouting, emoji


def test_profanity_whole_words_and_endings() -> None:
    text = "What the fuck, shitty crap. Scrap the class assessment; Scunthorpe."
    assert [text[f.start : f.end] for f in only("profanity", text)] == ["fuck", "shitty", "crap"]


def test_shouting_needs_enough_words_in_capitals() -> None:
    assert [s for r, s in found("This is GREAT NEWS for you") if r == "shouting"] == []
    text = "Hi, WE ARE VERY SORRY about it"
    assert [s for r, s in found(text) if r == "shouting"] == ["WE ARE VERY SORRY"]
    assert [s for r, s in found("Check the FAQ, DM US OK") if r == "shouting"] == []


def test_shouting_in_any_script_and_with_apostrophes() -> None:
    assert ("shouting", "ÜBER ÄRGERLICH DAS GANZE") in found("Das ist ÜBER ÄRGERLICH DAS GANZE.")
    assert ("shouting", "I CAN’T BELIEVE THIS") in found("I CAN’T BELIEVE THIS")
    assert ("shouting", "ΑΥΤΟ ΕΙΝΑΙ ΑΠΑΡΑΔΕΚΤΟ") in found("ΑΥΤΟ ΕΙΝΑΙ ΑΠΑΡΑΔΕΚΤΟ")


def test_shouting_stops_at_a_line_break() -> None:
    assert [s for r, s in found("GREAT NEWS\nNEW STOCK") if r == "shouting"] == []


def test_emoji_allowance_by_voice() -> None:
    text = "Thanks :) see you soon 😀"
    assert [s for r, s in found(text) if r == "emoji"] == ["😀"]  # friendly: one
    formal = checker("[tone]\nvoice = 'formal'\n")
    assert [s for r, s in found(text, tone=formal) if r == "emoji"] == [":)", "😀"]
    casual = checker("[tone]\nvoice = 'casual'\n")
    assert [s for r, s in found(text, tone=casual) if r == "emoji"] == []
    counted = checker("[tone]\nvoice = 'formal'\nmax_emoji = 2\n")
    assert [s for r, s in found(text, tone=counted) if r == "emoji"] == []


def test_joined_emoji_and_flags_count_once() -> None:
    formal = checker("[tone]\nvoice = 'formal'\n")
    text = "👨‍👩‍👧 🇬🇧 👍🏽 ❤️"
    assert [s for r, s in found(text, tone=formal) if r == "emoji"] == text.split(" ")


def test_emoticons_and_look_alikes() -> None:
    formal = checker("[tone]\nvoice = 'formal'\n")
    text = ":) ;-) <3 xD ^_^ :P at 10:30 see https://a.example/:D (note: (a)) XDR"
    emoji = [s for r, s in found(text, tone=formal) if r == "emoji"]
    assert emoji == [":)", ";-)", "<3", "xD", "^_^", ":P"]


# -- all rules together


def test_findings_of_different_rules_may_overlap() -> None:
    text = "DAMN THIS IS UNFORTUNATELY LATE"
    assert found(text) == [
        ("profanity", "DAMN"),
        ("shouting", "DAMN THIS IS UNFORTUNATELY LATE"),
        ("banned-phrase", "UNFORTUNATELY"),
    ]


def test_findings_are_ordered_and_deterministic() -> None:
    text = "Unfortunately {name} :) 😀 mail a@b.example, DAMN IT ALL " * 6
    context = ReplyContext("x", "public", customer_name="Mary")
    first = DEFAULT.check(text, context)
    assert first == DEFAULT.check(text, context)
    assert first == sorted(first, key=lambda f: (f.start, f.end, f.rule))
    assert {f.rule for f in first} == {
        "banned-phrase",
        "customer-name",
        "emoji",
        "length",
        "personal-data",
        "placeholder",
        "profanity",
        "shouting",
    }


def test_a_rule_can_be_switched_off_or_made_blocking() -> None:
    tone = checker("[tone.rules]\nprofanity = 'off'\nshouting = 'block'\n")
    findings = tone.check("DAMN THIS IS LATE", FACEBOOK)
    assert [(f.rule, f.severity) for f in findings] == [("shouting", "block")]
    assert findings[0].blocks


def test_finding_as_json_and_text() -> None:
    (finding,) = only("profanity", "oh crap")
    assert finding.as_json() == {
        "rule": "profanity",
        "severity": "block",
        "span": [3, 7],
        "message": "profanity",
        "fix": "remove or replace the word",
    }
    assert str(finding) == "block profanity [3:7]: profanity (remove or replace the word)"


@given(st.text(max_size=400))
def test_any_text_gives_spans_inside_it(text: str) -> None:
    context = ReplyContext("x", "public", customer_name="Ana", values={"name": "Ana"})
    for finding in DEFAULT.check(text, context):
        assert 0 <= finding.start <= finding.end <= len(text)
        assert finding.severity in ("warn", "block")
