"""`frontdesk report` and `frontdesk refer`, run as the console script on both backends."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from frontdesk.core.db import Database
from tests.test_metrics import PLAYBOOK, seed

FRONTDESK = str(Path(sys.executable).with_name("frontdesk"))
PERIOD = ("--since", "2026-11-30", "--until", "2026-12-08")


class Run:
    def __init__(self, url: str, kb: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
        self.env.update(
            FRONTDESK_DATABASE_URL=url, FRONTDESK_OPERATOR="alice", FRONTDESK_KB=str(kb)
        )

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [FRONTDESK, *args], env=self.env, capture_output=True, text=True, check=False
        )

    def error(self, *args: str) -> str:
        """The one stderr line of a refused command."""
        done = self(*args)
        assert done.returncode == 1, done
        lines = done.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("frontdesk: "), done.stderr
        return lines[0]


@pytest.fixture
def run(db: Database, db_url: str, tmp_path: Path) -> Run:
    seed(db)
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "playbook.toml").write_text(PLAYBOOK, encoding="utf-8")
    return Run(db_url, tmp_path / "kb")


def test_json_carries_the_figures_and_business_time(run: Run) -> None:
    done = run("report", *PERIOD, "--by", "channel", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["since"] == "2026-11-30T00:00:00+00:00" and data["by"] == "channel"
    total = data["total"]
    assert total["first_response"]["business"] == {"median": 1650.0, "p90": 5400.0}
    assert total["sla"] == {"met": 3, "breached": 3, "compliance_pct": 50.0}
    assert sorted(data["groups"]) == ["email", "facebook", "x"]
    assert data["groups"]["x"]["first_response"]["business"]["p90"] == 5400.0
    assert data["you_said_we_did"][0]["summary"] == "Faster refunds"
    assert len(data["backlog"]["points"]) == 8


def test_csv_parses_back_one_row_per_group(run: Run) -> None:
    done = run("report", *PERIOD, "--by", "operator", "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["operator"] for r in rows] == ["total", "-", "alice", "bob", "carol"]
    total, bob = rows[0], rows[3]
    assert total["first_response_business_median_s"] == "1650.0"
    assert total["sla_compliance_pct"] == "50.0" and total["csat_5"] == "1"
    assert (bob["replies"], bob["first_response_p90_s"], bob["signoffs_approved"]) == (
        "3", "235800.0", "1")  # fmt: skip
    assert rows[4]["first_response_median_s"] == ""  # carol answered nothing


def test_the_table_and_a_relative_since(run: Run) -> None:
    done = run("report", "--since", "8d", "--until", "2026-12-08")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith("2026-11-30T00:00:00+00:00 to 2026-12-08T00:00:00+00:00")
    assert "50.0%" in text
    lines = {ln.split("  ")[0]: ln for ln in text.splitlines()}
    assert lines["first response p90"].split()[-1] == "2d17h"
    assert "Faster refunds" in text and "open at the end of each day" in text


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--since", "yesterday"), "is not a date or time"),
        (("--until", "2026-13-01"), "is not a date or time"),
        (("--since", "2026-12-08", "--until", "2026-12-01"), "is not after"),
        (("--by", "planet"), "--by 'planet'"),
        (("--format", "xml"), "--format 'xml'"),
    ],
)
def test_bad_options_are_one_line(run: Run, args: tuple[str, ...], says: str) -> None:
    assert says in run.error("report", *args)


def test_refer_records_the_event_the_report_counts(run: Run) -> None:
    done = run("refer", "3", "--to", "phone")
    assert done.returncode == 0, done.stderr
    assert "referred to phone" in done.stdout
    assert "phone or email" in run.error("refer", "3", "--to", "fax")
    assert "does not exist" in run.error("refer", "99", "--to", "email")
    data = json.loads(run("report", "--since", "2026-11-30", "--format", "json").stdout)
    assert data["total"]["referred"] == 2
