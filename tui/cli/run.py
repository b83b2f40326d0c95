"""Opening the workstation from the command line."""

from __future__ import annotations

import argparse
import os
import sys

from frontdesk.core.errors import ConfigError


def workstation(args: argparse.Namespace) -> int:
    """Open the workstation on the configured database and knowledge base."""
    from frontdesk.tui.cli.context import open_desk

    desk = open_desk()
    kb_root = None
    try:
        kb_root = desk.settings.resolved_kb_dir(getattr(args, "kb", None))
    except ConfigError as exc:
        if getattr(args, "kb", None) or os.environ.get("FRONTDESK_KB"):
            raise
        sys.stderr.write(f"frontdesk: {exc}; opening without answers\n")
    return launch(desk, kb_root)


def launch(desk: object, kb_root: object) -> int:
    if not sys.stdout.isatty():
        raise ConfigError("the workstation needs a terminal; use the CLI commands in scripts")
    from frontdesk.tui.app import FrontdeskApp

    app = FrontdeskApp(desk, kb_root)  # type: ignore[arg-type]
    app.run()
    return 0
