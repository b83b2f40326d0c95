"""`frontdesk`: the command line parser and the one place errors become a single line."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from frontdesk.core import __version__

Handler = Callable[[argparse.Namespace], int]


def _interval(text: str) -> tuple[float, float]:
    low, sep, high = text.partition("-")
    try:
        bounds = (float(low), float(high if sep else low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not MIN-MAX seconds, e.g. 3-10") from None
    if not 0 < bounds[0] <= bounds[1]:
        raise argparse.ArgumentTypeError(f"{text!r}: need 0 < MIN <= MAX")
    return bounds


def _id(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a conversation id") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a conversation id")
    return number


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand, its options and its handler."""
    from frontdesk.tui.cli import (
        admin,
        broadcast,
        channels,
        crisis,
        engage,
        feedback,
        ideas,
        kb,
        listen,
        report,
        run,
        sync,
        work,
    )

    parser = argparse.ArgumentParser(
        prog="frontdesk",
        description="A terminal workstation for a social-media customer-care team.",
    )
    parser.add_argument("--version", action="version", version=f"frontdesk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    p = command("open", run.workstation, "open the workstation (the default command)")
    p.add_argument("--kb", metavar="DIR", help="the knowledge-base folder (overrides config)")
    p = command("init", admin.init, "create (or upgrade) the database named by the config")
    p.add_argument("--group", help="let every member of this Unix group write the SQLite file")
    db = command("db", admin.db_help, "database maintenance")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="apply pending schema migrations")
    up.set_defaults(handler=admin.upgrade)
    p = command("doctor", admin.doctor, "check the database, its permissions and the playbook")
    p.add_argument("--json", action="store_true")
    p = command("demo", admin.demo, "create a throw-away demo workspace and show its queue")
    p.add_argument("--dir", help="where to create it (default: a new temporary folder)")
    p.add_argument("--conversations", type=int, default=300, help="how many (default 300)")
    p.add_argument("--no-ui", action="store_true", help="print the queue instead of opening")
    p.add_argument(
        "--no-live",
        dest="live",
        action="store_false",
        help="no new messages while the workstation is open",
    )
    p.add_argument(
        "--arrivals",
        type=_interval,
        default=(3.0, 10.0),
        metavar="MIN-MAX",
        help="seconds between live arrivals (default 3-10)",
    )
    p = command("ingest", work.ingest, "read JSON Lines of inbound messages (FILE or -)")
    p.add_argument("file", nargs="?", default="-")
    p.add_argument("--json", action="store_true")
    p = command("queue", work.queue, "list the queue, most urgent first")
    p.add_argument("--status", action="append", help="new, open, waiting, resolved, closed")
    p.add_argument("--mine", action="store_true", help="only conversations you hold")
    p.add_argument("--unclaimed", action="store_true", help="only conversations nobody holds")
    p.add_argument("--channel", choices=["x", "facebook", "email"])
    p.add_argument("--team", help="only conversations routed to this team")
    p.add_argument("--tag", help="only conversations carrying this tag")
    p.add_argument("--stream", help="only conversations a listening stream started")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p = command("show", work.show, "a conversation with its messages")
    p.add_argument("id", type=_id)
    p.add_argument("--json", action="store_true")
    p = command("claim", work.claim, "claim a conversation, or the most urgent one")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("id", type=_id, nargs="?")
    target.add_argument("--next", action="store_true")
    p.add_argument("--json", action="store_true")
    p = command("release", work.release, "give a conversation back to the queue")
    p.add_argument("id", type=_id)
    p = command("reassign", work.reassign, "hand a conversation to another operator (supervisors)")
    p.add_argument("id", type=_id)
    p.add_argument("--to", required=True, metavar="LOGIN")
    p = command("reply", work.reply, "queue a reply (you must hold the claim)")
    p.add_argument("id", type=_id)
    p.add_argument("--text", required=True)
    p.add_argument("--seen-version", type=int, help="refuse if the thread changed since this")
    p.add_argument("--json", action="store_true")
    p = command("note", work.note, "add an internal note")
    p.add_argument("id", type=_id)
    p.add_argument("--text", required=True)
    p = command("resolve", work.resolve, "mark a conversation resolved and release it")
    p.add_argument("id", type=_id)
    p = command("events", work.events, "the audit log and change feed")
    p.add_argument("--after", type=int, default=0)
    p.add_argument("--follow", action="store_true", help="keep printing new events")
    p.add_argument("--json", action="store_true")
    kb.register(sub)
    channels.register(sub)
    sync.register(sub)
    listen.register(sub)
    engage.register(sub, _id)
    broadcast.register(sub, _id)
    ideas.register(sub, _id)
    report.register(sub, _id)
    feedback.register(sub, _id)
    crisis.register(sub, _id)
    return parser


def _open_parser() -> argparse.ArgumentParser:
    """`frontdesk [open]` alone, with the same options as in build_parser."""
    from frontdesk.tui.cli import run

    parser = argparse.ArgumentParser(
        prog="frontdesk open", description="open the workstation (the default command)"
    )
    parser.add_argument("--kb", metavar="DIR", help="the knowledge-base folder (overrides config)")
    parser.set_defaults(handler=run.workstation)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every error is one line on stderr and a non-zero exit."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in ("--version", "-V"):
        print(f"frontdesk {__version__}")
        return 0
    # Opening the workstation is the common case and start-up time is what the operator
    # feels: it skips the full parser, whose subcommands import the whole database layer.
    if not args_list or args_list[0] == "open":
        parser = _open_parser()
        args = parser.parse_args(args_list[1:])
    else:
        parser = build_parser()
        args = parser.parse_args(args_list)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    from frontdesk.core.errors import FrontdeskError
    from frontdesk.tui.cli.output import error

    try:
        return int(args.handler(args))
    except FrontdeskError as exc:
        error(exc.message)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if os.environ.get("FRONTDESK_DEBUG"):
            traceback.print_exc()
        error(f"internal error: {type(exc).__name__}: {exc} (FRONTDESK_DEBUG=1 shows where)")
        return 70


if __name__ == "__main__":
    raise SystemExit(main())
