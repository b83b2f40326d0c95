"""The workstation's `g` prefix, vim style: `g d` opens the dashboard, `g g` the queue's top."""

from __future__ import annotations

from textual.binding import Binding, BindingType
from textual.timer import Timer

from frontdesk.tui.screens.dashboard import DashboardScreen
from frontdesk.tui.screens.panes import PaneScreen

GO_BINDINGS: list[BindingType] = [
    Binding("g", "go", "Go (g d dashboard, g g top)", show=False, id="app.go"),
    Binding("d", "go_dashboard", "Dashboard (after g)", show=False, id="app.dashboard"),
]
PATIENCE = 1.5
"""Seconds the prefix waits for its second key."""


class GoActions(PaneScreen):
    """Mixed into the workstation screen: the second key of a `g` chord picks where to go."""

    BINDINGS = GO_BINDINGS
    _go_timer: Timer | None = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # `d` means something only right after `g`; otherwise the key goes on its way.
        if action == "go_dashboard":
            return self._go_timer is not None
        return super().check_action(action, parameters)

    def action_go(self) -> None:
        if self._go_timer is not None:  # g g: the top of the queue
            self._end_go()
            self.queue.action_first()
            return
        self._go_timer = self.set_timer(PATIENCE, self._end_go)

    def action_go_dashboard(self) -> None:
        self._end_go()
        self.app.push_screen(DashboardScreen(self.desk))

    def _end_go(self) -> None:
        if self._go_timer is not None:
            self._go_timer.stop()
        self._go_timer = None
