"""The workstation app: wiring only (screens, styles, keymap, and the app-lifetime workers)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.worker import get_current_worker

from frontdesk.tui.commands import FrontdeskCommands
from frontdesk.tui.messages import (
    ChangesArrived,
    KnowledgeReloaded,
    PlaybookReloaded,
    PresenceChanged,
)
from frontdesk.tui.screens.boot import BootScreen
from frontdesk.tui.screens.help import HelpScreen

# The database layer, the knowledge base and the workstation screen are imported by the
# worker that opens the desk, after the first frame: importing them costs most of start-up.
if TYPE_CHECKING:
    from frontdesk.core.desk import Desk
    from frontdesk.kb.store import KnowledgeBase, Reload


class Opened:
    """What opening the desk gave: the desk, its knowledge folder, and a warning to show."""

    def __init__(self, desk: Desk, kb_root: Path | None, warning: str | None = None) -> None:
        self.desk = desk
        self.kb_root = kb_root
        self.warning = warning


class FrontdeskApp(App[None]):
    """One operator's workstation over the shared queue."""

    TITLE = "frontdesk"
    CSS_PATH = [Path(__file__).parent / "styles" / "app.tcss"]
    COMMANDS = App.COMMANDS | {FrontdeskCommands}
    BINDINGS = [
        Binding("q", "quit_app", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Keys", id="app.help"),
        Binding("tab", "focus_next", "Next pane", show=False, id="app.focus_next"),
        Binding(
            "shift+tab", "focus_previous", "Previous pane", show=False, id="app.focus_previous"
        ),
    ]

    def __init__(
        self,
        desk: Desk | None = None,
        kb_root: Path | None = None,
        *,
        opener: Callable[[], Opened] | None = None,
        peeker: Callable[[], tuple[int, list[Any]] | None] | None = None,
        login: str = "",
    ) -> None:
        super().__init__()
        self.opener = opener
        self.peeker = peeker
        self.opened = Opened(desk, kb_root) if desk is not None else None
        self.login = login or (desk.login if desk is not None else "")
        self.failure: Exception | None = None  # why the desk could not open; run() re-raises
        self.kb: KnowledgeBase | None = None
        self.last_event = 0

    @property
    def desk(self) -> Desk:
        assert self.opened is not None, "the desk is not open yet"
        return self.opened.desk

    def get_default_screen(self) -> Screen[Any]:
        # Opening the desk in a worker: the boot screen is the first (and only) frame drawn.
        if self.opened is None:
            return BootScreen(self.login)
        return super().get_default_screen()

    def on_mount(self) -> None:
        if self.opened is not None:
            self.start(self.opened)
            return
        # After the first frame: the worker's imports would hold the GIL while it is drawn.
        self.call_after_refresh(self.open_desk)

    @work(thread=True, exclusive=True, group="open", exit_on_error=False)
    def open_desk(self) -> None:
        """Open the database and import the workstation while the first frame is on screen."""
        assert self.opener is not None
        if self.peeker is not None:
            self._show_peek(self.peeker)
        try:
            opened = self.opener()
            import frontdesk.tui.screens.workstation  # noqa: F401  (warm, off the UI thread)
        except Exception as exc:
            self.failure = exc
            self.call_from_thread(self.exit, return_code=1)
            return
        self.call_from_thread(self.start, opened)

    def _show_peek(self, peeker: Callable[[], tuple[int, list[Any]] | None]) -> None:
        """The top of the queue on the boot screen before the database layer is imported."""
        try:
            peeked = peeker()
        except Exception:  # a peek is a courtesy: opening the desk reports what is wrong
            return
        if peeked is not None and isinstance(self.screen, BootScreen):
            total, rows = peeked
            self.call_from_thread(self.screen.show_rows, total, rows)

    def _replay(self, keys: list[events.Key]) -> None:
        """Keys typed on the boot screen, in order, now that the workstation has them."""
        for key in keys:
            self.post_message(events.Key(key.key, key.character))

    def start(self, opened: Opened) -> None:
        """Show the workstation over the open desk and start the app-lifetime workers."""
        from frontdesk.kb.store import KnowledgeBase
        from frontdesk.tui.screens.workstation import WorkstationScreen

        self.opened = opened
        self.set_keymap(self.desk.settings.keymap)
        self.kb = KnowledgeBase(kb_root.resolve()) if (kb_root := opened.kb_root) else None
        if isinstance(self.screen, BootScreen):
            # The boot screen is the base of the stack (it cannot be switched away); the
            # workstation goes on top of it, with its rows and the keys typed meanwhile.
            boot = self.screen
            self.push_screen(WorkstationScreen(self.desk, self.kb, boot.first_rows))
            self.call_after_refresh(self._replay, boot.pending_keys)
        else:
            self.push_screen(WorkstationScreen(self.desk, self.kb))
        if opened.warning:
            self.notify(opened.warning, severity="warning", markup=False)
        self.follow_changes()
        if self.kb is not None:
            self.load_knowledge()
        self.watch_playbook()

    @work(thread=True, exclusive=True, group="feed", exit_on_error=False)
    def follow_changes(self) -> None:
        """Post every new event to the screen; sleeps on the change waiter between them."""
        from frontdesk.core.errors import FrontdeskError
        from frontdesk.core.feed import ChangeWaiter

        worker = get_current_worker()
        waiter = ChangeWaiter(self.desk.db)
        try:
            self.last_event = self.desk.last_event_id()
            while not worker.is_cancelled:
                try:
                    events = self.desk.events_after(self.last_event)
                except FrontdeskError:
                    waiter.wait(timeout=0.5)
                    continue
                if events:
                    self.last_event = events[-1].id
                    self.post_message_to_screen(ChangesArrived(events))
                    continue
                # A wake-up without events is a presence beat; a timeout lets presence
                # expire on screen. Either way the screen re-reads who is where. Short
                # waits keep the worker quick to stop when the app exits.
                for _ in range(10):
                    if worker.is_cancelled or waiter.wait(timeout=0.5):
                        break
                self.post_message_to_screen(PresenceChanged())
        finally:
            waiter.close()

    def post_message_to_screen(self, message: Message) -> None:
        self.call_from_thread(self._deliver, message)

    def _deliver(self, message: Message) -> None:
        from frontdesk.tui.screens.workstation import WorkstationScreen

        for screen in self.screen_stack:
            if isinstance(screen, WorkstationScreen):
                screen.post_message(message)

    @work(thread=True, exclusive=True, group="kb-load", exit_on_error=False)
    def load_knowledge(self) -> None:
        assert self.kb is not None
        self.kb.refresh(self.kb.article_paths())
        self.post_message_to_screen(
            KnowledgeReloaded(len(self.kb.articles), 0, [str(p) for p in self.kb.problems.values()])
        )
        self.call_from_thread(self.watch_knowledge)

    @work(exclusive=True, group="kb-watch", exit_on_error=False)
    async def watch_knowledge(self) -> None:
        from frontdesk.kb.watch import watch

        assert self.kb is not None
        kb = self.kb

        def reloaded(result: Reload) -> None:
            problems = [str(p) for p in kb.problems.values()]
            self._deliver(KnowledgeReloaded(len(kb.articles), result.changed, problems))

        await watch(kb, reloaded)

    @work(exclusive=True, group="playbook-watch", exit_on_error=False)
    async def watch_playbook(self) -> None:
        """Every session takes a saved playbook edit at once; a broken edit is refused and
        said so, and the last good playbook stays in force."""
        import asyncio

        from frontdesk.core.playbook.store import PlaybookReload, watch

        store = await asyncio.to_thread(lambda: self.desk.playbook_store)
        if store.path == Path() or not store.path.parent.is_dir():
            return  # no playbook file configured: the built-in defaults stay

        def reloaded(result: PlaybookReload) -> None:
            problem = str(result.problem) if result.problem else None
            self._deliver(PlaybookReloaded(problem))

        if store.problem is not None:
            self._deliver(PlaybookReloaded(store.warning, at_start=True))
        await watch(store, reloaded)

    def action_help(self) -> None:
        where = type(self.focused).__name__ if self.focused else "workstation"
        self.push_screen(HelpScreen(where, dict(self.active_bindings)))

    def action_quit_app(self) -> None:
        screen = self.screen
        held = getattr(screen, "held", {})
        if held:
            from frontdesk.tui.screens.confirm import ConfirmScreen

            def answer(leave: bool | None) -> None:
                if leave:
                    self.exit()

            count = len(held)
            self.push_screen(
                ConfirmScreen(
                    f"You still hold {count} conversation(s). Quit anyway? Their claims lapse "
                    "when the lease runs out. (y/n)"
                ),
                answer,
            )
            return
        self.exit()
