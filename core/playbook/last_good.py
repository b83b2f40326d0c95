"""The last good playbook kept on disk, so a process that starts on a broken file runs it.

The copy lives in the user's state directory, not next to the playbook: the playbook's folder
is shared and reviewed (often a git checkout only the gatekeeper may write), while every user
can always write their own state directory, and no user then runs rules another account left
behind. Each user's processes thus remember the last good version they saw themselves.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

import platformdirs

APP_NAME = "frontdesk"


def copy_path(playbook: Path) -> Path:
    """Where this user keeps the last good copy of `playbook`: one file per playbook path,
    so several workspaces on one host never take each other's rules."""
    try:
        where = str(playbook.expanduser().resolve())
    except (OSError, RuntimeError):  # a symlink loop: reading the file fails on its own
        where = str(playbook.expanduser().absolute())
    key = hashlib.sha256(where.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    state = Path(platformdirs.user_state_dir(APP_NAME))
    return state / "playbooks" / f"{playbook.stem}-{key}{playbook.suffix}"


def save(copy: Path, raw: bytes) -> bool:
    """Keep `raw` as the last good copy; False when it cannot be written (the caller carries
    on without one). Written to a temporary file and renamed, so a reader never sees half."""
    try:
        if copy.read_bytes() == raw:
            return True  # the usual start: the same good file as last time
    except OSError:
        pass
    temporary = None
    try:
        copy.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=copy.parent, prefix=f".{copy.name}.")
        with os.fdopen(handle, "wb") as out:
            out.write(raw)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, copy)
    except OSError:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        return False
    return True


def recall(copy: Path) -> str | None:
    """The last good copy's text, or None when there is none (or it cannot be read)."""
    try:
        return copy.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
