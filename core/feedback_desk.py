"""The desk's care-after-resolution actions: "you said, we did" records and survey results."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from frontdesk.core import feedback, follow_up, surveys
from frontdesk.core.db import Database
from frontdesk.core.errors import NotFound
from frontdesk.core.models import Conversation, Operator
from frontdesk.core.models_surveys import FeedbackChange, FollowUpReminder, Survey


class FeedbackDesk:
    """Mixed into Desk: what customers told us led to, and what they thought of us."""

    login: str
    db: Database
    clock: Callable[[], datetime]

    def operator(self) -> Operator:
        raise NotImplementedError

    def yousaid_add(self, summary: str, conversations: Iterable[int]) -> FeedbackChange:
        """Record a change made because of the feedback in `conversations`."""
        self.operator()
        with self.db.write() as session:
            change = feedback.record(
                session, summary=summary, conversations=conversations, by=self.login,
                now=self.clock(),
            )  # fmt: skip
            session.expunge(change)
            return change

    def yousaid(self) -> list[FeedbackChange]:
        """The changes recorded, newest first."""
        with self.db.read() as session:
            rows = feedback.listing(session)
            for row in rows:
                session.expunge(row)
            return rows

    def care_of(self, conversation_id: int) -> tuple[list[Survey], list[FollowUpReminder]]:
        """A conversation's surveys and follow-up reminders, oldest first.

        Raises:
            NotFound: no such conversation.
        """
        with self.db.read() as session:
            if session.get(Conversation, conversation_id) is None:
                raise NotFound(f"conversation {conversation_id} does not exist")
            asked = surveys.for_conversation(session, conversation_id)
            reminders = follow_up.reminders(session, conversation_id)
            for row in (*asked, *reminders):
                session.expunge(row)
            return asked, reminders
