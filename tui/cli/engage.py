"""CLI commands of the engagement playbook: check a draft, sign-off, escalate, go private."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from frontdesk.core.approvals import approval_json
from frontdesk.tui.cli.context import open_desk
from frontdesk.tui.cli.output import block, emit_json, line


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], conv_id: Callable[[str], int]
) -> None:
    """Add check-reply, approvals, approve and reject to the top-level parser."""

    def command(name: str, handler: object, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    p = command("check-reply", check_reply, "the tone and safety findings for a draft reply")
    p.add_argument("id", type=conv_id)
    p.add_argument("--text", required=True)
    p.add_argument("--json", action="store_true")
    p = command("approvals", list_approvals, "replies waiting for sign-off")
    p.add_argument("--json", action="store_true")
    p = command("approve", approve, "approve a held reply (it is sent); --text edits it first")
    p.add_argument("id", type=int)
    p.add_argument("--text", help="the reply as it should go instead")
    p.add_argument("--note", default="")
    p = command("reject", reject, "reject a held reply with a note for its author")
    p.add_argument("id", type=int)
    p.add_argument("--note", required=True)
    p = command("escalate", escalate, "escalate to a department's key contacts")
    p.add_argument("id", type=conv_id)
    p.add_argument("--to", required=True, metavar="DEPT")
    p.add_argument("--note", required=True)
    p.add_argument("--json", action="store_true")
    p = command("private", move_private, "acknowledge in public and continue in private")
    p.add_argument("id", type=conv_id)


def check_reply(args: argparse.Namespace) -> int:
    findings = open_desk().check_reply(args.id, args.text)
    if args.json:
        emit_json({"findings": [f.as_json() for f in findings]})
    elif not findings:
        line("no findings: the reply may go")
    for finding in [] if args.json else findings:
        line(str(finding))
    return 1 if any(f.blocks for f in findings) else 0


def list_approvals(args: argparse.Namespace) -> int:
    pending = open_desk().approvals()
    if args.json:
        emit_json([approval_json(a) for a in pending])
        return 0
    if not pending:
        line("no reply is waiting for sign-off")
    for approval in pending:
        line(
            f"#{approval.id} on conversation #{approval.conversation_id} by {approval.author}:"
            f" {'; '.join(approval.reasons)}"
        )
        block(approval.body)
    return 0


def approve(args: argparse.Namespace) -> int:
    message = open_desk().approve(args.id, body=args.text, note=args.note)
    line(f"approval #{args.id} approved: reply #{message.id} queued")
    return 0


def reject(args: argparse.Namespace) -> int:
    approval = open_desk().reject(args.id, note=args.note)
    line(f"approval #{approval.id} rejected; {approval.author} will see your note")
    return 0


def escalate(args: argparse.Namespace) -> int:
    desk = open_desk()
    row = desk.escalate(args.id, args.to, args.note)
    if args.json:
        emit_json({"id": row.id, "conversation_id": row.conversation_id, **row.contact})
        return 0
    found = desk.playbook.escalation(row.department, desk.clock())
    line(f"#{args.id} escalated to {found.summary()}")
    return 0


def move_private(args: argparse.Namespace) -> int:
    ack, private = open_desk().move_private(args.id)
    if ack.approval is not None:
        said = (
            f"the public acknowledgement waits for sign-off as approval #{ack.approval.id}"
            f" ({'; '.join(ack.approval.reasons)})"
        )
    else:
        assert ack.message is not None
        said = f"acknowledged in public (reply #{ack.message.id})"
    line(f"{said}; continue in private conversation #{private.id}")
    return 0
