"""CLI commands for the channel service: `status`, `retry`, and `sync` itself."""

from __future__ import annotations

import argparse
from datetime import datetime

from frontdesk.tui.cli.context import open_desk
from frontdesk.tui.cli.output import emit_json, line, table


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `status` and `retry` to the top-level parser."""
    p = sub.add_parser(
        "status",
        help="each channel's last poll, cursor, rate limit and error, and the outbox",
        description="each channel's last poll, cursor, rate limit and error, and the outbox",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=status)
    p = sub.add_parser(
        "link",
        help="link two customer identities of one person (history spans both)",
        description="link two customer identities of one person (history spans both)",
    )
    p.add_argument("customers", type=int, nargs=2, metavar="CUSTOMER_ID")
    p.set_defaults(handler=link)
    p = sub.add_parser(
        "sweep",
        help="record SLA warnings and breaches now due (sync does this every pass)",
        description="record SLA warnings and breaches now due (sync does this every pass)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=sweep)
    p = sub.add_parser(
        "retry", help="send a failed reply again", description="send a failed reply again"
    )
    p.add_argument("outbox_id", type=int, metavar="OUTBOX_ID")
    p.set_defaults(handler=retry)


def status(args: argparse.Namespace) -> int:
    from frontdesk.core.sync_status import headline

    desk = open_desk()
    report = desk.service_status()
    if args.json:
        emit_json(report.as_json())
        return 0
    now = desk.clock()

    def when(value: datetime | None) -> str:
        return value.strftime("%Y-%m-%d %H:%M") if value is not None else "-"

    table(
        ["ACCOUNT", "CHANNEL", "LAST POLL", "RATE LEFT", "RESET", "CURSOR", "LAST ERROR"],
        [
            [
                a.account,
                a.channel,
                when(a.last_poll_at),
                "-" if a.rate_remaining is None else str(a.rate_remaining),
                when(a.rate_reset_at),
                (a.cursor or "-")[:24],
                a.last_error or "-",
            ]
            for a in report.accounts
        ],
    )
    depth = report.outbox
    line(
        f"outbox: {depth.queued} queued, {depth.sending} sending, {depth.failed} failed,"
        f" {depth.unknown} unknown"
    )
    summary = headline(report, now)
    if summary:
        line(summary)
    return 0


def retry(args: argparse.Namespace) -> int:
    item = open_desk().retry_send(args.outbox_id)
    line(f"outbox item {item.id} queued again (attempt {item.attempts + 1} next)")
    return 0


def sweep(args: argparse.Namespace) -> int:
    done = open_desk().sweep()
    if args.json:
        emit_json({"warned": done.warned, "breached": done.breached})
    else:
        line(f"{len(done.warned)} SLA warning(s), {len(done.breached)} breach(es) recorded")
    return 0


def link(args: argparse.Namespace) -> int:
    first, second = args.customers
    person = open_desk().link_customers(first, second)
    line(f"customers {first} and {second} are one person now (person {person})")
    return 0
