"""Hot reload: watch the knowledge-base folder and refresh only the files that changed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from pathlib import Path

from watchfiles import Change, DefaultFilter, awatch

from frontdesk.kb.store import KnowledgeBase, Reload
from frontdesk.kb.synonyms import SYNONYMS_FILE

# watchfiles groups a burst of changes until none arrives for STEP_MS (or DEBOUNCE_MS
# passes), so a 500-file `git checkout` costs one or two refreshes, and a single saved
# edit is searchable about STEP_MS after the editor's rename lands.
STEP_MS = 50
DEBOUNCE_MS = 1600


class ArticleFilter(DefaultFilter):
    """Markdown files, the synonym table, and folders, outside hidden folders; editors' swap
    and backup files are ignored. Folders count because a folder moved in, out or renamed
    arrives as one event for the folder, and files written into a brand-new folder before
    the watcher has added it arrive as no event at all."""

    def __call__(self, change: Change, path: str) -> bool:
        if not super().__call__(change, path):
            return False
        if path.endswith(".md") or Path(path).name == SYNONYMS_FILE:
            return True
        # A folder that appeared, or any path that went away (it may have been a folder).
        return (change == Change.added and Path(path).is_dir()) or change == Change.deleted


def affected(kb: KnowledgeBase, changes: Iterable[tuple[Change, str]]) -> list[Path]:
    """The article files behind a batch of changes: a folder stands for what is inside it."""
    paths: set[Path] = set()
    gone: list[str] = []  # folder prefixes relative to the root, "returns/"
    for change, raw in changes:
        path = Path(raw)
        if (path.suffix == ".md" or path.name == SYNONYMS_FILE) and not path.is_dir():
            paths.add(path)
        elif change == Change.added and path.is_dir():
            paths.update(path.rglob("*.md"))
        elif change == Change.deleted and path.is_relative_to(kb.root) and path != kb.root:
            gone.append(path.relative_to(kb.root).as_posix() + "/")
    if gone:
        with kb.lock:
            known = [*kb.articles, *kb.problems]
        paths.update(kb.root / rel for rel in known if rel.startswith(tuple(gone)))
    return sorted(paths)


def _refresh(kb: KnowledgeBase, changes: set[tuple[Change, str]]) -> Reload:
    return kb.refresh(affected(kb, changes))


async def watch(
    kb: KnowledgeBase,
    on_reload: Callable[[Reload], None],
    *,
    stop: asyncio.Event | None = None,
    force_polling: bool | None = None,
) -> None:
    """Refresh `kb` after every burst of changes and report each refresh to `on_reload`.

    The parse and index work runs in a thread so an event loop (the workstation's) never
    waits on the disk.
    """
    async for changes in awatch(
        kb.root,
        watch_filter=ArticleFilter(),
        step=STEP_MS,
        debounce=DEBOUNCE_MS,
        stop_event=stop,
        force_polling=force_polling,
        recursive=True,
    ):
        result = await asyncio.to_thread(_refresh, kb, changes)
        if result.changed or result.problems:
            on_reload(result)
