"""Article parsing: frontmatter and its defaults, channel variants, placeholders, bad files."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frontdesk.kb.article import CHANNELS, ArticleError, fill, parse_article, parse_text
from frontdesk.kb.store import KnowledgeBase

NOBODY = 65534
SETPRIV = shutil.which("setpriv")
IS_ROOT = os.geteuid() == 0

FULL = textwrap.dedent(
    """\
    ---
    id: refund-where
    title: Where is my refund?
    tags: [refund, returns, money]
    questions:
      - where is my refund
      - still no money back after returning my boots
    channels: [x, email]
    owner: bob
    reviewed: 2026-10-14
    links:
      - https://northwind.example/help/refunds
    ---
    # Refunds explained

    Refunds go back to the original payment method within 5 working days.

    ## Details
    Postal returns take up to 14 working days from drop-off.

    ## x
    Hi {name}, refunds land within 5 working days. DM us your order number.

    ## email
    Hi {name},

    Thanks for getting in touch about your refund.

    {agent}, Northwind Outfitters
    """
)


def parse(text: str, rel: str = "returns/refund-status.md"):
    return parse_text(text.encode("utf-8"), rel)


def reason_of(raw: bytes, rel: str = "bad.md") -> ArticleError:
    with pytest.raises(ArticleError) as info:
        parse_text(raw, rel)
    return info.value


# --- frontmatter --------------------------------------------------------------------------


def test_every_frontmatter_key_is_read() -> None:
    article = parse(FULL)
    assert article.id == "refund-where"
    assert article.path == "returns/refund-status.md"
    assert article.title == "Where is my refund?"  # frontmatter wins over the heading
    assert article.tags == ("refund", "returns", "money")
    assert article.questions == (
        "where is my refund",
        "still no money back after returning my boots",
    )
    assert article.channels == ("x", "email")
    assert article.owner == "bob"
    assert article.reviewed == dt.date(2026, 10, 14)
    assert article.links == ("https://northwind.example/help/refunds",)
    # Each key's line in the file, for lint findings that point at it.
    assert article.meta_lines["id"] == 2
    assert article.meta_lines["reviewed"] == 10
    assert article.meta_lines["links"] == 11


def test_defaults_id_from_path_and_title_from_first_heading() -> None:
    article = parse("---\ntags: [boots]\n---\n# Boot sizes\n\nOur boots run small.\n")
    assert article.id == "returns/refund-status"  # the path without .md
    assert article.title == "Boot sizes"
    assert article.channels == CHANNELS
    assert (article.owner, article.reviewed, article.links, article.questions) == ("", None, (), ())
    assert article.body == "Our boots run small."


def test_title_falls_back_to_the_id_without_any_heading() -> None:
    article = parse("Just a sentence, no heading.\n", rel="misc/loose-note.md")
    assert article.title == "misc/loose-note"
    assert article.body == "Just a sentence, no heading."


def test_plain_markdown_without_frontmatter() -> None:
    article = parse("# Opening hours\n\nWe answer 8:00-20:00 every day.\n", rel="hours.md")
    assert article.id == "hours"
    assert article.title == "Opening hours"
    assert article.body == "We answer 8:00-20:00 every day."
    assert article.variants == {}
    assert article.meta_lines == {}


def test_empty_frontmatter_and_bom_and_crlf() -> None:
    assert parse("---\n---\n# Empty meta\n\nText.\n").title == "Empty meta"
    crlf = "\ufeff---\r\ntitle: Windows file\r\nowner: ann\r\n---\r\n# Heading\r\n\r\nBody.\r\n"
    article = parse(crlf)
    assert article.title == "Windows file"
    assert article.owner == "ann"
    assert article.meta_lines == {"title": 2, "owner": 3}
    assert article.body == "Body."


def test_digest_is_the_sha256_of_the_bytes() -> None:
    import hashlib

    assert parse(FULL).digest == hashlib.sha256(FULL.encode()).hexdigest()
    assert parse(FULL).digest != parse(FULL + "\nmore\n").digest


# --- channel variants ---------------------------------------------------------------------


def test_channel_variants_split_from_the_body() -> None:
    article = parse(FULL)
    assert set(article.variants) == {"x", "email"}
    assert article.variants["x"].startswith("Hi {name}, refunds land")
    assert article.variants["email"].endswith("{agent}, Northwind Outfitters")
    # Any other second-level heading stays part of the body it stands in.
    assert "## Details" in article.body
    assert "Postal returns take up to 14 working days" in article.body
    assert "DM us" not in article.body
    assert "Thanks for getting in touch" not in article.body
    # The title heading is not part of the body.
    assert "Refunds explained" not in article.body


def test_variant_headings_are_case_insensitive() -> None:
    article = parse("# T\n\nbody\n\n## X\nshort\n\n## FaceBook\nmedium\n\n## EMAIL\nlong\n")
    assert article.variants == {"x": "short", "facebook": "medium", "email": "long"}
    assert article.body == "body"


def test_a_variant_runs_until_the_next_variant_and_keeps_other_headings() -> None:
    article = parse("# T\n\nbody\n\n## facebook\nfb text\n\n### Steps\n1. one\n\n## x\nx text\n")
    assert article.variants["facebook"] == "fb text\n\n### Steps\n1. one"
    assert article.variants["x"] == "x text"


def test_variant_heading_inside_a_fenced_code_block_is_text() -> None:
    source = textwrap.dedent(
        """\
        # Writing variants

        Put the short reply under its own heading:

        ```markdown
        ## x
        Hi {name}, ...
        ```

        ~~~
        ## email
        ~~~

        ## facebook
        The real Facebook variant.
        """
    )
    article = parse(source)
    assert set(article.variants) == {"facebook"}
    assert article.variants["facebook"] == "The real Facebook variant."
    assert "```markdown\n## x\nHi {name}, ...\n```" in article.body
    assert "~~~\n## email\n~~~" in article.body


def test_variant_heading_in_a_quote_or_list_item_is_text() -> None:
    source = "# T\n\nbody\n\n> ## x\n> quoted reply\n\n- ## email\n  item\n\nafter\n"
    article = parse(source)
    assert article.variants == {}
    assert article.body == "body\n\n> ## x\n> quoted reply\n\n- ## email\n  item\n\nafter"


def test_text_for_falls_back_to_the_body() -> None:
    article = parse(FULL)
    assert article.text_for("x") == article.variants["x"]
    assert article.text_for("facebook") == article.body


# --- placeholders -------------------------------------------------------------------------


def test_render_fills_known_placeholders_and_leaves_others() -> None:
    article = parse(FULL)
    values = {"name": "Ann", "agent": "Gina", "handle": "@ann", "conversation": "42"}
    email = article.render("email", values)
    assert email.startswith("Hi Ann,")
    assert email.endswith("Gina, Northwind Outfitters")
    assert "{" not in email
    assert article.render("x", {"name": "Ann"}).startswith("Hi Ann, refunds land")
    assert fill(
        "Hi {name}, ref {conversation}, {unknown}", {"name": "Bo", "conversation": "7"}
    ) == ("Hi Bo, ref 7, {unknown}")
    assert fill("{name} and {name}", {"name": "Cy"}) == "Cy and Cy"
    assert fill("no placeholders { here }", {"name": "x"}) == "no placeholders { here }"


# --- bad input ----------------------------------------------------------------------------


def test_broken_yaml_reports_the_line_of_the_error() -> None:
    source = b"---\ntitle: Reset\nowner: bob: extra\n---\n# T\n"
    error = reason_of(source, "account/reset.md")
    assert error.path == "account/reset.md"
    assert error.line == 3
    assert "broken YAML" in error.reason
    assert str(error).startswith("account/reset.md:3: ")

    unclosed_list = b"---\ntitle: Reset\ntags: [a, b\nowner: bob\n---\n"
    assert reason_of(unclosed_list).line == 4  # where the parser noticed


def test_frontmatter_never_closed() -> None:
    error = reason_of(b"---\ntitle: T\n# Heading\n")
    assert (error.line, error.reason) == (1, "frontmatter opened with --- but never closed")


def test_frontmatter_that_is_not_a_mapping_or_has_wrong_types() -> None:
    assert "mapping" in reason_of(b"---\n- a\n- b\n---\n").reason
    error = reason_of(b"---\ntitle: T\ntags: {a: 1}\n---\n")
    assert (error.line, error.reason) == (3, "tags: expected a list of text")
    error = reason_of(b"---\ntitle: T\n\nreviewed: last tuesday\n---\n")
    assert error.line == 4
    assert "reviewed" in error.reason


def test_impossible_reviewed_date_is_reported_not_raised() -> None:
    """`2026-02-30` looks like a YAML date, so the loader raises ValueError building it."""
    error = reason_of(b"---\ntitle: T\nreviewed: 2026-02-30\n---\n# T\n", "late.md")
    assert error.path == "late.md"
    assert error.line == 3
    assert "day is out of range" in error.reason


def test_python_tags_are_refused_as_broken_yaml() -> None:
    error = reason_of(b"---\ntitle: !!python/object/apply:os.system [echo hi]\n---\n")
    assert error.line == 2
    assert "broken YAML" in error.reason


def test_invalid_utf8_reports_the_line() -> None:
    error = reason_of(b"# Title\n\nfine\ncaf\xe9 latin-1 here\n", "latin1.md")
    assert error.path == "latin1.md"
    assert error.line == 4
    assert error.reason.startswith("not UTF-8")


def test_binary_file_with_nul_is_refused() -> None:
    error = reason_of(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image.md")
    assert error.line == 3  # the line the first NUL is on
    assert error.reason == "binary file (NUL)"


def test_bad_files_are_reported_and_every_other_article_loads(tmp_path: Path) -> None:
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "one.md").write_text("# One\n\nfirst\n")
    (tmp_path / "good" / "two.md").write_text("---\ntitle: Two\n---\nsecond\n")
    (tmp_path / "yaml.md").write_text("---\ntitle: [unclosed\n---\n")
    (tmp_path / "latin1.md").write_bytes(b"# Caf\xe9\n")
    (tmp_path / "binary.md").write_bytes(b"# X\n\x00\x01")
    (tmp_path / "date.md").write_text("---\nreviewed: 2026-13-01\n---\n")

    kb = KnowledgeBase.load(tmp_path)

    assert sorted(kb.articles) == ["good/one.md", "good/two.md"]
    assert sorted(kb.problems) == ["binary.md", "date.md", "latin1.md", "yaml.md"]
    assert kb.problems["binary.md"].reason == "binary file (NUL)"
    assert kb.problems["latin1.md"].line == 1
    assert kb.problems["yaml.md"].line == 3
    assert kb.problems["date.md"].line == 2
    assert [h.article.path for h in kb.search("second")] == ["good/two.md"]


def test_parse_article_reads_relative_to_the_root(tmp_path: Path) -> None:
    path = tmp_path / "returns" / "refund-status.md"
    path.parent.mkdir()
    path.write_text(FULL)
    article = parse_article(path, tmp_path)
    assert article.path == "returns/refund-status.md"
    assert article == parse_text(FULL.encode(), "returns/refund-status.md")


# --- an unreadable file -------------------------------------------------------------------

_CHILD = """
import json, sys
from pathlib import Path
from frontdesk.kb.store import KnowledgeBase
kb = KnowledgeBase.load(Path(sys.argv[1]))
print(json.dumps({
    "articles": sorted(kb.articles),
    "problems": {k: [p.path, p.line, p.reason] for k, p in kb.problems.items()},
}))
"""


@pytest.fixture
def public_dir() -> Iterator[Path]:
    """A folder under /tmp that another user can traverse (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="frontdesk-kb-test-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_unreadable_file_is_reported_and_the_rest_loads(public_dir: Path) -> None:
    (public_dir / "readable.md").write_text("# Readable\n\nstill here\n")
    (public_dir / "readable.md").chmod(0o644)
    secret = public_dir / "secret.md"
    secret.write_text("# Secret\n")
    secret.chmod(0o000)

    result: dict[str, Any]
    if not IS_ROOT:
        kb = KnowledgeBase.load(public_dir)
        result = {
            "articles": sorted(kb.articles),
            "problems": {k: [p.path, p.line, p.reason] for k, p in kb.problems.items()},
        }
    elif SETPRIV is not None:
        # Root reads anything; a child running as nobody sees the permission problem.
        prefix = [SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        proc = subprocess.run(
            [*prefix, sys.executable, "-c", _CHILD, str(public_dir)],
            capture_output=True,
            text=True,
            check=False,
            cwd=public_dir,
        )
        assert proc.returncode == 0, proc.stderr
        result = json.loads(proc.stdout)
    else:
        pytest.skip("running as root without setpriv: a chmod 000 file is still readable")

    assert result["articles"] == ["readable.md"]
    path, line, reason = result["problems"]["secret.md"]
    assert path == "secret.md"
    assert line <= 1
    assert reason == "cannot read: Permission denied"
