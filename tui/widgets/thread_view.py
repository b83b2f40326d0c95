"""The thread pane: the open conversation, oldest message first, customer text kept inert."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from frontdesk.core.clock import as_utc
from frontdesk.core.conversations import Thread
from frontdesk.core.text import terminal_safe
from frontdesk.core.triage_reasons import explain, flags

WHY_WIDTH = 40  # characters of a routing or note reason's why in the header


def safe(text: str, *, one_line: bool = False) -> Content:
    """Untrusted text as Content: never parsed as markup, control characters made visible."""
    return Content(terminal_safe(text, keep_newlines=not one_line))


class ThreadView(VerticalScroll, can_focus=True):
    """Header with who the customer is and their history, then every message."""

    BINDINGS = [("j", "scroll_down", "Down"), ("k", "scroll_up", "Up")]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.thread: Thread | None = None
        self._presence = ""

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(
            Content("Select a conversation (j/k, enter) or press n for the next one."),
            id="thread-empty",
            classes="thread-hint",
        )

    def set_presence(self, others: list[tuple[str, str]]) -> None:
        """Show who else is here: viewing, or typing a reply."""
        line = terminal_safe(
            " · ".join(f"{name} is {state}" for name, state in others), keep_newlines=False
        )
        if line == self._presence:
            return  # presence is re-read every few seconds; the same line costs no redraw
        self._presence = line
        for widget in self.query(".thread-presence"):
            if isinstance(widget, Static):
                widget.update(Content(line))

    async def show(self, thread: Thread) -> None:
        """Replace what is shown with `thread` (attributes down from the screen)."""
        self.thread = thread
        self._presence = ""
        conv, cust = thread.conversation, thread.customer
        first = thread.first_contact_at.date().isoformat() if thread.first_contact_at else "-"
        replies = [m for m in thread.messages if m.direction == "outbound"]
        last_reply = as_utc(replies[-1].created_at).strftime("%Y-%m-%d %H:%M") if replies else "-"
        title = Content.assemble(
            (terminal_safe(cust.display_name or cust.handle, keep_newlines=False), "bold"),
            "  ",
            terminal_safe(cust.handle, keep_newlines=False),
            f"  {conv.channel} {conv.visibility}  #{conv.id}  {conv.status}",
        )
        tags = ", ".join(cust.tags + conv.tags)
        history = Content(
            f"first contact {first} · {thread.earlier_conversations} earlier conversation(s)"
            f" · last reply {last_reply}"
            + (f" · tags {terminal_safe(tags, keep_newlines=False)}" if tags else "")
            + (f" · held by {conv.claimed_by}" if conv.claimed_by else "")
        )
        triage = flags(conv)
        # Every rule with its weight, but only routing's and the notes' whys, clipped: the
        # header stays a few lines in the 80-column layout's narrow pane (`frontdesk show`
        # prints every why whole).
        why = "; ".join(
            explain(conv.priority, conv.triage, team=conv.team, clip=WHY_WIDTH, term_whys=False)
        )
        parts: list[tuple[Content, str]] = [
            (title, "thread-title"),
            (history, "thread-history"),
            (
                Content(
                    terminal_safe(" · ".join(triage), keep_newlines=False)
                    + "\n"
                    + terminal_safe(why, keep_newlines=False)
                ),
                "thread-history",
            ),
            (Content(""), "thread-presence"),  # the screen fills it in for this thread
        ]
        for message in thread.messages:
            stamp = as_utc(message.created_at).strftime("%Y-%m-%d %H:%M")
            author = terminal_safe(message.author, keep_newlines=False)
            label = {
                "inbound": author,
                "outbound": f"{author} (reply)",
                "note": f"{author} (internal note)",
            }[message.direction]
            meta, state = f"{label} · {stamp}", ""
            delivery = thread.deliveries.get(message.id or 0)
            if delivery is not None:
                state = delivery.state
                meta += f" · {state}"
                if delivery.last_error and state in ("failed", "unknown"):
                    meta += f": {terminal_safe(delivery.last_error, keep_newlines=False)}"
                if state == "failed":
                    meta += " (R retries)"
            meta_classes = f"message-meta {message.direction} {('-' + state) if state else ''}"
            parts.append((Content(meta), meta_classes.strip()))
            parts.append((safe(message.body), f"message {message.direction}"))
        await self._render_parts(parts)
        self.scroll_end(animate=False)

    async def _render_parts(self, parts: list[tuple[Content, str]]) -> None:
        """Update the pane's Statics in place, mounting or removing only the difference.

        Moving through the queue previews thread after thread; re-using the widgets spares
        a full remount (DOM, styles, layout) on every step.
        """
        existing = [w for w in self.query_children(Static) if w.id != "thread-empty"]
        with self.app.batch_update():
            for widget, (content, classes) in zip(existing, parts, strict=False):
                widget.set_classes(classes)
                widget.update(content)
            surplus = existing[len(parts) :]
            surplus += list(self.query_children("#thread-empty").results(Static))
            if surplus:
                await self.remove_children(surplus)
            extra = [Static(content, classes=kind) for content, kind in parts[len(existing) :]]
            if extra:
                await self.mount_all(extra)
