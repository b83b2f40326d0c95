"""Triage rules and the phrase matcher they share: categories, tags, priority and reasons."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontdesk.core.playbook.config import parse_playbook
from frontdesk.core.playbook.phrases import PhraseMatcher, fold, normalise
from frontdesk.core.playbook.triage import Inbound, Reason, Triage, TriageConfig, Triager


def triager(rules: str, head: str = "") -> Triager:
    return Triager(parse_playbook(head + rules).triage)


def hits(matcher: PhraseMatcher, text: str) -> list[tuple[str, str]]:
    return [(text[h.start : h.end], h.phrase) for h in matcher.finditer(text)]


# -- the phrase matcher


def test_whole_words_in_any_case() -> None:
    matcher = PhraseMatcher(["crap", "Refund"])
    assert hits(matcher, "Scrap that. CRAP! refunds? REFUND.") == [
        ("CRAP", "crap"),
        ("REFUND", "Refund"),
    ]


def test_wildcard_takes_any_ending() -> None:
    matcher = PhraseMatcher(["refund*"])
    assert hits(matcher, "Refunded, refunding, a refund; prerefund") == [
        ("Refunded", "refund*"),
        ("refunding", "refund*"),
        ("refund", "refund*"),
    ]


def test_phrases_span_any_white_space_and_either_apostrophe() -> None:
    matcher = PhraseMatcher(["money back", "can't"])
    assert hits(matcher, "I want my MONEY\n  back and you can’t stop me") == [
        ("MONEY\n  back", "money back"),
        ("can’t", "can't"),
    ]


def test_overlapping_entries_report_leftmost_then_longest() -> None:
    matcher = PhraseMatcher(["our fault", "not our fault", "fault"])
    assert hits(matcher, "It's not our fault, it is our fault.") == [
        ("not our fault", "not our fault"),
        ("our fault", "our fault"),
    ]


def test_repeated_and_adjacent_hits() -> None:
    matcher = PhraseMatcher(["ha"])
    assert hits(matcher, "ha ha,ha haha") == [("ha", "ha")] * 3


def test_non_word_edges() -> None:
    matcher = PhraseMatcher(["#fail", ":("])
    assert hits(matcher, "so #fail :( really") == [("#fail", "#fail"), (":(", ":(")]
    assert hits(matcher, "epic#fail") == [("#fail", "#fail")]


def test_unicode_letters_are_word_characters() -> None:
    matcher = PhraseMatcher(["café", "über"])
    assert hits(matcher, "Cafés and a CAFÉ, ÜBER alles") == [("CAFÉ", "café"), ("ÜBER", "über")]
    # A word followed by a combining accent is a different word.
    assert hits(matcher, "cafe\u0301") == []


def test_dotted_capital_i_keeps_spans_aligned() -> None:
    # "İ".lower() is two characters; spans must still fit the original text.
    matcher = PhraseMatcher(["istanbul", "refund"])
    text = "İSTANBUL store, refund please"
    assert len(fold(text)) == len(text)
    assert hits(matcher, text) == [("İSTANBUL", "istanbul"), ("refund", "refund")]


def test_emoji_next_to_a_word() -> None:
    matcher = PhraseMatcher(["love"])
    assert hits(matcher, "love❤️love 😍love") == [("love", "love")] * 3


def test_duplicates_and_blanks_are_ignored() -> None:
    matcher = PhraseMatcher(["Refund", "refund", "  ", "*"])
    assert hits(matcher, "refund") == [("refund", "Refund")]
    assert not PhraseMatcher([])
    assert PhraseMatcher([]).search("anything") is None


def test_normalise() -> None:
    assert normalise("  Can’t   Stop ") == "can't stop"


@given(st.text(), st.lists(st.text(alphabet="abcé ’'", min_size=1, max_size=6), max_size=5))
def test_hits_are_ordered_disjoint_and_match_their_entry(text: str, phrases: list[str]) -> None:
    matcher = PhraseMatcher(phrases)
    folded = fold(text)
    previous_end = 0
    for hit in matcher.finditer(text):
        assert previous_end <= hit.start < hit.end <= len(text)
        previous_end = hit.end
        found = normalise(folded[hit.start : hit.end])
        entry = normalise(hit.phrase)
        assert found == entry or (entry.endswith("*") and found.startswith(entry[:-1]))


# -- rules

RULES = """
[[triage.rules]]
name = "influencer"
min_followers = 10000
tags = ["influencer"]
weight = 30

[[triage.rules]]
name = "staff"
authors = ["@Northwind_Priya", "1012345678"]
tags = ["employee"]
weight = -20

[[triage.rules]]
name = "legal"
keywords = ["lawsuit", "solicitor*"]
category = "complaint"
weight = 50

[[triage.rules]]
name = "angry"
keywords = ["unacceptable", "never again"]
category = "complaint"
tags = ["tier1"]
weight = 20

[[triage.rules]]
name = "praise"
keywords = ["thank you", "legend"]
category = "praise"
weight = 5

