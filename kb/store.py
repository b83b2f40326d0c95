"""The knowledge base in memory: every article of a folder, its problems, and its index."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from frontdesk.kb.article import Article, ArticleError, parse_article
from frontdesk.kb.index import InvertedIndex
from frontdesk.kb.search import Hit, search
from frontdesk.kb.synonyms import SYNONYMS_FILE, Synonyms, load_synonyms


@dataclass(frozen=True, slots=True)
class Reload:
    """What one refresh changed."""

    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    problems: tuple[ArticleError, ...] = ()

    @property
    def changed(self) -> int:
        return len(self.updated) + len(self.removed)


@dataclass
class KnowledgeBase:
    """Articles by path relative to `root`, and the synonym table (`_synonyms.toml` at the
    root). A file that breaks on reload keeps its last good version in service, and its
    problem is listed until it is fixed or deleted."""

    root: Path
    articles: dict[str, Article] = field(default_factory=dict)
    problems: dict[str, ArticleError] = field(default_factory=dict)
    index: InvertedIndex = field(default_factory=InvertedIndex)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def load(cls, root: Path) -> KnowledgeBase:
        """Read every article under `root`."""
        kb = cls(root.resolve())
        kb.refresh(kb.article_paths())
        return kb

    @property
    def synonyms_path(self) -> Path:
        return self.root / SYNONYMS_FILE

    def article_paths(self) -> list[Path]:
        """Every file the knowledge base is built from: each Markdown file under the root,
        hidden folders (such as .git) excluded, and the synonym table when there is one."""
        paths = [self.synonyms_path] if self.synonyms_path.is_file() else []
        for path in sorted(self.root.rglob("*.md")):
            rel = path.relative_to(self.root)
            if any(part.startswith(".") for part in rel.parts):
                continue
            paths.append(path)
        return paths

    def refresh(self, paths: Iterable[Path]) -> Reload:
        """Re-read the given files (created, modified or deleted) and update the index."""
        updated: list[str] = []
        removed: list[str] = []
        problems: list[ArticleError] = []
        for path in paths:
            if path.absolute() == self.synonyms_path:
                self._refresh_synonyms(updated, removed, problems)
                continue
            rel = self._relative(path)
            if rel is None:
                continue
            if not path.is_file():
                with self.lock:
                    gone = self.articles.pop(rel, None) is not None
                    gone = self.problems.pop(rel, None) is not None or gone
                    self.index.remove(rel)
                if gone:
                    removed.append(rel)
                continue
            try:
                article = parse_article(path, self.root)
            except ArticleError as exc:
                with self.lock:
                    self.problems[rel] = exc
                problems.append(exc)
                continue
            with self.lock:
                # A fix that restores the last good text is still news: its problem is gone.
                fixed = self.problems.pop(rel, None) is not None
                if self.articles.get(rel) == article and not fixed:
                    continue
                self.articles[rel] = article
                self.index.add(article)
            updated.append(rel)
        return Reload(tuple(updated), tuple(removed), tuple(problems))

    def _refresh_synonyms(
        self, updated: list[str], removed: list[str], problems: list[ArticleError]
    ) -> None:
        """Reload the synonym table; like an article, a broken save keeps the last good
        table in service, and a deleted file leaves search without synonyms. A symlink that
        leads out of the folder counts as no file, as for articles."""
        path = self.synonyms_path
        if not (path.is_file() and path.resolve().is_relative_to(self.root)):
            with self.lock:
                gone = self.problems.pop(SYNONYMS_FILE, None) is not None
                if self.index.synonyms.digest:  # a table was loaded, even an empty one
                    self.index.set_synonyms(Synonyms())
                    gone = True
            if gone:
                removed.append(SYNONYMS_FILE)
            return
        try:
            table = load_synonyms(path, SYNONYMS_FILE)
        except ArticleError as exc:
            with self.lock:
                self.problems[SYNONYMS_FILE] = exc
            problems.append(exc)
            return
        with self.lock:
            fixed = self.problems.pop(SYNONYMS_FILE, None) is not None
            if table.digest == self.index.synonyms.digest and not fixed:
                return
            self.index.set_synonyms(table)
        updated.append(SYNONYMS_FILE)

    def _relative(self, path: Path) -> str | None:
        """The path relative to the root, or None for files that are not articles here.

        A symlink that leads out of the folder is not followed: the gatekeeper reviews what
        is in the folder, nothing else.
        """
        if path.suffix != ".md":
            return None
        try:
            rel = path.absolute().relative_to(self.root)
            if path.exists():
                path.resolve().relative_to(self.root)
        except ValueError:
            return None
        if any(part.startswith(".") for part in rel.parts):
            return None
        return rel.as_posix()

    def search(self, query: str, *, limit: int = 10, channel: str | None = None) -> list[Hit]:
        with self.lock:
            return search(self.index, query, limit=limit, channel=channel)

    def by_id(self, article_id: str) -> Article | None:
        with self.lock:
            for article in self.articles.values():
                if article.id == article_id or article.path == article_id:
                    return article
        return None
