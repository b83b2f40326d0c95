"""Applying an approved edit to the knowledge-base folder: atomically, and only onto the
version the proposal was based on; committed to git when the folder is a repository."""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

LOCK_NAME = ".frontdesk-kb.lock"


class EditConflict(Exception):
    """The file changed since the proposal was made; carries what is there now."""

    def __init__(self, rel: str, current: str | None) -> None:
        state = "was deleted" if current is None else "changed"
        super().__init__(f"{rel} {state} since the proposal was made")
        self.rel = rel
        self.current = current


class EditFailed(Exception):
    """The edit could not be recorded (git refused); the folder was left as it was."""


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def safe_target(root: Path, rel: str) -> Path:
    """The file `rel` names inside `root`; refuses paths that leave it or are not articles."""
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or not rel.endswith(".md"):
        raise ValueError(f"{rel!r}: a knowledge-base path is relative, inside the folder, .md")
    if any(part.startswith(".") for part in pure.parts):
        raise ValueError(f"{rel!r}: hidden folders are not part of the knowledge base")
    return root / pure


def current_digest(root: Path, rel: str) -> str | None:
    """The SHA-256 of the file as it is now, or None when it does not exist."""
    path = safe_target(root, rel)
    try:
        return digest_of(path.read_bytes())
    except FileNotFoundError:
        return None


@contextmanager
def folder_lock(root: Path) -> Iterator[None]:
    """One approval at a time per folder, across processes and users."""
    # Inside .git when the folder is a repository, so the lock never shows as untracked.
    where = root / ".git" if (root / ".git").is_dir() else root
    with open(where / LOCK_NAME, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def apply_edit(
    root: Path,
    rel: str,
    text: str,
    *,
    base_digest: str | None,
    author: str,
    approver: str,
    message: str,
) -> str:
    """Write `text` to `rel` if the file still has `base_digest` (None: must not exist).

    Returns the new digest. Raises EditConflict otherwise, and leaves the file untouched.
    """
    path = safe_target(root, rel)
    data = text.encode("utf-8")
    with folder_lock(root):
        try:
            before: bytes | None = path.read_bytes()
        except FileNotFoundError:
            before = None
        now = digest_of(before) if before is not None else None
        if now != base_digest:
            raise EditConflict(rel, before.decode("utf-8", "replace") if before else None)
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(path, data, like=before is not None)
        if is_git_repository(root):
            try:
                commit(root, rel, author=author, approver=approver, message=message)
            except (subprocess.CalledProcessError, OSError) as exc:
                # Put the folder back as it was, so file and proposal never disagree.
                if before is None:
                    path.unlink(missing_ok=True)
                else:
                    _write_atomically(path, before, like=True)
                detail = getattr(exc, "stderr", b"") or b""
                reason = detail.decode("utf-8", "replace").strip() or str(exc)
                raise EditFailed(
                    f"{rel}: git commit failed, nothing was changed: {reason}"
                ) from exc
    return digest_of(data)


def _write_atomically(path: Path, data: bytes, *, like: bool) -> None:
    """Write through a temporary file and rename, so readers see the old or the new file."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if like and path.exists():
            os.chmod(temp, path.stat().st_mode & 0o777)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def is_git_repository(root: Path) -> bool:
    return (root / ".git").exists()


def commit(root: Path, rel: str, *, author: str, approver: str, message: str) -> None:
    """Commit one file with the proposer as author and the approver as committer."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": author,
        "GIT_AUTHOR_EMAIL": f"{author}@frontdesk.invalid",
        "GIT_COMMITTER_NAME": approver,
        "GIT_COMMITTER_EMAIL": f"{approver}@frontdesk.invalid",
    }
    git = ["git", "-C", str(root)]
    subprocess.run([*git, "add", "--", rel], check=True, env=env, capture_output=True)
    unchanged = subprocess.run(
        [*git, "diff", "--cached", "--quiet", "--", rel], env=env, capture_output=True
    )
    if unchanged.returncode == 0:  # the approved text is what the repository already holds
        return
    subprocess.run(
        [*git, "commit", "--quiet", "-m", message, "--", rel],
        check=True,
        env=env,
        capture_output=True,
    )