[[triage.rules]]
name = "where is it on X"
channels = ["x"]
visibility = "public"
patterns = ['(?i)\\bwhere is my (?:order|parcel)\\b', 'NW-\\d{6}']
weight = 10
"""


def test_no_rule_matches_gives_the_default() -> None:
    result = triager(RULES).triage(Inbound("What time do you open?", "facebook"))
    assert result == Triage("question", (), 0, ())


def test_priority_is_the_sum_of_weights_with_every_reason() -> None:
    message = Inbound(
        "Where is my order NW-123456? Unacceptable. Lawsuit next.",
        "x",
        author_handle="@summit_sam",
        followers=84_000,
    )
    result = triager(RULES).triage(message)
    assert result.priority == 30 + 50 + 20 + 10
    assert result.category == "complaint"  # the first rule naming a category
    assert result.tags == ("influencer", "tier1")
    assert result.reasons == (
        Reason("influencer", 30, "84,000 followers >= 10,000"),
        Reason("legal", 50, 'keyword "lawsuit"'),
        Reason("angry", 20, 'keyword "unacceptable"'),
        Reason("where is it on X", 10, 'channel x; public; pattern matched "Where is my order"'),
    )


def test_first_category_wins_in_file_order() -> None:
    result = triager(RULES).triage(Inbound("Thank you, legend. Never again though.", "email"))
    assert result.category == "complaint"
    assert [r.rule for r in result.reasons] == ["angry", "praise"]
    assert result.priority == 25


def test_authors_any_case_with_or_without_at_and_by_id() -> None:
    rules = triager(RULES)
    by_handle = rules.triage(Inbound("hi", "x", author_handle="northwind_priya"))
    assert by_handle.tags == ("employee",)
    assert by_handle.priority == -20
    assert by_handle.reasons[0].why == "author @northwind_priya is listed"
    by_id = rules.triage(Inbound("hi", "x", author_id="1012345678"))
    assert by_id.tags == ("employee",)
    assert rules.triage(Inbound("hi", "x", author_handle="@priya")).tags == ()


def test_follower_threshold_edges() -> None:
    rules = triager(RULES)
    assert rules.triage(Inbound("hi", "x", followers=10_000)).tags == ("influencer",)
    assert rules.triage(Inbound("hi", "x", followers=9_999)).tags == ()
    assert rules.triage(Inbound("hi", "facebook", followers=None)).tags == ()


def test_every_condition_must_hold() -> None:
    rules = triager(RULES)
    text = "where is my parcel"
    assert rules.triage(Inbound(text, "x", "public")).priority == 10
    assert rules.triage(Inbound(text, "x", "private")).priority == 0
    assert rules.triage(Inbound(text, "facebook", "public")).priority == 0


def test_keywords_and_patterns_must_both_match_when_both_are_given() -> None:
    both = triager(
        "[[triage.rules]]\nname = 'r'\nkeywords = ['refund']\npatterns = ['\\d{3}']\nweight = 1\n"
    )
    assert both.triage(Inbound("refund 120", "x")).priority == 1
    assert both.triage(Inbound("refund please", "x")).priority == 0
    assert both.triage(Inbound("order 120", "x")).priority == 0


def test_the_same_keyword_in_two_rules_counts_for_both() -> None:
    rules = triager(
        "[[triage.rules]]\nname = 'a'\nkeywords = ['Refund']\nweight = 1\n"
        "[[triage.rules]]\nname = 'b'\nkeywords = ['refund*']\nweight = 2\n"
        "[[triage.rules]]\nname = 'c'\nkeywords = ['REFUND']\nweight = 4\n"
    )
    assert rules.triage(Inbound("a refund", "x")).priority == 7
    assert rules.triage(Inbound("refunded", "x")).priority == 2


def test_overlapping_keywords_of_different_rules_both_count() -> None:
    rules = triager(
        "[[triage.rules]]\nname = 'a'\nkeywords = ['our fault']\nweight = 1\n"
        "[[triage.rules]]\nname = 'b'\nkeywords = ['not our fault']\nweight = 2\n"
    )
    assert rules.triage(Inbound("That is NOT our fault", "x")).priority == 3
    matcher = PhraseMatcher(["our fault", "not our fault", "absent"])
    assert matcher.present("not our fault") == {"our fault", "not our fault"}


def test_reasons_list_keywords_in_the_rules_order_and_shorten_long_matches() -> None:
    rules = triager(
        "[[triage.rules]]\nname = 'k'\nkeywords = ['b', 'a']\nweight = 1\n"
        "[[triage.rules]]\nname = 'p'\npatterns = ['x+']\nweight = 1\n"
    )
    result = rules.triage(Inbound("a b " + "x" * 100, "email"))
    assert result.reasons[0].why == 'keyword "b", "a"'
    assert result.reasons[1].why == 'pattern matched "' + "x" * 39 + '…"'


def test_as_json() -> None:
    result = triager(RULES).triage(Inbound("legend", "x"))
    assert result.as_json() == {
        "category": "praise",
        "tags": [],
        "priority": 5,
        "reasons": [{"rule": "praise", "weight": 5, "why": 'keyword "legend"'}],
    }


def test_an_empty_rule_set() -> None:
    assert Triager(TriageConfig()).triage(Inbound("anything", "x")).category == "question"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("@NorthwindOut WHERE IS MY ORDER NW-640724??? THIRD TIME ASKING", "complaint"),
        ("My Birch down jacket arrived with a huge tear in the side", "complaint"),
        ("Huge shout-out to Priya at the Bend store. Legend! 🙌", "praise"),
        ("Do you price match? Peakway has the Kestrel tent for $199", "competitor_mention"),
        ("Do you do team/club pricing? Our hiking club needs 40 fleeces.", "sales_lead"),
        ("[bold red]FREE[/] gift cards for everyone who retweets this!! CLAIM NOW", "spam"),
        ("What time does the Denver store open on Sunday?", "question"),
    ],
)
def test_the_demo_playbook_on_demo_messages(text: str, category: str) -> None:
    from frontdesk.core.playbook.playbook import Playbook

    assert Playbook.demo().triage(Inbound(text, "x")).category == category
