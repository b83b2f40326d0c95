"""The gatekeeper workflow: proposals for the knowledge base, reviewed, then applied."""

from __future__ import annotations

import difflib
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from frontdesk.core import events
from frontdesk.core.errors import EditRefused, InvalidInput, NotFound
from frontdesk.core.models import Operator, Proposal
from frontdesk.core.operators import require_role
from frontdesk.kb.article import ArticleError, parse_text
from frontdesk.kb.edits import (
    EditConflict,
    EditFailed,
    apply_edit,
    current_digest,
    safe_target,
)

REVIEWER_ROLES = ("gatekeeper",)


def proposal_json(p: Proposal) -> dict[str, Any]:
    """A proposal as `kb proposals --json` prints it."""
    return {
        "id": p.id,
        "author": p.author,
        "path": p.target_path,
        "base_digest": p.base_digest,
        "note": p.note,
        "status": p.status,
        "reviewer": p.reviewer,
        "review_note": p.review_note,
        "created_at": p.created_at.isoformat(),
        "reviewed_at": p.reviewed_at.isoformat() if p.reviewed_at else None,
    }


def _check_article(target: str, text: str) -> None:
    try:
        parse_text(text.encode("utf-8"), target)
    except ArticleError as exc:
        raise InvalidInput(f"the proposed text does not load: {exc}") from None


def propose(
    session: Session,
    *,
    author: str,
    kb_root: Path,
    target: str,
    text: str,
    note: str,
    now: datetime,
) -> Proposal:
    """Store a proposed new article or edit, based on the file as it is now.

    Raises:
        InvalidInput: a path outside the folder, or text that would not load as an article.
    """
    try:
        safe_target(kb_root, target)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    _check_article(target, text)
    proposal = Proposal(
        author=author,
        target_path=target,
        base_digest=current_digest(kb_root, target),
        text=text,
        note=note,
        created_at=now,
    )
    session.add(proposal)
    session.flush()
    events.append(
        session,
        at=now,
        actor=author,
        kind="kb.proposed",
        payload={"proposal": proposal.id, "path": target, "new": proposal.base_digest is None},
    )
    return proposal


def pending(session: Session, *, include_reviewed: bool = False) -> list[Proposal]:
    query = select(Proposal).order_by(col(Proposal.id))
    if not include_reviewed:
        query = query.where(Proposal.status == "pending")
    return list(session.exec(query))


def get(session: Session, proposal_id: int) -> Proposal:
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound(f"proposal {proposal_id} does not exist")
    return proposal


def diff(proposal: Proposal, kb_root: Path) -> str:
    """A unified diff from the file as it is now to the proposed text."""
    path = safe_target(kb_root, proposal.target_path)
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            proposal.text.splitlines(keepends=True),
            fromfile=f"a/{proposal.target_path}",
            tofile=f"b/{proposal.target_path}",
        )
    )


def _claim_review(
    session: Session, proposal_id: int, status: str, reviewer: str, note: str, now: datetime
) -> Proposal:
    # Conditional on still being pending, so two gatekeepers cannot both decide it.
    result = session.connection().execute(
        update(Proposal)
        .where(col(Proposal.id) == proposal_id, col(Proposal.status) == "pending")
        .values(status=status, reviewer=reviewer, review_note=note, reviewed_at=now)
    )
    proposal = get(session, proposal_id)
    if result.rowcount != 1:
        raise EditRefused(
            f"proposal {proposal_id} was already {proposal.status} by {proposal.reviewer}"
        )
    session.refresh(proposal)
    return proposal


def approve(
    session: Session,
    *,
    proposal_id: int,
    reviewer: Operator,
    kb_root: Path,
    now: datetime,
    note: str = "",
    edited_text: str | None = None,
) -> Proposal:
    """Apply a proposal (optionally as edited by the gatekeeper) and record who approved it.

    The status change and the file write succeed or fail together: a file that changed since
    the proposal refuses the approval, shows both versions, and leaves it pending.
    """
    require_role(reviewer, *REVIEWER_ROLES, action="approve knowledge-base proposals")
    proposal = _claim_review(session, proposal_id, "approved", reviewer.login, note, now)
    text = edited_text if edited_text is not None else proposal.text
    _check_article(proposal.target_path, text)
    message = (
        f"kb: {proposal.target_path}\n\nProposed by {proposal.author}, approved by "
        f"{reviewer.login} (proposal {proposal.id}).\n\n{proposal.note}".rstrip()
        + "\n"
    )
    try:
        apply_edit(
            kb_root,
            proposal.target_path,
            text,
            base_digest=proposal.base_digest,
            author=proposal.author,
            approver=reviewer.login,
            message=message,
        )
    except EditFailed as exc:
        raise EditRefused(f"{exc}; proposal {proposal_id} stays pending") from None
    except EditConflict as exc:
        current = exc.current if exc.current is not None else "(deleted)"
        raise EditRefused(
            f"{exc}; nothing was written and proposal {proposal_id} stays pending.\n"
            f"--- now in {proposal.target_path} ---\n{current}\n"
            f"--- proposed ---\n{text}"
        ) from None
    if edited_text is not None:
        proposal.text = edited_text
        session.add(proposal)
    events.append(
        session,
        at=now,
        actor=reviewer.login,
        kind="kb.approved",
        payload={
            "proposal": proposal_id,
            "path": proposal.target_path,
            "edited": edited_text is not None,
        },
    )
    return proposal


def reject(
    session: Session, *, proposal_id: int, reviewer: Operator, note: str, now: datetime
) -> Proposal:
    """Turn a proposal down with a note for its author."""
    require_role(reviewer, *REVIEWER_ROLES, action="reject knowledge-base proposals")
    if not note.strip():
        raise InvalidInput("a rejection needs a note for the author")
    proposal = _claim_review(session, proposal_id, "rejected", reviewer.login, note, now)
    events.append(
        session,
        at=now,
        actor=reviewer.login,
        kind="kb.rejected",
        payload={"proposal": proposal_id, "path": proposal.target_path},
    )
    return proposal
