"""The workstation's proactive-care keys: mark rows, broadcast an answer to them, note an idea."""

from __future__ import annotations

from collections.abc import Callable

from textual import work
from textual.binding import Binding, BindingType

from frontdesk.core.broadcast import Selection
from frontdesk.core.broadcast_run import Preview, Summary
from frontdesk.core.text import terminal_safe
from frontdesk.kb.article import Article
from frontdesk.tui.screens.confirm import ConfirmScreen
from frontdesk.tui.screens.panes import PaneScreen
from frontdesk.tui.screens.prompt import ChoiceScreen, TextScreen

BROADCAST_BINDINGS: list[BindingType] = [
    Binding("m", "toggle_mark", "Mark", show=False, id="queue.mark"),
    Binding("B", "broadcast_marked", "Broadcast", show=False, id="queue.broadcast"),
    Binding("I", "mark_idea", "Idea", show=False, id="thread.idea"),
]
SEARCH = "\x00search"
"""The choice that asks for a search instead of one of the knowledge pane's answers."""
PROGRESS_EVERY = 25
"""Copies between progress notifications (every copy would flood the screen)."""


class BroadcastActions(PaneScreen):
    """Mixed into the workstation screen, which supplies the panes and loaders."""

    BINDINGS = BROADCAST_BINDINGS

    def action_toggle_mark(self) -> None:
        row = self.queue.row_at_cursor()
        if row is not None:
            self.queue.toggle_mark(row.conversation_id)

    def action_broadcast_marked(self) -> None:
        marked = tuple(sorted(self.queue.marked))
        if not marked:
            self.notify("mark conversations with m first", markup=False, timeout=4)
            return
        if self.kb is None:
            self.notify("no knowledge base is open", markup=False, timeout=4)
            return
        hits = self.knowledge.hits

        def picked(choice: list[str] | None) -> None:
            if not choice:
                return
            if choice[0] == SEARCH:
                self.app.push_screen(TextScreen("Search the knowledge base"), searched)
                return
            article = self.kb.by_id(choice[0]) if self.kb is not None else None
            if article is not None:
                self.preview_broadcast(article, marked)

        def searched(query: str | None) -> None:
            if query and query.strip():
                self.search_answers(query, picked)

        options = [(h.article.id, h.article.title) for h in hits]
        options.append((SEARCH, "search the knowledge base…"))
        title = f"Broadcast to {len(marked)} marked conversations: which answer?"
        self.app.push_screen(ChoiceScreen(title, options), picked)

    @work(thread=True, exclusive=True, group="broadcast-search")
    def search_answers(self, query: str, picked: Callable[[list[str] | None], None]) -> None:
        """Search off the UI thread (a big knowledge base takes a while), then offer the hits."""
        kb = self.kb
        found = kb.search(query, limit=9) if kb is not None else []
        if not found:
            self._tell("no answer matches")
            return
        options = [(h.article.id, h.article.title) for h in found]
        choice = ChoiceScreen("Broadcast which answer?", options)
        self.app.call_from_thread(self.app.push_screen, choice, picked)

    @work(thread=True, group="broadcast")
    def preview_broadcast(self, article: Article, marked: tuple[int, ...]) -> None:
        previews = self._guard(lambda: self.desk.broadcast_preview(article, Selection(ids=marked)))
        if previews is not None:
            self.app.call_from_thread(self._confirm_broadcast, article, marked, previews)

    def _confirm_broadcast(
        self, article: Article, marked: tuple[int, ...], previews: list[Preview]
    ) -> None:
        counts: dict[str, int] = {}
        for p in previews:
            counts[p.verdict] = counts.get(p.verdict, 0) + 1
        sample = next((p for p in previews if p.verdict in ("queue", "hold")), None)
        if sample is None:
            tally = ", ".join(f"{n} {v}" for v, n in counts.items())
            self.notify(f"no marked conversation can take {article.id}: {tally}", markup=False)
            return
        lines = [
            f"Broadcast {article.id} to {len(previews)} conversations: "
            + ", ".join(f"{n} {v}" for v, n in sorted(counts.items())),
            *(
                f"  #{p.conversation_id} {p.verdict}: {'; '.join(p.reasons)}"
                for p in previews
                if p.verdict in ("skip", "block")
            ),
            f"The copy for #{sample.conversation_id} ({sample.customer}):",
            sample.body,
            "Send? (y/n)",
        ]
        question = terminal_safe("\n".join(lines))

        def answer(yes: bool | None) -> None:
            if yes:
                self.run_broadcast(article, marked)

        self.app.push_screen(ConfirmScreen(question), answer)

    @work(thread=True, group="broadcast")
    def run_broadcast(self, article: Article, marked: tuple[int, ...]) -> None:
        def go() -> Summary:
            bid = self.desk.broadcast_start(article, Selection(ids=marked), resolve=False)
            for p in self.desk.broadcast_run(article, bid):
                if p.done % PROGRESS_EVERY == 0 and p.done < p.total:
                    self._tell(f"broadcast #{bid}: {p.done}/{p.total} copies")
            return self.desk.broadcast_summary(bid)

        summary = self._guard(go)
        if summary is None:
            return
        counts = ", ".join(f"{n} {s}" for s, n in sorted(summary.counts.items()))
        skipped = "; ".join(f"#{r.conversation_id} {r.reason}" for r in summary.not_sent)
        self._tell(
            f"broadcast of {article.id} done: {counts}"
            + (f". Not sent: {skipped}" if skipped else "")
        )
        self.app.call_from_thread(self.queue.clear_marks)
        self.app.call_from_thread(self.reload_queue)
        if self.thread is not None and self.thread.conversation.id in marked:
            # The open thread shows the copy it just got (our own events do not reload it).
            self.app.call_from_thread(self.load_thread, self.thread.conversation.id)

    def _tell(self, text: str) -> None:
        # What is told carries customer text (an idea's wording, why a copy was not sent).
        self.app.call_from_thread(self.notify, terminal_safe(text), markup=False, timeout=6)

    def action_mark_idea(self) -> None:
        """The open conversation's customer asks for something: into the ideas list."""
        if self.thread is not None and self.thread.conversation.id is not None:
            self.idea_departments(self.thread.conversation.id)

    @work(thread=True, group="act")
    def idea_departments(self, target: int) -> None:
        # The first use of the playbook reads its file: not on the UI thread.
        departments = self._guard(lambda: self.desk.playbook.directory.names())
        if departments is not None:
            self.app.call_from_thread(self._ask_idea, target, departments)

    def _ask_idea(self, target: int, departments: list[str]) -> None:
        def add(department: str | None) -> Callable[[str | None], None]:
            def typed(text: str | None) -> None:
                if text is None:
                    return
                self.save_idea(target, text.strip() or None, department)

            return typed

        def chosen(picked: list[str] | None) -> None:
            if picked is None:
                return
            department = None if picked[0] == "" else picked[0]
            hint = "enter keeps the customer's own words"
            self.app.push_screen(
                TextScreen("The idea or request, in a few words", hint), add(department)
            )

        options = [("", "where the playbook routes it"), *((d, d) for d in departments)]
        self.app.push_screen(ChoiceScreen("Idea or request for which department?", options), chosen)

    @work(thread=True, group="act")
    def save_idea(self, target: int, text: str | None, department: str | None) -> None:
        added = self._guard(lambda: self.desk.idea_add(target, text=text, department=department))
        if added is None:
            return
        idea = added.idea
        if added.merged:
            self._tell(f"joins idea #{idea.id} ({idea.department}): {idea.text}")
        else:
            self._tell(f"new idea #{idea.id} for {idea.department}: {idea.text}")
