"""`frontdesk ideas`: add, list, digest for a department, and "you said, we did"."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from frontdesk.core.clock import as_utc
from frontdesk.tui.cli.broadcast import load_article, run_and_report
from frontdesk.tui.cli.context import open_desk
from frontdesk.tui.cli.output import block, emit_json, line, table


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], conv_id: Callable[[str], int]
) -> None:
    """Add `ideas` and its actions to the top-level parser."""
    help_text = "ideas and requests heard from customers"
    ideas = sub.add_parser("ideas", help=help_text, description=help_text)
    ideas.set_defaults(handler=list_ideas, state="open", department=None, json=False)
    actions = ideas.add_subparsers(dest="ideas_command", metavar="ACTION")

    def action(name: str, handler: object, text: str) -> argparse.ArgumentParser:
        p = actions.add_parser(name, help=text, description=text)
        p.set_defaults(handler=handler)
        return p

    p = action("add", add, "mark a conversation's latest message (or --text) as an idea")
    p.add_argument("id", type=conv_id)
    p.add_argument("--text", help="the idea in a few words (default: the customer's message)")
    p.add_argument("--department", help="who can act on it (default: the playbook's routing)")
    p.add_argument("--json", action="store_true")
    p = action("list", list_ideas, "ideas, most asked for first")
    p.add_argument("--department")
    p.add_argument("--done", dest="state", action="store_const", const="done", default="open")
    p.add_argument("--all", dest="state", action="store_const", const=None)
    p.add_argument("--json", action="store_true")
    p = action("move", move, "give an idea to another department of the directory")
    p.add_argument("id", type=int)
    p.add_argument("--department", required=True)
    p = action("digest", digest, "a department's open ideas for its key contacts")
    p.add_argument("--department", required=True)
    p.add_argument("--send", action="store_true", help="email it to them through the outbox")
    p.add_argument("--json", action="store_true")
    p = action("done", done, 'mark it done and tell every customer who asked ("you said, we did")')
    p.add_argument("id", type=int)
    p.add_argument("--kb", required=True, metavar="ARTICLE", help="the answer to send them")
    p.add_argument("--kb-dir", metavar="DIR", help="the knowledge-base folder (overrides config)")
    p.add_argument("--json", action="store_true")


def add(args: argparse.Namespace) -> int:
    added = open_desk().idea_add(args.id, text=args.text, department=args.department)
    idea = added.idea
    if args.json:
        emit_json(
            {"id": idea.id, "merged": added.merged, "score": added.score, "counted": added.counted}
        )
        return 0
    if added.merged:
        how = "counted" if added.counted else "already counted for this customer"
        line(f"joins idea #{idea.id} ({added.score:.0f}% alike), {how}: {idea.text}")
    else:
        line(f"new idea #{idea.id} for {idea.department} ({idea.why}): {idea.text}")
    if "no contacts in the directory" in idea.why:
        line(f"give it to a department: `frontdesk ideas move {idea.id} --department D`")
    return 0


def move(args: argparse.Namespace) -> int:
    idea = open_desk().idea_move(args.id, args.department)
    line(f"idea #{idea.id} now goes to {idea.department}: {idea.text}")
    return 0


def list_ideas(args: argparse.Namespace) -> int:
    rows = open_desk().ideas(state=args.state, department=args.department)
    if args.json:
        emit_json([r.as_json() for r in rows])
        return 0
    if not rows:
        line("no ideas yet: mark one with `frontdesk ideas add ID`")
        return 0
    table(
        ["ID", "CUSTOMERS", "DEPARTMENT", "STATE", "CHANNELS", "SINCE", "IDEA"],
        [
            [
                str(r.idea.id),
                str(r.customers),
                r.idea.department,
                r.idea.state,
                ",".join(r.channels),
                as_utc(r.idea.created_at).strftime("%Y-%m-%d"),
                r.idea.text,
            ]
            for r in rows
        ],
    )
    return 0


def digest(args: argparse.Namespace) -> int:
    result, items = open_desk().ideas_digest(args.department, send=args.send)
    if args.json:
        emit_json(
            {
                "department": result.department,
                "subject": result.subject,
                "body": result.body,
                "ideas": result.ideas,
                "to": [{"name": r.name, "email": r.email} for r in result.recipients],
                "outbox": [{"id": i.id, "recipient": i.recipient} for i in items],
            }
        )
        return 0
    if not args.send:
        line(f"Subject: {result.subject}")
        line("To: " + ", ".join(f"{r.name} ({r.email or r.reach})" for r in result.recipients))
        block(result.body, indent="")
        return 0
    for item in items:
        line(f"digest queued to {item.recipient} (outbox #{item.id}); `frontdesk sync` sends it")
    for r in result.recipients:
        if r.email is None:
            line(f"not emailed: {r.name} has no email address ({r.reach})")
    return 0


def done(args: argparse.Namespace) -> int:
    desk = open_desk()
    art = load_article(args.kb, args.kb_dir)
    idea, broadcast_id = desk.idea_done(args.id, art)
    if broadcast_id is None:
        line(f"idea #{idea.id} done; nobody to tell")
        return 0
    if not args.json:
        line(f"idea #{idea.id} done; telling every customer who asked (broadcast #{broadcast_id})")
    return run_and_report(desk, art, broadcast_id, as_json=args.json)
