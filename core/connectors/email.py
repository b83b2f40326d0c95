"""Email: IMAP polling with a UIDVALIDITY + last-UID cursor in, SMTP with threading out."""

from __future__ import annotations

import contextlib
import imaplib
import json
import re
import ssl
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from frontdesk.core.clock import utcnow
from frontdesk.core.connectors.accounts import EmailAccount
from frontdesk.core.connectors.base import (
    Capabilities,
    Clock,
    Connector,
    FetchResult,
    Reply,
    SendReceipt,
    SentRecord,
)
from frontdesk.core.connectors.errors import (
    AuthFailed,
    ConnectorError,
    PermanentError,
    TransientError,
)
from frontdesk.core.connectors.mime import (
    build_reply,
    inbound_message,
    parse_email,
    reply_message_id,
)
from frontdesk.core.connectors.smtp import SmtpSender

FETCH_CHUNK = 50
UID_LINE = re.compile(rb"UID (\d+)")
INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')


def quote_mailbox(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class EmailConnector(Connector):
    """One mailbox. Every call opens its own IMAP (and SMTP) session; calls block, so the
    caller runs them in a worker thread."""

    channel = "email"

    def __init__(
        self,
        name: str,
        account: EmailAccount,
        *,
        password: str | None = None,
        clock: Clock = utcnow,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(name, clock=clock)
        self.account = account
        self._password = password
        self._ssl = ssl_context or ssl.create_default_context()
        self.domain = account.domain or account.address.rsplit("@", 1)[1]
        self.smtp = SmtpSender(name, account, self.password, self._ssl)

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            private_messages=True,
            comments=False,
            private_replies_to_comments=False,
            max_length=None,
        )

    def password(self) -> str:
        if self._password is None:
            self._password = self.account.credentials.read(self.name)
        return self._password

    @contextlib.contextmanager
    def imap(self) -> Iterator[imaplib.IMAP4]:
        """A logged-in IMAP session; connection failures are transient, refusals of the
        login are AuthFailed."""
        url = urlsplit(self.account.imap_url)
        host = url.hostname or ""
        where = f"{self.name}: IMAP {host}:{url.port or ''}"
        timeout = self.account.timeout_seconds
        try:
            if url.scheme == "imaps":
                session: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    host, url.port or 993, ssl_context=self._ssl, timeout=timeout
                )
            else:
                session = imaplib.IMAP4(host, url.port or 143, timeout=timeout)
                if url.scheme == "imap+starttls":
                    session.starttls(self._ssl)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise TransientError(f"{where}: cannot connect ({_reason(exc)})") from None
        try:
            try:
                session.login(self.account.username, self.password())
            except imaplib.IMAP4.abort as exc:
                raise TransientError(f"{where}: dropped during login ({_reason(exc)})") from None
            except imaplib.IMAP4.error as exc:
                raise AuthFailed(
                    f"{where}: login refused for {self.account.username} ({_reason(exc)})"
                ) from None
            yield session
        except (imaplib.IMAP4.abort, OSError) as exc:
            raise TransientError(f"{where}: connection lost ({_reason(exc)})") from None
        except imaplib.IMAP4.error as exc:
            raise PermanentError(
                f"{where}: the server refused a command ({_reason(exc)})"
            ) from None
        finally:
            with contextlib.suppress(Exception):
                session.logout()

    def fetch(self, cursor: str | None) -> FetchResult:
        state = self._decode(cursor)
        mailbox = self.account.mailbox
        where = f"{self.name}: IMAP {mailbox}"
        result = FetchResult(messages=[], cursor=cursor)
        with self.imap() as session:
            validity = self._select(session, mailbox, where)
            if state.get("uidvalidity") == validity and state.get("mailbox") == mailbox:
                last = int(state.get("last_uid", 0))
                # "n:*" always includes the highest UID, even one below n (RFC 3501 9).
                found = self._search(session, where, "UID", f"{last + 1}:*")
                uids = [u for u in found if u > last]
            else:
                # A new UIDVALIDITY voids every stored UID: read back a window by date and
                # let ingest drop what it has by Message-ID.
                last = 0
                since = (self.clock() - timedelta(days=self.account.resync_days)).strftime(
                    "%d-%b-%Y"
                )
                uids = self._search(session, where, "SINCE", since)
            batch = sorted(uids)[: self.account.batch_size]
            self._read(session, batch, where, result)
        top = max(batch, default=last)
        result.cursor = json.dumps(
            {"mailbox": mailbox, "uidvalidity": validity, "last_uid": top}, sort_keys=True
        )
        return result

    def _decode(self, cursor: str | None) -> dict[str, str | int]:
        if cursor is None:
            return {}
        try:
            state = json.loads(cursor)
            if isinstance(state, dict) and isinstance(state.get("last_uid"), int):
                return state
        except ValueError:
            pass
        raise PermanentError(f"{self.name}: the stored cursor {cursor[:60]!r} is not IMAP's")

    def _select(self, session: imaplib.IMAP4, mailbox: str, where: str) -> int:
        status, data = session.select(quote_mailbox(mailbox), readonly=True)
        if status != "OK":
            raise PermanentError(f"{where}: cannot open the mailbox ({_text(data)})")
        _, values = session.response("UIDVALIDITY")
        try:
            return int(values[0])
        except (TypeError, ValueError, IndexError):
            raise PermanentError(f"{where}: the server did not report UIDVALIDITY") from None

    def _search(self, session: imaplib.IMAP4, where: str, *criteria: str) -> list[int]:
        status, data = session.uid("SEARCH", *criteria)
        if status != "OK":
            raise PermanentError(f"{where}: UID SEARCH refused ({_text(data)})")
        return [int(u) for u in b" ".join(d for d in data if isinstance(d, bytes)).split()]

    def _read(
        self, session: imaplib.IMAP4, uids: list[int], where: str, result: FetchResult
    ) -> None:
        seen: set[str] = set()
        for start in range(0, len(uids), FETCH_CHUNK):
            chunk = ",".join(str(u) for u in uids[start : start + FETCH_CHUNK])
            status, data = session.uid("FETCH", chunk, "(UID INTERNALDATE BODY.PEEK[])")
            if status != "OK":
                raise PermanentError(f"{where}: UID FETCH refused ({_text(data)})")
            for item in data:
                if not isinstance(item, tuple):
                    continue
                received = _internaldate(item[0]) or self.clock()
                mail = parse_email(item[1], received=received)
                if mail.message_id in seen:
                    continue  # the same message twice (a copy, a redelivery): keep one
                seen.add(mail.message_id)
                if mail.sender == self.account.address.lower():
                    result.sent.append(SentRecord(mail.message_id, mail.text, mail.date))
                    continue
                result.messages.append(inbound_message(mail, where))

    def _send_public(self, reply: Reply) -> SendReceipt:
        raise PermanentError(f"{self.name}: email has no public replies")

    def _send_private(self, reply: Reply) -> SendReceipt:
        msg = build_reply(
            reply,
            address=self.account.address,
            display_name=self.account.display_name,
            domain=self.domain,
            now=self.clock(),
        )
        self.smtp.send(msg, str(reply.recipient))
        message_id = str(msg["Message-ID"])
        warning = None
        if self.account.sent_mailbox:
            # The mail is on its way: whatever goes wrong from here must not fail the send.
            try:
                self._file_sent(msg.as_bytes())
            except ConnectorError as exc:
                warning = f"sent, but not filed in {self.account.sent_mailbox}: {exc.message}"
            except Exception as exc:
                warning = f"sent, but not filed in {self.account.sent_mailbox}: {exc!r}"
        return SendReceipt(external_id=message_id, sent_at=self.clock(), warning=warning)

    def _file_sent(self, raw: bytes) -> None:
        """A copy in the Sent mailbox: what the team's mail clients show, and what find_sent
        reads before resending."""
        mailbox = str(self.account.sent_mailbox)
        with self.imap() as session:
            stamp = imaplib.Time2Internaldate(self.clock().timestamp())
            status, data = session.append(quote_mailbox(mailbox), r"(\Seen)", stamp, raw)
            if status != "OK":
                raise PermanentError(f"{self.name}: APPEND to {mailbox} refused ({_text(data)})")

    def find_sent(self, reply: Reply, *, private: bool) -> SendReceipt | None:
        """The reply's Message-ID in the Sent mailbox (the id is derived from the outbox key,
        so it is known before sending). Without a Sent mailbox nothing can be read back."""
        mailbox = self.account.sent_mailbox
        if not private or not mailbox:
            return None
        message_id = reply_message_id(reply.key, self.domain)
        where = f"{self.name}: IMAP {mailbox}"
        with self.imap() as session:
            self._select(session, mailbox, where)
            found = self._search(session, where, "HEADER", "Message-ID", f'"{message_id}"')
        if not found:
            return None
        return SendReceipt(external_id=message_id, sent_at=self.clock())


def _internaldate(header: bytes) -> datetime | None:
    match = INTERNALDATE.search(header)
    if match is None:
        return None
    try:
        return datetime.strptime(match.group(1).decode().strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None


def _text(data: Sequence[object] | None) -> str:
    parts = [d.decode("utf-8", "replace") if isinstance(d, bytes) else str(d) for d in data or []]
    return " ".join(parts)[:160] or "no reason given"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
