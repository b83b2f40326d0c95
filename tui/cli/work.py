"""CLI commands an operator uses on the queue: list, show, claim, reply, note, resolve, events."""

from __future__ import annotations

import argparse
import sys

from frontdesk.core.approvals import approval_json
from frontdesk.core.claims import live_holder
from frontdesk.core.clock import utcnow
from frontdesk.core.models import Conversation
from frontdesk.core.queue import QueueFilter
from frontdesk.core.text import terminal_safe
from frontdesk.core.thread_json import conversation_json, message_json
from frontdesk.core.triage_reasons import explain, flags
from frontdesk.tui.cli.context import open_desk
from frontdesk.tui.cli.output import block, countdown, emit_json, line, table


def ingest(args: argparse.Namespace) -> int:
    desk = open_desk()
    if args.file == "-":
        # Bytes, not the locale-decoded text stream: input is UTF-8 whatever the locale, and
        # an undecodable line is rejected on its own instead of aborting the whole run.
        report = desk.ingest(sys.stdin.buffer)
    else:
        try:
            handle = open(args.file, encoding="utf-8", errors="surrogateescape")
        except OSError as exc:
            from frontdesk.core.errors import InvalidInput

            raise InvalidInput(f"{args.file}: cannot read: {exc.strerror}") from exc
        with handle:
            report = desk.ingest(handle)
    for number, reason in report.rejected:
        sys.stderr.write(terminal_safe(f"line {number}: {reason}", keep_newlines=False) + "\n")
    if args.json:
        emit_json(report.as_json())
    else:
        line(
            f"ingested {report.accepted} message(s), {report.duplicates} duplicate(s), "
            f"{len(report.rejected)} rejected; {report.conversations_created} new and "
            f"{report.conversations_reopened} reopened conversation(s)"
        )
    return 1 if report.rejected else 0


def queue(args: argparse.Namespace) -> int:
    desk = open_desk()
    now = desk.clock()
    flt = QueueFilter(
        statuses=tuple(args.status) if args.status else QueueFilter().statuses,
        mine_of=desk.login if args.mine else None,
        unclaimed_at=now if args.unclaimed else None,
        channel=args.channel,
        team=args.team,
        tag=args.tag,
        stream=args.stream,
        limit=args.limit,
    )
    try:
        rows = desk.queue(flt)
    except ValueError as exc:
        from frontdesk.core.errors import InvalidInput

        raise InvalidInput(f"--status: {exc}") from exc
    if args.json:
        emit_json(
            [
                {**conversation_json(r.conversation), "handle": r.handle, "name": r.name}
                for r in rows
            ]
        )
        return 0
    table(
        ["ID", "DUE", "CHANNEL", "STATUS", "CUSTOMER", "HOLDER", "LATEST"],
        [
            [
                str(r.conversation.id),
                countdown(r.conversation.sla_due_at, now),
                r.conversation.channel,
                r.conversation.status,
                r.handle or r.name,
                live_holder(r.conversation, now) or "-",
                r.conversation.preview,
            ]
            for r in rows
        ],
    )
    return 0


def show(args: argparse.Namespace) -> int:
    desk = open_desk()
    thread = desk.thread(args.id)
    if args.json:
        emit_json(thread.as_json())
        return 0
    conv, cust = thread.conversation, thread.customer
    now = utcnow()
    line(
        f"#{conv.id} {conv.channel} {conv.visibility} {conv.status}  version {conv.version}  "
        f"due {countdown(conv.sla_due_at, now)}  "
        f"held by {live_holder(conv, now) or '-'}"
    )
    first = thread.first_contact_at.date().isoformat() if thread.first_contact_at else "-"
    line(
        f"{cust.display_name} {cust.handle}  first contact {first}, "
        f"{thread.earlier_conversations} earlier conversation(s)"
    )
    line(triage_line(conv))
    for msg in thread.messages:
        stamp = msg.created_at.strftime("%Y-%m-%d %H:%M")
        line(f"-- {msg.direction} {msg.author} {stamp}")
        block(msg.body)
    return 0


def triage_line(conv: Conversation) -> str:
    """Category, team, what the playbook asks besides a reply, and the priority with every
    reason that set it (the same words as the workstation's thread header)."""
    reasons = explain(conv.priority, conv.triage, team=conv.team)
    return " · ".join(flags(conv)) + " · " + "; ".join(reasons)


def claim(args: argparse.Namespace) -> int:
    desk = open_desk()
    result = desk.claim_next() if args.next else desk.claim(args.id)
    if result is None:
        if args.json:
            emit_json(None)
        else:
            line("nothing to claim: the queue is empty")
        return 3
    if args.json:
        emit_json(
            {
                "conversation_id": result.conversation_id,
                "operator": result.operator,
                "token": result.token,
                "expires_at": result.expires_at.isoformat(),
                "reason": result.reason,
            }
        )
    else:
        # Taking another team's conversation says why: its team had nobody available.
        why = f" ({result.reason})" if result.reason else ""
        line(f"claimed #{result.conversation_id} until {result.expires_at:%H:%M:%S} UTC{why}")
    return 0


def release(args: argparse.Namespace) -> int:
    open_desk().release(args.id)
    line(f"released #{args.id}")
    return 0


def reassign(args: argparse.Namespace) -> int:
    result = open_desk().reassign(args.id, args.to)
    line(f"#{args.id} now held by {result.operator}")
    return 0


def reply(args: argparse.Namespace) -> int:
    outcome = open_desk().reply(args.id, args.text, seen_version=args.seen_version)
    warnings = [f.as_json() for f in outcome.findings]
    if args.json:
        if outcome.message is not None:
            emit_json({**message_json(outcome.message), "findings": warnings})
        else:
            assert outcome.approval is not None
            emit_json({"held": approval_json(outcome.approval), "findings": warnings})
        return 0
    for finding in outcome.findings:
        sys.stderr.write(terminal_safe(f"warning: {finding}", keep_newlines=False) + "\n")
    if outcome.message is not None:
        line(f"reply #{outcome.message.id} queued on #{args.id}")
    else:
        assert outcome.approval is not None
        held = outcome.approval
        line(
            f"reply held for sign-off as approval #{held.id}: {'; '.join(held.reasons)};"
            " nothing is sent until an approver approves it"
        )
    return 0


def note(args: argparse.Namespace) -> int:
    message = open_desk().note(args.id, args.text)
    line(f"note #{message.id} added to #{args.id}")
    return 0


def resolve(args: argparse.Namespace) -> int:
    public = open_desk().resolve(args.id)
    line(f"resolved #{args.id}")
    if public is not None:
        line(f"the public follow-up on #{public} is due: it waits on the queue until you post it")
    return 0


def events(args: argparse.Namespace) -> int:
    desk = open_desk()
    after = args.after
    waiter = None
    try:
        while True:
            batch = desk.events_after(after)
            for event in batch:
                if args.json:
                    emit_json(event.as_json())
                else:
                    conv = f"#{event.conversation_id}" if event.conversation_id else "-"
                    line(
                        f"{event.id} {event.at:%Y-%m-%d %H:%M:%S} {event.actor} {event.kind} {conv}"
                    )
                after = event.id
            sys.stdout.flush()
            if not args.follow:
                return 0
            if len(batch) == 0:
                if waiter is None:
                    from frontdesk.core.feed import ChangeWaiter

                    waiter = ChangeWaiter(desk.db)
                waiter.wait(timeout=5.0)
    finally:
        if waiter is not None:
            waiter.close()
