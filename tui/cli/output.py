"""Printing for the CLI: JSON for scripts, plain aligned text for people, never raw controls."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from frontdesk.core.clock import as_utc
from frontdesk.core.text import terminal_safe


def emit_json(data: Any) -> None:
    """One JSON document on stdout; ASCII-escaped so no control character reaches a terminal."""
    sys.stdout.write(json.dumps(data, ensure_ascii=True, default=str) + "\n")


def line(text: str) -> None:
    """One line of human output, made terminal-safe."""
    sys.stdout.write(terminal_safe(text, keep_newlines=False) + "\n")


def block(text: str, indent: str = "    ") -> None:
    """A multi-line body (a message), made terminal-safe and indented."""
    for part in terminal_safe(text).split("\n"):
        sys.stdout.write(f"{indent}{part}\n")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Aligned columns; every cell is made terminal-safe and cut to a sane width."""
    cells = [[terminal_safe(c, keep_newlines=False) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row[:-1]):
            widths[i] = min(max(widths[i], len(cell)), 40)

    def fmt(row: Sequence[str]) -> str:
        head = [c[: widths[i]].ljust(widths[i]) for i, c in enumerate(row[:-1])]
        return "  ".join([*head, row[-1][:80]]).rstrip()

    sys.stdout.write(fmt(list(headers)) + "\n")
    for row in cells:
        sys.stdout.write(fmt(row) + "\n")


def countdown(due: datetime | None, now: datetime) -> str:
    """Time left until an SLA deadline, negative when breached ("-5m" is five minutes late)."""
    if due is None:
        return "-"
    seconds = int((as_utc(due) - now).total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds >= 86400:
        return f"{sign}{seconds // 86400}d{(seconds % 86400) // 3600}h"
    if seconds >= 3600:
        return f"{sign}{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    return f"{sign}{seconds // 60}m"


def warning(message: str) -> None:
    """One line on stderr for something the command works around (it still succeeds)."""
    sys.stderr.write("frontdesk: warning: " + terminal_safe(message, keep_newlines=False) + "\n")


def error(message: str) -> None:
    """The error's first line on stderr; any detail (both versions of a conflicting edit,
    say) follows indented. Everything is made terminal-safe."""
    first, _, rest = message.partition("\n")
    sys.stderr.write("frontdesk: " + terminal_safe(first, keep_newlines=False) + "\n")
    for part in terminal_safe(rest).split("\n") if rest else []:
        sys.stderr.write(f"    {part}\n")
