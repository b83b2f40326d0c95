"""Hot reload: the watcher picks up saves, editor renames, folder moves and checkout bursts."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from frontdesk.kb.store import KnowledgeBase, Reload
from frontdesk.kb.watch import watch

# Readiness waits, not performance assertions: generous so a loaded machine still passes.
READY_S = 10.0
BURST = 500


async def until(predicate: Callable[[], bool], what: str, timeout: float = READY_S) -> None:
    """Wait for `predicate` to hold, polling; fail naming `what` if it never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            pytest.fail(f"gave up waiting for {what} after {timeout:g} s")
        await asyncio.sleep(0.02)


def found(kb: KnowledgeBase, query: str) -> list[str]:
    return [hit.article.path for hit in kb.search(query)]


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Watching:
    root: Path
    kb: KnowledgeBase
    calls: list[Reload] = field(default_factory=list)
    probes: int = 0

    async def sync(self) -> None:
        """Save a probe article and wait until it is searchable.

        Batches are delivered in order, so once the probe is in, every change made before
        it has been refreshed and reported.
        """
        self.probes += 1
        word = f"probe{self.probes}x"
        write(self.root, "zz-probe.md", f"# Probe\n\n{word}\n")
        await until(lambda: found(self.kb, word) == ["zz-probe.md"], f"probe {word}")
        await until(
            lambda: any("zz-probe.md" in c.updated for c in self.calls[-3:]),
            "the probe's reload callback",
        )


@pytest.fixture
async def watching(tmp_path: Path) -> AsyncIterator[Watching]:
    root = tmp_path / "kb"
    write(root, "returns/refund-status.md", "# Where is my refund?\n\nRefunds take 5 days.\n")
    write(root, "zz-probe.md", "# Probe\n\nprobe0x\n")
    kb = KnowledgeBase.load(root)
    state = Watching(root, kb)
    stop = asyncio.Event()
    task = asyncio.create_task(watch(kb, state.calls.append, stop=stop))
    # The watcher gives no signal when it is ready: save until a save is seen.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_S
    while not state.calls:
        if loop.time() > deadline or task.done():
            pytest.fail("the watcher never reported a save")
        state.probes += 1
        write(root, "zz-probe.md", f"# Probe\n\nprobe{state.probes}x\n")
        await asyncio.sleep(0.1)
    await state.sync()
    try:
        yield state
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=READY_S)


async def test_a_saved_edit_becomes_searchable(watching: Watching) -> None:
    kb, root = watching.kb, watching.root
    assert found(kb, "fortnight") == []
    write(root, "returns/refund-status.md", "# Where is my refund?\n\nAllow a fortnight.\n")
    await until(lambda: found(kb, "fortnight") == ["returns/refund-status.md"], "the edit")
    assert kb.articles["returns/refund-status.md"].body == "Allow a fortnight."
    # The index is refreshed in a worker thread; the report follows on the loop.
    await until(
        lambda: any("returns/refund-status.md" in c.updated for c in watching.calls), "the report"
    )


async def test_created_and_deleted_files(watching: Watching) -> None:
    kb, root = watching.kb, watching.root
    path = write(root, "payments/vouchers.md", "# Gift vouchers\n\nVouchers never expire.\n")
    await until(lambda: found(kb, "vouchers") == ["payments/vouchers.md"], "the new article")
    path.unlink()
    await until(lambda: "payments/vouchers.md" not in kb.articles, "the deletion")
    assert found(kb, "vouchers") == []
    await until(
        lambda: any("payments/vouchers.md" in c.removed for c in watching.calls), "the report"
    )


@pytest.mark.parametrize("temp_name", [".refund-status.md.k3j9.tmp", "refund-status.md.new"])
async def test_an_editor_style_save_through_a_temporary_file(
    watching: Watching, temp_name: str
) -> None:
    kb, root = watching.kb, watching.root
    target = root / "returns" / "refund-status.md"
    temp = root / "returns" / temp_name
    temp.write_text("# Where is my refund?\n\nRefunds now reach you overnight.\n")
    os.replace(temp, target)
    await until(lambda: found(kb, "overnight") == ["returns/refund-status.md"], "the save")
    await watching.sync()
    assert sorted(kb.articles) == ["returns/refund-status.md", "zz-probe.md"]
    assert kb.problems == {}


