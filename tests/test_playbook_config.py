"""The playbook file: defaults, the shipped examples, and errors that name file, line and reason."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from frontdesk.core.config import DEFAULT_SLA_TARGETS
from frontdesk.core.errors import ConfigError
from frontdesk.core.playbook.base import CATEGORIES, SOURCE_TAGS, PlaybookError
from frontdesk.core.playbook.config import PlaybookConfig, parse_playbook, read_playbook
from frontdesk.core.playbook.playbook import Playbook
from frontdesk.core.playbook.toml_lines import key_lines, line_of

ROOT = Path(__file__).resolve().parent.parent
DOCS_EXAMPLE = ROOT / "docs" / "playbook.toml"


def error(text: str) -> PlaybookError:
    with pytest.raises(PlaybookError) as caught:
        parse_playbook(text, "kb/playbook.toml")
    return caught.value


# -- defaults and shipped files


def test_an_empty_file_is_the_seeds_playbook() -> None:
    config = parse_playbook("")
    assert config == PlaybookConfig()
    assert config.sla.first_response == DEFAULT_SLA_TARGETS
    assert config.sla.target("x", "public") == dt.timedelta(minutes=30)
    assert config.sla.target("facebook", "public") == dt.timedelta(minutes=60)
    assert config.sla.target("x", "private") == dt.timedelta(minutes=60)
    assert config.sla.target("email", "private") == dt.timedelta(hours=4)
    assert config.sla.ceiling_minutes == 24 * 60
    assert config.sla.warn_share == 0.25
    assert tuple(config.triage.categories) == CATEGORIES
    assert tuple(config.triage.tags) == SOURCE_TAGS
    assert [b.phrase for b in config.tone.banned] == ["unfortunately"]
    assert config.routing.default_team in config.teams


def test_the_demo_playbook_loads_and_uses_every_section() -> None:
    playbook = Playbook.demo()
    config = playbook.config
    assert config.calendars and config.teams and config.routing.rules and config.escalation
    assert config.triage.rules and config.tone.banned and config.signoff.words
    assert playbook.source == "demo_playbook.toml"


def test_the_documented_example_loads() -> None:
    playbook = Playbook.load(DOCS_EXAMPLE)
    assert playbook.source == str(DOCS_EXAMPLE)
    assert playbook.config.calendars["split-shift"].hours["mon-thu"] == "08:00-12:00, 13:00-18:00"
    assert playbook.config.tone.personal_data.patterns == {"loyalty number": r"LN\d{8}"}


def test_every_documented_table_is_described_in_the_guide() -> None:
    guide = (ROOT / "docs" / "playbook.md").read_text(encoding="utf-8")
    for table in PlaybookConfig.model_fields:
        assert f"[{table}" in guide, table


# -- errors name file, line and reason


def test_syntax_error_names_its_line() -> None:
    problem = error("[sla]\nceiling_minutes = 1440\nwarn_share = = 0.3\n")
    assert problem.path == "kb/playbook.toml"
    assert problem.line == 3
    assert "not valid TOML" in problem.reason
    assert str(problem).startswith("kb/playbook.toml:3: not valid TOML")


def test_syntax_error_at_the_end_of_the_file() -> None:
    problem = error('[tone]\nbanned = [\n  "a",\n')
    assert problem.line == 4
    assert "end of document" in problem.reason


def test_unknown_key_names_its_line() -> None:
    problem = error("[sla]\nceiling_minutes = 60\n\n[tone]\nvoice = 'formal'\nvoise = 'casual'\n")
    assert (problem.line, problem.reason) == (6, "tone.voise: Extra inputs are not permitted")


def test_unknown_table_names_its_line() -> None:
    assert error("\n\n[slas]\nx = 1\n").line == 3


def test_wrong_type_in_an_array_of_tables() -> None:
    text = "[[tone.banned]]\nphrase = 'a'\n\n[[tone.banned]]\nphrase = 'b'\nseverity = 'loud'\n"
    problem = error(text)
    assert problem.line == 6
    assert problem.reason.startswith("tone.banned[1].severity: Input should be")


def test_missing_key_is_reported_at_its_table() -> None:
    problem = error(
        "[[triage.rules]]\nname = 'ok'\nkeywords = ['a']\n\n[[triage.rules]]\nweight = 3\n"
    )
    assert problem.line == 5
    assert problem.reason == "triage.rules[1].name: Field required"


def test_a_bad_item_in_a_multi_line_array() -> None:
    text = "[[routing.rules]]\nname = 'r'\nteam = 'care'\nchannels = [\n  'x',\n  'fax',\n]\n"
    problem = error(text)
    assert problem.line == 6
    assert "unknown channel 'fax'" in problem.reason


def test_a_bad_key_of_a_quoted_table_key() -> None:
    problem = error('[sla.first_response]\n"x.public" = 15\n"fax.public" = 15\n')
    assert problem.line == 3
    assert problem.reason.startswith('sla.first_response."fax.public": ')


def test_a_non_positive_target() -> None:
    problem = error('[sla.first_response]\n"x.public" = 0\n')
    assert problem.line == 2
    assert "greater than 0" in problem.reason


def test_a_regex_that_does_not_compile() -> None:
    problem = error("[[triage.rules]]\nname = 'r'\npatterns = ['ok', '(unclosed']\n")
    assert problem.line == 3
    assert "does not compile" in problem.reason


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("[calendars.o]\ntimezone = 'Mars/Olympus'\n", 2, "unknown time zone"),
        ("[calendars.o]\nholidays = 'XX'\n", 2, "XX"),
        ("[calendars.o]\nholidays = 'GB'\nsubdivision = 'ZZZ'\n", 3, "ZZZ"),
        ("[calendars.o]\nsubdivision = 'ENG'\n", 2, "needs a holidays country"),
        ("[calendars.o]\nhours.mon = '09:00-17:00'\nhours.tues = '09:00-17:00'\n", 3, "tues"),
        ("[calendars.o]\nhours = { mon = '17:00-09:00' }\n", 2, "start first"),
        ("[calendars.o]\nhours = { mon-fri = 'closed' }\n", 2, "no open hours"),
        (
            "[calendars.o]\nhours = { mon-fri = '09:00-17:00', fri = '10:00-12:00' }\n",
            2,
            "names a day",
        ),
        ("[tone.rules]\nlength = 'warn'\nshout = 'warn'\n", 3, "unknown tone rule 'shout'"),
        ("[tone.lengths]\nx = -1\n", 2, "greater than or equal to 0"),
        ("[[triage.rules]]\nname = 'catch-all'\nweight = 5\n", 1, "has no condition"),
        ("[[triage.rules]]\nname = 'r'\nkeywords = ['a']\nvisibility = 'secret'\n", 4, "public"),
        ("[sla]\nwarn_share = 1.5\n", 2, "less than 1"),
    ],
)
def test_invalid_values(text: str, line: int, words: str) -> None:
    problem = error(text)
    assert problem.line == line, problem
    assert words in problem.reason


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("[teams.billing]\ncalendar = 'office'\n", 2, "teams.billing.calendar: unknown calendar"),
        ("[teams.a]\noverflow = ['*', 'b']\n", 2, "teams.a.overflow[1]: unknown team 'b'"),
        ("[routing]\ndefault_team = 'nobody'\n", 2, "routing.default_team: unknown team"),
        (
            "[[routing.rules]]\nname = 'r'\nteam = 'care'\ncategories = ['rant']\n",
            4,
            "routing.rules[0].categories[0]: unknown category 'rant'",
        ),
        (
            "[[routing.rules]]\nname = 'r'\nteam = 'ghosts'\nkeywords = ['boo']\n",
            3,
            "routing.rules[0].team: unknown team 'ghosts'",
        ),
        (
            "\n[[triage.rules]]\nname = 'r'\nkeywords = ['a']\ntags = ['vip']\n",
            5,
            "triage.rules[0].tags[0]: unknown tag 'vip'",
        ),
        ("[triage]\ndefault_category = 'misc'\n", 2, "unknown category 'misc'"),
        (
            "[escalation.legal]\nprimary = { name = 'D', reach = 'd@x' }\ncalendar = 'x'\n",
            3,
            "escalation.legal.calendar: unknown calendar",
        ),
        ("[signoff]\ntags = ['vip']\n", 2, "signoff.tags[0]: unknown tag 'vip'"),
        ("[calendars.always]\ntimezone = 'UTC'\n", 1, "built-in 24/7 calendar"),
    ],
)
def test_dangling_names(text: str, line: int, words: str) -> None:
    problem = error(text)
    assert problem.line == line, problem
    assert words in problem.reason


def test_categories_can_be_extended_and_then_used() -> None:
    config = parse_playbook(
        "[triage]\ncategories = ['question', 'outage']\n"
        "[[triage.rules]]\nname = 'down'\nkeywords = ['down']\ncategory = 'outage'\n"
    )
    assert config.triage.rules[0].category == "outage"


def test_playbook_error_is_a_config_error_with_one_line() -> None:
    problem = error("[tone]\nvoice = 'shouty'\n")
    assert isinstance(problem, ConfigError)
    assert "\n" not in str(problem)
    assert problem.title == "playbook error"


# -- reading files


def test_read_errors(tmp_path: Path) -> None:
    missing = tmp_path / "playbook.toml"
    with pytest.raises(PlaybookError, match="cannot read"):
        read_playbook(missing)
    missing.write_bytes(b"[tone]\nvoice = '\xff'\n")
    with pytest.raises(PlaybookError, match=r"playbook.toml:0: not UTF-8 text \(byte 16\)"):
        read_playbook(missing)


# -- key lines


def test_key_lines_cover_every_toml_form() -> None:
    text = """# comment
title = "x"   # trailing comment
[a]
b.c = 1
"quoted.key" = 'v'
"esc\\u0041" = 1
long = \"\"\"
one "" quote
two\"\"\"
after = 2
[[list]]
x = 1
[[list]]
x = [
  { y = 1 },
  { y = 2 },  # comment
]
[[list.inner]]
z = 3
"""
    lines = key_lines(text)
    assert lines[("title",)] == 2
    assert lines[("a", "b", "c")] == 4
    assert lines[("a", "quoted.key")] == 5
    assert lines[("a", "escA")] == 6
    assert lines[("a", "long")] == 7
    assert lines[("a", "after")] == 10
    assert lines[("list", 0, "x")] == 12
    assert lines[("list", 1)] == 13
    assert lines[("list", 1, "x", 1, "y")] == 16
    assert lines[("list", 1, "inner", 0, "z")] == 19
    assert line_of(lines, ("list", 1, "x", 1, "y", "[key]")) == 16
    assert line_of(lines, ("list", 1, "missing")) == 13
    assert line_of(lines, ("nowhere",)) == 1
