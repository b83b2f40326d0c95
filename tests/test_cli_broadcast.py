"""`frontdesk broadcast` and `frontdesk ideas` as an operator types them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sqlmodel import col, select

import frontdesk.core.playbook as playbook_pkg
from frontdesk.core.db import Database
from frontdesk.core.models_broadcast import Broadcast
from frontdesk.core.models_channels import OutboxItem
from tests.test_broadcast import FIXED, line
from tests.test_cli import Cli

DEMO_PLAYBOOK = Path(playbook_pkg.__file__).parent / "demo_playbook.toml"


def workspace(db_url: str, tmp_path: Path) -> Cli:
    kb = tmp_path / "kb"
    (kb / "care").mkdir(parents=True)
    (kb / "care" / "fixed.md").write_text(f"---\ntitle: Fixed\n---\n# Fixed\n\n{FIXED}\n")
    shutil.copy(DEMO_PLAYBOOK, kb / "playbook.toml")
    cli = Cli(db_url, tmp_path)
    cli.env = lambda operator, extra=None: {  # type: ignore[method-assign]
        **Cli.env(cli, operator, extra),
        "FRONTDESK_KB": str(kb),
    }
    lines = "\n".join(line(n) for n in range(3)) + "\n"
    assert cli("ingest", stdin=lines.encode(), operator="ingest").returncode == 0
    return cli


def test_dry_run_previews_each_copy_and_who_is_skipped_writing_nothing(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    cli = workspace(db_url, tmp_path)
    assert cli("claim", "2", operator="bob").returncode == 0
    out = cli("broadcast", "--channel", "x", "--kb", "care/fixed", "--dry-run")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "dry run of care/fixed to 3 conversations; nothing was written"
    assert lines[1] == "2 would queue, 1 would skip"
    assert "#1 x @cust0: would queue" in lines
    assert "    " + FIXED.format(name="Name0") in lines
    assert "#2 x @cust1: would skip: held by bob" in lines
    as_json = json.loads(cli("broadcast", "--ids", "1,3", "--kb", "care/fixed", "--dry-run",
                             "--json").stdout)  # fmt: skip
    assert [(c["conversation_id"], c["verdict"]) for c in as_json["copies"]] == [
        (1, "queue"),
        (3, "queue"),
    ]
    with db.read() as session:
        assert list(session.exec(select(Broadcast))) == []
        assert list(session.exec(select(OutboxItem))) == []


def test_broadcast_sends_lists_the_skipped_and_refuses_a_second_time(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    cli = workspace(db_url, tmp_path)
    assert cli("claim", "2", operator="bob").returncode == 0
    out = cli("broadcast", "--channel", "x", "--kb", "care/fixed", "--resolve")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == ("broadcast #1 of care/fixed: done (2 queued, 1 skipped)")
    assert "#2 skipped: conversation 2 is held by bob" in out.stdout
    again = cli("broadcast", "--ids", "1", "--kb", "care/fixed")
    assert again.returncode == 1 and "have had care/fixed already" in again.stderr
    missing = cli("broadcast", "--ids", "1", "--kb", "care/fixd", "--dry-run")
    assert missing.returncode == 1 and "no article 'care/fixd'" in missing.stderr
    nothing = cli("broadcast", "--kb", "care/fixed")
    assert nothing.returncode == 1 and "say which conversations" in nothing.stderr


def test_ideas_add_list_digest_and_done(db: Database, db_url: str, tmp_path: Path) -> None:
    cli = workspace(db_url, tmp_path)
    first = cli("ideas", "add", "1", "--text", "Please add dark mode to the app",
                "--department", "it")  # fmt: skip
    assert first.returncode == 0 and first.stdout.startswith("new idea #1 for it")
    second = cli("ideas", "add", "2", "--text", "dark mode for the app please")
    assert second.stdout.startswith("joins idea #1")
    cli("ideas", "add", "3", "--text", "open a store in Boise", "--department", "warehouse")
    listed = json.loads(cli("ideas", "list", "--json").stdout)
    assert [(i["id"], i["customers"], i["department"]) for i in listed] == [
        (1, 2, "it"),
        (2, 1, "warehouse"),
    ]
    printed = cli("ideas", "digest", "--department", "it").stdout
    assert "To: Jonah Kim (it-oncall@northwind.example)" in printed
    assert "#1  2 customers (x): Please add dark mode to the app" in printed
    sent = cli("ideas", "digest", "--department", "it", "--send")
    assert "digest queued to it-oncall@northwind.example" in sent.stdout
    done = cli("ideas", "done", "1", "--kb", "care/fixed")
    assert done.returncode == 0, done.stderr
    assert "broadcast #1 of care/fixed: done (2 queued)" in done.stdout
    with db.read() as session:
        items = list(session.exec(select(OutboxItem).order_by(col(OutboxItem.id))))
    assert [i.channel for i in items] == ["email", "x", "x"]
    assert json.loads(cli("ideas", "list", "--done", "--json").stdout)[0]["broadcast_id"] == 1
