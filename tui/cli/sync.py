"""CLI of the channel service: `frontdesk sync` itself, and `frontdesk schedule` for posts."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from frontdesk.core import scheduled
from frontdesk.core.clock import as_utc
from frontdesk.core.errors import InvalidInput
from frontdesk.tui.cli.context import open_desk
from frontdesk.tui.cli.output import block, emit_json, line, table

# What a log line may carry besides time, level and event (set by core via `extra=`).
LOG_FIELDS = (
    "account",
    "counts",
    "errors",
    "until",
    "accounts",
    "once",
    "clean",
    "reason",
    "step",
    "file",
    "line",
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `sync` and `schedule` to the top-level parser."""
    text = "pull every channel into the queue and send queued replies (the service)"
    p = sub.add_parser("sync", help=text, description=text)
    p.add_argument("--once", action="store_true", help="one pass over every account, then exit")
    p.add_argument("--channel", metavar="NAME", help="only this account, or accounts of a type")
    p.add_argument(
        "--config",
        metavar="PATH",
        help="sync's own config (default: $FRONTDESK_SYNC_CONFIG, else /etc/frontdesk/sync.toml)",
    )
    p.add_argument("--log-level", choices=["debug", "info", "warning", "error"], default="info")
    p.set_defaults(handler=run_sync)

    text = "scheduled posts: add, list, cancel, and the hold switch that stops them all"
    p = sub.add_parser("schedule", help=text, description=text)
    p.set_defaults(handler=lambda _args: _help(p))
    actions = p.add_subparsers(dest="schedule_command", metavar="ACTION")
    q = actions.add_parser("add", help="schedule a post on an account")
    q.add_argument("--account", required=True, help="the account's name in sync's config")
    q.add_argument("--at", required=True, metavar="WHEN", help="e.g. 2026-12-01T09:30 (local)")
    q.add_argument("--text", required=True)
    q.set_defaults(handler=schedule_add)
    q = actions.add_parser("list", help="posts not yet published, and the hold switch")
    q.add_argument("--all", action="store_true", help="published posts too")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=schedule_list)
    q = actions.add_parser("cancel", help="take a scheduled (or failed) post off the list")
    q.add_argument("post_id", type=int, metavar="ID")
    q.set_defaults(handler=schedule_cancel)
    q = actions.add_parser("hold", help="stop every scheduled post until released")
    q.add_argument("--reason", default="", help="shown to everyone who lists the posts")
    q.set_defaults(handler=schedule_hold)
    q = actions.add_parser("release", help="let scheduled posts go again (supervisors)")
    q.set_defaults(handler=schedule_release)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, event, then whatever the record carries."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", record.name),
            "message": record.getMessage(),
        }
        for key in LOG_FIELDS:
            if hasattr(record, key):
                out[key] = getattr(record, key)
        if record.exc_info:
            out["traceback"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def run_sync(args: argparse.Namespace) -> int:
    from frontdesk.core import sync_config
    from frontdesk.core.sync import SyncService
    from frontdesk.core.sync_lock import SyncLock
    from frontdesk.core.sync_loop import SyncLoop

    config = sync_config.load(sync_config.resolve_path(args.config))
    accounts = sync_config.select(config, args.channel)
    desk = open_desk(report_playbook=False)  # the loop logs a broken playbook, as JSON
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    logger = logging.getLogger("frontdesk.sync")
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(args.log_level.upper())
    logger.propagate = False  # one format on stderr, whatever the root logger does
    stop = threading.Event()

    reason: list[str] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        # Only flags here: the loop notices them between steps and says why it stopped
        # (logging from a signal handler could interleave with a line being written).
        reason.append(signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    lock = SyncLock(desk.db)
    connectors = {}
    try:
        lock.acquire(wait=config.options.lock_wait_seconds)
        connectors = sync_config.build(accounts)
        service = SyncService(
            desk.db,
            connectors,
            sla=desk.settings.sla,
            intake=_intake(desk),
            playbooks=desk.playbook_store if desk.playbook_store.has_file else None,
            channels={n: sync_config.queue_channel(a) for n, a in accounts.items()},
            batch=config.options.batch,
            budget=config.options.budget,
            streams=sync_config.streams(accounts),
        )
        loop = SyncLoop(
            service,
            poll_seconds={n: a.poll_seconds for n, a in accounts.items()},
            drain_seconds=config.options.drain_seconds,
            stop=stop,
        )
        loop.reason = reason
        clean = loop.run(once=args.once)
    finally:
        for connector in connectors.values():
            connector.close()
        lock.release()
        desk.db.dispose()
        for signum, old in previous.items():
            signal.signal(signum, old)
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
    # A single pass is for scripts, which want to know that something went wrong; the
    # service reports its errors in the log and in `frontdesk status`, and keeps going.
    return 0 if clean or not args.once else 1


def parse_when(value: str) -> datetime:
    """An ISO 8601 time; without an offset it is local time."""
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{value!r} is not a time like 2026-12-01T09:30") from None
    return as_utc(when.astimezone() if when.tzinfo is None else when)


def schedule_add(args: argparse.Namespace) -> int:
    desk = open_desk()
    with desk.db.write() as session:
        post = scheduled.schedule(
            session,
            account=args.account,
            body=args.text,
            publish_at=parse_when(args.at),
            by=desk.login,
            now=desk.clock(),
        )
        held = scheduled.hold_state(session)
    local = as_utc(post.publish_at).astimezone()
    line(f"scheduled post {post.id} on {post.account} at {local:%Y-%m-%d %H:%M %Z}")
    if held is not None:
        line(f"the hold is on (since {held.since.astimezone():%H:%M}, by {held.by}): it waits")
    return 0


def schedule_list(args: argparse.Namespace) -> int:
    desk = open_desk()
    with desk.db.read() as session:
        rows = scheduled.posts(session, everything=args.all)
        held = scheduled.hold_state(session)
    if args.json:
        emit_json(
            {
                "hold": None
                if held is None
                else {"by": held.by, "since": held.since.isoformat(), "reason": held.reason},
                "posts": [
                    {
                        "id": p.id,
                        "account": p.account,
                        "publish_at": as_utc(p.publish_at).isoformat(),
                        "state": scheduled.status_of(p, held),
                        "external_id": p.external_id,
                        "last_error": p.last_error,
                        "created_by": p.created_by,
                        "text": p.body,
                    }
                    for p in rows
                ],
            }
        )
        return 0
    if held is not None:
        reason = f": {held.reason}" if held.reason else ""
        line(f"HOLD ON since {held.since.astimezone():%Y-%m-%d %H:%M} by {held.by}{reason}")
        line("no scheduled post is published until a supervisor runs `frontdesk schedule release`")
    if not rows:
        line("no scheduled posts")
        return 0
    table(
        ["ID", "ACCOUNT", "WHEN", "STATE", "BY", "LAST ERROR"],
        [
            [
                str(p.id),
                p.account,
                f"{as_utc(p.publish_at).astimezone():%Y-%m-%d %H:%M}",
                scheduled.status_of(p, held),
                p.created_by,
                p.last_error or "-",
            ]
            for p in rows
        ],
    )
    for p in rows:
        line(f"#{p.id}:")
        block(p.body)
    return 0


def schedule_cancel(args: argparse.Namespace) -> int:
    desk = open_desk()
    with desk.db.write() as session:
        post = scheduled.cancel(session, args.post_id, by=desk.login, now=desk.clock())
    line(f"scheduled post {post.id} cancelled")
    return 0


def schedule_hold(args: argparse.Namespace) -> int:
    desk = open_desk()
    with desk.db.write() as session:
        held = scheduled.hold(session, by=desk.login, reason=args.reason, now=desk.clock())
    line(f"hold on (since {held.since.astimezone():%H:%M}, by {held.by}): no scheduled post goes")
    return 0


def schedule_release(args: argparse.Namespace) -> int:
    desk = open_desk()
    operator = desk.operator()
    with desk.db.write() as session:
        released = scheduled.release(session, operator=operator, now=desk.clock())
    line("the hold was not on" if released is None else "hold released: scheduled posts go again")
    return 0


def _intake(desk: Any) -> Any:
    # The playbook pulls in the rule engines: only a running sync needs them.
    from frontdesk.core.intake import Intake

    return Intake(desk.playbook)
