"""Shared fixtures: every database test runs on a fresh SQLite file and, when configured, on a
fresh PostgreSQL schema."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from frontdesk.core import schema
from frontdesk.core.config_files import normalise_url
from frontdesk.core.db import Database

_RAW_PG_URL = os.environ.get("FRONTDESK_TEST_DATABASE_URL")
PG_URL = normalise_url(_RAW_PG_URL) if _RAW_PG_URL else None
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def pg_schema_url(base: str, schema_name: str) -> str:
    """`base` with its search_path pointed at one schema (so each test gets its own)."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema_name}')}"


@pytest.fixture(autouse=True)
def _hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's config, data dir or operator name."""
    for var in ("FRONTDESK_CONFIG", "FRONTDESK_DATABASE_URL", "FRONTDESK_OPERATOR", "FRONTDESK_KB"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))  # last good playbooks


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL: a SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'frontdesk.db'}"
        return
    assert PG_URL is not None
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        yield pg_schema_url(PG_URL, name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A migrated, empty database."""
    database = Database(db_url)
    schema.upgrade(database)
    yield database
    database.dispose()
