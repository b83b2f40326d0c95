"""The playbook before a send: blocking findings refuse, sign-off holds, approvers decide."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from frontdesk.core.clock import utcnow
from frontdesk.core.config import RoleSettings, Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.engagement import ReplyBlocked
from frontdesk.core.errors import InvalidInput, PermissionDenied
from tests.db_reads import outbox
from tests.test_cli import Cli

SETTINGS = Settings(roles=RoleSettings(supervisors=["sue"], approvers=["abe"]))


def _line(ext: str, text: str, visibility: str = "public") -> str:
    return json.dumps(
        {
            "channel": "x",
            "visibility": visibility,
            "external_id": ext,
            "text": text,
            "created_at": (utcnow() - timedelta(minutes=4)).isoformat(),
            "author": {"id": f"id-{ext}", "handle": f"@sam{ext}", "name": "Sam Rivera"},
            **({"thread_id": f"dm-{ext}"} if visibility == "private" else {}),
        }
    )


def _claimed(db: Database, text: str = "where is my parcel?", visibility: str = "public") -> int:
    desk = Desk(SETTINGS, "alice", db=db)
    desk.ingest([_line("p1", text, visibility)])
    claim = desk.claim_next()
    assert claim is not None
    return claim.conversation_id


def test_personal_data_in_public_is_refused_and_nothing_stored(db: Database) -> None:
    conv = _claimed(db)
    desk = Desk(SETTINGS, "alice", db=db)
    with pytest.raises(ReplyBlocked) as refused:
        desk.reply(conv, "Hi Sam, email me at help.desk@example.com and I'll check")
    assert "personal-data" in refused.value.message
    assert "private message" in refused.value.message
    assert "your draft is kept" in refused.value.message
    assert outbox(db) == []
    assert [m.direction for m in desk.thread(conv).messages] == ["inbound"]
    # The same address goes fine in a private conversation.
    private = _claimed_private(db)
    assert desk.reply(private, "Hi Sam, write to help.desk@example.com").message is not None


def _claimed_private(db: Database) -> int:
    desk = Desk(SETTINGS, "alice", db=db)
    desk.ingest([_line("d9", "my order?", "private")])
    for _ in range(3):
        claim = desk.claim_next()
        if claim and desk.thread(claim.conversation_id).conversation.visibility == "private":
            return claim.conversation_id
    raise AssertionError("no private conversation to claim")


def test_a_warning_goes_with_the_reply(db: Database) -> None:
    conv = _claimed(db)
    outcome = Desk(SETTINGS, "alice", db=db).reply(conv, "Unfortunately it is late, Sam.")
    assert outcome.message is not None
    assert [f.rule for f in outcome.findings] == ["banned-phrase"]
    assert len(outbox(db)) == 1


def test_signoff_holds_the_reply_until_an_approver_approves(db: Database) -> None:
    conv = _claimed(db, "I will start a lawsuit over this")
    alice = Desk(SETTINGS, "alice", db=db)
    due_before = alice.thread(conv).conversation.sla_due_at
    outcome = alice.reply(conv, "Hi Sam, I'm sorry. Our team will call you today.")
    assert outcome.message is None and outcome.approval is not None
    assert outcome.approval.reasons == ['the customer wrote "lawsuit"']
    thread = alice.thread(conv)
    assert thread.conversation.awaiting_signoff
    assert thread.conversation.sla_due_at == due_before  # the clock keeps running
    assert [m.direction for m in thread.messages] == ["inbound"] and outbox(db) == []

    with pytest.raises(PermissionDenied, match="not an approver"):
        alice.approve(outcome.approval.id or 0)
    abe = Desk(SETTINGS, "abe", db=db)
    assert [a.id for a in abe.approvals()] == [outcome.approval.id]
    with pytest.raises(ReplyBlocked):  # an edit passes the same check
        abe.approve(outcome.approval.id or 0, body="Call us, or mail sam@example.com")
    message = abe.approve(outcome.approval.id or 0, body="Hi Sam, we will call you today.")
    assert message.author == "alice" and message.body == "Hi Sam, we will call you today."
    (item,) = outbox(db)
    assert item.message_id == message.id and item.state == "queued"
    assert not alice.thread(conv).conversation.awaiting_signoff
    with pytest.raises(InvalidInput, match="already approved by abe"):
        Desk(SETTINGS, "sue", db=db).approve(outcome.approval.id or 0)
    assert abe.approvals() == []


def test_a_rejected_reply_is_never_sent(db: Database) -> None:
    conv = _claimed(db)
    alice = Desk(SETTINGS, "alice", db=db)
    held = alice.reply(conv, "Hi Sam, here is a refund of $250 for the trouble.").approval
    assert held is not None and "a refund of $250 is above 100" in held.reasons[0]
    sue = Desk(SETTINGS, "sue", db=db)
    with pytest.raises(InvalidInput, match="say why"):
        sue.reject(held.id or 0, note=" ")
    rejected = sue.reject(held.id or 0, note="offer a voucher instead")
    assert (rejected.status, rejected.reviewer) == ("rejected", "sue")
    assert outbox(db) == []
    events = [e.kind for e in alice.events_after(0)]
    assert events[-2:] == ["approval.requested", "approval.rejected"]


def test_the_cli_checks_refuses_and_routes_through_signoff(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    conv = _claimed(db, "my lawyer says this is negligence")
    cli = Cli(db_url, tmp_path)
    checked = cli("check-reply", str(conv), "--text", "Call 555-123-4567 now", "--json")
    assert checked.returncode == 1
    assert {f["rule"] for f in checked.json()["findings"]} >= {"personal-data"}
    refused = cli("reply", str(conv), "--text", "Call 555-123-4567 now")
    assert refused.returncode == 1
    assert "personal-data" in refused.error_line
    held = cli("reply", str(conv), "--text", "Hi Sam, our team will be in touch today.")
    assert "held for sign-off as approval #1" in held.stdout
    assert outbox(db) == []
    assert cli("approvals", "--json").json()[0]["conversation_id"] == conv
    assert "not an approver" in cli("approve", "1").error_line
    assert cli("approve", "1", operator="abe", env=_config(tmp_path)).returncode == 0
    assert len(outbox(db)) == 1


def _config(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config.toml"
    config.write_text('[roles]\napprovers = ["abe"]\n', encoding="utf-8")
    return {"FRONTDESK_CONFIG": str(config)}
