"""The domain layers stay headless: importing all of frontdesk.core and frontdesk.kb loads
neither Textual nor Rich."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# Alembic's env.py runs migrations at import time and only works inside `alembic upgrade`.
SKIP = {"frontdesk.core.migrations.env"}

PROBE = f"""
import importlib, json, pkgutil, sys
import frontdesk.core, frontdesk.kb
skip = {sorted(SKIP)!r}
imported = []
for package in (frontdesk.core, frontdesk.kb):
    imported.append(package.__name__)
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if info.name in skip:
            continue
        importlib.import_module(info.name)
        imported.append(info.name)
ui = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich"))
print(json.dumps({{"imported": imported, "ui": ui}}))
"""


def test_core_and_kb_import_without_textual_or_rich(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    imported = set(report["imported"])
    # The walk really covered the packages (not a vacuous pass over nothing).
    for name in (
        "frontdesk.core.db",
        "frontdesk.core.ingest",
        "frontdesk.core.claims",
        "frontdesk.core.desk",
        "frontdesk.core.doctor",
        "frontdesk.core.schema",
        "frontdesk.core.migrations.versions",
        "frontdesk.kb",
    ):
        assert name in imported
    assert report["ui"] == []


def test_cli_entry_point_does_not_load_textual_for_plain_commands(tmp_path: Path) -> None:
    """The scriptable CLI stays fast: building its parser pulls in no UI toolkit."""
    probe = (
        "import sys, json\n"
        "from frontdesk.tui.cli.main import build_parser\n"
        "build_parser()\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'rich'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
