"""The gatekeeper workflow on every backend: propose, approve into git, refuse stale edits, race."""

from __future__ import annotations

import contextlib
import io
import json
import multiprocessing
import os
import queue
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from frontdesk.core import events, proposals
from frontdesk.core.config import RoleSettings, Settings
from frontdesk.core.db import Database
from frontdesk.core.errors import EditRefused, InvalidInput, NotFound, PermissionDenied
from frontdesk.core.models import Operator
from frontdesk.core.operators import ensure_operator
from frontdesk.kb.edits import digest_of

FRONTDESK = str(Path(sys.executable).with_name("frontdesk"))
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
GATEKEEPERS = ["gina", "gus"]
SETTINGS = Settings(roles=RoleSettings(gatekeepers=GATEKEEPERS))
RESULT_WAIT_S = 120  # a guard against a hung child, not a performance assertion

REFUND = "---\ntitle: Where is my refund?\nreviewed: 2026-10-14\n---\n# Refunds\n\nFive days.\n"
REFUND_V2 = REFUND.replace("Five days.", "Five working days, fourteen for postal returns.")
REFUND_V3 = REFUND.replace("Five days.", "Ten days, sorry.")
SIZES = "---\ntitle: Boot sizes\n---\n# Boot sizes\n\nOur boots run small.\n\n## x\nSize up!\n"


# --- helpers ------------------------------------------------------------------------------


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture
def kb_root(tmp_path: Path) -> Path:
    """A knowledge-base folder with one article, committed to a fresh git repository."""
    root = tmp_path / "kb"
    (root / "returns").mkdir(parents=True)
    (root / "returns" / "refund-status.md").write_text(REFUND)
    git(root, "init", "--quiet")
    git(root, "config", "user.name", "Setup")
    git(root, "config", "user.email", "setup@example.invalid")
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "initial")
    return root


def operator(db: Database, login: str) -> Operator:
    with db.write() as session:
        op = ensure_operator(session, login=login, settings=SETTINGS, now=NOW)
        session.expunge(op)
    return op


def propose(db: Database, root: Path, author: str, target: str, text: str, note: str = "") -> int:
    with db.write() as session:
        proposal = proposals.propose(
            session, author=author, kb_root=root, target=target, text=text, note=note, now=NOW
        )
        number = proposal.id
    assert number is not None
    return number


def approve(db: Database, root: Path, number: int, login: str, **kwargs: Any) -> None:
    reviewer = operator(db, login)
    with db.write() as session:
        proposals.approve(
            session, proposal_id=number, reviewer=reviewer, kb_root=root, now=NOW, **kwargs
        )


def reject(db: Database, number: int, login: str, note: str) -> None:
    reviewer = operator(db, login)
    with db.write() as session:
        proposals.reject(session, proposal_id=number, reviewer=reviewer, note=note, now=NOW)


def status(db: Database, number: int) -> tuple[str, str | None]:
    with db.read() as session:
        p = proposals.get(session, number)
        return p.status, p.reviewer


def kb_events(db: Database) -> list[events.EventRecord]:
    with db.read() as session:
        return [e for e in events.after(session, 0) if e.kind.startswith("kb.")]


def commits(root: Path) -> list[str]:
    """Author|committer|subject of each commit, newest first."""
    return git(root, "log", "--format=%an|%cn|%s").splitlines()


# --- proposing ----------------------------------------------------------------------------


def test_propose_a_new_article_and_an_edit(db: Database, kb_root: Path) -> None:
    new = propose(db, kb_root, "olivia", "sizing/boots.md", SIZES, note="customers ask daily")
    edit = propose(db, kb_root, "oscar", "returns/refund-status.md", REFUND_V2, note="postal")

    with db.read() as session:
        rows = {p.id: proposals.proposal_json(p) for p in proposals.pending(session)}
        assert proposals.diff(proposals.get(session, new), kb_root).startswith(
            "--- a/sizing/boots.md\n+++ b/sizing/boots.md\n"
        )
        edit_diff = proposals.diff(proposals.get(session, edit), kb_root)
    assert rows[new]["base_digest"] is None  # a new file
    assert rows[edit]["base_digest"] == digest_of(REFUND.encode())
    assert (rows[new]["author"], rows[new]["path"], rows[new]["status"]) == (
        "olivia",
        "sizing/boots.md",
        "pending",
    )
    assert rows[new]["note"] == "customers ask daily"
    assert "-Five days.\n+Five working days, fourteen for postal returns.\n" in edit_diff
    # Proposing changes nothing on disk.
    assert not (kb_root / "sizing").exists()
    assert (kb_root / "returns" / "refund-status.md").read_text() == REFUND

    recorded = kb_events(db)
    assert [(e.kind, e.actor) for e in recorded] == [
        ("kb.proposed", "olivia"),
        ("kb.proposed", "oscar"),
    ]
    assert recorded[0].payload == {"proposal": new, "path": "sizing/boots.md", "new": True}
    assert recorded[1].payload["new"] is False


