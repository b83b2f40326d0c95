"""The knowledge base in memory: load, refresh after edits, last good versions, what is ignored."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from frontdesk.kb.store import KnowledgeBase


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def found(kb: KnowledgeBase, query: str) -> list[str]:
    return [hit.article.path for hit in kb.search(query)]


def title_of(kb: KnowledgeBase, article_id: str) -> str | None:
    article = kb.by_id(article_id)
    return article.title if article is not None else None


@pytest.fixture
def root(tmp_path: Path) -> Path:
    kb = tmp_path / "kb"
    write(
        kb, "returns/refund-status.md", "---\ntitle: Where is my refund?\n---\nRefunds take days.\n"
    )
    write(kb, "shipping/delivery.md", "# Delivery times\n\nParcels arrive in 3 days.\n")
    write(kb, "account/password.md", "# Password reset\n\nUse the reset link.\n")
    return kb


def test_load_reads_every_article(root: Path) -> None:
    (root / "notes.txt").write_text("not an article")
    kb = KnowledgeBase.load(root)
    assert sorted(kb.articles) == [
        "account/password.md",
        "returns/refund-status.md",
        "shipping/delivery.md",
    ]
    assert kb.problems == {}
    assert len(kb.index) == 3
    assert title_of(kb, "shipping/delivery") == "Delivery times"
    assert title_of(kb, "returns/refund-status.md") == "Where is my refund?"
    assert kb.by_id("nope") is None
    assert kb.root == root.resolve()


def test_refresh_after_modify(root: Path) -> None:
    kb = KnowledgeBase.load(root)
    path = write(root, "shipping/delivery.md", "# Delivery times\n\nCouriers now take a week.\n")
    result = kb.refresh([path])
    assert result.updated == ("shipping/delivery.md",)
    assert result.changed == 1
    assert found(kb, "couriers") == ["shipping/delivery.md"]
    assert found(kb, "parcels") == []  # the old words left the index


def test_refresh_of_an_unchanged_file_reports_nothing(root: Path) -> None:
    kb = KnowledgeBase.load(root)
    result = kb.refresh([root / "shipping" / "delivery.md"])
    assert (result.updated, result.removed, result.problems) == ((), (), ())


def test_refresh_after_create(root: Path) -> None:
    kb = KnowledgeBase.load(root)
    assert found(kb, "gift cards") == []
    path = write(root, "payments/gift-cards.md", "# Gift cards\n\nGift cards never expire.\n")
    result = kb.refresh([path])
    assert result.updated == ("payments/gift-cards.md",)
    assert found(kb, "gift cards") == ["payments/gift-cards.md"]
    assert "payments/gift-cards.md" in kb.articles


def test_refresh_after_delete(root: Path) -> None:
    kb = KnowledgeBase.load(root)
    path = root / "account" / "password.md"
    path.unlink()
    result = kb.refresh([path])
    assert result.removed == ("account/password.md",)
    assert "account/password.md" not in kb.articles
    assert found(kb, "password reset") == []
    assert len(kb.index) == 2
    # Deleting something never known is not a change.
    assert kb.refresh([root / "never.md"]).changed == 0


def test_refresh_after_rename(root: Path) -> None:
    kb = KnowledgeBase.load(root)
    old = root / "account" / "password.md"
    new = root / "login" / "password-reset.md"
    new.parent.mkdir()
    os.rename(old, new)
    result = kb.refresh([old, new])
    assert result.removed == ("account/password.md",)
    assert result.updated == ("login/password-reset.md",)
    assert found(kb, "password reset") == ["login/password-reset.md"]
    assert title_of(kb, "login/password-reset") == "Password reset"
    assert kb.by_id("account/password") is None


def test_a_file_that_breaks_keeps_its_last_good_version(root: Path) -> None:
    kb = KnowledgeBase.load(root)
    path = root / "returns" / "refund-status.md"
    good = kb.articles["returns/refund-status.md"]
    path.write_text("---\ntitle: [unclosed\n---\nRefunds take weeks now.\n")

    result = kb.refresh([path])

    assert result.changed == 0
    assert [p.path for p in result.problems] == ["returns/refund-status.md"]
    problem = kb.problems["returns/refund-status.md"]
    assert problem.line == 3
    assert "broken YAML" in problem.reason
    assert kb.articles["returns/refund-status.md"] is good  # still in service
    assert found(kb, "refund") == ["returns/refund-status.md"]
    assert found(kb, "weeks") == []  # the broken text is not indexed

    path.write_text("---\ntitle: Where is my refund?\n---\nRefunds take weeks now.\n")
    result = kb.refresh([path])
    assert result.updated == ("returns/refund-status.md",)
    assert kb.problems == {}
    assert found(kb, "weeks") == ["returns/refund-status.md"]


def test_fixing_a_file_back_to_its_last_good_text_clears_and_reports_it(root: Path) -> None:
    """Reverting a broken save is a change a status line must hear about."""
    kb = KnowledgeBase.load(root)
    path = root / "shipping" / "delivery.md"
    original = path.read_bytes()
    path.write_bytes(b"# Delivery \xff\n")
    assert kb.refresh([path]).problems
    assert "shipping/delivery.md" in kb.problems

    path.write_bytes(original)
    result = kb.refresh([path])
    assert kb.problems == {}
    assert result.updated == ("shipping/delivery.md",)
    assert found(kb, "parcels") == ["shipping/delivery.md"]


def test_a_broken_file_that_never_loaded_is_listed_then_cleared_by_deletion(root: Path) -> None:
    kb = KnowledgeBase.load(root)
    path = write(root, "new.md", "x")
    path.write_bytes(b"\x00binary")
    result = kb.refresh([path])
    assert "new.md" in kb.problems
    assert "new.md" not in kb.articles
    assert result.changed == 0
    path.unlink()
    result = kb.refresh([path])
    assert result.removed == ("new.md",)
    assert kb.problems == {}


def test_symlink_leading_outside_the_root_is_ignored(tmp_path: Path, root: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, "secret.md", "# Secret salaries\n\nconfidential numbers\n")
    write(outside, "folder/other.md", "# Other secret\n\nconfidential too\n")
    (root / "leak.md").symlink_to(outside / "secret.md")
    (root / "leakdir").symlink_to(outside / "folder", target_is_directory=True)
    (root / "alias.md").symlink_to(root / "shipping" / "delivery.md")  # inside: fine

    kb = KnowledgeBase.load(root)

    assert "leak.md" not in kb.articles
    assert "leakdir/other.md" not in kb.articles
    assert found(kb, "confidential") == []
    assert "alias.md" in kb.articles
    # Refreshing the links by name (as a watcher would) does not pull them in either.
    result = kb.refresh([root / "leak.md", root / "leakdir" / "other.md"])
    assert result.changed == 0
    assert found(kb, "confidential") == []
    assert kb.problems == {}


def test_hidden_folders_and_files_are_ignored(root: Path) -> None:
    write(root, ".git/notes.md", "# Git internals\n\nplumbing\n")
    write(root, ".drafts/refund.md", "# Draft refund policy\n\nplumbing draft\n")
    write(root, "returns/.scratch.md", "# Scratch\n\nplumbing scratch\n")
    kb = KnowledgeBase.load(root)
    assert sorted(kb.articles) == [
        "account/password.md",
        "returns/refund-status.md",
        "shipping/delivery.md",
    ]
    assert found(kb, "plumbing") == []
    result = kb.refresh([root / ".drafts" / "refund.md", root / "returns" / ".scratch.md"])
    assert result.changed == 0
    assert found(kb, "plumbing") == []


def test_files_that_are_not_markdown_and_outside_paths_are_ignored(
    tmp_path: Path, root: Path
) -> None:
    kb = KnowledgeBase.load(root)
    other = write(tmp_path, "elsewhere.md", "# Elsewhere\n")
    text = write(root, "readme.txt", "# Text\n")
    assert kb.refresh([other, text]).changed == 0
    assert len(kb.articles) == 3


def test_the_synonym_table_loads_reloads_and_keeps_its_last_good_version(root: Path) -> None:
    table = write(root, "_synonyms.toml", 'refund = ["dosh"]\n')
    kb = KnowledgeBase.load(root)
    assert table in kb.article_paths()
    assert "_synonyms.toml" not in kb.articles  # a table, not an article
    assert found(kb, "dosh") == ["returns/refund-status.md"]
    assert kb.refresh([table]).changed == 0  # unchanged: nothing to report

    write(root, "_synonyms.toml", 'refund = ["dosh"]\n"password reset" = ["locked out"]\n')
    result = kb.refresh([table])
    assert result.updated == ("_synonyms.toml",)
    assert found(kb, "locked out") == ["account/password.md"]

    write(root, "_synonyms.toml", 'refund = ["dosh"]\ndelivery = "p&p"\n')
    result = kb.refresh([table])
    assert result.changed == 0
    assert [str(p) for p in result.problems] == [
        "_synonyms.toml:2: 'p&p': no words (one-letter words don't count)"
    ]
    assert str(kb.problems["_synonyms.toml"]).startswith("_synonyms.toml:2: ")
    assert found(kb, "locked out") == ["account/password.md"]  # the last good table serves

    write(root, "_synonyms.toml", 'refund = ["dosh"]\ndelivery = ["postage"]\n')
    result = kb.refresh([table])
    assert result.updated == ("_synonyms.toml",)
    assert kb.problems == {}
    assert found(kb, "postage") == ["shipping/delivery.md"]
    assert found(kb, "locked out") == []

    table.unlink()
    result = kb.refresh([table])
    assert result.removed == ("_synonyms.toml",)
    assert found(kb, "dosh") == []
    assert kb.refresh([table]).changed == 0


def test_a_synonym_table_that_never_loaded_is_listed_then_cleared_by_deletion(root: Path) -> None:
    table = write(root, "_synonyms.toml", "refund = [\n")
    kb = KnowledgeBase.load(root)
    assert kb.problems["_synonyms.toml"].line == 2
    assert "broken TOML" in kb.problems["_synonyms.toml"].reason
    assert len(kb.articles) == 3  # the articles load all the same
    table.unlink()
    assert kb.refresh([table]).removed == ("_synonyms.toml",)
    assert kb.problems == {}


def test_only_the_table_at_the_root_counts(tmp_path: Path, root: Path) -> None:
    write(root, "returns/_synonyms.toml", 'refund = ["dosh"]\n')
    outside = write(tmp_path, "elsewhere/_synonyms.toml", 'refund = ["dosh"]\n')
    kb = KnowledgeBase.load(root)
    assert found(kb, "dosh") == []
    assert kb.refresh([root / "returns" / "_synonyms.toml", outside]).changed == 0
    (root / "_synonyms.toml").symlink_to(outside)  # a link leading out is not followed
    assert kb.refresh([root / "_synonyms.toml"]).changed == 0
    assert found(kb, "dosh") == []
