"""The composer: a multi-line reply with a live count against the channel's limit."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Static, TextArea

from frontdesk.core.playbook.tone import Finding
from frontdesk.core.text import terminal_safe

Checker = Callable[[str], list[Finding]]

LIMITS = {"x": 280, "facebook": 2000, "email": 0}


class Composer(Vertical):
    """A draft for the open conversation; notes and replies share it."""

    class Submitted(Message):
        """The operator asked to send the draft (ctrl+s)."""

        def __init__(self, text: str, as_note: bool) -> None:
            super().__init__()
            self.text = text
            self.as_note = as_note

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.channel = "x"
        self.as_note = False
        self.checker: Checker | None = None
        self.findings: list[Finding] = []
        self.follow_up = ""
        """The public follow-up this conversation still owes; `r` on an empty draft fills it."""

    def compose(self) -> ComposeResult:
        yield TextArea(id="draft", soft_wrap=True, show_line_numbers=False)
        yield Static(Content(""), id="draft-count")
        yield Static(Content(""), id="draft-findings")

    @property
    def area(self) -> TextArea:
        return self.query_one("#draft", TextArea)

    @property
    def text(self) -> str:
        return self.area.text

    def set_channel(self, channel: str) -> None:
        self.channel = channel
        self._update_count()

    def set_checker(self, checker: Checker | None) -> None:
        """The playbook's tone check for the open conversation (attributes down)."""
        self.checker = checker
        self._update_count()

    def start(self, *, as_note: bool) -> None:
        """Focus the draft, as a reply or as an internal note."""
        if not as_note and self.follow_up and not self.text.strip():
            self.area.text = self.follow_up
        self.as_note = as_note
        self.set_class(as_note, "-note")
        self._update_count()
        self.area.focus()

    def insert(self, text: str) -> None:
        """Put an answer into the draft at the cursor."""
        self.area.insert(text)
        self.area.focus()

    def clear(self) -> None:
        self.area.text = ""

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._update_count()

    def _update_count(self) -> None:
        length = len(self.area.text)
        limit = LIMITS.get(self.channel, 0)
        kind = "internal note" if self.as_note else f"reply on {self.channel}"
        label = f"{kind} · {length}" + (f"/{limit}" if limit and not self.as_note else "")
        counter = self.query_one("#draft-count", Static)
        counter.update(Content(label + " · ctrl+s sends · esc leaves"))
        counter.set_class(bool(limit) and not self.as_note and length > limit, "-over")
        self._show_findings()

    def _show_findings(self) -> None:
        # The check is pure CPU (about a millisecond on 5,000 characters), so it runs on
        # every change without a worker; notes are internal and are not checked.
        text = self.area.text
        check = self.checker
        self.findings = check(text) if check and text.strip() and not self.as_note else []
        worst_first = sorted(self.findings, key=lambda f: (not f.blocks, f.start))
        lines = [
            f"{'⛔' if f.blocks else '⚠'} {f.rule}: {f.message} → {f.fix}" for f in worst_first
        ]
        panel = self.query_one("#draft-findings", Static)
        panel.update(Content(terminal_safe("\n".join(lines[:3]))))
        panel.set_class(any(f.blocks for f in self.findings), "-blocks")
        panel.display = bool(lines)

    def submit(self) -> None:
        if self.text.strip():
            self.post_message(self.Submitted(self.text, self.as_note))
