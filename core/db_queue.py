"""Fair turns at SQLite's write lock for the frontdesk writers on one host.

SQLite has no queue for its write lock: a writer that finds it taken sleeps and tries again,
so under a herd the lock sits idle between tries while some writers starve for seconds
(bench/README.md). Here a writer that finds the lock free takes it, as before. One that finds
it taken joins a first-come, first-served queue and sleeps until the writer ahead of it is
done; only the head of the queue tries the lock, and whoever releases it wakes the head.
Once a writer has waited `_STARVE_S` it makes newcomers queue too, so the lock passes in
arrival order until it is served (Go's sync.Mutex does the same). Letting a running writer
take a free lock keeps its caches warm and the lock busy; the bound keeps the waits short.

The queue only decides who tries first. BEGIN IMMEDIATE still guards every write, so a writer
that stops waiting, or one that does not queue at all (an older frontdesk, the sqlite3
shell), is merely served out of turn; nothing here can let two writers in at once.

Mechanics, in one small file next to the database (`<db>-queue`), all with open-file-
description locks, which the kernel drops when their process dies, so a crash never
blocks the queue:
* the next ticket number sits at offset 0 and is taken under a lock on byte 0;
* a starving writer holds a shared lock on byte 1, which newcomers look at first;
* ticket t holds byte `_queued(t)` from taking it until its transaction is over, and the byte
  after it from reaching the head;
* the head writes its ticket number at offset 8, so a writer that did not queue can wake it;
* wake-ups are datagrams to Unix sockets named after the ticket (Linux abstract names). A
  waiter binds its name before it first looks at the byte ahead, so no wake-up is lost, and
  looks again every `_RECHECK_S` in case the writer ahead died without sending one.
A writer ahead that does not take its turn (stopped with Ctrl-Z, say) is passed over after
`_PATIENCE_S`, or `_PATIENCE_HEAD_S` if it stopped at the head, so it costs the writers
behind it that long, once; a writer that stops while writing holds SQLite's lock itself,
and the others get DatabaseBusy after the busy timeout, as without the queue.
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import socket
import struct
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_STARVING = 1
_HEAD = 8
_SLOTS = 1 << 16  # more than the writers that can ever wait at once
# Chosen with bench/claim.py at 8 and 32 processes on a busy 2-core VM: at 0 and 2 ms more
# hand-overs were strict turns, each to a process whose caches had gone cold, which cost
# throughput and did not shorten the tail; 10 and 20 ms did about equally well.
_STARVE_S = 0.01
_POLL_S = 0.0002  # the head's recheck if no wake-up comes (a writer outside the queue)
_OUT_OF_TURN_S = 0.002
_RECHECK_S = 0.05  # a waiter's recheck of the writer ahead (it may have died)
_PATIENCE_S = 0.2
_PATIENCE_HEAD_S = 1.0  # a head may wait that long for a writer outside the queue
_SPIN_S = 0.0002
_OFD = hasattr(fcntl, "F_OFD_SETLK") and hasattr(socket, "AF_UNIX")


class LockTimeout(Exception):
    """The write lock was not had before the deadline."""


@dataclass
class Ticket:
    """A place in the queue, held until the transaction is over."""

    number: int
    sock: socket.socket
    head: bool  # False: it stopped waiting for the writer ahead (which did not move)


@dataclass
class Turn:
    """One writer's turn at the lock; `ticket` is None if it did not need to queue."""

    fd: int
    ticket: Ticket | None


