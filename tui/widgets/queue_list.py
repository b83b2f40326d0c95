"""The queue pane: a virtual list that fetches only the rows on screen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip

from frontdesk.core.clock import utcnow
from frontdesk.core.queue_peek import RowView
from frontdesk.tui.widgets.queue_row import row_strip, sla_clock

KEEP_AROUND = 200
"""Rows kept either side of the last fetched window (a few screens)."""


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
        Binding("G", "last", "Last", show=False, id="queue.last"),
        Binding("enter", "open", "Open", id="queue.open"),
    ]

    # No repaint on change: watch_cursor repaints the two rows involved. A whole-pane repaint
    # per key is ~14 KB over SSH at 120x40 (bench/tui.py), two rows are a few hundred bytes.
    cursor: reactive[int] = reactive(0, repaint=False)

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
        self._clocks: dict[int, tuple[str, str]] = {}
        """The countdown label and colour each row was last drawn with, by row index."""
        self._scrollbars_for: Size | None = None
        self._height = 1
        """Rows in the viewport, kept by the UI thread (see visible_window)."""
        self.marked: set[int] = set()
        """Conversations marked for a bulk action (a broadcast), shown with a * by the name."""
        self.clock: Callable[[], datetime] = utcnow
        """The desk's clock (attributes down), which the countdowns are measured against."""

    def on_mount(self) -> None:
        # Countdowns are minutes; rows are redrawn only when theirs changes, not on a timer.
        self.set_interval(5, self._refresh_clocks)

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        # Textual hands a ScrollView its viewport as `virtual_size` here, which never equals
        # the list's own, so every layout pass anywhere on screen (a status line update, a
        # thread opening) redrew this pane's scrollbar: ~2 KB per pass at 40 rows. Only a
        # new size, or a new row count, changes what the scrollbar shows.
        if (
            size == self._size
            and container_size == self.container_size
            and self.virtual_size == self._scrollbars_for
        ):
            return False
        self._scrollbars_for = self.virtual_size
        return super()._size_updated(size, virtual_size, container_size, layout)

    def _bar(self, rows: int) -> list[tuple[str, Color | None, Color | None]]:
        """The vertical scrollbar as it would be drawn for `rows` rows (glyphs and colours)."""
        window = self.container_size.height
        bar = ScrollBarRender.render_bar(
            size=window, virtual_size=rows, window_size=window, position=self.scroll_y
        )
        picture = []
        for segment in bar.segments:
            style = segment.style or Style()
            picture.append((segment.text, style.color, style.bgcolor))
        return picture

    def set_rows(self, total: int, start: int, rows: list[RowView], *, reset: bool) -> None:
        """Take a fetched window (attributes down from the screen)."""
        # Only rows whose content changed are redrawn: a reload after every change in the
        # team's queue must not resend the whole pane to every operator's terminal.
        before = self._on_screen()
        old_cursor = self.cursor
        if reset:
            self.rows = {}
        self.total = total
        # Rows far from the fetched window are dropped: they would only go stale, and a long
        # session scrolling a 100,000-row queue must not keep every row it ever saw.
        low, high = start - KEEP_AROUND, start + len(rows) + KEEP_AROUND
        if any(not low <= index < high for index in self.rows):
            self.rows = {i: r for i, r in self.rows.items() if low <= i < high}
        for offset, row in enumerate(rows):
            self.rows[start + offset] = row
        self._asked = None
        self._resize(total)
        follow = next(
            (i for i, r in self.rows.items() if r.conversation_id == self.selected_id), None
        )
        if follow is not None:
            self.set_reactive(QueueList.cursor, follow)
            self.scroll_to_region_for(follow)
        elif self.cursor >= total:
            self.cursor = max(total - 1, 0)
        after = self._on_screen()
        for index in set(before) | set(after):
            if before.get(index) != after.get(index):
                self.refresh_line_for(index)
        if self.cursor != old_cursor:
            self.refresh_line_for(old_cursor)
            self.refresh_line_for(self.cursor)
        self._announce()

    def _resize(self, total: int) -> None:
        """Make the list `total` rows long, redrawing as little as that allows."""
        size = Size(self.size.width, total)
        if size == self.virtual_size:
            return
        # Assigning the reactive would repaint the whole pane; a new row count changes only
        # the scrollbar, and one message arriving in a queue of thousands rarely moves its
        # thumb by a visible step. Then the scrollbar's figures are kept true undrawn.
        unchanged = self.show_vertical_scrollbar and self._bar(total) == self._bar(
            self.virtual_size.height
        )
        self.set_reactive(QueueList.virtual_size, size)
        if unchanged:
            self.vertical_scrollbar.set_reactive(ScrollBar.window_virtual_size, total)
            self._scrollbars_for = size
            self.scroll_y = self.validate_scroll_y(self.scroll_y)
        else:
            self.refresh(repaint=False, layout=True)

    def set_presence(self, presence: dict[int, list[tuple[str, str]]]) -> None:
        """Who is viewing what (attributes down); rows whose names changed repaint."""
        # The operator's own whereabouts are never drawn, so moving about repaints nothing.
        presence = {
            cid: shown
            for cid, people in presence.items()
            if (shown := [p for p in people if p[0] != self.me])
        }
        old, self.presence = self.presence, presence
        for index, row in self._on_screen().items():
            if row is not None and old.get(row.conversation_id) != presence.get(
                row.conversation_id
            ):
                self.refresh_line_for(index)

    def _on_screen(self) -> dict[int, RowView | None]:
        """The rows in the viewport by index (None: past the end, or not fetched yet)."""
        top = int(self.scroll_offset.y)
        last = min(top + self.size.height, self.total)
        return {index: self.rows.get(index) for index in range(top, last)}

    def select(self, conversation_id: int) -> None:
        """Put the cursor on a conversation when it is loaded (after claim next, say)."""
        self.selected_id = conversation_id
        for index, row in self.rows.items():
            if row.conversation_id == conversation_id:
                self.cursor = index

    def toggle_mark(self, conversation_id: int) -> None:
        """Mark or unmark a conversation; only its row repaints."""
        self.marked ^= {conversation_id}
        self._repaint({conversation_id})

    def clear_marks(self) -> None:
        old, self.marked = self.marked, set()
        self._repaint(old)

    def _repaint(self, conversation_ids: set[int]) -> None:
        for index, row in self._on_screen().items():
            if row is not None and row.conversation_id in conversation_ids:
                self.refresh_line_for(index)

    def row_at_cursor(self) -> RowView | None:
        return self.rows.get(self.cursor)

    def visible_window(self) -> tuple[int, int]:
        """Rows [start, start+count) worth fetching: the viewport and one screen either side.

        Safe from a worker thread: it reads the height the UI thread recorded, never the
        widget's geometry, whose lazy parts (the scrollbar corner) mount widgets and crash
        outside the event loop ("RuntimeError: no running event loop").
        """
        top = int(self.scroll_y)
        height = self._height
        return max(top - height, 0), height * 3

    def on_resize(self) -> None:
        self._height = max(self.size.height, 1)

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
        return self._strip(row, index, width)

    def _strip(self, row: RowView, index: int, width: int) -> Strip:
        base = self.rich_style
        if index == self.cursor:
            base = base + self.get_component_rich_style("queue-list--cursor")
        clock = self._clocks[index] = sla_clock(row, self.clock())
        return row_strip(
            row,
            width=width,
            base=base,
            ink=self._ink,
            clock=clock,
            me=self.me,
            viewers=self.presence.get(row.conversation_id, []),
            marked=row.conversation_id in self.marked,
        )

    def _ink(self, component: str) -> Style:
        """A component's colour and weight without its background, so the cursor's shows."""
        style = self.get_component_rich_style(component)
        return Style(color=style.color, bold=style.bold)

    def _refresh_clocks(self) -> None:
        now = self.clock()
        for index, row in self._on_screen().items():
            if row is not None and self._clocks.get(index) != sla_clock(row, now):
                self.refresh_line_for(index)

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
        """Repaint row `index` if it is in the viewport (ScrollView.refresh_line takes the
        virtual line, not the screen line)."""
        y = index - int(self.scroll_offset.y)
        if 0 <= y < self.size.height:
            # The row's cells only: ScrollView.refresh_line's region is as wide as the
            # virtual size, which takes in the scrollbar, and each row would resend it.
            self.refresh(Region(0, y, self.scrollable_content_region.width, 1))

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
