"""The knowledge pane: the best answers for the open conversation, refined as you type."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from frontdesk.core.text import terminal_safe
from frontdesk.kb.search import Hit

# Everything Markdown could read as syntax; customer values are spliced into the preview
# with these escaped, so a name such as "[x](https://evil)" stays a name.
_MARKDOWN_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_{}[]()<>#+-.!|~"})


PREVIEW_DELAY = 0.15
"""Seconds of quiet typing before the answer preview is drawn."""


def markdown_literal(value: str) -> str:
    """`value` as Markdown text that renders exactly as written."""
    return terminal_safe(value, keep_newlines=False).translate(_MARKDOWN_SPECIAL)


class KnowledgePanel(Vertical):
    """Search box, ranked answers (1-9 insert them), and a preview for this channel."""

    class QueryChanged(Message):
        """The operator typed in the search box."""

        def __init__(self, query: str) -> None:
            super().__init__()
            self.query = query

    class AnswerChosen(Message):
        """The operator picked an answer to insert."""

        def __init__(self, hit: Hit) -> None:
            super().__init__()
            self.hit = hit

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.hits: list[Hit] = []
        self.channel = "x"
        self.values: dict[str, str] = {}
        self._preview_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        # Crisis mode's holding statement, pinned above everything (hidden otherwise).
        yield Static(Content(""), id="kb-holding")
        yield Input(placeholder="search the knowledge base (/)", id="kb-query")
        yield OptionList(id="kb-results")
        # Links in articles are shown, never opened: open_links=False and no handler.
        yield Markdown("", id="kb-preview", open_links=False)
        yield Static(Content(""), id="kb-status")

    @property
    def results(self) -> OptionList:
        return self.query_one("#kb-results", OptionList)

    def focus_search(self) -> None:
        self.query_one("#kb-query", Input).focus()

    def set_context(self, channel: str, values: dict[str, str]) -> None:
        self.channel = channel
        self.values = values

    def show_hits(self, hits: list[Hit]) -> None:
        """Show ranked answers (attributes down from the screen)."""
        self.hits = hits
        results = self.results
        options = [
            Option(Content(f"{number} {terminal_safe(hit.article.title, keep_newlines=False)}"))
            for number, hit in enumerate(hits[:9], start=1)
        ]
        results.set_options(options)  # one refresh per keystroke, not one per answer
        if hits:
            results.highlighted = 0
        self._preview_soon(0)

    def set_holding(self, statement: str | None) -> None:
        """Pin crisis mode's holding statement atop the pane (None: take it down)."""
        holding = self.query_one("#kb-holding", Static)
        text = terminal_safe(statement or "")
        holding.update(Content(f"HOLDING STATEMENT (crisis mode)\n{text}" if statement else ""))
        holding.set_class(bool(statement), "-on")

    def set_status(self, text: str) -> None:
        self.query_one("#kb-status", Static).update(Content(text))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.QueryChanged(event.value))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        # New results highlight their first answer on every keystroke; only an operator
        # moving through the answers gets the preview at once.
        if self.results.has_focus:
            self._preview(event.option_index)
        else:
            self._preview_soon(event.option_index)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.choose(event.option_index + 1)

    def choose(self, number: int) -> None:
        """Insert the n-th answer (1-based)."""
        if 1 <= number <= len(self.hits):
            self.post_message(self.AnswerChosen(self.hits[number - 1]))

    def _preview_soon(self, index: int) -> None:
        # Rendering Markdown costs far more than a search: while the operator types, only
        # the list follows each key and the preview waits until they pause.
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(PREVIEW_DELAY, lambda: self._preview(index))

    def _preview(self, index: int) -> None:
        preview = self.query_one("#kb-preview", Markdown)
        if not self.hits or index >= len(self.hits):
            preview.update("*no answer matches*" if self.hits == [] else "")
            return
        article = self.hits[index].article
        values = {key: markdown_literal(value) for key, value in self.values.items()}
        preview.update(terminal_safe(article.render(self.channel, values)))
