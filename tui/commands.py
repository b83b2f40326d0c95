"""The command palette's namespaced commands (queue: …, kb: …, view: …)."""

from __future__ import annotations

from collections.abc import Callable

from textual.command import DiscoveryHit, Hit, Hits, Provider


class FrontdeskCommands(Provider):
    """Every workstation action, findable by name."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        screen = self.screen

        def run(action: str) -> Callable[[], object]:
            return lambda: screen.run_action(action)

        return [
            ("queue: claim next", "claim the most urgent conversation", run("claim_next")),
            ("queue: claim selected", "claim the highlighted conversation", run("claim")),
            ("queue: release", "give the open conversation back", run("release")),
            (
                "queue: cycle view",
                "all, mine, unclaimed, breaching, by channel",
                run("cycle_filter"),
            ),
            ("queue: filter", "by view, team:NAME, tag:NAME and stream:NAME", run("edit_filter")),
            ("thread: reply", "write a reply", run("compose_reply")),
            ("thread: note", "write an internal note", run("compose_note")),
            ("thread: resolve", "resolve and move to the next", run("resolve")),
            ("kb: search", "search the knowledge base", run("search")),
            (
                "kb: holding statement",
                "insert crisis mode's holding statement",
                run("insert_holding"),
            ),
            ("crisis: switch on or off", "crisis mode (supervisors)", run("toggle_crisis")),
            ("staff: away or back", "no work is handed to you while away", run("toggle_away")),
            ("thread: flag abusive", "flag or unflag the open conversation", run("flag_abusive")),
            (
                "view: keys",
                "show the keys of the focused pane",
                lambda: self.app.run_action("help"),
            ),
        ]

    def _show_keys(self) -> None:
        self.app.run_worker(self.app.run_action("help"))

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
