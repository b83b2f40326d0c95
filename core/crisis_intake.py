"""Crisis mode and staff care as messages come in: while crisis mode is on a new conversation
with a crisis keyword goes to the crisis team, and a customer's profanity tags the
conversation "abusive" (so claim_next spreads such conversations across operators)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from frontdesk.core import crisis, events
from frontdesk.core.intake import Plan
from frontdesk.core.models import Conversation
from frontdesk.core.playbook.phrases import PhraseMatcher
from frontdesk.core.playbook.playbook import Playbook

ABUSIVE = "abusive"
CRISIS_TAG = "crisis"
K = TypeVar("K", bound=Hashable)

_MATCHERS: WeakKeyDictionary[Playbook, tuple[PhraseMatcher, PhraseMatcher]] = WeakKeyDictionary()


def _matchers(playbook: Playbook) -> tuple[PhraseMatcher, PhraseMatcher]:
    """The crisis keywords and the profanity list, compiled once per playbook."""
    found = _MATCHERS.get(playbook)
    if found is None:
        config = playbook.config
        found = (config.crisis.matcher(), PhraseMatcher(config.tone.profanity))
        _MATCHERS[playbook] = found
    return found


def crisis_words(playbook: Playbook, text: str) -> list[str]:
    """The crisis keywords `text` contains, in the playbook's order."""
    keywords = _matchers(playbook)[0]
    return sorted({hit.phrase for hit in keywords.finditer(text)}) if keywords else []


def profane(playbook: Playbook, texts: Iterable[str]) -> bool:
    """Whether any of `texts` uses a word of the tone rules' profanity list."""
    words = _matchers(playbook)[1]
    return bool(words) and any(words.search(t) is not None for t in texts)


def adjust_plans(
    session: Session, playbook: Playbook, plans: dict[K, Plan], texts: Mapping[K, list[str]]
) -> dict[K, Plan]:
    """New conversations' plans with the abusive tag and crisis routing applied; `texts` are
    each new conversation's messages in the batch."""
    config = playbook.config
    team = config.crisis.team
    # Crisis mode on? One indexed read per batch, and only with a crisis team configured.
    routing = team is not None and bool(config.crisis.keywords) and crisis.is_on(session)
    out: dict[K, Plan] = {}
    for key, plan in plans.items():
        body = texts.get(key, [])
        tags, reasons, target = set(plan.tags), list(plan.reasons), plan.team
        if config.staff.flag_profanity and profane(playbook, body):
            tags.add(ABUSIVE)
            why = "the customer used a word of the profanity list"
            reasons.append({"rule": "abusive", "weight": 0, "why": why})
        words = crisis_words(playbook, "\n".join(body)) if routing else []
        if words and team is not None and team != plan.team:
            tags.add(CRISIS_TAG)
            said = ", ".join(f'"{w}"' for w in words)
            reasons.append(
                {"rule": crisis.ROUTE_RULE, "weight": 0, "team": plan.team,
                 "why": f"crisis mode: keyword {said} goes to {team}"}
            )  # fmt: skip
            target = team
        if tags != set(plan.tags) or target != plan.team:
            plan = replace(plan, tags=sorted(tags), reasons=reasons, team=target)
        out[key] = plan
    return out


def flag_stored(
    session: Session,
    playbook: Playbook,
    texts: Mapping[int, list[str]],
    *,
    actor: str,
    now: datetime,
) -> list[int]:
    """Tag stored conversations abusive whose new messages (`texts` by conversation id) use
    profanity; returns their ids."""
    if not playbook.config.staff.flag_profanity:
        return []
    hits = [cid for cid, body in texts.items() if profane(playbook, body)]
    if not hits:
        return []
    rows = session.execute(select(Conversation).where(col(Conversation.id).in_(hits))).scalars()
    flagged: list[int] = []
    for conv in rows:
        if ABUSIVE in conv.tags or conv.id is None:
            continue
        why = "the customer used a word of the profanity list"
        set_tags(session, conv, [*conv.tags, ABUSIVE], {"rule": "abusive", "why": why}, now)
        events.append(
            session,
            at=now,
            actor=actor,
            kind="conversation.flagged",
            conversation_id=conv.id,
            payload={"tag": ABUSIVE, "on": True, "by": "profanity"},
        )
        flagged.append(conv.id)
    return flagged


def set_tags(
    session: Session, conv: Conversation, tags: list[str], reason: dict[str, Any], now: datetime
) -> None:
    """Store a conversation's new tags with the reason among its triage entries (no version
    bump: tags are advice, and a draft does not go stale over them)."""
    reasons = [*conv.triage, {"weight": 0, **reason}]
    session.execute(
        update(Conversation)
        .where(col(Conversation.id) == conv.id)
        .values(tags=sorted(set(tags)), triage=reasons, updated_at=now)
    )
