"""CLI of listening: `frontdesk streams` (each saved search's health and volume) and
`frontdesk mute` (the rules that keep a stream's noise out of the queue)."""

from __future__ import annotations

import argparse
from datetime import datetime

from frontdesk.core.clock import as_utc
from frontdesk.tui.cli.context import open_desk
from frontdesk.tui.cli.output import emit_json, line, table


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `streams` and `mute` to the top-level parser."""
    text = "listening streams: query, last poll, matches and muted in the last 24 hours"
    p = sub.add_parser("streams", help=text, description=text)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=streams)

    text = "mute rules: keep a stream's matches by an author or with a phrase out of the queue"
    p = sub.add_parser("mute", help=text, description=text)
    p.set_defaults(handler=lambda _args: _help(p))
    actions = p.add_subparsers(dest="mute_command", metavar="ACTION")
    q = actions.add_parser("add", help="mute an author or a phrase on one stream")
    q.add_argument("--stream", required=True, help="the stream's name (frontdesk streams)")
    what = q.add_mutually_exclusive_group(required=True)
    what.add_argument("--author", metavar="HANDLE", help="a handle (@ optional) or platform id")
    what.add_argument("--phrase", help="words that mute a match wherever they appear")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=mute_add)
    q = actions.add_parser("list", help="every mute rule, with who added it and when")
    q.add_argument("--stream", help="only this stream's rules")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=mute_list)
    q = actions.add_parser("remove", help="delete a mute rule: its matches come in again")
    q.add_argument("mute_id", type=int, metavar="ID")
    q.set_defaults(handler=mute_remove)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _when(value: datetime | None) -> str:
    return as_utc(value).strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def streams(args: argparse.Namespace) -> int:
    from frontdesk.core import listening

    desk = open_desk()
    rows = listening.report(desk.db, now=desk.clock())
    if args.json:
        emit_json({"streams": [r.as_json() for r in rows]})
        return 0
    if not rows:
        line("no listening streams yet (add [[accounts.NAME.streams]] to sync's config)")
        return 0
    table(
        ["STREAM", "ACCOUNT", "LAST POLL", "24H", "MUTED", "MUTES", "QUERY / LAST ERROR"],
        [
            [
                r.name,
                r.account,
                _when(r.last_poll_at),
                str(r.matched),
                str(r.muted),
                str(r.mutes),
                r.last_error or r.query,
            ]
            for r in rows
        ],
    )
    return 0


def mute_add(args: argparse.Namespace) -> int:
    from frontdesk.core import listening

    desk = open_desk()
    kind, value = ("author", args.author) if args.author is not None else ("phrase", args.phrase)
    rule = listening.add_mute(
        desk.db, stream=args.stream, kind=kind, value=value, by=desk.login, now=desk.clock()
    )
    if args.json:
        emit_json(listening.mute_json(rule))
    else:
        line(f"mute {rule.id}: {rule.stream} no longer brings in {rule.kind} {rule.value!r}")
    return 0


def mute_list(args: argparse.Namespace) -> int:
    from frontdesk.core import listening

    rules = listening.list_mutes(open_desk().db, args.stream)
    if args.json:
        emit_json({"mutes": [listening.mute_json(r) for r in rules]})
        return 0
    if not rules:
        line("no mute rules")
        return 0
    table(
        ["ID", "STREAM", "KIND", "BY", "SINCE", "VALUE"],
        [[str(r.id), r.stream, r.kind, r.created_by, _when(r.created_at), r.value] for r in rules],
    )
    return 0


def mute_remove(args: argparse.Namespace) -> int:
    from frontdesk.core import listening

    desk = open_desk()
    rule = listening.remove_mute(desk.db, args.mute_id, by=desk.login, now=desk.clock())
    line(f"mute {rule.id} removed: {rule.stream} brings in {rule.kind} {rule.value!r} again")
    return 0
