"""Sign-off from the command line: `frontdesk approvals` as text, and `frontdesk reject ID
--note TEXT` (the reply is never sent, the note is kept, the approvals list drops it)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select

from frontdesk.core.clock import utcnow
from frontdesk.core.config import RoleSettings, Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.models import Conversation, Event, Message
from frontdesk.core.models_playbook import Approval
from tests.db_reads import outbox, stored
from tests.test_cli import Cli

SETTINGS = Settings(roles=RoleSettings(approvers=["abe"]))
LAWSUIT = "I will start a lawsuit over this"
REFUND = "you owe me for the broken kettle"


def _line(ext: str, text: str) -> str:
    return json.dumps(
        {
            "channel": "x",
            "external_id": ext,
            "text": text,
            "created_at": (utcnow() - timedelta(minutes=4)).isoformat(),
            "author": {"id": f"id-{ext}", "handle": f"@sam{ext}", "name": "Sam Rivera"},
        }
    )


def _held(db: Database) -> dict[str, tuple[int, int]]:
    """Two of Alice's replies held for sign-off: {customer text: (conversation, approval)}."""
    alice = Desk(SETTINGS, "alice", db=db)
    alice.ingest([_line("p1", LAWSUIT), _line("p2", REFUND)])
    held: dict[str, tuple[int, int]] = {}
    for _ in range(2):
        claim = alice.claim_next()
        assert claim is not None
        conv = claim.conversation_id
        customer = alice.thread(conv).messages[0].body
        reply = (
            "Hi Sam, I'm sorry.\nOur team will call you today."
            if customer == LAWSUIT
            else "Hi Sam, here is a refund of $250 for the trouble."
        )
        outcome = alice.reply(conv, reply)
        assert outcome.message is None and outcome.approval is not None
        held[customer] = (conv, outcome.approval.id or 0)
    return held


def _approver_env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config.toml"
    config.write_text('[roles]\napprovers = ["abe"]\n', encoding="utf-8")
    return {"FRONTDESK_CONFIG": str(config)}


def _outbound(db: Database, conversation_id: int) -> list[Message]:
    with db.read() as session:
        return list(
            session.exec(
                select(Message).where(
                    Message.conversation_id == conversation_id, Message.direction == "outbound"
                )
            )
        )


def test_plain_approvals_lists_each_waiting_reply_with_its_conversation_and_reason(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    cli = Cli(db_url, tmp_path)
    assert cli("approvals").stdout == "no reply is waiting for sign-off\n"
    held = _held(db)
    (lawsuit_conv, lawsuit_id), (refund_conv, refund_id) = held[LAWSUIT], held[REFUND]

    listed = cli("approvals", operator="abe", env=_approver_env(tmp_path))
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    first = f'#{lawsuit_id} on conversation #{lawsuit_conv} by alice: the customer wrote "lawsuit"'
    second = f"#{refund_id} on conversation #{refund_conv} by alice: a refund of $250 is above 100"
    by_id = sorted([(lawsuit_id, first), (refund_id, second)])
    # Oldest first, each headed by its conversation and why it waits, the reply indented
    # under it line by line.
    assert lines[0].startswith(by_id[0][1])
    header = next(i for i, text in enumerate(lines) if text.startswith(first))
    assert lines[header + 1 : header + 3] == [
        "    Hi Sam, I'm sorry.",
        "    Our team will call you today.",
    ]
    assert any(text.startswith(second) for text in lines)
    assert "    Hi Sam, here is a refund of $250 for the trouble." in lines
    assert len([text for text in lines if text.startswith("#")]) == 2


def test_reject_from_the_cli_sends_nothing_keeps_the_note_and_clears_the_list(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    cli = Cli(db_url, tmp_path)
    abe = _approver_env(tmp_path)
    held = _held(db)
    (conv, approval_id), (other_conv, other_id) = held[LAWSUIT], held[REFUND]
    assert stored(db, Conversation, conv).awaiting_signoff

    # Only an approver may reject, and only with a reason; neither refusal decides anything.
    assert "not an approver" in cli("reject", str(approval_id), "--note", "no").error_line
    assert cli("reject", str(approval_id)).returncode == 2  # --note is required
    blank = cli("reject", str(approval_id), "--note", " ", operator="abe", env=abe)
    assert "say why" in blank.error_line
    assert stored(db, Approval, approval_id).status == "pending"

    note = "Don't promise a call, legal will write to them."
    rejected = cli("reject", str(approval_id), "--note", note, operator="abe", env=abe)
    assert rejected.returncode == 0
    assert rejected.stdout == f"approval #{approval_id} rejected; alice will see your note\n"

    row = stored(db, Approval, approval_id)
    assert (row.status, row.reviewer, row.review_note, row.message_id) == (
        "rejected",
        "abe",
        note,
        None,
    )
    assert row.reviewed_at is not None
    assert _outbound(db, conv) == [] and outbox(db) == []  # nothing was, or will be, sent
    assert not stored(db, Conversation, conv).awaiting_signoff
    assert stored(db, Conversation, other_conv).awaiting_signoff  # the other one still waits
    with db.read() as session:
        decided = session.exec(
            select(Event).where(Event.kind == "approval.rejected").order_by(col(Event.id).desc())
        ).first()
    assert decided is not None
    assert (decided.actor, decided.conversation_id) == ("abe", conv)
    assert decided.payload["note"] == note and decided.payload["author"] == "alice"

    listed = cli("approvals", operator="abe", env=abe).stdout
    assert f"#{approval_id} on conversation" not in listed
    assert f"#{other_id} on conversation #{other_conv}" in listed
    assert [a["id"] for a in cli("approvals", "--json").json()] == [other_id]

    # A rejected reply cannot be approved afterwards, nor rejected again.
    late = cli("approve", str(approval_id), operator="abe", env=abe)
    assert f"approval {approval_id} was already rejected by abe" in late.error_line
    again = cli("reject", str(approval_id), "--note", "twice", operator="abe", env=abe)
    assert "already rejected by abe" in again.error_line
    assert stored(db, Approval, approval_id).review_note == note
    assert _outbound(db, conv) == [] and outbox(db) == []

    last = cli("reject", str(other_id), "--note", "voucher", operator="abe", env=abe)
    assert last.returncode == 0
    assert cli("approvals").stdout == "no reply is waiting for sign-off\n"
    assert outbox(db) == []
