"""Who is at the keyboard, and their row in the operator table."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from frontdesk.core import events
from frontdesk.core.config import Settings
from frontdesk.core.errors import PermissionDenied
from frontdesk.core.models import Operator


def ensure_operator(session: Session, *, login: str, settings: Settings, now: datetime) -> Operator:
    """The operator's row, created on first use; the role comes from the shared config."""
    role = settings.roles.role_of(login)
    operator = session.exec(select(Operator).where(Operator.login == login)).first()
    if operator is None:
        operator = Operator(login=login, display_name=login, role=role, teams=[], created_at=now)
        session.add(operator)
        session.flush()
        events.append(session, at=now, actor=login, kind="operator.joined", payload={"role": role})
    elif operator.role != role:
        # The team's shared config names supervisors and gatekeepers; the row follows it.
        events.append(
            session,
            at=now,
            actor=login,
            kind="operator.role_changed",
            payload={"from": operator.role, "to": role},
        )
        operator.role = role
        session.add(operator)
    return operator


def require_role(operator: Operator, *roles: str, action: str) -> None:
    """Refuse an action the operator's role does not allow.

    Raises:
        PermissionDenied: naming the action and the roles that may take it.
    """
    if operator.role not in roles:
        raise PermissionDenied(
            f"{operator.login} is {operator.role}; only {' or '.join(roles)} may {action}"
        )
