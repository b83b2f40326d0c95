"""Hot reload: watch the knowledge-base folder and refresh only the files that changed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from watchfiles import Change, DefaultFilter, awatch

from frontdesk.kb.store import KnowledgeBase, Reload

# watchfiles groups a burst of changes until none arrives for STEP_MS (or DEBOUNCE_MS
# passes), so a 500-file `git checkout` costs one or two refreshes, and a single saved
# edit is searchable about STEP_MS after the editor's rename lands.
STEP_MS = 50
DEBOUNCE_MS = 1600


class ArticleFilter(DefaultFilter):
    """Markdown files outside hidden folders; editors' swap and backup files are ignored."""

    def __call__(self, change: Change, path: str) -> bool:
        return path.endswith(".md") and super().__call__(change, path)


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
        paths = sorted({Path(path) for _change, path in changes})
        result = await asyncio.to_thread(kb.refresh, paths)
        if result.changed or result.problems:
            on_reload(result)
