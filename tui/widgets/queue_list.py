"""The queue pane: a virtual list that fetches only the rows on screen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from frontdesk.core.clock import as_utc, utcnow
from frontdesk.core.text import terminal_safe

CHANNEL_MARK = {"x": "X ", "facebook": "FB", "email": "@ "}


@dataclass(frozen=True, slots=True)
class RowView:
    """What one queue row shows; built from core's QueueRow in a worker."""

    conversation_id: int
    due: datetime | None
    target_minutes: int
    channel: str
    customer: str
    preview: str
    holder: str | None
    status: str


def countdown(due: datetime | None, now: datetime) -> str:
    """Minutes left (or late) as a short label: 12m, 1h05, -3m."""
    if due is None:
        return "  --"
    seconds = int((as_utc(due) - now).total_seconds())
    sign = "-" if seconds < 0 else ""
    minutes = abs(seconds) // 60
    if minutes >= 100 * 60:
        return f"{sign}{minutes // 1440}d"
    if minutes >= 60:
        return f"{sign}{minutes // 60}h{minutes % 60:02d}"
    return f"{sign}{minutes}m"


class QueueList(ScrollView, can_focus=True):
    """Conversations most urgent first. Holds only the rows near the viewport; the screen
    fetches windows on request, so 100,000 conversations cost what 50 do."""

    COMPONENT_CLASSES = {
        "queue-list--cursor",
        "queue-list--ok",
        "queue-list--soon",
        "queue-list--late",
        "queue-list--holder",
        "queue-list--mine",
        "queue-list--dim",
    }
    BINDINGS = [
        Binding("j,down", "cursor_down", "Down", show=False, id="queue.down"),
        Binding("k,up", "cursor_up", "Up", show=False, id="queue.up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="queue.page_down"),
        Binding("pageup", "page_up", "Page up", show=False, id="queue.page_up"),
        Binding("g", "first", "First", show=False, id="queue.first"),
        Binding("G", "last", "Last", show=False, id="queue.last"),
        Binding("enter", "open", "Open", id="queue.open"),
    ]

    cursor: reactive[int] = reactive(0)

    class WindowNeeded(Message):
        """The list needs rows [start, start+count) to paint."""

        def __init__(self, start: int, count: int) -> None:
            super().__init__()
            self.start = start
            self.count = count

    class Highlighted(Message):
        """The cursor rests on a conversation."""

        def __init__(self, conversation_id: int) -> None:
            super().__init__()
            self.conversation_id = conversation_id

    class Opened(Message):
        """The operator pressed enter on a conversation."""

        def __init__(self, conversation_id: int) -> None:
            super().__init__()
            self.conversation_id = conversation_id

    def __init__(self, me: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.me = me
        self.total = 0
        self.rows: dict[int, RowView] = {}
        self._asked: tuple[int, int] | None = None
        self.presence: dict[int, list[tuple[str, str]]] = {}
        self.selected_id: int | None = None
        """The conversation under the cursor; the cursor follows it when the order changes."""

    def set_rows(self, total: int, start: int, rows: list[RowView], *, reset: bool) -> None:
        """Take a fetched window (attributes down from the screen)."""
        if reset:
            self.rows = {}
        self.total = total
        for offset, row in enumerate(rows):
            self.rows[start + offset] = row
        self._asked = None
        self.virtual_size = Size(self.size.width, total)
        follow = next(
            (i for i, r in self.rows.items() if r.conversation_id == self.selected_id), None
        )
        if follow is not None:
            self.set_reactive(QueueList.cursor, follow)
            self.scroll_to_region_for(follow)
        elif self.cursor >= total:
            self.cursor = max(total - 1, 0)
        self.refresh()
        self._announce()

    def set_presence(self, presence: dict[int, list[tuple[str, str]]]) -> None:
        """Who is viewing what (attributes down); rows repaint with the names."""
        self.presence = presence
        self.refresh()

    def select(self, conversation_id: int) -> None:
        """Put the cursor on a conversation when it is loaded (after claim next, say)."""
        self.selected_id = conversation_id
        for index, row in self.rows.items():
            if row.conversation_id == conversation_id:
                self.cursor = index

    def row_at_cursor(self) -> RowView | None:
        return self.rows.get(self.cursor)

    def visible_window(self) -> tuple[int, int]:
        top = int(self.scroll_offset.y)
        height = max(self.size.height, 1)
        return max(top - height, 0), height * 3

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        width = self.size.width
        if index >= self.total:
            return Strip.blank(width, self.rich_style)
        row = self.rows.get(index)
        if row is None:
            self._need(index)
            return Strip(
                [Segment(" …".ljust(width), self.get_component_rich_style("queue-list--dim"))]
            )
        return self._strip(row, index == self.cursor, width)

    def _strip(self, row: RowView, current: bool, width: int) -> Strip:
        now = utcnow()
        base = self.rich_style
        if current:
            base = base + self.get_component_rich_style("queue-list--cursor")
        holder = row.holder or ""
        others = [
            f"{name}✎" if state == "typing" else name
            for name, state in self.presence.get(row.conversation_id, [])
            if name != self.me and name != holder
        ]
        who = f"{holder} +{','.join(others)}".strip() if others else holder
        holder_style = self.get_component_rich_style(
            "queue-list--mine" if row.holder == self.me else "queue-list--holder"
        )
        clock = countdown(row.due, now).rjust(6)
        name = set_cell_size(terminal_safe(row.customer, keep_newlines=False), 16)
        who = set_cell_size(terminal_safe(who, keep_newlines=False), 12) if who else ""
        lead = [
            Segment(clock + " ", base + self._clock_style(row, now)),
            Segment(CHANNEL_MARK.get(row.channel, "? ") + " ", base),
            Segment(name + " ", base),
        ]
        tail = [Segment(" " + who, base + holder_style)] if who else []
        used = sum(cell_len(seg.text) for seg in lead + tail)
        room = max(width - used, 0)
        preview = set_cell_size(terminal_safe(row.preview, keep_newlines=False), room)
        return Strip([*lead, Segment(preview, base), *tail]).adjust_cell_length(width, base)

    def _clock_style(self, row: RowView, now: datetime) -> Style:
        if row.due is None:
            return self.get_component_rich_style("queue-list--dim")
        left = (as_utc(row.due) - now).total_seconds()
        if left < 0:
            return self.get_component_rich_style("queue-list--late")
        if left < row.target_minutes * 60 / 4:  # the playbook's default warning lead
            return self.get_component_rich_style("queue-list--soon")
        return self.get_component_rich_style("queue-list--ok")

    def _need(self, index: int) -> None:
        start, count = self.visible_window()
        start = min(start, index)
        if self._asked == (start, count):
            return
        self._asked = (start, count)
        self.post_message(self.WindowNeeded(start, count))

    def watch_cursor(self, old: int, new: int) -> None:
        if new not in self.rows:
            # The operator moved to a row still being fetched: the cursor stays where they
            # put it, instead of following the conversation they left when rows arrive.
            self.selected_id = None
        self.scroll_to_region_for(new)
        self.refresh_line_for(old)
        self.refresh_line_for(new)
        self._announce()

    def scroll_to_region_for(self, index: int) -> None:
        top = int(self.scroll_offset.y)
        height = self.size.height
        if index < top:
            self.scroll_to(y=index, animate=False)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False)

    def refresh_line_for(self, index: int) -> None:
        y = index - int(self.scroll_offset.y)
        if 0 <= y < self.size.height:
            self.refresh_line(y)

    def _announce(self) -> None:
        row = self.rows.get(self.cursor)
        if row is not None and row.conversation_id != self.selected_id:
            self.selected_id = row.conversation_id
            self.post_message(self.Highlighted(row.conversation_id))

    def action_cursor_down(self) -> None:
        if self.cursor < self.total - 1:
            self.cursor += 1

    def action_cursor_up(self) -> None:
        if self.cursor > 0:
            self.cursor -= 1

    def action_page_down(self) -> None:
        self.cursor = min(self.cursor + max(self.size.height - 1, 1), max(self.total - 1, 0))

    def action_page_up(self) -> None:
        self.cursor = max(self.cursor - max(self.size.height - 1, 1), 0)

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = max(self.total - 1, 0)

    def action_open(self) -> None:
        row = self.rows.get(self.cursor)
        if row is not None:
            self.post_message(self.Opened(row.conversation_id))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
