"""The workstation's crisis and staff-care keys and lines: crisis mode on/off, the banner and
holding statement every session follows, spike alerts for supervisors, away, the abusive
flag and the break reminder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.binding import Binding, BindingType

from frontdesk.core import crisis
from frontdesk.core.crisis_watch import Figures
from frontdesk.tui.messages import BreakChecked, ChangesArrived, CrisisChanged
from frontdesk.tui.screens.confirm import ConfirmScreen
from frontdesk.tui.screens.panes import PaneScreen
from frontdesk.tui.screens.prompt import TextScreen
from frontdesk.tui.widgets.crisis_banner import BreakReminder, CrisisBanner

if TYPE_CHECKING:
    from collections.abc import Callable

CRISIS_BINDINGS: list[BindingType] = [
    Binding(
        "exclamation_mark",
        "toggle_crisis",
        "Crisis mode",
        show=False,
        id="crisis.toggle",
        key_display="!",
    ),
    Binding("H", "insert_holding", "Holding statement", show=False, id="crisis.holding"),
    Binding("a", "toggle_away", "Away", show=False, id="staff.away"),
    Binding("b", "flag_abusive", "Abusive", show=False, id="thread.abusive"),
]
CHECK_SECONDS = 60.0
"""How often the workstation looks at the break stretch (and, for supervisors, for a spike)."""


class CrisisActions(PaneScreen):
    """Mixed into the workstation screen, which supplies the panes and loaders."""

    BINDINGS = CRISIS_BINDINGS
    crisis_on: bool = False
    holding: str = ""

    if TYPE_CHECKING:
        act: Callable[..., Any]

    @property
    def banner(self) -> CrisisBanner:
        return self.query_one(CrisisBanner)

    @property
    def reminder(self) -> BreakReminder:
        return self.query_one(BreakReminder)

    def key_of(self, binding_id: str, default: str) -> str:
        """The key a binding has in this session (the config may remap it)."""
        return self.desk.settings.keymap.get(binding_id, default)

    @property
    def supervisor(self) -> bool:
        return self.desk.settings.roles.role_of(self.desk.login) == "supervisor"

    def on_mount(self) -> None:
        # Textual calls the handlers of every class in the screen's MRO: this runs after
        # the workstation's own on_mount.
        self.load_crisis()
        self.check_break()
        self.set_interval(CHECK_SECONDS, self.minute_checks)

    def minute_checks(self) -> None:
        self.check_break()
        if self.supervisor:
            self.check_spike()

    @on(ChangesArrived)
    def follow_crisis(self, message: ChangesArrived) -> None:
        """What the change feed says about crisis mode and this operator's availability."""
        events = message.events
        kinds = {e.kind for e in events}
        if kinds & {crisis.ON, crisis.OFF}:
            self.load_crisis()
        if any(e.actor == self.desk.login and e.kind.startswith("operator.") for e in events):
            self.check_break()
        for event in events:
            if event.kind == crisis.ALERT and self.supervisor:
                summary = Figures.from_json(event.payload).summary()
                self.banner.show_alert(summary, self.key_of("crisis.toggle", "!"))
                self.notify(summary, title="crisis alert", severity="warning", markup=False,
                            timeout=30)  # fmt: skip

    # -- workers ---------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="crisis")
    def load_crisis(self) -> None:
        state = self._guard(self.desk.crisis_state)
        if state is not None:
            statement = self.desk.playbook.config.crisis.holding_statement
            self.app.call_from_thread(self.post_message, CrisisChanged(state, statement))

    @work(thread=True, exclusive=True, group="break")
    def check_break(self) -> None:
        found = self._guard(lambda: (self.desk.break_status(), self.desk.away()))
        if found is not None:
            self.app.call_from_thread(self.post_message, BreakChecked(*found))

    @work(thread=True, exclusive=True, group="spike")
    def check_spike(self) -> None:
        # The alert itself reaches every supervisor through the change feed.
        self._guard(self.desk.crisis_check)

    # -- what they found -------------------------------------------------------------

    def on_crisis_changed(self, message: CrisisChanged) -> None:
        state = message.state
        self.crisis_on = state.on
        self.holding = message.holding_statement if state.on else ""
        if state.on:
            self.banner.show_crisis(state.since, state.by, state.reason)
        else:
            self.banner.clear()
        self.knowledge.set_holding(self.holding or None)

    def on_break_checked(self, message: BreakChecked) -> None:
        key = self.key_of("staff.away", "a")
        if message.away:
            self.reminder.show_away(key)
        elif message.status.due:
            if self.reminder.state != "break":  # once per stretch, as well as the line
                self.notify("time for a break?", markup=False, timeout=8)
            self.reminder.show_break(message.status.minutes, key)
        else:
            self.reminder.clear()

    # -- keys ------------------------------------------------------------------------

    def action_toggle_crisis(self) -> None:
        if not self.supervisor:
            self.notify("only supervisors switch crisis mode", markup=False, timeout=4)
            return
        if self.crisis_on:

            def answer(yes: bool | None) -> None:
                if yes:
                    self.act("crisis mode off: everything restored", self.desk.crisis_off)

            self.app.push_screen(ConfirmScreen("Switch crisis mode off? (y/n)"), answer)
            return

        def reason(text: str | None) -> None:
            if text and text.strip():
                self.act("crisis mode on", lambda: self.desk.crisis_on(text))

        hint = "every reply then needs sign-off, scheduled posts wait, the team sees a banner"
        self.app.push_screen(TextScreen("Why switch crisis mode on?", hint), reason)

    def action_insert_holding(self) -> None:
        if not self.holding or self.thread is None:
            self.notify("no holding statement: crisis mode is off", markup=False, timeout=3)
            return
        self.composer.start(as_note=False)
        self.composer.insert(self.holding)

    def action_toggle_away(self) -> None:
        away = self.reminder.state != "away"

        def go() -> bool:
            self.desk.set_away(away)
            self.check_break()
            return True

        label = "you are away: no work is handed to you" if away else "welcome back"
        self.act(label, go)

    def action_flag_abusive(self) -> None:
        if self.thread is None or self.thread.conversation.id is None:
            return
        target = self.thread.conversation.id
        on = "abusive" not in self.thread.conversation.tags
        label = f"#{target} flagged abusive" if on else f"#{target} no longer flagged abusive"
        self.act(label, lambda: self.desk.flag_abusive(target, on), target)
