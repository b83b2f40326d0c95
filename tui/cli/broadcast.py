"""`frontdesk broadcast`: one knowledge-base answer to a set of conversations, with progress."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from frontdesk.core.broadcast import Selection
from frontdesk.core.config import load_settings
from frontdesk.core.desk import Desk
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.kb.article import Article
from frontdesk.tui.cli.context import open_desk
from frontdesk.tui.cli.output import block, emit_json, line


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], conv_id: Callable[[str], int]
) -> None:
    """Add `broadcast` to the top-level parser."""
    help_text = "send one knowledge-base answer to every conversation of a selection"
    p = sub.add_parser("broadcast", help=help_text, description=help_text)
    p.set_defaults(handler=broadcast)
    p.add_argument("--kb", required=True, metavar="ARTICLE", help="the article to send")
    p.add_argument("--tag", help="conversations carrying this tag")
    p.add_argument("--channel", choices=["x", "facebook", "email"])
    p.add_argument("--team", help="conversations routed to this team")
    p.add_argument(
        "--status", action="append", help="new, open, waiting, resolved (default: the open queue)"
    )
    p.add_argument("--ids", type=_ids(conv_id), help="these conversations (1,2,3)")
    p.add_argument("--resolve", action="store_true", help="resolve each answered conversation")
    p.add_argument("--dry-run", action="store_true", help="preview every copy; write nothing")
    p.add_argument("--kb-dir", metavar="DIR", help="the knowledge-base folder (overrides config)")
    p.add_argument("--json", action="store_true")


def _ids(conv_id: Callable[[str], int]) -> Callable[[str], tuple[int, ...]]:
    def parse(text: str) -> tuple[int, ...]:
        return tuple(conv_id(part.strip()) for part in text.split(",") if part.strip())

    return parse


def load_article(article_id: str, kb_dir: str | None = None) -> Article:
    """The article by id or path from the configured knowledge base.

    Raises:
        NotFound: no such article (the closest titles are suggested).
    """
    from frontdesk.kb.store import KnowledgeBase

    kb = KnowledgeBase.load(load_settings().resolved_kb_dir(kb_dir))
    found = kb.by_id(article_id) or kb.by_id(f"{article_id}.md")
    if found is None:
        hits = ", ".join(h.article.id for h in kb.search(article_id, limit=3))
        raise NotFound(f"no article {article_id!r}" + (f" (did you mean {hits}?)" if hits else ""))
    return found


def selection_of(args: argparse.Namespace) -> Selection:
    return Selection(
        ids=args.ids or (),
        tag=args.tag,
        channel=args.channel,
        team=args.team,
        statuses=tuple(args.status or ()),
    )


def broadcast(args: argparse.Namespace) -> int:
    desk = open_desk()
    art = load_article(args.kb, args.kb_dir)
    selection = selection_of(args)
    if selection.empty:
        raise InvalidInput("say which conversations: --ids, --tag, --channel, --team or --status")
    if args.dry_run:
        return _dry_run(desk, art, selection, args.json)
    broadcast_id = desk.broadcast_start(art, selection, resolve=args.resolve)
    return run_and_report(desk, art, broadcast_id, as_json=args.json)


def _dry_run(desk: Desk, art: Article, selection: Selection, as_json: bool) -> int:
    previews = desk.broadcast_preview(art, selection)
    if as_json:
        emit_json({"article": art.id, "dry_run": True, "copies": [p.as_json() for p in previews]})
        return 0
    if not previews:
        line("no conversation matches the selection")
        return 0
    counts: dict[str, int] = {}
    for p in previews:
        counts[p.verdict] = counts.get(p.verdict, 0) + 1
    line(f"dry run of {art.id} to {len(previews)} conversations; nothing was written")
    line(", ".join(f"{n} would {verdict}" for verdict, n in sorted(counts.items())))
    for p in previews:
        why = f": {'; '.join(p.reasons)}" if p.reasons else ""
        line(f"#{p.conversation_id} {p.channel} {p.customer}: would {p.verdict}{why}")
        if p.verdict != "skip":
            block(p.body)
    return 0


def run_and_report(desk: Desk, art: Article, broadcast_id: int, *, as_json: bool) -> int:
    """Run the broadcast, showing progress on stderr, then the outcome on stdout."""
    tty = sys.stderr.isatty()
    for p in desk.broadcast_run(art, broadcast_id):
        if not as_json and (tty or p.done == p.total or p.done % 50 == 0):
            end = "\r" if tty and p.done < p.total else "\n"
            sys.stderr.write(f"broadcast #{broadcast_id}: {p.done}/{p.total} copies{end}")
            sys.stderr.flush()
    summary = desk.broadcast_summary(broadcast_id)
    if as_json:
        emit_json({"article": art.id, **summary.as_json()})
        return 0 if not summary.counts.get("pending") else 1
    counts = ", ".join(f"{n} {state}" for state, n in sorted(summary.counts.items()))
    line(f"broadcast #{broadcast_id} of {art.id}: {summary.state} ({counts})")
    for r in summary.not_sent:
        line(f"  #{r.conversation_id} {r.state}: {r.reason}")
    if summary.counts.get("held"):
        line("held copies wait for sign-off: `frontdesk approvals`")
    return 0 if not summary.counts.get("pending") else 1
