"""The engagement playbook: SLA clocks, triage, routing, escalation, tone check and sign-off."""

from frontdesk.core.playbook.base import PlaybookError
from frontdesk.core.playbook.escalation import Escalation
from frontdesk.core.playbook.playbook import Playbook
from frontdesk.core.playbook.routing import Route, TeamOffer
from frontdesk.core.playbook.signoff import SignoffReason
from frontdesk.core.playbook.sla import SlaClock, SlaState, state
from frontdesk.core.playbook.store import PlaybookReload, PlaybookStore, playbook_path, watch
from frontdesk.core.playbook.tone import Finding, ReplyContext
from frontdesk.core.playbook.triage import Inbound, Reason, Triage

__all__ = [
    "Escalation",
    "Finding",
    "Inbound",
    "Playbook",
    "PlaybookError",
    "PlaybookReload",
    "PlaybookStore",
    "Reason",
    "ReplyContext",
    "Route",
    "SignoffReason",
    "SlaClock",
    "SlaState",
    "TeamOffer",
    "Triage",
    "playbook_path",
    "state",
    "watch",
]
