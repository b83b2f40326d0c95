"""`frontdesk report` (the figures of a period from the event log) and `frontdesk refer`."""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from frontdesk.core.errors import InvalidInput
from frontdesk.core.metrics_model import GROUPINGS, Figures, Report, duration
from frontdesk.tui.cli.context import open_desk
from frontdesk.tui.cli.output import emit_json, line, table

FORMATS = ("table", "csv", "json")
DEFAULT_DAYS = 7
_RELATIVE = re.compile(r"^(\d+)([hdw])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], conv_id: Callable[[str], int]
) -> None:
    """Add `report` and `refer` to the top-level parser."""
    text = "the figures of a period, computed from the event log"
    p = sub.add_parser("report", help=text, description=text)
    p.set_defaults(handler=report)
    p.add_argument("--since", help=f"ISO date or time (UTC unless zoned), or 24h, 7d, 4w before"
                   f" --until (default {DEFAULT_DAYS}d)")  # fmt: skip
    p.add_argument("--until", help="ISO date or time, excluded (default: now)")
    p.add_argument("--by", metavar="|".join(GROUPINGS), help="one row per group as well")
    p.add_argument("--format", default="table", metavar="|".join(FORMATS))
    text = "record that the customer was sent to phone or email to finish"
    p = sub.add_parser("refer", help=text, description=text)
    p.set_defaults(handler=refer)
    p.add_argument("id", type=conv_id)
    p.add_argument("--to", required=True, metavar="phone|email")
    p.add_argument("--note", default="")


def parse_when(text: str, *, before: datetime | None = None) -> datetime:
    """An ISO 8601 date or time (naive means UTC), or `Nh`/`Nd`/`Nw` before `before`.

    Raises:
        InvalidInput: anything else.
    """
    value = text.strip()
    relative = _RELATIVE.match(value)
    if relative and before is not None:
        return before - int(relative.group(1)) * _UNITS[relative.group(2)]
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        hint = "2026-12-01, 2026-12-01T09:00+01:00" + (" or 7d" if before else "")
        raise InvalidInput(f"{text!r} is not a date or time (try {hint})") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def period(since: str | None, until: str | None, now: datetime) -> tuple[datetime, datetime]:
    """The report's [since, until) from the options (defaults: the last 7 days up to now)."""
    end = parse_when(until) if until else now
    start = parse_when(since, before=end) if since else end - timedelta(days=DEFAULT_DAYS)
    if end <= start:
        raise InvalidInput(f"--until {end.isoformat()} is not after --since {start.isoformat()}")
    return start, end


def report(args: argparse.Namespace) -> int:
    if args.format not in FORMATS:
        raise InvalidInput(f"--format {args.format!r}: choose from {', '.join(FORMATS)}")
    if args.by is not None and args.by not in GROUPINGS:
        raise InvalidInput(f"--by {args.by!r}: choose from {', '.join(GROUPINGS)}")
    desk = open_desk()
    since, until = period(args.since, args.until, desk.clock())
    result = desk.report(since, until, args.by)
    if args.format == "json":
        emit_json(result.as_json())
    elif args.format == "csv":
        write_csv(result)
    else:
        print_table(result)
    return 0


def refer(args: argparse.Namespace) -> int:
    open_desk().refer(args.id, args.to, args.note)
    line(f"#{args.id} referred to {args.to}: its resolution will not count as in the channel")
    return 0


def write_csv(result: Report) -> None:
    """The total and each group as rows, every figure a column (empty when there is none)."""
    rows = result.rows()
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(list(rows[0]))
    for row in rows:
        writer.writerow(["" if v is None else v for v in row.values()])


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


_LINES: list[tuple[str, Callable[[Figures], str]]] = [
    ("conversations", lambda f: str(f.conversations)),
    ("messages in", lambda f: str(f.messages_in)),
    ("replies", lambda f: str(f.replies)),
    ("handled", lambda f: str(f.handled)),
    ("first response median", lambda f: duration(f.first_response.wall.median)),
    ("first response p90", lambda f: duration(f.first_response.wall.p90)),
    ("  business median", lambda f: duration(f.first_response.business.median)),
    ("  business p90", lambda f: duration(f.first_response.business.p90)),
    ("next response median", lambda f: duration(f.next_response.wall.median)),
    ("next response p90", lambda f: duration(f.next_response.wall.p90)),
    ("  business median", lambda f: duration(f.next_response.business.median)),
    ("  business p90", lambda f: duration(f.next_response.business.p90)),
    ("SLA compliance", lambda f: _pct(f.sla_compliance)),
    ("  met / breached", lambda f: f"{f.sla_met}/{f.sla_breached}"),
    ("resolved", lambda f: str(f.resolved)),
    ("resolution median", lambda f: duration(f.resolution.wall.median)),
    ("resolution p90", lambda f: duration(f.resolution.wall.p90)),
    ("  business median", lambda f: duration(f.resolution.business.median)),
    ("resolved in channel", lambda f: _pct(f.in_channel)),
    ("referred", lambda f: str(f.referred)),
    ("sign-offs requested", lambda f: str(f.signoffs_requested)),
    ("  approved / rejected", lambda f: f"{f.signoffs_approved}/{f.signoffs_rejected}"),
    ("praise answered", lambda f: f"{f.praise_answered}/{f.praise}"),
    ("complaints answered", lambda f: f"{f.complaints_answered}/{f.complaints}"),
    ("CSAT average (n)", lambda f: f"{_num(f.csat.average)} ({f.csat.count})"),
    ("CSAT 1-5", lambda f: " ".join(str(f.csat.distribution.get(s, 0)) for s in range(1, 6))),
    ("NPS (n)", lambda f: f"{_num(f.nps.nps)} ({f.nps.count})"),
]


def print_table(result: Report) -> None:
    """Figures down, the total and each group across; then the backlog and the changes."""
    line(f"{result.since.isoformat()} to {result.until.isoformat()} (UTC, until excluded)")
    columns: list[tuple[str, Figures]] = [("total", result.total), *result.groups.items()]
    headers = ["", *(name for name, _ in columns)]
    rows = [[label, *(show(f) for _, f in columns)] for label, show in _LINES]
    table(headers, rows)
    line("")
    line(f"backlog: open at the end of each {result.bucket} (+opened -resolved)")
    for point in result.backlog:
        stamp = _stamp(point.start, result.bucket)
        line(f"  {stamp}  {point.open:>6}  +{point.opened} -{point.resolved}")
    line("")
    line(f"you said, we did: {len(result.changes) or 'nothing recorded'}")
    for change in result.changes:
        ids = ", ".join(f"#{i}" for i in change.conversations)
        line(f"  {change.at:%Y-%m-%d} {change.actor}: {change.summary} ({ids})")


def _stamp(start: datetime, bucket: str) -> str:
    return f"{start:%Y-%m-%d %H:00}" if bucket == "hour" else f"{start:%Y-%m-%d}"
