"""The playbook in force: reloads, the last good version kept through a broken edit and into
the next process, watching."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from frontdesk.core.playbook import last_good
from frontdesk.core.playbook.playbook import Playbook
from frontdesk.core.playbook.store import PlaybookReload, PlaybookStore, playbook_path, watch

GOOD = "[tone]\nvoice = 'formal'\n"
BETTER = "[tone]\nvoice = 'casual'\n"
BROKEN = "[tone]\nvoice = 'casual'\nvoise = 'formal'\n"
# Readiness waits, not performance assertions: generous so a loaded machine still passes.
READY_S = 10.0


def voice(store: PlaybookStore) -> str:
    return store.current.config.tone.voice


def test_the_playbook_lives_in_the_knowledge_base_folder(tmp_path: Path) -> None:
    assert playbook_path(tmp_path) == tmp_path / "playbook.toml"


def test_no_file_means_the_defaults(tmp_path: Path) -> None:
    store = PlaybookStore.open(tmp_path / "playbook.toml")
    assert store.problem is None
    assert voice(store) == "friendly"
    assert store.reload() == PlaybookReload(False)


def test_a_broken_edit_keeps_the_last_good_playbook(tmp_path: Path) -> None:
    path = tmp_path / "playbook.toml"
    path.write_text(GOOD, encoding="utf-8")
    store = PlaybookStore.open(path)
    assert voice(store) == "formal"
    assert store.current.source == str(path)
    good = store.current

    path.write_text(BROKEN, encoding="utf-8")
    result = store.reload()
    assert not result.changed
    assert result.problem is not None
    assert str(result.problem) == f"{path}:3: tone.voise: Extra inputs are not permitted"
    assert store.current is good
    assert store.problem == result.problem
    # Reading the same broken bytes again reports the same problem, cheaply.
    assert store.reload() == result

    path.write_text(BETTER, encoding="utf-8")
    assert store.reload() == PlaybookReload(True)
    assert store.problem is None
    assert voice(store) == "casual"


def test_unchanged_bytes_change_nothing(tmp_path: Path) -> None:
    path = tmp_path / "playbook.toml"
    path.write_text(GOOD, encoding="utf-8")
    store = PlaybookStore.open(path)
    before = store.current
    os.utime(path, (1, 1))
    assert store.reload() == PlaybookReload(False)
    assert store.current is before


def test_restoring_the_last_good_text_clears_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "playbook.toml"
    path.write_text(GOOD, encoding="utf-8")
    store = PlaybookStore.open(path)
    path.write_text(BROKEN, encoding="utf-8")
    store.reload()
    path.write_text(GOOD, encoding="utf-8")
    assert store.reload() == PlaybookReload(True)
    assert store.problem is None


def test_a_broken_file_at_start_runs_on_the_defaults_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / "playbook.toml"
    path.write_bytes(b"[tone]\nvoice = \xff\n")
    store = PlaybookStore.open(path)
    assert voice(store) == "friendly"
    assert store.problem is not None
    assert str(store.problem) == f"{path}:0: not UTF-8 text (byte 15)"


def test_deleting_the_file_returns_to_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "playbook.toml"
    path.write_text(GOOD, encoding="utf-8")
    store = PlaybookStore.open(path)
    path.unlink()
    assert store.reload() == PlaybookReload(True)
    assert voice(store) == "friendly"


def test_an_unreadable_file_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "playbook.toml"
    path.mkdir()  # a folder where the file should be
    store = PlaybookStore.open(path)
    assert store.problem is not None
    assert "cannot read" in store.problem.reason
    assert isinstance(store.current, Playbook)


def test_a_process_starting_on_a_broken_file_runs_the_last_good_copy(tmp_path: Path) -> None:
    path = tmp_path / "playbook.toml"
    path.write_text(GOOD, encoding="utf-8")
    first = PlaybookStore.open(path)
    assert voice(first) == "formal" and first.warning is None
    path.write_text(BROKEN, encoding="utf-8")
    assert first.reload().problem is not None
    assert first.warning == (
        f"{path}:3: tone.voise: Extra inputs are not permitted;"
        " the last good version stays in force"
    )

    # A new process (here: a new store) on the broken file: the formal voice, not the
    # defaults' friendly one, and the problem said with what stands in for the file.
    second = PlaybookStore.open(path)
    assert voice(second) == "formal"
    assert second.origin == "copy"
    assert second.problem is not None and second.problem.line == 3
    assert second.warning == (
        f"{path}:3: tone.voise: Extra inputs are not permitted;"
        f" the last good copy ({last_good.copy_path(path)}) is in force"
    )
    # The copy is the user's, outside the shared folder, and never replaced by a broken edit.
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())
    assert last_good.copy_path(path).read_text(encoding="utf-8") == GOOD

    path.write_text(BETTER, encoding="utf-8")
    assert second.reload() == PlaybookReload(True)
    assert (voice(second), second.origin) == ("casual", "file")
    assert second.problem is None
    # The copy follows the newest good file: the next broken start runs that one.
    path.write_text("[tone\n", encoding="utf-8")
    assert voice(PlaybookStore.open(path)) == "casual"


def test_each_playbook_path_has_its_own_copy(tmp_path: Path) -> None:
    one, two = tmp_path / "a" / "playbook.toml", tmp_path / "b" / "playbook.toml"
    assert last_good.copy_path(one) != last_good.copy_path(two)
    assert last_good.copy_path(one).parent == tmp_path / "xdg-state" / "frontdesk" / "playbooks"


def test_without_a_copy_a_broken_start_runs_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "playbook.toml"
    path.write_text(BROKEN, encoding="utf-8")
    store = PlaybookStore.open(path)
    assert (voice(store), store.origin) == ("friendly", "defaults")
    assert store.warning is not None and store.warning.endswith(
        "the built-in defaults are in force"
    )


def test_a_copy_that_cannot_be_written_is_no_obstacle(tmp_path: Path) -> None:
    (tmp_path / "xdg-state").write_text("a file where the state folder should be")
    path = tmp_path / "playbook.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert voice(PlaybookStore.open(path)) == "formal"
    path.write_text(BROKEN, encoding="utf-8")
    store = PlaybookStore.open(path)
    assert (voice(store), store.origin) == ("friendly", "defaults")
    assert store.problem is not None


def test_a_settling_edit_waits_for_a_later_reload(tmp_path: Path) -> None:
    path = tmp_path / "playbook.toml"
    path.write_text(GOOD, encoding="utf-8")
    store = PlaybookStore.open(path)
    path.write_text(BETTER[:9], encoding="utf-8")  # an editor halfway through writing
    assert store.reload(settle=60) == PlaybookReload(False)
    assert voice(store) == "formal"
    path.write_text(BETTER, encoding="utf-8")
    assert store.reload(settle=60) == PlaybookReload(False)
    old = time.time() - 61
    os.utime(path, (old, old))
    assert store.reload(settle=60) == PlaybookReload(True)
    assert voice(store) == "casual"


async def until(predicate: Callable[[], bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_S
    while not predicate():
        if loop.time() > deadline:
            pytest.fail(f"gave up waiting for {what} after {READY_S:g} s")
        await asyncio.sleep(0.02)


def save(path: Path, text: str) -> None:
    """Save as editors do: a new file renamed over the old one, so a reload never reads a
    half-written file (an empty playbook is a valid one: the defaults)."""
    temporary = path.with_name(f".{path.name}.swp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


async def test_watch_reloads_on_save_and_reports_problems(tmp_path: Path) -> None:
    path = tmp_path / "playbook.toml"
    save(path, GOOD)
    (tmp_path / "returns.md").write_text("# not the playbook\n", encoding="utf-8")
    store = PlaybookStore.open(path)
    calls: list[PlaybookReload] = []
    stop = asyncio.Event()
    task = asyncio.create_task(watch(store, calls.append, stop=stop))
    try:
        # The watcher gives no signal when it is ready: save until a save is seen.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_S
        while not calls:
            if loop.time() > deadline or task.done():
                pytest.fail("the watcher never reported the first save")
            save(path, BETTER)
            await asyncio.sleep(0.3)
        await until(lambda: voice(store) == "casual", "the first save")

        save(path, BROKEN)
        await until(lambda: calls[-1].problem is not None, "the broken edit's report")
        assert voice(store) == "casual"
        assert store.problem is not None and store.problem.line == 3

        save(path, GOOD)
        await until(lambda: voice(store) == "formal", "the fix")
        assert store.problem is None
        assert calls[-1] == PlaybookReload(True)
    finally:
        stop.set()
        await asyncio.wait_for(task, READY_S)
