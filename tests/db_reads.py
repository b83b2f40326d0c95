"""Reading what a test's actions stored: a row by id, detached, and the outbox."""

from __future__ import annotations

from typing import TypeVar

from sqlmodel import SQLModel, select

from frontdesk.core.db import Database
from frontdesk.core.models_channels import OutboxItem

M = TypeVar("M", bound=SQLModel)


def stored(db: Database, model: type[M], ident: int) -> M:
    """The row of `model` with id `ident`, read in its own transaction (it must exist)."""
    with db.read() as session:
        row = session.get(model, ident)
        assert row is not None, f"no {model.__name__} {ident}"
        session.expunge(row)
        return row


def outbox(db: Database) -> list[OutboxItem]:
    """Every outbox row: what would leave for the platforms."""
    with db.read() as session:
        return list(session.exec(select(OutboxItem)))
