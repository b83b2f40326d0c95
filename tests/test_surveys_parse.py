"""Reading survey answers out of realistic replies, and refusing the ambiguous ones."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontdesk.core.surveys_parse import WORDS, Answer, own_words, parse_answer, reopens

CASES: list[tuple[str, str, tuple[int, str] | None]] = [
    # (reply, survey kind, (score, comment) or None for "not an answer")
    ("5", "csat", (5, "")),
    (" 5 ", "csat", (5, "")),
    ("5/5 thanks!", "csat", (5, "thanks!")),
    ("5 / 5", "csat", (5, "")),
    ("4 - slow but ok", "csat", (4, "slow but ok")),
    ("4 – slow but ok", "csat", (4, "slow but ok")),
    ("3: the app kept crashing", "csat", (3, "the app kept crashing")),
    ("2, still waiting for my refund?", "csat", (2, "still waiting for my refund?")),
    ("5.", "csat", (5, "")),
    ("5!!!", "csat", (5, "")),
    ("5\nGreat service from Sam", "csat", (5, "Great service from Sam")),
    ("4 out of 5", "csat", (4, "")),
    ("5 stars", "csat", (5, "")),
    ("5 stars, would buy again", "csat", (5, "would buy again")),
    ("5 👍", "csat", (5, "👍")),
    ("I'd give it a 3", "csat", (3, "")),
    ("I’d give you a 4 because it took a while", "csat", (4, "because it took a while")),
    ("i would rate it 2 - awful", "csat", (2, "awful")),
    ("Rating: 4", "csat", (4, "")),
    ("my score is 9", "nps", (9, "")),
    ("five", "csat", (5, "")),
    ("Five!", "csat", (5, "")),
    ("I'd give it a five", "csat", (5, "")),
    ("ten out of ten", "nps", (10, "")),
    ("10/10", "nps", (10, "")),
    ("10/10 would recommend", "nps", (10, "would recommend")),
    ("0", "nps", (0, "")),
    ("7 - decent", "nps", (7, "decent")),
    ("⭐⭐⭐⭐", "csat", (4, "")),
    ("⭐️⭐️⭐️⭐️⭐️", "csat", (5, "")),
    ("5\n\nOn Mon, 1 Dec 2026 at 10:00, Northwind <care@nw.example> wrote:\n> How did we do?",
     "csat", (5, "")),
    ("4 - fine\n> Reply with a number from 1 (poor) to 5 (great)", "csat", (4, "fine")),
    ("5\n-- \nJo Malik\nSent from my phone", "csat", (5, "")),
    ("3\n\nSent from my iPhone", "csat", (3, "")),
    ("5\n-----Original Message-----\nFrom: care@nw.example", "csat", (5, "")),
    # Not answers: a number that is part of something else, or not at the start.
    ("order 12345 still missing", "csat", None),
    ("2 days late!", "csat", None),
    ("3 items missing from my box", "csat", None),
    ("12345", "nps", None),
    ("4.5", "csat", None),
    ("4-5", "csat", None),
    ("4 - 5 days late", "csat", None),
    ("1-800-555-0100 is your number?", "csat", None),
    ("2nd time this happened", "csat", None),
    ("5% off was promised", "csat", None),
    ("$5 refund please", "csat", None),
    ("one more thing: where is my order", "csat", None),
    ("thanks!", "csat", None),
    ("", "csat", None),
    ("I give up", "csat", None),
    # Out of the survey's scale, or a scale that is not the survey's.
    ("6", "csat", None),
    ("0", "csat", None),
    ("11", "nps", None),
    ("10/10", "csat", None),
    ("3/5", "nps", None),
    ("3/4", "csat", None),
    ("⭐⭐⭐", "nps", None),
]  # fmt: skip


@pytest.mark.parametrize(("reply", "kind", "expected"), CASES)
def test_realistic_replies(reply: str, kind: str, expected: tuple[int, str] | None) -> None:
    answer = parse_answer(reply, kind)
    assert answer == (Answer(*expected) if expected else None)


@given(st.integers(min_value=1, max_value=5), st.sampled_from(["", "-", ".", "!", "/5"]))
def test_every_csat_score_with_any_plain_ending(score: int, ending: str) -> None:
    assert parse_answer(f"{score}{ending}", "csat") == Answer(score, "")


@given(st.integers(min_value=0, max_value=10))
def test_every_nps_score_in_digits_and_words(score: int) -> None:
    word = next(w for w, v in WORDS.items() if v == score)
    assert parse_answer(str(score), "nps") == Answer(score, "")
    assert parse_answer(word.capitalize(), "nps") == Answer(score, "")
    assert parse_answer(f"{score}/10", "nps") == Answer(score, "")


@given(
    st.integers(min_value=0, max_value=99),
    st.sampled_from(["days", "items", "hours", "weeks late", "orders", "x", "more"]),
)
def test_a_number_followed_by_a_word_is_never_a_score(number: int, word: str) -> None:
    for kind in ("csat", "nps"):
        assert parse_answer(f"{number} {word}", kind) is None


@given(st.text(max_size=40), st.integers(min_value=100, max_value=10**9))
def test_a_long_number_is_never_a_score(prefix: str, number: int) -> None:
    assert parse_answer(f"{number}", "nps") is None
    assert parse_answer(f"order {number} {prefix}", "csat") is None


@given(st.text(max_size=200), st.sampled_from(["csat", "nps"]))
def test_any_text_gives_a_score_in_scale_or_nothing(text: str, kind: str) -> None:
    answer = parse_answer(text, kind)
    if answer is not None:
        low, high = (1, 5) if kind == "csat" else (0, 10)
        assert low <= answer.score <= high
        assert answer.comment == answer.comment.strip()


def test_own_words_drop_quotes_and_signatures() -> None:
    assert own_words("> 5\nactual words\n-- \nsig") == "actual words"
    assert own_words("@NorthwindHelp 4 - fine") == "4 - fine"


@pytest.mark.parametrize(
    ("answer", "kind", "reopens_it"),
    [
        (Answer(5, ""), "csat", False),
        (Answer(1, ""), "csat", False),  # a bare score: counted, nobody needed
        (Answer(5, "thanks!"), "csat", False),
        (Answer(4, "slow but ok"), "csat", False),
        (Answer(2, "still no refund"), "csat", True),  # a low score explained
        (Answer(5, "will you restock the blue one?"), "csat", True),  # a question
        (Answer(6, "meh"), "nps", True),
        (Answer(7, "meh"), "nps", False),
    ],
)
def test_which_answers_reopen(answer: Answer, kind: str, reopens_it: bool) -> None:
    assert reopens(answer, kind) is reopens_it
