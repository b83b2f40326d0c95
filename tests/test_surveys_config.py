"""The `[surveys]` playbook table: defaults, matching, and errors with file, line and reason."""

from __future__ import annotations

import pytest

from frontdesk.core.playbook.base import PlaybookError
from frontdesk.core.playbook.config import parse_playbook
from frontdesk.core.playbook.playbook import Playbook


def error(text: str) -> PlaybookError:
    with pytest.raises(PlaybookError) as caught:
        parse_playbook(text, "kb/playbook.toml")
    return caught.value


def test_without_rules_nobody_is_asked() -> None:
    policy = Playbook().surveys
    assert policy.survey_for(channel="email", visibility="private", category="complaint") is None
    assert policy.follow_up_for(channel="x", visibility="public", category="complaint") is None


def test_the_demo_playbook_asks_and_follows_up() -> None:
    policy = Playbook.demo().surveys
    kind, question = policy.survey_for(  # type: ignore[misc]
        channel="email", visibility="private", category="complaint"
    )
    assert kind == "csat" and "Reply with a number" in question
    assert policy.survey_for(channel="x", visibility="public", category="complaint") is None
    nps = policy.survey_for(channel="email", visibility="private", category="praise")
    assert nps is not None and nps[0] == "nps"
    rule = policy.follow_up_for(channel="x", visibility="public", category="complaint")
    assert rule is not None and rule.after_hours == 48


def test_first_matching_rule_wins_and_channel_visibility_narrows() -> None:
    policy = Playbook.from_text(
        "[[surveys.rules]]\nkind = 'nps'\nchannels = ['x.private']\nquestion = 'Rate us 0-10'\n"
        "[[surveys.rules]]\nkind = 'csat'\n"
    ).surveys
    assert policy.survey_for(channel="x", visibility="private", category=None) == (
        "nps", "Rate us 0-10",
    )  # fmt: skip
    chosen = policy.survey_for(channel="x", visibility="public", category=None)
    assert chosen is not None and chosen[0] == "csat"


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (
            "[surveys]\nwindow_hours = 72\ncsat_question = 'Rate us at https://nw.example/s'\n",
            3,
            "surveys.csat_question: a survey asks for a reply, never a link",
        ),
        (
            "[[surveys.rules]]\nkind = 'csat'\n\n"
            "[[surveys.rules]]\nquestion = 'see www.nw.example'\n",
            5,
            "surveys.rules[1].question: a survey asks for a reply, never a link",
        ),
        ("[[surveys.rules]]\nkind = 'stars'\n", 2, "surveys.rules[0].kind: Input should be"),
        (
            "[[surveys.rules]]\nchannels = ['email', 'fax']\n",
            2,
            "surveys.rules[0].channels[1]: unknown channel 'fax'",
        ),
        (
            "[[surveys.rules]]\ncategories = ['question', 'moaning']\n",
            2,
            "surveys.rules[0].categories[1]: unknown category 'moaning'",
        ),
        (
            "[[surveys.follow_ups]]\ncategories = ['complaint']\nafter_hours = 0\n",
            3,
            "surveys.follow_ups[0].after_hours: Input should be greater than 0",
        ),
        ("[surveys]\nwindow_hours = 1\nwindow = 3\n", 3, "surveys.window: Extra inputs"),
    ],
)
def test_errors_name_the_line_and_the_reason(text: str, line: int, reason: str) -> None:
    problem = error(text)
    assert problem.path == "kb/playbook.toml"
    assert problem.line == line
    assert problem.reason.startswith(reason), problem.reason
