"""Lint: placeholders, X lengths, schema, duplicates, staleness, banned words; the CLI's exit."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from frontdesk.kb.lint import SAMPLE_VALUES, Finding, lint, x_length
from frontdesk.kb.store import KnowledgeBase

FRONTDESK = str(Path(sys.executable).with_name("frontdesk"))
TODAY = dt.date(2026, 11, 20)


def article(
    title: str,
    body: str = "A full answer.",
    *,
    reviewed: str | None = "2026-11-01",
    extra: str = "",
    x: str | None = "Hi {name}, short answer.",
) -> str:
    meta = f"title: {title}\n" + (f"reviewed: {reviewed}\n" if reviewed else "") + extra
    text = f"---\n{meta}---\n# {title}\n\n{body}\n"
    if x is not None:
        text += f"\n## x\n{x}\n"
    return text


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def findings(root: Path, **kwargs: object) -> list[Finding]:
    kb = KnowledgeBase.load(root)
    return lint(kb, today=TODAY, **kwargs)  # type: ignore[arg-type]


def rules(found: list[Finding]) -> list[tuple[str, str]]:
    return [(f.path, f.rule) for f in found]


def test_a_clean_article_has_no_findings(tmp_path: Path) -> None:
    write(tmp_path, "ok.md", article("Opening hours", extra="channels: [x, email]\n"))
    assert findings(tmp_path) == []


def test_unknown_placeholder(tmp_path: Path) -> None:
    write(tmp_path, "a.md", article("A", "Dear {customer}, see {name}.", x="Hi {nmae}!"))
    found = findings(tmp_path)
    assert rules(found) == [("a.md", "placeholder"), ("a.md", "placeholder")]
    messages = " ".join(f.message for f in found)
    assert "{customer} in body" in messages
    assert "{nmae} in x" in messages
    assert "{name}" not in messages.replace("known: name", "")


def test_x_length_counts_urls_as_23_and_wide_characters_as_2() -> None:
    assert x_length("hello") == 5
    assert x_length("see https://northwind.example/a/very/long/path?with=query") == 4 + 23
    assert x_length("two https://a.example and http://b.example/x") == 4 + 23 + 5 + 23
    assert x_length("返品") == 4
    assert x_length("ok 👍") == 5
    assert x_length("café – “quoted”") == 15  # Latin and punctuation count once


def test_x_variant_over_280_after_filling(tmp_path: Path) -> None:
    filled_extra = len(SAMPLE_VALUES["name"]) - len("{name}")
    assert filled_extra > 0
    # 277 characters as written, more than 280 once {name} is filled in.
    over = "{name} " + "a" * (280 - len("{name} ") - filled_extra + 1)
    assert len(over) <= 280
    # Well over 280 as written, but the URL counts as 23.
    url = "https://northwind.example/" + "p" * 100
    fits = "b" * 250 + " " + url
    assert len(fits) > 280 and x_length(fits) == 274
    write(tmp_path, "over.md", article("Over", x=over))
    write(tmp_path, "fits.md", article("Fits", x=fits))
    found = findings(tmp_path)
    assert rules(found) == [("over.md", "length")]
    assert f"is {280 + 1} characters" in found[0].message
    assert "the limit is 280" in found[0].message


def test_a_long_body_without_x_variant_counts_for_x(tmp_path: Path) -> None:
    write(tmp_path, "long.md", article("Long", "word " * 100, x=None))
    write(
        tmp_path,
        "email-only.md",
        article("Email", "word " * 100, x=None, extra="channels: [email]\n"),
    )
    found = findings(tmp_path)
    assert rules(found) == [("long.md", "length")]
    assert "body (no variant)" in found[0].message


def test_unknown_frontmatter_key_and_channel_and_link(tmp_path: Path) -> None:
    extra = "owner: bob\nauthor: ann\nchannels: [x, fax]\nlinks: [not a url]\n"
    write(tmp_path, "a.md", article("A", extra=extra))
    found = findings(tmp_path)
    assert [(f.line, f.rule) for f in found] == [(5, "schema"), (6, "schema"), (7, "schema")]
    assert "unknown frontmatter key 'author'" in found[0].message
    assert "unknown channel 'fax'" in found[1].message
    assert "not a URL: 'not a url'" in found[2].message


def test_duplicate_ids_and_titles(tmp_path: Path) -> None:
    write(tmp_path, "a.md", article("Refunds", extra="id: refunds\n"))
    write(tmp_path, "b.md", article("refunds", extra="id: refunds\n"))
    write(tmp_path, "c.md", article("Other"))
    found = findings(tmp_path)
    assert sorted(rules(found)) == [
        ("a.md", "duplicate-id"),
        ("a.md", "duplicate-title"),
        ("b.md", "duplicate-id"),
        ("b.md", "duplicate-title"),
    ]
    by_rule = {(f.path, f.rule): f for f in found}
    assert by_rule[("a.md", "duplicate-id")].line == 4  # the id key's line
    assert by_rule[("b.md", "duplicate-title")].line == 2
    assert "shared by a.md, b.md" in by_rule[("a.md", "duplicate-title")].message


def test_default_ids_never_collide_but_default_titles_can(tmp_path: Path) -> None:
    write(tmp_path, "one/faq.md", "# FAQ\n\n## x\nshort\n")
    write(tmp_path, "two/faq.md", "# FAQ\n\n## x\nshort\n")
    found = [f for f in findings(tmp_path) if f.rule.startswith("duplicate")]
    assert rules(found) == [("one/faq.md", "duplicate-title"), ("two/faq.md", "duplicate-title")]


def test_stale_and_missing_reviewed_dates(tmp_path: Path) -> None:
    write(tmp_path, "fresh.md", article("Fresh", reviewed=(TODAY - dt.timedelta(180)).isoformat()))
    write(tmp_path, "stale.md", article("Stale", reviewed=(TODAY - dt.timedelta(181)).isoformat()))
    write(tmp_path, "never.md", article("Never", reviewed=None))
    found = findings(tmp_path)
    assert rules(found) == [("never.md", "review"), ("stale.md", "review")]
    assert found[0].message == "no `reviewed` date"
    assert found[1].line == 3
    assert "more than 180 days ago" in found[1].message
    assert rules(findings(tmp_path, review_days=365)) == [("never.md", "review")]


def test_banned_words_match_whole_words_case_insensitively(tmp_path: Path) -> None:
    write(tmp_path, "a.md", article("A", "We cannot GUARANTEE delivery.", x="Hi {name}!"))
    write(tmp_path, "b.md", article("B", "Guaranteed refunds.", x="Hi {name}, cheap fix."))
    found = findings(tmp_path, banned_words=("guarantee", "cheap"))
    assert rules(found) == [("a.md", "banned-word"), ("b.md", "banned-word")]
    assert "'GUARANTEE' in body" in found[0].message
    assert "'cheap' in x" in found[1].message  # "Guaranteed" is a different word


def test_parse_problems_are_findings(tmp_path: Path) -> None:
    write(tmp_path, "ok.md", article("Fine"))
    write(tmp_path, "broken.md", "---\ntitle: Broken\nowner: [bob\n---\n")
    (tmp_path / "latin1.md").write_bytes(b"# Caf\xe9\n")
    found = findings(tmp_path)
    assert [(f.path, f.line, f.rule) for f in found] == [
        ("broken.md", 4, "parse"),
        ("latin1.md", 1, "parse"),
    ]
    assert str(found[0]).startswith("broken.md:4: parse: broken YAML")


def test_a_broken_synonym_table_is_a_finding(tmp_path: Path) -> None:
    write(tmp_path, "ok.md", article("Fine"))
    write(tmp_path, "_synonyms.toml", '[orders]\nparcel = ["box"]\nlate = 5\n')
    found = findings(tmp_path)
    assert [str(f) for f in found] == [
        "_synonyms.toml:3: parse: 'late': expected a list of words or phrases"
    ]


# --- the CLI ------------------------------------------------------------------------------


def run_lint(kb: Path, *extra: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    if config is not None:
        env["FRONTDESK_CONFIG"] = str(config)
    return subprocess.run(
        [FRONTDESK, "kb", "lint", "--kb", str(kb), *extra],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def today() -> str:
    return dt.date.today().isoformat()  # the CLI lints against the real date


def test_cli_lint_exits_0_on_a_clean_kb(tmp_path: Path, today: str) -> None:
    write(tmp_path, "a.md", article("Alpha", reviewed=today))
    write(tmp_path, "sub/b.md", article("Beta", reviewed=today))
    proc = run_lint(tmp_path, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []
    human = run_lint(tmp_path)
    assert human.returncode == 0
    assert "2 article(s), 0 problem(s)" in human.stdout


def test_cli_lint_exits_1_with_findings(tmp_path: Path, today: str) -> None:
    write(tmp_path, "a.md", article("Alpha", "Our cheap boots.", reviewed=today))
    write(tmp_path, "b.md", article("Beta", reviewed=today, x="Hi {customer}"))
    (tmp_path / "c.md").write_bytes(b"\x00")
    config = tmp_path / "config.toml"
    config.write_text('[kb]\nbanned_words = ["cheap"]\n')
    proc = run_lint(tmp_path, "--json", config=config)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert [(d["path"], d["rule"]) for d in data] == [
        ("a.md", "banned-word"),
        ("b.md", "placeholder"),
        ("c.md", "parse"),
    ]
    assert set(data[0]) == {"path", "line", "rule", "message"}
    human = run_lint(tmp_path, config=config)
    assert human.returncode == 1
    assert "c.md:1: parse: binary file (NUL)" in human.stdout
    assert "2 article(s), 3 problem(s)" in human.stdout


def test_cli_lint_names_a_missing_folder(tmp_path: Path) -> None:
    proc = run_lint(tmp_path / "nope", "--json")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert (
        proc.stderr.strip()
        == f"frontdesk: {tmp_path / 'nope'}: the knowledge-base folder does not exist"
    )
