"""How one queue row is drawn: SLA countdown, channel, customer, flag, preview and holder."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from frontdesk.core.clock import as_utc
from frontdesk.core.queue_peek import RowView
from frontdesk.core.text import terminal_safe

CHANNEL_MARK = {"x": "X ", "facebook": "FB", "email": "@ "}


def countdown(due: datetime | None, now: datetime) -> str:
    """Minutes left (or late) as a short label: 12m, 1h05, -3m."""
    if due is None:
        return "  --"
    seconds = int((as_utc(due) - now).total_seconds())
    sign = "-" if seconds < 0 else ""
    minutes = abs(seconds) // 60
    if minutes >= 100 * 60:
        return f"{sign}{minutes // 1440}d"
    if minutes >= 60:
        return f"{sign}{minutes // 60}h{minutes % 60:02d}"
    return f"{sign}{minutes}m"


def sla_clock(row: RowView, now: datetime) -> tuple[str, str]:
    """The countdown label and the component class that colours it."""
    label = countdown(row.due, now)
    if row.due is None:
        return label, "queue-list--dim"
    if (as_utc(row.due) - now).total_seconds() < 0:
        return label, "queue-list--late"
    if row.warn_at is not None and as_utc(row.warn_at) <= now:
        return label, "queue-list--soon"
    return label, "queue-list--ok"


def row_strip(
    row: RowView,
    *,
    width: int,
    base: Style,
    ink: Callable[[str], Style],
    clock: tuple[str, str],
    me: str,
    viewers: list[tuple[str, str]],
    marked: bool,
) -> Strip:
    """One row, `width` cells wide. Customer text is made terminal-safe and goes into plain
    Segments, never through markup; `ink` gives a component's colour (see QueueList)."""
    holder = row.holder or ""
    others = [
        f"{name}✎" if state == "typing" else name
        for name, state in viewers
        if name != me and name != holder
    ]
    who = f"{holder} +{','.join(others)}".strip() if others else holder
    holder_style = ink("queue-list--mine" if row.holder == me else "queue-list--holder")
    label, level = clock
    customer = terminal_safe(row.customer, keep_newlines=False)
    name = set_cell_size(("* " if marked else "") + customer, 16)
    who = set_cell_size(terminal_safe(who, keep_newlines=False), 12) if who else ""
    lead = [
        Segment(label.rjust(6) + " ", base + ink(level)),
        Segment(CHANNEL_MARK.get(row.channel, "? ") + " ", base),
        Segment(name + " ", base),
    ]
    tail = [Segment(" " + who, base + holder_style)] if who else []
    if row.flag:  # what the playbook asks besides a reply: sign-off, a follow-up
        lead.append(Segment(f"[{row.flag}] ", base + ink("queue-list--soon")))
    used = sum(cell_len(seg.text) for seg in lead + tail)
    preview = set_cell_size(terminal_safe(row.preview, keep_newlines=False), max(width - used, 0))
    # Joining same-style segments sends one colour sequence per run, not one per cell
    # group: about a third fewer bytes per row.
    strip = Strip([*lead, Segment(preview, base), *tail]).adjust_cell_length(width, base)
    return strip.simplify()