@pytest.mark.parametrize(
    ("target", "text", "reason"),
    [
        ("../outside.md", SIZES, "inside the folder"),
        ("/etc/passwd.md", SIZES, "inside the folder"),
        ("notes.txt", SIZES, ".md"),
        (".drafts/boots.md", SIZES, "hidden folders"),
        ("sizing/boots.md", "---\ntitle: [unclosed\n---\n", "does not load"),
    ],
)
def test_propose_refuses_bad_paths_and_text_that_would_not_load(
    db: Database, kb_root: Path, target: str, text: str, reason: str
) -> None:
    with pytest.raises(InvalidInput, match=reason):
        propose(db, kb_root, "olivia", target, text)
    with db.read() as session:
        assert proposals.pending(session, include_reviewed=True) == []
    assert kb_events(db) == []


# --- who may review -----------------------------------------------------------------------


def test_only_gatekeepers_may_approve_or_reject(db: Database, kb_root: Path) -> None:
    number = propose(db, kb_root, "olivia", "returns/refund-status.md", REFUND_V2)
    with pytest.raises(PermissionDenied) as refused:
        approve(db, kb_root, number, "olivia")
    assert str(refused.value) == (
        "olivia is operator; only gatekeeper may approve knowledge-base proposals"
    )
    with pytest.raises(PermissionDenied, match="only gatekeeper may reject"):
        reject(db, number, "oscar", "no")
    assert status(db, number) == ("pending", None)
    assert (kb_root / "returns" / "refund-status.md").read_text() == REFUND
    assert [e.kind for e in kb_events(db)] == ["kb.proposed"]


# --- approving ----------------------------------------------------------------------------


def test_approve_writes_atomically_and_commits_with_both_names(db: Database, kb_root: Path) -> None:
    path = kb_root / "returns" / "refund-status.md"
    path.chmod(0o640)
    inode = path.stat().st_ino
    number = propose(db, kb_root, "olivia", "returns/refund-status.md", REFUND_V2, note="postal")

    approve(db, kb_root, number, "gina")

    assert path.read_text() == REFUND_V2
    assert path.stat().st_ino != inode  # replaced by rename, never rewritten in place
    assert path.stat().st_mode & 0o777 == 0o640  # and it keeps its permissions
    assert [p.name for p in path.parent.iterdir()] == ["refund-status.md"]  # no temp left
    assert status(db, number) == ("approved", "gina")

    assert commits(kb_root) == ["olivia|gina|kb: returns/refund-status.md", "Setup|Setup|initial"]
    assert git(kb_root, "log", "-1", "--format=%ae %ce") == (
        "olivia@frontdesk.invalid gina@frontdesk.invalid\n"
    )
    message = git(kb_root, "log", "-1", "--format=%B")
    assert f"Proposed by olivia, approved by gina (proposal {number})." in message
    assert "postal" in message
    assert git(kb_root, "show", "HEAD:returns/refund-status.md") == REFUND_V2
    assert git(kb_root, "status", "--porcelain", "--", "returns") == ""

    approved = [e for e in kb_events(db) if e.kind == "kb.approved"]
    assert [(e.actor, e.payload) for e in approved] == [
        ("gina", {"proposal": number, "path": "returns/refund-status.md", "edited": False})
    ]


def test_approve_a_new_article_creates_folders_and_commits(db: Database, kb_root: Path) -> None:
    number = propose(db, kb_root, "oscar", "sizing/boots/mens.md", SIZES)
    approve(db, kb_root, number, "gus")
    assert (kb_root / "sizing" / "boots" / "mens.md").read_text() == SIZES
    assert commits(kb_root)[0] == "oscar|gus|kb: sizing/boots/mens.md"