class WriteQueue:
    """The queue of one SQLite database file."""

    def __init__(self, database: Path) -> None:
        self.path = Path(f"{database}-queue")
        self.database = database
        self._local = threading.local()
        self._name = ""
        self._usable = _OFD

    def usable(self) -> bool:
        """Whether this process can use the queue file (Linux, and write access to it)."""
        return self._fd() is not None

    def acquire(self, try_lock: Callable[[], bool], deadline: float) -> Turn:
        """Call `try_lock` (one attempt, no waiting) until it succeeds, in arrival order.

        Returns the turn to give back with `release` once the transaction is over.

        Raises:
            LockTimeout: `deadline` (time.monotonic) passed first.
        """
        fd = self._fd()
        if fd is None:
            raise LockTimeout("no queue file")  # callers check usable() first
        if not _held(fd, _STARVING) and try_lock():
            return Turn(fd, None)
        started = time.monotonic()
        ticket = None
        starving = False
        try:
            ticket = self._enter(fd, deadline)
            if ticket is not None:
                _lock(fd, _queued(ticket.number) + 1)  # at the head now
                os.pwrite(fd, struct.pack("<Q", ticket.number), _HEAD)
            while not try_lock():
                now = time.monotonic()
                if now > deadline:
                    raise LockTimeout
                if not starving and now - started > _STARVE_S:
                    starving = _lock(fd, _STARVING, shared=True)
                if ticket is None:
                    time.sleep(_OUT_OF_TURN_S)
                elif select.select([ticket.sock], [], [], _poll(ticket))[0]:
                    ticket.sock.recv(16)
        except BaseException:
            self.release(Turn(fd, ticket))
            raise
        finally:
            if starving:
                _unlock(fd, _STARVING)
        return Turn(fd, ticket)

    def release(self, turn: Turn) -> None:
        """The transaction is over: wake whoever is next."""
        ticket = turn.ticket
        if ticket is None:
            raw = os.pread(turn.fd, 8, _HEAD)
            if len(raw) == 8:
                self._wake(None, struct.unpack("<Q", raw)[0])
            return
        _unlock(turn.fd, _queued(ticket.number), 2)
        self._wake(ticket.sock, ticket.number + 1)
        ticket.sock.close()

    def issued(self) -> int:
        """How many tickets were ever taken: how often a writer had to queue."""
        fd = self._fd()
        raw = os.pread(fd, 8, 0) if fd is not None else b""
        return int(struct.unpack("<Q", raw)[0]) if len(raw) == 8 else 0

    def close(self) -> None:
        """Close this thread's descriptor (a new one is opened on the next write)."""
        self._local.handle = None

    def _enter(self, fd: int, deadline: float) -> Ticket | None:
        """Take a ticket and sleep until the writer ahead is done, or should be passed over."""
        number = self._take_number(fd, deadline)
        if number is None or not _lock(fd, _queued(number)):
            return None  # (a wrapped slot still held needs more waiters than slots)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.bind(self._address(number))
        except OSError:
            sock.close()
            _unlock(fd, _queued(number))
            return None
        ahead = _queued(number - 1)
        stalled_since = None
        while number > 0 and _held(fd, ahead):
            now = time.monotonic()
            if now > deadline:
                break
            if _held(fd, ahead + 1):
                patience = _PATIENCE_HEAD_S  # at the head or writing, or stopped there
            elif number > 1 and _held(fd, _queued(number - 2)):
                patience = None  # waiting for its own turn
            else:
                patience = _PATIENCE_S  # its turn came and it did not take it (yet)
            if patience is None:
                stalled_since = None
            elif stalled_since is None:
                stalled_since = now
            elif now - stalled_since > patience:
                return Ticket(number, sock, head=False)  # pass it over: try out of turn
            if select.select([sock], [], [], _RECHECK_S)[0]:
                sock.recv(16)
        return Ticket(number, sock, head=True)

    def _take_number(self, fd: int, deadline: float) -> int | None:
        # Held for one small read and write; spin rather than block, so a writer stopped
        # in this window cannot stall the others.
        while not _lock(fd, 0):
            if time.monotonic() > deadline:
                return None
            time.sleep(_SPIN_S)
        try:
            raw = os.pread(fd, 8, 0)
            number = struct.unpack("<Q", raw)[0] if len(raw) == 8 else 0
            os.pwrite(fd, struct.pack("<Q", (number + 1) % (1 << 62)), 0)
            return int(number)
        finally:
            _unlock(fd, 0)

    def _wake(self, sock: socket.socket | None, number: int) -> None:
        if sock is None:
            sock = getattr(self._local, "sender", None)
            if sock is None:
                sock = self._local.sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.sendto(b"!", self._address(number))
        except OSError:
            pass  # nobody waits under that name (yet); whoever comes will find the lock free

    def _fd(self) -> int | None:
        """This thread's descriptor: open-file-description locks exclude other threads too."""
        if not self._usable:
            return None
        handle: _Handle | None = getattr(self._local, "handle", None)
        if handle is not None and handle.pid == os.getpid():
            return handle.fd
        try:
            # A forked child opens its own: sharing the parent's would make their locks one.
            self._local.handle = handle = _Handle(self._open())
        except OSError:
            self._usable = False  # e.g. no write access to the queue file: just poll
            return None
        return handle.fd

    def _open(self) -> int:
        mode = os.stat(self.database).st_mode & 0o666
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, mode)
        st = os.fstat(fd)
        if st.st_uid == os.getuid() and st.st_mode & 0o666 != mode:
            # Like SQLite's -wal and -shm: as shareable as the database, whatever the umask.
            os.fchmod(fd, mode)
        if not self._name:
            self._name = f"frontdesk-queue-{st.st_dev:x}-{st.st_ino:x}"
        return fd

    def _address(self, number: int) -> str:
        return f"\0{self._name}-{number}"


def _poll(ticket: Ticket) -> float:
    # The head is woken by whoever releases the lock and rechecks often for a writer outside
    # the queue; a writer out of turn (rare) tries less often, to spare the CPU.
    return _POLL_S if ticket.head else _OUT_OF_TURN_S


def _queued(number: int) -> int:
    """The byte ticket `number` holds while queued; the next one while it writes."""
    return _SLOTS + 2 * (number % _SLOTS)


class _Handle:
    """One thread's descriptor of the queue file, closed with the thread or at fork."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pid = os.getpid()
        _OPEN.add(self)

    def __del__(self) -> None:
        if self.pid == os.getpid():
            os.close(self.fd)


# In a forked child an inherited descriptor would keep the parent's locks alive after the
# parent is gone (they belong to the open file description), so the child closes them all.
_OPEN: weakref.WeakSet[_Handle] = weakref.WeakSet()


def _close_inherited() -> None:
    for handle in list(_OPEN):
        os.close(handle.fd)
        handle.pid = -1


os.register_at_fork(after_in_child=_close_inherited)


def _flock(kind: int, start: int, length: int = 1) -> bytes:
    # struct flock: l_type, l_whence, l_start, l_len, l_pid (0 for open-file-description locks)
    return struct.pack("hhqqi4x", kind, os.SEEK_SET, start, length, 0)


def _lock(fd: int, start: int, *, shared: bool = False) -> bool:
    """Take the lock on byte `start` if no one else holds it; never waits."""
    try:
        kind = fcntl.F_RDLCK if shared else fcntl.F_WRLCK
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, _flock(kind, start))
        return True
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise


def _unlock(fd: int, start: int, length: int = 1) -> None:
    fcntl.fcntl(fd, fcntl.F_OFD_SETLK, _flock(fcntl.F_UNLCK, start, length))


def _held(fd: int, start: int) -> bool:
    """Does another open file description hold a lock, shared or not, on byte `start`?"""
    answer = fcntl.fcntl(fd, fcntl.F_OFD_GETLK, _flock(fcntl.F_WRLCK, start))
    return bool(struct.unpack("hhqqi4x", answer)[0] != fcntl.F_UNLCK)
