"""The SQLite write queue: arrival order, and no hang when a writer crashes or is stopped."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from frontdesk.core import db_queue
from frontdesk.core.db import Database

pytestmark = pytest.mark.skipif(
    not hasattr(fcntl, "F_OFD_SETLK"), reason="the write queue needs Linux OFD locks"
)
# Guards against a hung writer, not performance assertions.
WAIT_S = 30

WRITER = textwrap.dedent(
    """
    import sys
    from frontdesk.core.db import Database
    db = Database(sys.argv[1])
    with db.write() as session:
        session.connection().exec_driver_sql("INSERT INTO log (who) VALUES (?)", (sys.argv[2],))
        print("writing", flush=True)
        if sys.argv[3] == "hold":
            sys.stdin.readline()
    print("done", flush=True)
    """
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'q.db'}")
    with database.write() as session:
        session.connection().exec_driver_sql(
            "CREATE TABLE log (n INTEGER PRIMARY KEY, who TEXT NOT NULL)"
        )
    yield database
    database.dispose()


def writer(db: Database, who: str, *, hold: bool = False) -> subprocess.Popen[str]:
    """Another process writing one row; with `hold`, it keeps the lock until told to go on."""
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db.url), who, "hold" if hold else "go"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting until {what}")
        time.sleep(0.005)


def queued(db: Database, count: int) -> Callable[[], bool]:
    assert db._queue is not None
    queue = db._queue
    return lambda: queue.issued() >= count


def logged(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.connection().execute(text("SELECT who FROM log ORDER BY n")).scalars())


def finish(proc: subprocess.Popen[str]) -> str:
    out, _ = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 0
    return out


def test_writers_that_find_the_lock_taken_are_served_in_arrival_order(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A writer slow to take its turn is passed over after _PATIENCE_S (its own test below);
    # on a loaded CI machine a thread can miss 0.2 s, so order is checked without that rule.
    monkeypatch.setattr(db_queue, "_PATIENCE_S", WAIT_S)
    monkeypatch.setattr(db_queue, "_PATIENCE_HEAD_S", WAIT_S)
    holder = writer(db, "holder", hold=True)
    assert holder.stdout is not None and holder.stdout.readline() == "writing\n"
    done: list[str] = []
    threads = []
    for n in range(4):
        name = f"w{n}"

        def write(name: str = name) -> None:
            with db.write() as session:
                session.connection().exec_driver_sql("INSERT INTO log (who) VALUES (?)", (name,))
            done.append(name)

        threads.append(threading.Thread(target=write))
        threads[-1].start()
        wait_for(queued(db, n + 1), f"{name} queued")  # each one behind the one before
    holder.communicate("go\n", timeout=WAIT_S)
    for thread in threads:
        thread.join(WAIT_S)
    # The order is the log's, written under the lock; when each thread got back to its
    # caller after COMMIT is up to the scheduler.
    assert logged(db) == ["holder", *(f"w{n}" for n in range(4))]
    assert sorted(done) == [f"w{n}" for n in range(4)]


def test_a_writer_killed_while_writing_or_queued_blocks_nobody(db: Database) -> None:
    holder = writer(db, "holder", hold=True)
    assert holder.stdout is not None and holder.stdout.readline() == "writing\n"
    doomed = writer(db, "doomed")
    wait_for(queued(db, 1), "the doomed writer queued")
    behind = writer(db, "behind")
    wait_for(queued(db, 2), "the last writer queued behind it")
    doomed.kill()  # dies in the queue, holding its place
    doomed.wait(WAIT_S)
    holder.kill()  # dies holding SQLite's write lock and its turn
    holder.wait(WAIT_S)
    assert finish(behind).endswith("done\n")
    assert logged(db) == ["behind"]  # the dead writers' transactions rolled back
    with db.write() as session:  # and the queue still works for everyone
        session.connection().exec_driver_sql("INSERT INTO log (who) VALUES ('after')")
    assert logged(db) == ["behind", "after"]


def test_a_stopped_writer_in_the_queue_is_passed_over_not_waited_for(db: Database) -> None:
    holder = writer(db, "holder", hold=True)
    assert holder.stdout is not None and holder.stdout.readline() == "writing\n"
    stopped = writer(db, "stopped")
    wait_for(queued(db, 1), "the writer to be stopped queued")
    behind = writer(db, "behind")
    wait_for(queued(db, 2), "the last writer queued behind it")
    os.kill(stopped.pid, signal.SIGSTOP)  # Ctrl-Z, say, while waiting for its turn
    try:
        holder.communicate("go\n", timeout=WAIT_S)
        assert finish(behind).endswith("done\n")  # its turn came and went: passed over
    finally:
        os.kill(stopped.pid, signal.SIGCONT)
    assert finish(stopped).endswith("done\n")  # and it still writes once resumed
    assert logged(db) == ["holder", "behind", "stopped"]


def test_without_a_usable_queue_file_writers_still_take_turns(tmp_path: Path) -> None:
    (tmp_path / "q.db-queue").mkdir()  # cannot be opened as the queue file
    db = Database(f"sqlite:///{tmp_path / 'q.db'}")
    try:
        with db.write() as session:
            session.connection().exec_driver_sql(
                "CREATE TABLE log (n INTEGER PRIMARY KEY, who TEXT)"
            )
            session.connection().exec_driver_sql("INSERT INTO log (who) VALUES ('one')")
        assert db._queue is not None and not db._queue.usable()
        assert logged(db) == ["one"]
    finally:
        db.dispose()


def test_a_forked_child_does_not_keep_the_parents_queue_descriptor(db: Database) -> None:
    # Kept open in a child, it would keep the parent's queue locks alive after the parent
    # died (they belong to the open file description, not the process).
    assert db._queue is not None
    inherited = db._queue._fd()
    assert inherited is not None
    pid = os.fork()
    if pid == 0:
        try:
            os.fstat(inherited)
            os._exit(1)
        except OSError:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    os.fstat(inherited)  # still open in the parent