def test_approve_in_a_plain_folder_writes_without_git(db: Database, tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    number = propose(db, root, "olivia", "boots.md", SIZES)
    approve(db, root, number, "gina")
    assert (root / "boots.md").read_text() == SIZES
    assert not (root / ".git").exists()
    assert status(db, number) == ("approved", "gina")


def test_approve_as_edited_by_the_gatekeeper(db: Database, kb_root: Path) -> None:
    number = propose(db, kb_root, "olivia", "returns/refund-status.md", REFUND_V2)
    approve(db, kb_root, number, "gina", edited_text=REFUND_V3, note="shorter")
    assert (kb_root / "returns" / "refund-status.md").read_text() == REFUND_V3
    with db.read() as session:
        p = proposals.get(session, number)
        assert (p.text, p.review_note) == (REFUND_V3, "shorter")
    assert kb_events(db)[-1].payload["edited"] is True
    with pytest.raises(EditRefused, match="already approved by gina"):
        approve(db, kb_root, number, "gus")


def test_approve_refuses_edited_text_that_would_not_load(db: Database, kb_root: Path) -> None:
    number = propose(db, kb_root, "olivia", "returns/refund-status.md", REFUND_V2)
    with pytest.raises(InvalidInput, match="does not load"):
        approve(db, kb_root, number, "gina", edited_text="\x00")
    assert status(db, number) == ("pending", None)
    assert (kb_root / "returns" / "refund-status.md").read_text() == REFUND


def test_approving_an_unchanged_text_in_git_is_not_an_internal_error(
    db: Database, kb_root: Path
) -> None:
    """A proposal identical to the file (or a gatekeeper's edit back to it) has nothing to
    commit; `git commit` exits 1 then, which must not escape as a crash."""
    number = propose(db, kb_root, "olivia", "returns/refund-status.md", REFUND)
    approve(db, kb_root, number, "gina")
    assert status(db, number) == ("approved", "gina")
    assert (kb_root / "returns" / "refund-status.md").read_text() == REFUND
    assert len(commits(kb_root)) == 1


def test_approve_refuses_when_the_file_changed_since_the_proposal(
    db: Database, kb_root: Path
) -> None:
    path = kb_root / "returns" / "refund-status.md"
    number = propose(db, kb_root, "olivia", "returns/refund-status.md", REFUND_V2)
    path.write_text(REFUND_V3)  # someone edited the file by hand meanwhile

    with pytest.raises(EditRefused) as refused:
        approve(db, kb_root, number, "gina")

    message = str(refused.value)
    assert "returns/refund-status.md changed since the proposal was made" in message
    assert f"proposal {number} stays pending" in message
    assert "Ten days, sorry." in message  # what is there now
    assert "Five working days, fourteen for postal returns." in message  # what was proposed
    assert path.read_text() == REFUND_V3  # nothing written
    assert status(db, number) == ("pending", None)
    assert [e.kind for e in kb_events(db)] == ["kb.proposed"]
    assert len(commits(kb_root)) == 1


def test_approve_refuses_a_new_article_whose_file_appeared(db: Database, kb_root: Path) -> None:
    number = propose(db, kb_root, "olivia", "sizing.md", SIZES)
    (kb_root / "sizing.md").write_text("# Someone else's sizing\n")
    with pytest.raises(EditRefused, match="changed since the proposal"):
        approve(db, kb_root, number, "gina")
    assert (kb_root / "sizing.md").read_text() == "# Someone else's sizing\n"
    assert status(db, number) == ("pending", None)


def test_approve_refuses_when_the_file_was_deleted(db: Database, kb_root: Path) -> None:
    number = propose(db, kb_root, "olivia", "returns/refund-status.md", REFUND_V2)
    (kb_root / "returns" / "refund-status.md").unlink()
    with pytest.raises(EditRefused, match="was deleted since the proposal"):
        approve(db, kb_root, number, "gina")
    assert not (kb_root / "returns" / "refund-status.md").exists()
    assert status(db, number) == ("pending", None)


# --- rejecting ----------------------------------------------------------------------------


def test_reject_needs_a_note(db: Database, kb_root: Path) -> None:
    number = propose(db, kb_root, "olivia", "returns/refund-status.md", REFUND_V2)
    for note in ("", "   \n"):
        with pytest.raises(InvalidInput, match="a rejection needs a note"):
            reject(db, number, "gus", note)
    assert status(db, number) == ("pending", None)

    reject(db, number, "gus", "we keep five days")

    with db.read() as session:
        p = proposals.get(session, number)
        assert (p.status, p.reviewer, p.review_note, p.reviewed_at is not None) == (
            "rejected",
            "gus",
            "we keep five days",
            True,
        )
        assert proposals.pending(session) == []
        assert len(proposals.pending(session, include_reviewed=True)) == 1
    assert (kb_root / "returns" / "refund-status.md").read_text() == REFUND
    assert [(e.kind, e.actor) for e in kb_events(db)] == [
        ("kb.proposed", "olivia"),
        ("kb.rejected", "gus"),
    ]
    assert kb_events(db)[-1].payload == {"proposal": number, "path": "returns/refund-status.md"}
    with pytest.raises(EditRefused, match="already rejected by gus"):
        approve(db, kb_root, number, "gina")
    with pytest.raises(NotFound):
        reject(db, 999, "gus", "no such proposal")


# --- the CLI ------------------------------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "frontdesk.toml"
    path.write_text('[roles]\ngatekeepers = ["gina", "gus"]\n')
    return path


def cli_env(db_url: str, config: Path, login: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env.update(
        FRONTDESK_DATABASE_URL=db_url, FRONTDESK_CONFIG=str(config), FRONTDESK_OPERATOR=login
    )
    return env


def cli(
    db_url: str, config: Path, login: str, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FRONTDESK, "kb", *args],
        env=cli_env(db_url, config, login),
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def test_cli_gatekeeper_workflow(
    db: Database, db_url: str, kb_root: Path, config: Path, tmp_path: Path
) -> None:
    kb = ["--kb", str(kb_root)]
    draft = tmp_path / "draft.md"
    draft.write_text(REFUND_V2)

    done = cli(
        db_url,
        config,
        "olivia",
        "propose",
        "returns/refund-status.md",
        "--from",
        str(draft),
        "--note",
        "postal returns",
        *kb,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "proposal 1 for returns/refund-status.md is waiting for a gatekeeper\n"
    done = cli(
        db_url, config, "oscar", "propose", "sizing/boots.md", "--from", "-", *kb, stdin=SIZES
    )
    assert done.returncode == 0, done.stderr

    listed = cli(db_url, config, "gina", "proposals", "--json", *kb)
    assert listed.returncode == 0, listed.stderr
    assert [(p["id"], p["author"], p["path"], p["status"]) for p in json.loads(listed.stdout)] == [
        (1, "olivia", "returns/refund-status.md", "pending"),
        (2, "oscar", "sizing/boots.md", "pending"),
    ]
    shown = cli(db_url, config, "gina", "diff", "1", *kb)
    assert shown.returncode == 0, shown.stderr
    assert "-Five days.\n+Five working days, fourteen for postal returns.\n" in shown.stdout

    # A non-gatekeeper is refused with one clear line, and nothing changes.
    for action in (["approve", "1"], ["reject", "1", "--note", "no"]):
        refused = cli(db_url, config, "olivia", *action, *kb)
        assert refused.returncode == 1
        assert refused.stdout == ""
        verb = action[0]
        assert refused.stderr == (
            f"frontdesk: olivia is operator; only gatekeeper may {verb} knowledge-base proposals\n"
        )
    assert (kb_root / "returns" / "refund-status.md").read_text() == REFUND

    # A rejection needs a note.
    assert cli(db_url, config, "gus", "reject", "2", *kb).returncode == 2  # argparse: required
    empty = cli(db_url, config, "gus", "reject", "2", "--note", " ", *kb)
    assert (empty.returncode, empty.stderr) == (
        1,
        "frontdesk: a rejection needs a note for the author\n",
    )
    done = cli(db_url, config, "gus", "reject", "2", "--note", "we have a sizing page", *kb)
    assert (done.returncode, done.stdout) == (0, "proposal 2 rejected\n")

    done = cli(db_url, config, "gina", "approve", "1", *kb)
    assert (done.returncode, done.stdout) == (
        0,
        "proposal 1 approved: returns/refund-status.md written\n",
    )
    assert (kb_root / "returns" / "refund-status.md").read_text() == REFUND_V2
    assert not (kb_root / "sizing").exists()
    assert commits(kb_root)[0] == "olivia|gina|kb: returns/refund-status.md"

    everything = json.loads(cli(db_url, config, "gina", "proposals", "--all", "--json").stdout)
    assert [(p["id"], p["status"], p["reviewer"]) for p in everything] == [
        (1, "approved", "gina"),
        (2, "rejected", "gus"),
    ]
    assert [(e.kind, e.actor) for e in kb_events(db)] == [
        ("kb.proposed", "olivia"),
        ("kb.proposed", "oscar"),
        ("kb.rejected", "gus"),
        ("kb.approved", "gina"),
    ]


def test_cli_approve_refuses_a_changed_file_and_shows_both_versions(
    db: Database, db_url: str, kb_root: Path, config: Path, tmp_path: Path
) -> None:
    kb = ["--kb", str(kb_root)]
    draft = tmp_path / "draft.md"
    draft.write_text(REFUND_V2)
    assert (
        cli(
            db_url,
            config,
            "olivia",
            "propose",
            "returns/refund-status.md",
            "--from",
            str(draft),
            *kb,
        ).returncode
        == 0
    )
    (kb_root / "returns" / "refund-status.md").write_text(REFUND_V3)

    refused = cli(db_url, config, "gina", "approve", "1", *kb)

    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr.startswith(
        "frontdesk: returns/refund-status.md changed since the proposal was made; "
        "nothing was written and proposal 1 stays pending."
    )
    assert "Ten days, sorry." in refused.stderr
    assert "Five working days, fourteen for postal returns." in refused.stderr
    assert (kb_root / "returns" / "refund-status.md").read_text() == REFUND_V3
    listed = json.loads(cli(db_url, config, "gina", "proposals", "--json", *kb).stdout)
    assert [(p["id"], p["status"]) for p in listed] == [(1, "pending")]
    assert len(commits(kb_root)) == 1


# --- the race -----------------------------------------------------------------------------


def approve_in_child(env: dict[str, str], argv: list[str], barrier: Any, results: Any) -> None:
    """Child process: run `frontdesk kb approve` in-process the moment the barrier opens."""
    try:
        os.environ.update(env)
        from frontdesk.tui.cli.main import main

        out, err = io.StringIO(), io.StringIO()
        barrier.wait()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
        results.put((env["FRONTDESK_OPERATOR"], code, out.getvalue(), err.getvalue()))
    except BaseException as exc:  # report, so the parent fails with the child's reason
        results.put((env.get("FRONTDESK_OPERATOR"), -1, "", f"{type(exc).__name__}: {exc}"))


@pytest.mark.slow
def test_two_gatekeepers_approving_conflicting_proposals_at_once(
    db: Database, db_url: str, kb_root: Path, config: Path
) -> None:
    target = "returns/refund-status.md"
    first = propose(db, kb_root, "olivia", target, REFUND_V2)
    second = propose(db, kb_root, "oscar", target, REFUND_V3)
    db.dispose()  # the children share nothing with this process but the URL

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    jobs = [("gina", first), ("gus", second)]
    procs = [
        ctx.Process(
            target=approve_in_child,
            args=(
                cli_env(db_url, config, login),
                ["kb", "approve", str(number), "--kb", str(kb_root)],
                barrier,
                results,
            ),
            daemon=True,
        )
        for login, number in jobs
    ]
    for proc in procs:
        proc.start()
    try:
        reports = {
            login: (code, out, err)
            for login, code, out, err in (results.get(timeout=RESULT_WAIT_S) for _ in procs)
        }
    except queue.Empty:
        pytest.fail("an approving process neither reported nor failed")
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()

    codes = sorted(code for code, _, _ in reports.values())
    assert codes == [0, 1], reports
    winner = next(login for login, (code, _, _) in reports.items() if code == 0)
    loser = next(login for login in reports if login != winner)
    won, lost = dict(jobs)[winner], dict(jobs)[loser]
    author = {first: "olivia", second: "oscar"}
    text = {first: REFUND_V2, second: REFUND_V3}

    assert reports[winner][1] == f"proposal {won} approved: {target} written\n"
    loser_err = reports[loser][2]
    assert loser_err.startswith(f"frontdesk: {target} changed since the proposal was made")
    assert f"proposal {lost} stays pending" in loser_err
    assert reports[loser][1] == ""

    assert (kb_root / target).read_text() == text[won]
    assert status(db, won) == ("approved", winner)
    assert status(db, lost) == ("pending", None)
    assert commits(kb_root) == [f"{author[won]}|{winner}|kb: {target}", "Setup|Setup|initial"]
    assert [(e.kind, e.actor, e.payload.get("proposal")) for e in kb_events(db)] == [
        ("kb.proposed", "olivia", first),
        ("kb.proposed", "oscar", second),
        ("kb.approved", winner, won),
    ]
