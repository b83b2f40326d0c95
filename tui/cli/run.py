"""Opening the workstation from the command line: paint first, open the desk in a worker."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from frontdesk.core.errors import ConfigError

if TYPE_CHECKING:
    from frontdesk.core.desk import Desk
    from frontdesk.core.queue_peek import RowView
    from frontdesk.tui.app import Opened


WORKSTATION_PAGE_CACHE_KIB = 512


def workstation(args: argparse.Namespace) -> int:
    """Open the workstation on the configured database and knowledge base."""
    if not sys.stdout.isatty():
        raise ConfigError("the workstation needs a terminal; use the CLI commands in scripts")
    kb_option = getattr(args, "kb", None)
    _fewer_malloc_arenas()

    def opener() -> Opened:
        # Runs in the app's worker while the first frame is on screen.
        from frontdesk.tui.app import Opened
        from frontdesk.tui.cli.context import open_desk

        # The workstation shows a broken playbook itself. Its reads are a screenful at a time,
        # and a host runs one workstation per operator: a small page cache per connection
        # keeps each one's peak RSS down (counting 100,000 rows would fill SQLite's 2 MiB).
        desk = open_desk(report_playbook=False, page_cache_kib=WORKSTATION_PAGE_CACHE_KIB)
        try:
            return Opened(desk, desk.settings.resolved_kb_dir(kb_option))
        except ConfigError as exc:
            if kb_option or os.environ.get("FRONTDESK_KB"):
                raise
            return Opened(desk, None, f"{exc}; opening without answers")

    from frontdesk.tui.app import FrontdeskApp

    return _run(FrontdeskApp(opener=opener, peeker=_peek, login=_login()))


def _peek() -> tuple[int, list[RowView]] | None:
    """The top of the open queue on the embedded SQLite default, without SQLAlchemy."""
    from datetime import UTC, datetime

    from frontdesk.core.config_files import peek_database_url
    from frontdesk.core.queue_peek import peek_open_queue

    url = peek_database_url()  # as the settings would resolve it, without pydantic
    if url is None or not url.startswith("sqlite:///"):
        return None  # PostgreSQL: the desk's own first read is as quick
    path = Path(url.removeprefix("sqlite:///").partition("?")[0])
    return peek_open_queue(path, limit=60, now=datetime.now(UTC))


def launch(desk: Desk, kb_root: Path | None) -> int:
    """Open the workstation on a desk that is already open (the demo's)."""
    if not sys.stdout.isatty():
        raise ConfigError("the workstation needs a terminal; use the CLI commands in scripts")
    _fewer_malloc_arenas()
    from frontdesk.tui.app import FrontdeskApp

    return _run(FrontdeskApp(desk, kb_root))


def _run(app: object) -> int:
    from frontdesk.tui.app import FrontdeskApp

    assert isinstance(app, FrontdeskApp)
    app.run()
    if app.failure is not None:
        raise app.failure  # the CLI prints it as its one line
    return 0


def _fewer_malloc_arenas() -> None:
    """Cap glibc's malloc arenas at two, before the app starts its worker threads.

    Every thread worker may get an arena of its own (up to eight per core) that keeps its
    freed memory; with a worker per query that is ~10 MB of peak RSS for nothing, and a
    host runs one workstation per operator. MALLOC_ARENA_MAX does the same from outside.
    """
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return  # not glibc (musl has no arenas to cap)
    m_arena_max = -8  # from malloc.h
    libc.mallopt(m_arena_max, 2)


def _login() -> str:
    from frontdesk.core.login import current_login

    return current_login()
