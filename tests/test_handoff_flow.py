"""Going private end to end: the customer's DM reaches the linked conversation on the public
clock, the acknowledgement obeys tone and sign-off, and the follow-up task is not dropped."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from frontdesk.core.clock import as_utc
from frontdesk.core.config import RoleSettings, Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.errors import InvalidInput
from frontdesk.core.models import Conversation, Message
from tests.db_reads import outbox
from tests.fakes.platform import FakeClock
from tests.test_cli import Cli

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday
# Money goes to billing, a team on office hours; everything else to care, around the clock.
PLAYBOOK = """
[calendars.office]
timezone = "UTC"
hours = { mon-fri = "09:00-17:00" }

[teams.care]
members = ["alice"]

[teams.billing]
members = ["alice"]
calendar = "office"

[routing]
default_team = "care"

[[routing.rules]]
name = "money"
team = "billing"
keywords = ["charged"]
"""


def Clock() -> FakeClock:
    """A desk clock the test moves on, starting at NOW."""
    return FakeClock(NOW)


@pytest.fixture
def workspace(tmp_path: Path) -> Settings:
    (tmp_path / "playbook.toml").write_text(PLAYBOOK, encoding="utf-8")
    return Settings(
        playbook=str(tmp_path / "playbook.toml"),
        roles=RoleSettings(supervisors=["sue"], approvers=["abe"]),
    )


def _line(ext: str, text: str, at: datetime, *, private: bool = False) -> str:
    # As the X connector sends them: a one-to-one DM carries no thread_id.
    return json.dumps(
        {
            "channel": "x",
            "visibility": "private" if private else "public",
            "external_id": ext,
            "text": text,
            "created_at": at.isoformat(),
            "author": {"id": "42", "handle": "@jo_m", "name": "Jo Malik"},
        }
    )


def _conversation_of(db: Database, external_id: str) -> Conversation:
    with db.read() as session:
        row = session.exec(
            select(Conversation)
            .join(Message, col(Message.conversation_id) == Conversation.id)
            .where(Message.external_id == external_id)
        ).one()
        session.expunge(row)
        return row


def _count(db: Database) -> int:
    with db.read() as session:
        return len(session.exec(select(Conversation.id)).all())


def _public(desk: Desk, ext: str = "p1") -> int:
    """A billing complaint in public, written ten minutes ago and claimed by the desk."""
    desk.ingest([_line(ext, "You double charged me", desk.clock() - timedelta(minutes=10))])
    conversation_id = _conversation_of(desk.db, ext).id
    assert conversation_id is not None
    desk.claim(conversation_id)
    return conversation_id


def test_the_customers_dm_lands_in_the_linked_conversation_on_its_clock(
    db: Database, workspace: Settings
) -> None:
    clock = Clock()
    desk = Desk(workspace, "alice", db=db, clock=clock)
    public = _public(desk)
    before = desk.thread(public).conversation
    assert before.team == "billing"
    _ack, private = desk.move_private(public)
    clock.now = NOW + timedelta(minutes=2)
    report = desk.ingest(
        [_line("d1", "my order is NW-123456", NOW + timedelta(minutes=1), private=True)]
    )
    assert report.accepted == 1
    landed = _conversation_of(db, "d1")
    assert landed.id == private.id and landed.linked_id == public
    assert _count(db) == 2  # no second, unlinked conversation for the DM
    assert landed.team == "billing" and landed.claimed_by == "alice"
    assert landed.sla_due_at is not None and before.sla_due_at is not None
    assert as_utc(landed.sla_due_at) == as_utc(before.sla_due_at)
    assert landed.sla_clock == "first"


def test_the_private_conversation_takes_the_whole_clock(db: Database, workspace: Settings) -> None:
    clock = Clock()
    desk = Desk(workspace, "alice", db=db, clock=clock)
    public = _public(desk)  # due 10:20 (30 minutes in office hours), warns at 10:12:30
    clock.now = NOW + timedelta(minutes=13)
    assert desk.sweep().warned == [public]
    desk.claim(public)  # the lease runs ten minutes
    before = desk.thread(public).conversation
    _ack, private = desk.move_private(public)
    assert before.sla_warn_at is not None and private.sla_warn_at is not None
    assert as_utc(private.sla_warn_at) == as_utc(before.sla_warn_at)
    assert (private.sla_state, private.sla_clock) == ("warned", "first")
    clock.now = NOW + timedelta(minutes=21)
    assert desk.sweep().breached == [private.id]  # the promise made in public still runs


def test_an_open_dm_thread_is_linked_not_duplicated(db: Database, workspace: Settings) -> None:
    clock = Clock()
    desk = Desk(workspace, "alice", db=db, clock=clock)
    desk.ingest([_line("d0", "hello?", NOW - timedelta(minutes=5), private=True)])
    dm = _conversation_of(db, "d0")
    public = _public(desk)
    due = desk.thread(public).conversation.sla_due_at
    _ack, private = desk.move_private(public)
    assert private.id == dm.id and private.linked_id == public and _count(db) == 2
    assert private.team == "care"  # a talk already going keeps its own triage
    assert private.sla_due_at is not None and due is not None
    assert as_utc(private.sla_due_at) == as_utc(due)  # the earlier of the two clocks
    assert private.claimed_by == "alice" and private.status == "open"


def test_a_resolved_dm_thread_is_reopened_for_the_move(db: Database, workspace: Settings) -> None:
    clock = Clock()
    desk = Desk(workspace, "alice", db=db, clock=clock)
    desk.ingest([_line("d0", "thanks, all good", NOW - timedelta(days=3), private=True)])
    dm = _conversation_of(db, "d0")
    assert dm.id is not None
    desk.resolve(dm.id)
    public = _public(desk)
    _ack, private = desk.move_private(public)
    assert private.id == dm.id and private.status == "open" and private.team == "billing"
    assert private.linked_id == public and _count(db) == 2


def test_one_dm_thread_carries_one_public_talk(db: Database, workspace: Settings) -> None:
    desk = Desk(workspace, "alice", db=db, clock=Clock())
    first, second = _public(desk, "p1"), _public(desk, "p2")
    _ack, private = desk.move_private(first)
    with pytest.raises(InvalidInput, match=f"#{private.id} still continues #{first}"):
        desk.move_private(second)
    assert len(outbox(db)) == 1  # the refused move posted nothing


def test_email_is_not_moved(db: Database, workspace: Settings) -> None:
    desk = Desk(workspace, "alice", db=db, clock=Clock())
    line = json.loads(_line("e1", "hello", NOW))
    desk.ingest([json.dumps({**line, "channel": "email"})])
    conv = _conversation_of(db, "e1").id
    assert conv is not None
    desk.claim(conv)
    with pytest.raises(InvalidInput, match="is email"):
        desk.move_private(conv)


def test_a_press_acknowledgement_waits_for_sign_off(db: Database, workspace: Settings) -> None:
    desk = Desk(workspace, "alice", db=db, clock=Clock())
    public = _public(desk)
    desk.override(public, tags=["press"])
    ack, private = desk.move_private(public)
    assert outbox(db) == []  # nothing is posted before an approver says so
    assert ack.message is None and ack.approval is not None
    assert any("press" in r for r in ack.approval.reasons)
    assert private.linked_id == public and private.claimed_by == "alice"
    assert desk.thread(public).conversation.awaiting_signoff
    approver = Desk(workspace, "abe", db=db, clock=desk.clock)
    assert ack.approval.id is not None
    message = approver.approve(ack.approval.id)
    assert message.body == "We've sent you a DM, Jo."
    (item,) = outbox(db)
    assert (item.conversation_id, item.kind) == (public, "public_reply")


def test_a_blocked_acknowledgement_refuses_the_move(
    db: Database, workspace: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "strict.toml"
    strict = '[[tone.banned]]\nphrase = "sent you a DM"\ninstead = "x"\nseverity = "block"\n'
    path.write_text(PLAYBOOK + strict, encoding="utf-8")
    desk = Desk(workspace.model_copy(update={"playbook": str(path)}), "alice", db=db, clock=Clock())
    public = _public(desk)
    with pytest.raises(InvalidInput, match=r"was not moved: the public acknowledgement breaks"):
        desk.move_private(public)
    assert outbox(db) == [] and _count(db) == 1
    assert desk.thread(public).conversation.linked_id is None


def test_the_follow_up_task_is_not_born_breached(db: Database, workspace: Settings) -> None:
    clock = Clock()
    desk = Desk(workspace, "alice", db=db, clock=clock)
    public = _public(desk)
    _ack, private = desk.move_private(public)
    assert private.id is not None
    assert desk.resolve(private.id) == public
    assert desk.sweep().breached == []
    task = desk.thread(public).conversation
    assert task.sla_due_at is not None and task.sla_warn_at is not None
    # Billing's next-response clock: 30 minutes of office hours.
    assert as_utc(task.sla_due_at) == NOW + timedelta(minutes=30)
    clock.now = NOW + timedelta(minutes=31)
    assert desk.sweep().breached == [public]


def test_the_public_follow_up_must_be_posted_before_resolving(
    db: Database, workspace: Settings
) -> None:
    desk = Desk(workspace, "alice", db=db, clock=Clock())
    public = _public(desk)
    _ack, private = desk.move_private(public)
    assert private.id is not None
    desk.resolve(private.id)
    with pytest.raises(InvalidInput, match=f"post the public follow-up on conversation {public}"):
        desk.resolve(public)
    task = desk.thread(public).conversation
    assert (task.status, task.follow_up) == ("open", "due")
    # A supervisor may force it.
    Desk(workspace, "sue", db=db, clock=desk.clock).resolve(public)
    assert desk.thread(public).conversation.status == "resolved"


def test_a_later_dm_about_something_else_leaves_the_finished_public_talk_alone(
    db: Database, workspace: Settings
) -> None:
    clock = Clock()
    desk = Desk(workspace, "alice", db=db, clock=clock)
    public = _public(desk)
    _ack, private = desk.move_private(public)
    assert private.id is not None
    assert desk.resolve(private.id) == public  # the follow-up is due on the public one
    desk.reply(public, "Glad we could sort that out, Jo!")
    desk.resolve(public)
    # Weeks later the customer writes privately about something else: the same DM thread.
    clock.now = NOW + timedelta(days=20)
    desk.ingest([_line("d9", "do you sell gift cards?", clock.now, private=True)])
    again = _conversation_of(db, "d9")
    assert again.id == private.id and again.status in ("new", "open")
    assert again.linked_id is None
    desk.claim(private.id)
    assert desk.resolve(private.id) is None  # no public follow-up this time
    finished = desk.thread(public).conversation
    assert (finished.status, finished.follow_up) == ("resolved", None)
    # And the DM thread is free to carry another public talk.
    other = _public(desk, "p2")
    _ack, moved = desk.move_private(other)
    assert moved.id == private.id and moved.linked_id == other


def _cli(db_url: str, tmp_path: Path, workspace: Settings) -> tuple[Cli, dict[str, str]]:
    config = tmp_path / "config.toml"
    config.write_text(f'playbook = "{workspace.playbook}"\n', encoding="utf-8")
    return Cli(db_url, tmp_path), {"FRONTDESK_CONFIG": str(config)}


def test_the_cli_says_the_acknowledgement_waits_for_sign_off(
    db: Database, db_url: str, tmp_path: Path, workspace: Settings
) -> None:
    desk = Desk(workspace, "alice", db=db)  # the CLI runs on the real clock
    public = _public(desk)
    desk.override(public, tags=["press"])
    cli, env = _cli(db_url, tmp_path, workspace)
    moved = cli("private", str(public), env=env)
    assert moved.returncode == 0
    assert "the public acknowledgement waits for sign-off as approval #" in moved.stdout
    assert "continue in private conversation #" in moved.stdout
    assert outbox(db) == []


def test_the_cli_says_the_follow_up_is_due(
    db: Database, db_url: str, tmp_path: Path, workspace: Settings
) -> None:
    desk = Desk(workspace, "alice", db=db)  # the CLI runs on the real clock
    public = _public(desk)
    _ack, private = desk.move_private(public)
    cli, env = _cli(db_url, tmp_path, workspace)
    done = cli("resolve", str(private.id), env=env)
    assert done.returncode == 0
    assert f"the public follow-up on #{public} is due" in done.stdout
    refused = cli("resolve", str(public), env=env)
    assert refused.returncode != 0
    assert f"post the public follow-up on conversation {public} first" in refused.error_line
