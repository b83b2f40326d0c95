"""CLI commands that set up and look after the database: init, db upgrade, doctor, demo."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from datetime import timedelta
from pathlib import Path

from frontdesk.core.config import load_settings
from frontdesk.core.db import Database
from frontdesk.core.errors import ConfigError, DatabaseError
from frontdesk.tui.cli.output import emit_json, line


def _database() -> Database:
    return Database(load_settings().resolved_database_url())


def init(args: argparse.Namespace) -> int:
    from frontdesk.core import schema  # Alembic is slow to import: only when needed

    db = _database()
    path = db.sqlite_path
    if args.group and path is None:
        raise ConfigError("--group applies to a SQLite database file only")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if args.group:
            from frontdesk.core.doctor import share_with_group

            # Create the file before SQLite does, so it is group-writable from the start.
            path.touch(exist_ok=True)
            try:
                share_with_group(path, args.group)
            except (ValueError, PermissionError) as exc:
                raise ConfigError(f"--group {args.group}: {exc}") from exc
    revision = schema.upgrade(db)
    if path is not None and args.group:
        from frontdesk.core.doctor import share_with_group

        share_with_group(path, args.group)
    line(f"database ready at {db.describe()} (schema {revision})")
    return 0


def db_help(args: argparse.Namespace) -> int:
    line("usage: frontdesk db upgrade")
    return 2


def upgrade(args: argparse.Namespace) -> int:
    from frontdesk.core import schema  # Alembic is slow to import: only when needed

    db = _database()
    before = schema.current_revision(db)
    after = schema.upgrade(db)
    line(f"schema {before or 'empty'} -> {after}" if before != after else f"schema at {after}")
    return 0


def doctor(args: argparse.Namespace) -> int:
    from frontdesk.core.doctor import playbook_check, run

    settings = load_settings()
    db = Database(settings.resolved_database_url())
    playbook = playbook_check(settings.resolved_playbook(), explicit=bool(settings.playbook))
    checks = [playbook, *run(db)]  # the files in use first: config, then playbook
    if args.json:
        emit_json({"config": settings.source, "checks": [c.as_json() for c in checks]})
    else:
        line(f"config: {settings.source or 'none found, using defaults'}")
        for check in checks:
            fix = f"  fix: {check.fix}" if check.fix and check.level != "ok" else ""
            line(f"[{check.level:>4}] {check.name}: {check.detail}{fix}")
    return 1 if any(c.level == "fail" for c in checks) else 0


def demo(args: argparse.Namespace) -> int:
    from frontdesk.core import schema  # Alembic is slow to import: only when needed
    from frontdesk.core.clock import utcnow
    from frontdesk.core.demo import demo_messages
    from frontdesk.core.desk import Desk
    from frontdesk.core.queue import QueueFilter

    root = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="frontdesk-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    db_path = root / "frontdesk.db"
    if db_path.exists():
        raise DatabaseError(f"{db_path} exists already; pick an empty --dir")
    config = root / "config.toml"
    kb_dir = root / "kb"
    if not kb_dir.exists():
        import shutil
        from importlib.resources import files

        shutil.copytree(Path(str(files("frontdesk.kb") / "demo")), kb_dir)
        # The demo playbook sits next to the articles, where the gatekeeper keeps it.
        demo_playbook = files("frontdesk.core.playbook") / "demo_playbook.toml"
        (kb_dir / "playbook.toml").write_text(demo_playbook.read_text(encoding="utf-8"))
    me = _login()
    config.write_text(
        f'database_url = "sqlite:///{db_path}"\nkb_dir = "{kb_dir}"\n\n'
        f'[roles]\nsupervisors = ["{me}"]\ngatekeepers = ["{me}"]\n',
        encoding="utf-8",
    )
    os.environ["FRONTDESK_CONFIG"] = str(config)
    settings = load_settings(config)
    db = Database(settings.resolved_database_url())
    schema.upgrade(db)
    desk = Desk(settings, "demo-feed", db=db)
    lines = [json.dumps(m) for m in demo_messages(args.conversations, now=utcnow())]
    report = desk.ingest(lines)
    from frontdesk.core.demo import settle_history

    with db.write() as session:
        settle_history(session, now=utcnow(), older_than=timedelta(days=2))
    line(
        f"demo workspace in {root}: {report.accepted} messages in "
        f"{report.conversations_created} conversations"
    )
    line(f"use it with: export FRONTDESK_CONFIG={config}")
    if not args.no_ui:
        from frontdesk.core.simulator import Simulator
        from frontdesk.tui.cli.run import launch

        simulator = Simulator(Desk(settings, "demo-feed", db=db), interval=args.arrivals)
        if args.live:
            simulator.start()
        try:
            return launch(Desk(settings, me, db=db), kb_dir)
        finally:
            simulator.stop()
    rows = desk.queue(QueueFilter(limit=15))
    now = utcnow()
    from frontdesk.tui.cli.output import countdown, table

    table(
        ["ID", "DUE", "CHANNEL", "CUSTOMER", "LATEST"],
        [
            [
                str(r.conversation.id),
                countdown(r.conversation.sla_due_at, now),
                r.conversation.channel,
                r.handle or r.name,
                r.conversation.preview,
            ]
            for r in rows
        ],
    )
    return 0


def _login() -> str:
    from frontdesk.core.login import current_login

    return current_login()
