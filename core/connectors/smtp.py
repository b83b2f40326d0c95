"""SMTP submission with each failure placed before, during or after the point of no return."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import urlsplit

from frontdesk.core.connectors.accounts import EmailAccount
from frontdesk.core.connectors.errors import (
    AmbiguousOutcome,
    AuthFailed,
    PermanentError,
    TransientError,
)


class SmtpSender:
    """Sends one message per session. Up to the end of DATA nothing is delivered, so a
    failure there is transient (4xx) or permanent (5xx); a connection lost during DATA may
    have left the message queued, which is the ambiguous outcome."""

    def __init__(
        self,
        name: str,
        account: EmailAccount,
        password: Callable[[], str],
        context: ssl.SSLContext,
    ) -> None:
        url = urlsplit(account.smtp_url)
        self.host = url.hostname or ""
        self.scheme = url.scheme
        self.port = url.port or {"smtps": 465, "smtp+starttls": 587}.get(url.scheme, 25)
        self.account = account
        self.password = password
        self.context = context
        self.where = f"{name}: SMTP {self.host}:{self.port}"

    def _connect(self) -> smtplib.SMTP:
        timeout = self.account.timeout_seconds
        try:
            if self.scheme == "smtps":
                session: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=timeout, context=self.context
                )
            else:
                session = smtplib.SMTP(self.host, self.port, timeout=timeout)
                if self.scheme == "smtp+starttls":
                    session.starttls(context=self.context)
            session.ehlo_or_helo_if_needed()
            if session.has_extn("auth"):
                user = self.account.smtp_username or self.account.username
                session.login(user, self.password())
        except smtplib.SMTPAuthenticationError as exc:
            raise AuthFailed(f"{self.where}: login refused ({_answer(exc)})") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientError(f"{self.where}: cannot connect ({_answer(exc)})") from None
        return session

    def send(self, msg: EmailMessage, recipient: str) -> None:
        _, sender = parseaddr(str(msg["From"]))
        session = self._connect()
        try:
            try:
                code, answer = session.mail(sender)
                self._accepted(code, answer, "MAIL FROM", (250,))
                code, answer = session.rcpt(recipient)
                self._accepted(code, answer, f"RCPT TO {recipient}", (250, 251))
            except (OSError, smtplib.SMTPServerDisconnected) as exc:
                raise TransientError(f"{self.where}: connection lost ({_answer(exc)})") from None
            verdict: bytes | str
            try:
                # DATA refused up front raises; the verdict after the message is returned.
                code, verdict = session.data(msg.as_bytes())
            except smtplib.SMTPDataError as exc:
                code, verdict = exc.smtp_code, exc.smtp_error
            except (OSError, smtplib.SMTPServerDisconnected) as exc:
                raise AmbiguousOutcome(
                    f"{self.where}: the connection ended during DATA ({_answer(exc)});"
                    " the message may be queued, so look in Sent before resending"
                ) from None
            self._accepted(code, verdict, "DATA", (250,))
        finally:
            try:
                session.quit()
            except (OSError, smtplib.SMTPException):
                session.close()

    def _accepted(self, code: int, answer: bytes | str, step: str, ok: tuple[int, ...]) -> None:
        if code in ok:
            return
        text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
        message = f"{self.where}: {step} answered {code} {' '.join(text.split())}"
        if 400 <= code < 500:
            raise TransientError(message)
        raise PermanentError(message)


def _answer(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
        return f"{exc.smtp_code} {' '.join(text.split())}"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
