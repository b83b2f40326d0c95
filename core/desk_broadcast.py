"""The desk's proactive-care actions: resolution broadcasts, and ideas heard from customers."""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import datetime, timedelta

from frontdesk.core import broadcast, broadcast_run, ideas, ideas_digest
from frontdesk.core.broadcast import Selection
from frontdesk.core.broadcast_run import Preview, Progress, Summary
from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.errors import NotFound
from frontdesk.core.models import Operator
from frontdesk.core.models_broadcast import Broadcast, Idea
from frontdesk.core.models_channels import OutboxItem
from frontdesk.core.playbook.playbook import Playbook
from frontdesk.kb.article import Article


class BroadcastDesk:
    """Mixed into Desk: one answer to many conversations, and the ideas list."""

    settings: Settings
    login: str
    db: Database
    clock: Callable[[], datetime]

    def operator(self) -> Operator:
        raise NotImplementedError

    @property
    def lease(self) -> timedelta:
        raise NotImplementedError

    @property
    def playbook(self) -> Playbook:
        raise NotImplementedError

    def broadcast_preview(self, article: Article, selection: Selection) -> list[Preview]:
        """Each copy as it would go, and who would be skipped; nothing is written."""
        with self.db.read() as session:
            return broadcast_run.preview(
                session, self.playbook, article, selection, operator=self.login, now=self.clock()
            )

    def broadcast_start(self, article: Article, selection: Selection, *, resolve: bool) -> int:
        """A new broadcast (targets fixed now), or the same unfinished one to resume."""
        self.operator()
        with self.db.write() as session:
            row = broadcast.start(
                session,
                article_id=article.id,
                selection=selection,
                operator=self.login,
                now=self.clock(),
                resolve=resolve,
            )
            assert row.id is not None
            return row.id

    def broadcast_run(self, article: Article, broadcast_id: int) -> Generator[Progress, None, None]:
        """Send the copies still to go, one transaction each, yielding progress."""
        self.operator()
        return broadcast_run.run(
            self.db,
            self.playbook,
            article,
            broadcast_id,
            operator=self.login,
            clock=self.clock,
            lease=self.lease,
        )

    def broadcast_row(self, broadcast_id: int) -> Broadcast:
        with self.db.read() as session:
            row = session.get(Broadcast, broadcast_id)
            if row is None:
                raise NotFound(f"broadcast {broadcast_id} does not exist")
            session.expunge(row)
            return row

    def broadcast_summary(self, broadcast_id: int) -> Summary:
        with self.db.read() as session:
            return broadcast_run.summary(session, broadcast_id)

    def idea_add(
        self, conversation_id: int, *, text: str | None = None, department: str | None = None
    ) -> ideas.Added:
        """Mark the customer's message (or `text`) as an idea or request."""
        self.operator()
        with self.db.write() as session:
            added = ideas.add(
                session,
                self.playbook,
                conversation_id=conversation_id,
                operator=self.login,
                now=self.clock(),
                threshold=self.settings.ideas.similarity,
                text=text,
                department=department,
            )
            session.expunge_all()
            return added

    def idea_move(self, idea_id: int, department: str) -> Idea:
        """Give an idea to another department of the escalation directory."""
        with self.db.write() as session:
            idea = ideas.move(
                session,
                idea_id,
                department=department,
                playbook=self.playbook,
                operator=self.login,
                now=self.clock(),
            )
            session.expunge(idea)
            return idea

    def ideas(
        self, *, state: str | None = "open", department: str | None = None
    ) -> list[ideas.IdeaCount]:
        with self.db.read() as session:
            rows = ideas.counted(session, state=state, department=department)
            session.expunge_all()
            return rows

    def ideas_digest(
        self, department: str, *, send: bool = False
    ) -> tuple[ideas_digest.Digest, list[OutboxItem]]:
        """The department's digest; with `send`, queued by email to its key contacts."""
        self.operator()
        with self.db.write() if send else self.db.read() as session:
            digest = ideas_digest.build(session, self.playbook, department, now=self.clock())
            if not send:
                return digest, []
            items = ideas_digest.send(session, digest, operator=self.login, now=self.clock())
            session.expunge_all()
            return digest, items

    def idea_done(self, idea_id: int, article: Article) -> tuple[Idea, int | None]:
        """ "You said, we did": mark the idea done and start (or find again) the broadcast to
        every customer who asked; returns the idea and the broadcast to run (None: nobody)."""
        self.operator()
        with self.db.write() as session:
            idea, targets = ideas.mark_done(
                session, idea_id, operator=self.login, article=article.id, now=self.clock()
            )
            sent = broadcast.already_sent(session, article.id, targets)
            # Everyone who asked has had the article already (another broadcast told them):
            # the idea is done all the same, with nothing left to send.
            left = [cid for cid in targets if cid not in sent]
            if idea.broadcast_id is None and left:
                row = broadcast.start(
                    session,
                    article_id=article.id,
                    selection=Selection(ids=tuple(targets)),
                    operator=self.login,
                    now=self.clock(),
                    resolve=False,
                )
                idea.broadcast_id = row.id
                session.add(idea)
                session.flush()
            session.expunge(idea)
            return idea, idea.broadcast_id
