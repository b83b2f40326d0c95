"""`frontdesk kb ...`: search, lint and check the knowledge base; propose and review edits."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from frontdesk.core.config import Settings, load_settings
from frontdesk.core.errors import InvalidInput
from frontdesk.tui.cli.output import block, emit_json, line, table


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `kb` command and its actions to the top-level parser."""
    kb = sub.add_parser("kb", help="the knowledge base", description="the knowledge base")
    actions = kb.add_subparsers(dest="kb_command", metavar="ACTION", required=True)

    def action(name: str, handler: object, help_text: str) -> argparse.ArgumentParser:
        p = actions.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--kb", metavar="DIR", help="the knowledge-base folder (overrides config)")
        p.set_defaults(handler=handler)
        return p

    p = action("search", search, "the best answers for a query (fzf operators: 'x ^x x$ !x)")
    p.add_argument("query", nargs="+")
    p.add_argument("--channel", choices=["x", "facebook", "email"])
    p.add_argument("--limit", type=int, default=5)
    p.add_argument("--json", action="store_true")
    p = action("lint", lint, "check every article; exit 1 when anything is wrong")
    p.add_argument("--json", action="store_true")
    p = action("check-links", check_links, "check every link and contact URL")
    p.add_argument("--json", action="store_true")
    p = action("propose", propose, "propose a new article or an edit (text from FILE or -)")
    p.add_argument("path", help="the article's path inside the folder, e.g. returns/refund.md")
    p.add_argument("--from", dest="source", required=True, metavar="FILE")
    p.add_argument("--note", default="")
    p = action("proposals", proposals, "list proposals waiting for a gatekeeper")
    p.add_argument("--all", action="store_true", help="include approved and rejected ones")
    p.add_argument("--json", action="store_true")
    p = action("diff", show_diff, "show what a proposal would change")
    p.add_argument("id", type=int)
    p = action("approve", approve, "apply a proposal (gatekeepers)")
    p.add_argument("id", type=int)
    p.add_argument("--edited", metavar="FILE", help="approve this edited text instead")
    p.add_argument("--note", default="")
    p = action("reject", reject, "turn a proposal down with a note (gatekeepers)")
    p.add_argument("id", type=int)
    p.add_argument("--note", required=True)


def _folder(args: argparse.Namespace, settings: Settings) -> Path:
    return settings.resolved_kb_dir(args.kb)


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    try:
        return Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{source}: cannot read: {exc}") from exc


def _load(args: argparse.Namespace) -> tuple[Settings, object]:
    from frontdesk.kb.store import KnowledgeBase

    settings = load_settings()
    kb = KnowledgeBase.load(_folder(args, settings))
    for problem in kb.problems.values():
        sys.stderr.write(f"{problem}\n")
    return settings, kb


def search(args: argparse.Namespace) -> int:
    from frontdesk.kb.store import KnowledgeBase

    _settings, kb = _load(args)
    assert isinstance(kb, KnowledgeBase)
    hits = kb.search(" ".join(args.query), limit=args.limit, channel=args.channel)
    if args.json:
        emit_json([h.as_json() for h in hits])
        return 0
    if not hits:
        line("no answer matches")
    for rank, hit in enumerate(hits, start=1):
        line(f"{rank}. {hit.article.title}  [{hit.article.path}]  {hit.score:.0f} ({hit.field})")
        if args.channel:
            block(hit.article.text_for(args.channel))
    return 0


def lint(args: argparse.Namespace) -> int:
    import datetime as dt

    from frontdesk.kb.lint import lint as run_lint
    from frontdesk.kb.store import KnowledgeBase

    settings = load_settings()
    kb = KnowledgeBase.load(_folder(args, settings))
    findings = run_lint(
        kb,
        today=dt.date.today(),
        review_days=settings.kb.review_days,
        banned_words=tuple(settings.kb.banned_words),
    )
    if args.json:
        emit_json([f.as_json() for f in findings])
    else:
        for finding in findings:
            line(str(finding))
        line(f"{len(kb.articles)} article(s), {len(findings)} problem(s)")
    return 1 if findings else 0


def check_links(args: argparse.Namespace) -> int:
    from frontdesk.kb.links import check_links as run_check
    from frontdesk.kb.store import KnowledgeBase

    settings = load_settings()
    kb = KnowledgeBase.load(_folder(args, settings))
    results = asyncio.run(run_check(list(kb.articles.values())))
    bad = [r for r in results if r.state != "ok"]
    if args.json:
        emit_json([r.as_json() for r in results])
    else:
        for r in bad:
            status = r.status if r.status is not None else "-"
            line(f"{r.state} {status} {r.url} {r.detail} (in {', '.join(r.paths)})")
        line(f"{len(results)} link(s) checked, {len(bad)} problem(s)")
    return 1 if bad else 0


def propose(args: argparse.Namespace) -> int:
    from frontdesk.core import proposals
    from frontdesk.tui.cli.context import open_desk

    desk = open_desk()
    root = _folder(args, desk.settings)
    desk.operator()
    with desk.db.write() as session:
        proposal = proposals.propose(
            session,
            author=desk.login,
            kb_root=root,
            target=args.path,
            text=_read(args.source),
            note=args.note,
            now=desk.clock(),
        )
        number = proposal.id
    line(f"proposal {number} for {args.path} is waiting for a gatekeeper")
    return 0


def proposals(args: argparse.Namespace) -> int:
    from frontdesk.core import proposals as service
    from frontdesk.tui.cli.context import open_desk

    desk = open_desk()
    with desk.db.read() as session:
        rows = service.pending(session, include_reviewed=args.all)
        data = [service.proposal_json(p) for p in rows]
    if args.json:
        emit_json(data)
        return 0
    table(
        ["ID", "STATUS", "AUTHOR", "PATH", "NOTE"],
        [
            [str(p["id"]), str(p["status"]), str(p["author"]), str(p["path"]), str(p["note"])]
            for p in data
        ],
    )
    return 0


def show_diff(args: argparse.Namespace) -> int:
    from frontdesk.core import proposals
    from frontdesk.tui.cli.context import open_desk

    desk = open_desk()
    with desk.db.read() as session:
        text = proposals.diff(proposals.get(session, args.id), _folder(args, desk.settings))
    block(text or "(no change)", indent="")
    return 0


def approve(args: argparse.Namespace) -> int:
    from frontdesk.core import proposals
    from frontdesk.tui.cli.context import open_desk

    desk = open_desk()
    root = _folder(args, desk.settings)
    edited = _read(args.edited) if args.edited else None
    reviewer = desk.operator()
    with desk.db.write() as session:
        proposal = proposals.approve(
            session,
            proposal_id=args.id,
            reviewer=reviewer,
            kb_root=root,
            now=desk.clock(),
            note=args.note,
            edited_text=edited,
        )
        path = proposal.target_path
    line(f"proposal {args.id} approved: {path} written")
    return 0


def reject(args: argparse.Namespace) -> int:
    from frontdesk.core import proposals
    from frontdesk.tui.cli.context import open_desk

    desk = open_desk()
    reviewer = desk.operator()
    with desk.db.write() as session:
        proposals.reject(
            session, proposal_id=args.id, reviewer=reviewer, note=args.note, now=desk.clock()
        )
    line(f"proposal {args.id} rejected")
    return 0
