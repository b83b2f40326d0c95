"""`frontdesk yousaid` ("you said, we did" changes) and `frontdesk surveys` (one conversation's)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import Any

from frontdesk.core.clock import as_utc
from frontdesk.core.models_surveys import FeedbackChange, FollowUpReminder, Survey
from frontdesk.tui.cli.context import open_desk
from frontdesk.tui.cli.output import emit_json, line, table


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], conv_id: Callable[[str], int]
) -> None:
    """Add `yousaid` with its actions, and `surveys`, to the top-level parser."""
    help_text = 'changes made because of customer feedback ("you said, we did")'
    yousaid = sub.add_parser("yousaid", help=help_text, description=help_text)
    yousaid.set_defaults(handler=list_changes, json=False)
    actions = yousaid.add_subparsers(dest="yousaid_command", metavar="ACTION")
    text = "record a change and the conversations whose feedback led to it"
    p = actions.add_parser("add", help=text, description=text)
    p.set_defaults(handler=add)
    p.add_argument("--text", required=True, help="what changed, in a sentence")
    p.add_argument(
        "--conversation", dest="conversations", type=conv_id, action="append", required=True,
        metavar="ID", help="a conversation the feedback came from (repeat for several)",
    )  # fmt: skip
    p.add_argument("--json", action="store_true")
    text = "the changes recorded, newest first"
    p = actions.add_parser("list", help=text, description=text)
    p.set_defaults(handler=list_changes)
    p.add_argument("--json", action="store_true")

    text = "a conversation's satisfaction surveys and follow-up reminders"
    p = sub.add_parser("surveys", help=text, description=text)
    p.set_defaults(handler=show_surveys)
    p.add_argument("id", type=conv_id)
    p.add_argument("--json", action="store_true")


def _at(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def _change_json(change: FeedbackChange) -> dict[str, Any]:
    return {
        "id": change.id,
        "summary": change.summary,
        "conversations": change.conversations,
        "created_by": change.created_by,
        "created_at": _at(change.created_at),
    }


def add(args: argparse.Namespace) -> int:
    change = open_desk().yousaid_add(args.text, args.conversations)
    if args.json:
        emit_json(_change_json(change))
    else:
        ids = ", ".join(f"#{c}" for c in change.conversations)
        line(f"recorded change {change.id} (from {ids}): {change.summary}")
    return 0


def list_changes(args: argparse.Namespace) -> int:
    rows = open_desk().yousaid()
    if args.json:
        emit_json([_change_json(r) for r in rows])
        return 0
    if not rows:
        line("no changes recorded yet: `frontdesk yousaid add --text ... --conversation ID`")
        return 0
    table(
        ["ID", "WHEN", "BY", "FROM", "WHAT CHANGED"],
        [
            [str(r.id), as_utc(r.created_at).strftime("%Y-%m-%d"), r.created_by,
             " ".join(f"#{c}" for c in r.conversations), r.summary]
            for r in rows
        ],
    )  # fmt: skip
    return 0


def _survey_json(survey: Survey) -> dict[str, Any]:
    return {
        "id": survey.id,
        "survey": survey.kind,
        "asked_at": _at(survey.asked_at),
        "expires_at": _at(survey.expires_at),
        "answered_at": _at(survey.answered_at),
        "score": survey.score,
        "comment": survey.comment,
    }


def _reminder_json(reminder: FollowUpReminder) -> dict[str, Any]:
    return {
        "id": reminder.id,
        "due_at": _at(reminder.due_at),
        "state": reminder.state,
        "reason": reminder.reason,
    }


def show_surveys(args: argparse.Namespace) -> int:
    asked, reminders = open_desk().care_of(args.id)
    if args.json:
        emit_json(
            {"surveys": [_survey_json(s) for s in asked],
             "follow_ups": [_reminder_json(r) for r in reminders]}
        )  # fmt: skip
        return 0
    if not asked and not reminders:
        line(f"conversation {args.id}: no survey asked, no follow-up scheduled")
    for s in asked:
        when = as_utc(s.asked_at).strftime("%Y-%m-%d %H:%M")
        if s.score is None:
            line(f"{s.kind} asked {when}: no answer yet")
        else:
            said = f" ({s.comment})" if s.comment else ""
            line(f"{s.kind} asked {when}: {s.score}{said}")
    for r in reminders:
        line(f"follow-up {r.state}, due {as_utc(r.due_at).strftime('%Y-%m-%d %H:%M')}: {r.reason}")
    return 0