async def test_a_broken_save_is_reported_and_the_fix_too(watching: Watching) -> None:
    kb, root = watching.kb, watching.root
    path = root / "returns" / "refund-status.md"
    good = path.read_bytes()
    path.write_bytes(b"---\ntitle: [oops\n---\n")
    await until(lambda: "returns/refund-status.md" in kb.problems, "the problem")
    assert found(kb, "refunds") == ["returns/refund-status.md"]  # last good version
    assert any(c.problems for c in watching.calls)

    calls_before = len(watching.calls)
    path.write_bytes(good)  # fixed by going back to the last good text
    await until(lambda: not kb.problems, "the problem to clear")
    await until(lambda: len(watching.calls) > calls_before, "a reload reporting the fix")
    assert "returns/refund-status.md" in watching.calls[calls_before].updated


async def test_the_synonym_table_hot_reloads(watching: Watching) -> None:
    kb, root = watching.kb, watching.root
    assert found(kb, "dosh") == []
    table = write(root, "_synonyms.toml", 'refund = ["dosh"]\n')
    # The index is swapped before the watcher's callback is told: wait for both.
    await until(
        lambda: (
            found(kb, "dosh") == ["returns/refund-status.md"]
            and any("_synonyms.toml" in c.updated for c in watching.calls)
        ),
        "the new table, reported as a synonym-table update",
    )

    # Saved through a temporary file, as editors do.
    temp = root / ".synonyms.tmp"
    temp.write_text('refund = ["dosh", "cash back"]\n')
    os.replace(temp, table)
    await until(lambda: found(kb, "cash back") == ["returns/refund-status.md"], "the edit")

    table.write_text('refund = ["dosh"\n')  # broken: the last good table stays
    await until(lambda: "_synonyms.toml" in kb.problems, "the problem")
    assert kb.problems["_synonyms.toml"].line == 2
    assert found(kb, "cash back") == ["returns/refund-status.md"]

    table.unlink()
    await until(lambda: found(kb, "dosh") == [], "the deletion")
    await until(lambda: "_synonyms.toml" not in kb.problems, "the problem to clear")


async def test_a_checkout_burst_costs_at_most_two_refreshes(watching: Watching) -> None:
    """Like `git checkout` of a branch with 500 more articles, in new nested folders."""
    kb, root = watching.kb, watching.root
    seen = len(watching.calls)

    def checkout() -> None:
        for i in range(BURST):
            path = root / f"topic{i % 25:02d}" / f"sub{i % 4}" / f"article{i:03d}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"# Article {i}\n\nburstword{i:03d} appears here.\n")

    await asyncio.to_thread(checkout)
    await until(lambda: len(kb.articles) == BURST + 2, f"all {BURST} articles", timeout=30)
    await watching.sync()  # every burst callback has been delivered by now

    burst_calls = [
        c for c in watching.calls[seen:] if any(p.startswith("topic") for p in c.updated)
    ]
    assert sum(len([p for p in c.updated if p.startswith("topic")]) for c in burst_calls) == BURST
    assert 1 <= len(burst_calls) <= 2, [len(c.updated) for c in burst_calls]
    assert found(kb, "'burstword417") == ["topic17/sub1/article417.md"]
    assert kb.problems == {}


async def test_a_renamed_folder_moves_its_articles(watching: Watching) -> None:
    kb, root = watching.kb, watching.root
    os.rename(root / "returns", root / "refunds")
    await until(lambda: "refunds/refund-status.md" in kb.articles, "the moved article")
    await until(lambda: "returns/refund-status.md" not in kb.articles, "the old path to go")
    assert found(kb, "refunds") == ["refunds/refund-status.md"]


async def test_a_folder_moved_in_and_out(watching: Watching, tmp_path: Path) -> None:
    kb, root = watching.kb, watching.root
    outside = Path(tempfile.mkdtemp(dir=tmp_path))
    write(outside, "faq/sizes.md", "# Boot sizes\n\nOur boots run small.\n")
    shutil.move(outside / "faq", root / "faq")
    await until(lambda: found(kb, "boots") == ["faq/sizes.md"], "the folder moved in")
    shutil.move(root / "returns", outside / "returns")
    await until(lambda: "returns/refund-status.md" not in kb.articles, "the folder moved out")
    assert found(kb, "refunds") == []


async def test_stop_event_ends_the_watch(tmp_path: Path) -> None:
    kb = KnowledgeBase.load(tmp_path)
    stop = asyncio.Event()
    task = asyncio.create_task(watch(kb, lambda _r: None, stop=stop))
    await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(task, timeout=READY_S)
    assert task.done() and task.exception() is None
