"""A throwaway Dovecot IMAP server on 127.0.0.1 (Debian's dovecot-imapd) for the email tests."""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.fakes.smtp import free_port

USER = "care"
PASSWORD = "care-secret"


def dovecot_binary() -> str | None:
    found = shutil.which("dovecot")
    if found:
        return found
    return "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None


def _config(root: Path, port: int) -> str:
    if os.geteuid() == 0:
        # Dovecot never serves mail as root; the package's own users do the work.
        mail_user, internal, login = "dovecot", "dovecot", "dovenull"
        group = "dovecot"
        chroot = ""
    else:
        mail_user = internal = login = pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(os.getegid()).gr_name
        chroot = "service imap-login {\n  chroot =\n}\n"
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = 1
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={group} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
{chroot}"""


class Dovecot:
    """One running server; `stop()` ends the process it started, and only that one."""

    def __init__(self, binary: str) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="frontdesk-dovecot-"))
        # Dovecot's own users must reach the folder (mkdtemp makes it 0700).
        self.root.chmod(0o755)
        (self.root / "home").mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root / "home", user="dovecot", group="dovecot")
        # nodelay: a failed login (a test of one) must not slow every later login.
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::nodelay=yes\n")
        self.port = free_port()
        config = self.root / "dovecot.conf"
        config.write_text(_config(self.root, self.port))
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    @property
    def url(self) -> str:
        return f"imap://127.0.0.1:{self.port}"

    def wait_ready(self, deadline: float = 15.0) -> str | None:
        """None once the server answers; else why it did not (its stderr and log)."""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.process.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as sock:
                    if sock.recv(64).startswith(b"* OK"):
                        return None
            except OSError:
                time.sleep(0.05)
        exited = self.process.poll() is not None and self.process.stderr is not None
        stderr = self.process.stderr.read().decode() if exited and self.process.stderr else ""
        log = self.root / "dovecot.log"
        tail = log.read_text()[-800:] if log.exists() else ""
        return f"dovecot did not start: {stderr.strip()} {tail.strip()}".strip()

    def client(self) -> imaplib.IMAP4:
        session = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        session.login(USER, PASSWORD)
        return session

    def create(self, mailbox: str) -> None:
        session = self.client()
        try:
            session.create(f'"{mailbox}"')
        finally:
            session.logout()

    def recreate(self, mailbox: str) -> None:
        """Delete and create a mailbox: the server gives it a new UIDVALIDITY."""
        session = self.client()
        try:
            session.delete(f'"{mailbox}"')
            session.create(f'"{mailbox}"')
        finally:
            session.logout()

    def deliver(self, raw: bytes, mailbox: str) -> None:
        session = self.client()
        try:
            status, data = session.append(f'"{mailbox}"', None, None, raw)
            assert status == "OK", data
        finally:
            session.logout()

    def search(self, mailbox: str, *criteria: str) -> list[int]:
        session = self.client()
        try:
            session.select(f'"{mailbox}"', readonly=True)
            _, data = session.uid("SEARCH", *criteria)
            return [int(u) for u in data[0].split()] if data and data[0] else []
        finally:
            session.logout()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()
        shutil.rmtree(self.root, ignore_errors=True)
