"""A conversation's triage in words: its flags, and the priority as its sum, then the rest."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from frontdesk.core.models import Conversation

# Routing's reasons read like this (core/playbook/routing.py); rows stored before the
# routing entry carried a "route" key are recognised by them.
_ROUTE_WHY = ("rule '", 'rule "', "no routing rule matched")
# What the playbook asks besides a reply, by the conversation's follow_up value.
FOLLOW_UP_LABELS = {"due": "public follow-up due", "check": "touch base: follow-up reminder"}


def flags(conv: Conversation) -> list[str]:
    """Category, team and what the playbook asks besides a reply (sign-off, follow-up, link),
    as the thread header and `frontdesk show` both print them."""
    said = [conv.category or "uncategorised"]
    said += [f"team {conv.team}"] if conv.team else []
    said += ["awaiting sign-off"] if conv.awaiting_signoff else []
    said += [FOLLOW_UP_LABELS.get(conv.follow_up, "follow-up")] if conv.follow_up else []
    said += [f"linked #{conv.linked_id}"] if conv.linked_id else []
    return said


def weight_of(reason: Mapping[str, Any]) -> int:
    try:
        return int(reason.get("weight") or 0)
    except (TypeError, ValueError):
        return 0  # a hand-edited row: show the reason, count nothing


def is_route(reason: Mapping[str, Any]) -> bool:
    """Whether `reason` says which team routing chose (it never weighs on the priority)."""
    if "route" in reason:
        return True
    return weight_of(reason) == 0 and str(reason.get("why") or "").startswith(_ROUTE_WHY)


def reason_json(reason: Mapping[str, Any]) -> dict[str, Any]:
    """One stored reason with rule, weight and why always present (extra keys kept)."""
    return {
        **reason,
        "rule": str(reason.get("rule") or "?"),
        "weight": weight_of(reason),
        "why": str(reason.get("why") or ""),
    }


def explain(
    priority: int,
    triage: Iterable[Mapping[str, Any]],
    *,
    team: str | None = None,
    clip: int | None = None,
    term_whys: bool = True,
) -> list[str]:
    """The priority with every rule that weighed on it, then where routing sent the
    conversation and why, then every other reason (overrides, flags, crisis), in order.

    `clip` shortens each reason's why to that many characters and `term_whys=False` leaves
    out the whys of the weighed rules (a narrow header); every rule and weight is always
    shown whole. The text is not made terminal-safe here.
    """
    reasons = list(triage)

    def why(reason: Mapping[str, Any]) -> str:
        text = " ".join(str(reason.get("why") or "").split())
        if clip is not None and len(text) > clip:
            text = text[: max(clip - 1, 1)].rstrip() + "…"
        return text

    weighed = [r for r in reasons if weight_of(r) and not is_route(r)]
    terms = ", ".join(
        f"{r.get('rule') or '?'} {weight_of(r):+d}"
        + (f" ({why(r)})" if term_whys and why(r) else "")
        for r in weighed
    )
    total = sum(weight_of(r) for r in weighed)
    head = f"priority {priority}"
    if terms and total == priority:
        head += f" = {terms}"
    elif terms:  # an operator set it (an "override" reason below says who)
        head += f" (rules gave {total} = {terms})"
    parts = [head]
    for reason in reasons:  # the weighed ones are in the sum above
        rule, said = reason.get("rule") or "?", why(reason)
        if is_route(reason):
            parts.append(f"routed to {reason.get('route') or team or '?'}: {said}")
        elif not weight_of(reason):
            parts.append(f"{rule}: {said}" if said else str(rule))
    return parts
