"""A real SMTP server on 127.0.0.1 (aiosmtpd) recording what it accepts, with fault switches."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

TEMPORARY = "temporary"  # 451 at the end of DATA: nothing queued
PERMANENT = "permanent"  # 554 at the end of DATA: refused
REJECT_RECIPIENT = "reject_recipient"  # 550 at RCPT TO
DROP_AFTER_DATA = "drop_after_data"  # queue the message, then cut the connection unanswered


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class FakeSmtp:
    """Accepts mail for anyone; `deliver` (if set) is called with every accepted message, so
    a test can drop it into an IMAP mailbox."""

    def __init__(self, deliver: Callable[[bytes], None] | None = None) -> None:
        self.received: list[Received] = []
        self.deliver = deliver
        self._faults: list[str] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def arm(self, fault: str) -> None:
        with self._lock:
            self._faults.append(fault)

    def _take(self, fault: str) -> bool:
        with self._lock:
            if fault in self._faults:
                self._faults.remove(fault)
                return True
            return False

    def __enter__(self) -> FakeSmtp:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self._take(REJECT_RECIPIENT):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self._take(TEMPORARY):
            return "451 4.3.0 Try again later"
        if self._take(PERMANENT):
            return "554 5.7.1 Message refused"
        raw = envelope.original_content or envelope.content
        with self._lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw))
        if self.deliver is not None:
            self.deliver(raw)
        if self._take(DROP_AFTER_DATA):
            server.transport.abort()
        return "250 2.0.0 Queued"
