"""Customer identities across channels: linking the X handle and the email address of one
person, so every thread shows their whole history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from frontdesk.core import events
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.models import Customer


def link(session: Session, first: int, second: int, *, by: str, now: datetime) -> int:
    """Make two customer identities one person; returns the person id (the smallest id of
    everyone now linked). Linking merges whole groups, so links are transitive.

    Raises:
        NotFound: no such customer.
        InvalidInput: a customer linked to itself.
    """
    if first == second:
        raise InvalidInput(f"customer {first} is the same identity")
    found = {
        c.id: c for c in session.exec(select(Customer).where(col(Customer.id).in_((first, second))))
    }
    for wanted in (first, second):
        if wanted not in found:
            raise NotFound(f"customer {wanted} does not exist")
    groups = {c.person_id if c.person_id is not None else c.id for c in found.values()}
    members = set(
        session.exec(
            select(Customer.id).where(
                col(Customer.person_id).in_(groups) | col(Customer.id).in_(groups)
            )
        )
    )
    person = min(i for i in members if i is not None)
    session.execute(update(Customer).where(col(Customer.id).in_(members)).values(person_id=person))
    events.append(
        session,
        at=now,
        actor=by,
        kind="customer.linked",
        conversation_id=None,
        payload={"person_id": person, "customers": sorted(i for i in members if i is not None)},
    )
    return person


def identities(session: Session, customer_id: int) -> list[Customer]:
    """Every identity of the customer's person (just the customer when not linked)."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    if customer.person_id is None:
        return [customer]
    return list(session.exec(select(Customer).where(Customer.person_id == customer.person_id)))
