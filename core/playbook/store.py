"""The playbook file kept in force: reloaded on change, the last good version kept on error."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from watchfiles import Change, DefaultFilter, awatch

from frontdesk.core.playbook import last_good
from frontdesk.core.playbook.base import PlaybookError
from frontdesk.core.playbook.config import FILENAME, parse_playbook
from frontdesk.core.playbook.playbook import Playbook

# The same rhythm as the knowledge-base watcher: one reload per burst of saves.
STEP_MS = 50
DEBOUNCE_MS = 1600


@dataclass(frozen=True, slots=True)
class PlaybookReload:
    """What one reload did: whether a new playbook came into force, and the problem if the
    file was not usable (the previous playbook then stays in force)."""

    changed: bool
    problem: PlaybookError | None = None


def playbook_path(kb_dir: Path) -> Path:
    """Where the playbook lives: next to the articles, in the knowledge-base folder."""
    return kb_dir / FILENAME


@dataclass
class PlaybookStore:
    """The playbook in force for `path`. A missing file means the built-in defaults; an
    invalid file keeps the last good playbook (the defaults if there never was one) and its
    problem is listed until the file is fixed."""

    path: Path
    playbook: Playbook = field(default_factory=Playbook)
    problem: PlaybookError | None = None
    digest: str | None = None
    keep: Path | None = None
    """Where the last good file is copied for the next process (None: nowhere)."""
    origin: str = "defaults"
    read_only: bool = False
    """Recall the kept copy but never write it (a health check must change nothing)."""
    """Where `playbook` came from: "file", "copy" (the kept copy) or "defaults"."""
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def open(cls, path: Path, *, keep: bool = True, read_only: bool = False) -> PlaybookStore:
        """Load `path` without raising: a broken file shows up as `problem`, and the last
        good copy kept by an earlier process (core/playbook/last_good.py) is put in force."""
        store = cls(path, keep=last_good.copy_path(path) if keep else None, read_only=read_only)
        store.reload()
        if store.problem is not None:
            store._recall()
        return store

    @property
    def has_file(self) -> bool:
        """False for the stand-in used when no playbook file is configured."""
        return self.path != Path()

    @property
    def fallback(self) -> str:
        """What is in force while the file has a problem."""
        with self.lock:
            origin = self.origin
        if origin == "file":
            return "the last good version stays in force"
        if origin == "copy":
            return f"the last good copy ({self.keep}) is in force"
        return "the built-in defaults are in force"

    @property
    def warning(self) -> str | None:
        """One line for a shell to show when the file's current text is not in force."""
        with self.lock:
            problem = self.problem
        return None if problem is None else f"{problem}; {self.fallback}"

    @property
    def current(self) -> Playbook:
        with self.lock:
            return self.playbook

    def reload(self, *, settle: float = 0.0) -> PlaybookReload:
        """Read the file again; a byte-identical file costs one hash and changes nothing. With
        `settle`, a file modified less than that many seconds ago is left for a later call:
        an editor that writes in place may not have finished, and half a file can parse."""
        try:
            if settle and 0 <= time.time() - self.path.stat().st_mtime < settle:
                with self.lock:
                    return PlaybookReload(False, self.problem)
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return self._install(Playbook(), None)
        except OSError as exc:
            return self._fail(PlaybookError(str(self.path), 0, f"cannot read: {exc.strerror}"))
        digest = hashlib.sha256(raw).hexdigest()
        with self.lock:
            if digest == self.digest:
                return PlaybookReload(False, self.problem)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problem = PlaybookError(str(self.path), 0, f"not UTF-8 text (byte {exc.start})")
            return self._fail(problem, digest)
        try:
            playbook = Playbook(parse_playbook(text, str(self.path)), source=str(self.path))
        except PlaybookError as exc:
            return self._fail(exc, digest)
        if self.keep is not None and not self.read_only:
            last_good.save(self.keep, raw)  # best effort: without it, only this process knows
        return self._install(playbook, digest)

    def _install(self, playbook: Playbook, digest: str | None) -> PlaybookReload:
        with self.lock:
            if digest is None and self.digest is None and self.problem is None:
                return PlaybookReload(False)  # still no file: the defaults stay
            self.playbook, self.digest, self.problem = playbook, digest, None
            self.origin = "defaults" if digest is None else "file"
        return PlaybookReload(True)

    def _recall(self) -> None:
        """At start on a broken file: the last good copy, if there is one and it parses."""
        text = last_good.recall(self.keep) if self.keep is not None else None
        if text is None:
            return
        try:
            playbook = Playbook(parse_playbook(text, str(self.keep)), source=str(self.keep))
        except PlaybookError:
            return  # kept by another frontdesk version that took keys this one does not
        with self.lock:
            self.playbook, self.origin = playbook, "copy"

    def _fail(self, problem: PlaybookError, digest: str | None = None) -> PlaybookReload:
        with self.lock:
            self.problem, self.digest = problem, digest
        return PlaybookReload(False, problem)


class PlaybookFilter(DefaultFilter):
    """Only the playbook file itself; editors save by writing a new file and renaming it,
    which arrives as an `added` for the playbook's own name."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def __call__(self, change: Change, path: str) -> bool:
        return Path(path).name == self.name and super().__call__(change, path)


async def watch(
    store: PlaybookStore,
    on_reload: Callable[[PlaybookReload], None],
    *,
    stop: asyncio.Event | None = None,
    force_polling: bool | None = None,
) -> None:
    """Reload `store` after every burst of changes to its file and report each reload that
    changed something or found a problem. The folder is watched, not the file, so a file
    that is replaced, deleted or created later is still seen."""
    async for _changes in awatch(
        store.path.parent,
        watch_filter=PlaybookFilter(store.path.name),
        step=STEP_MS,
        debounce=DEBOUNCE_MS,
        stop_event=stop,
        force_polling=force_polling,
        recursive=False,
    ):
        result = await asyncio.to_thread(store.reload)
        if result.changed or result.problem:
            on_reload(result)
