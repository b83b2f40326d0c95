"""CLI commands of crisis mode and staff care: crisis on/off/status, away, the abusive flag."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from frontdesk.tui.cli.context import open_desk
from frontdesk.tui.cli.output import emit_json, line


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], conv_id: Callable[[str], int]
) -> None:
    """Add crisis, away and abusive to the top-level parser."""
    p = sub.add_parser(
        "crisis", help="crisis mode (supervisors switch it)", description="crisis mode"
    )
    p.set_defaults(handler=lambda _args: _usage(p))
    actions = p.add_subparsers(dest="crisis_command", metavar="ACTION")
    on = actions.add_parser("on", help="switch crisis mode on: replies need sign-off, posts wait")
    on.add_argument("--reason", required=True)
    on.set_defaults(handler=crisis_on)
    off = actions.add_parser("off", help="switch crisis mode off and restore everything")
    off.set_defaults(handler=crisis_off)
    status = actions.add_parser("status", help="crisis mode and the spike detector's figures")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=crisis_status)

    p = sub.add_parser(
        "away",
        help="mark yourself away (no work handed out) or back",
        description="mark yourself away (claim_next refuses, your teams overflow) or back",
    )
    p.add_argument("state", choices=["on", "off", "status"])
    p.set_defaults(handler=away)

    p = sub.add_parser(
        "abusive",
        help="flag a conversation abusive (spread across operators)",
        description="flag a conversation abusive, so claim_next spreads such conversations",
    )
    p.add_argument("id", type=conv_id)
    p.add_argument("--off", action="store_true", help="take the flag off")
    p.set_defaults(handler=abusive)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def crisis_on(args: argparse.Namespace) -> int:
    state = open_desk().crisis_on(args.reason)
    line(f"crisis mode ON: {state.reason}")
    line("every reply needs sign-off; scheduled posts are held until `frontdesk crisis off`")
    return 0


def crisis_off(args: argparse.Namespace) -> int:
    done = open_desk().crisis_off()
    line("crisis mode OFF")
    if done["released_hold"]:
        line("scheduled posts go again")
    if done["rerouted"]:
        line(f"{done['rerouted']} conversation(s) back to their teams")
    return 0


def crisis_status(args: argparse.Namespace) -> int:
    desk = open_desk()
    state = desk.crisis_state()
    figures = desk.crisis_figures()
    if args.json:
        emit_json({"state": state.as_json(), "figures": figures.as_json()})
        return 0
    if state.on and state.since is not None:
        since = state.since.astimezone()
        line(f"crisis mode ON since {since:%Y-%m-%d %H:%M} by {state.by}: {state.reason}")
    else:
        line("crisis mode off")
    tripped = f" -> ALARM ({', '.join(figures.tripped)})" if figures.tripped else ""
    line(f"{figures.summary()}; alarm at {figures.factor:g}x{tripped}")
    return 0


def away(args: argparse.Namespace) -> int:
    desk = open_desk()
    if args.state == "status":
        line(f"{desk.login} is {'away' if desk.away() else 'available'}")
        return 0
    changed = desk.set_away(args.state == "on")
    state = "away" if args.state == "on" else "back"
    line(f"{desk.login} is {state}" + ("" if changed else " (already)"))
    return 0


def abusive(args: argparse.Namespace) -> int:
    conv = open_desk().flag_abusive(args.id, on=not args.off)
    line(f"#{conv.id} tags: {', '.join(conv.tags) or 'none'}")
    return 0
