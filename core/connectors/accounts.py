"""Accounts in `frontdesk sync`'s own config: one TOML table per account, secrets kept outside."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from pydantic import model_validator as _model_validator

from frontdesk.core.connectors.errors import AuthFailed
from frontdesk.core.errors import ConfigError

ACCOUNT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class Credentials(BaseModel):
    """Where a secret comes from: an environment variable or a file only its owner can read."""

    model_config = ConfigDict(extra="forbid")

    env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    file: Path | None = None

    @_model_validator(mode="after")
    def _exactly_one(self) -> Credentials:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of env or file")
        return self

    def read(self, account: str) -> str:
        """The secret; AuthFailed naming the source when it is missing or exposed."""
        if self.env is not None:
            value = os.environ.get(self.env, "").strip()
            if not value:
                raise AuthFailed(f"{account}: the environment variable {self.env} is not set")
            return value
        assert self.file is not None
        try:
            mode = self.file.stat().st_mode
            value = self.file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise AuthFailed(f"{account}: cannot read {self.file} ({exc.strerror})") from None
        if mode & 0o077:
            raise AuthFailed(f"{account}: others can read {self.file}; run chmod 600 {self.file}")
        if not value:
            raise AuthFailed(f"{account}: {self.file} is empty")
        return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http:// or https:// URL")
    return value.rstrip("/")


class Stream(BaseModel):
    """One `[[accounts.NAME.streams]]` entry: a saved search run on every poll (listening)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=ACCOUNT_NAME.pattern)
    """Unique across the config: the conversation tag `stream:NAME`, mutes and volumes use it."""
    query: str = Field(min_length=1, max_length=512)
    """In the platform's own search syntax (X: `acme OR "acme gear" -is:retweet -from:acme`)."""
    tags: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=20
    )
    """Tags every conversation the stream starts carries, besides `stream:NAME`."""
    enabled: bool = True


class _Account(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    poll_seconds: float = Field(default=60.0, ge=1.0, le=3600.0)
    """How often `frontdesk sync` polls this account."""
    timeout_seconds: float = Field(default=20.0, gt=0.0, le=300.0)
    streams: list[Stream] = Field(default_factory=list, max_length=50)
    """Listening: saved searches, for connectors whose capabilities include `search`."""


class XAccount(_Account):
    """An X account: mentions and direct messages in, replies and direct messages out."""

    type: Literal["x"]
    base_url: str = "https://api.x.com"
    user_id: str | None = Field(default=None, pattern=r"^[0-9]{1,19}$")
    """The account's numeric id; looked up with GET /2/users/me when absent."""
    username: str | None = None
    auth: Literal["oauth2", "bearer"] = "oauth2"
    """oauth2: a user token pair that sync refreshes; bearer: an app token (mentions only)."""
    token_url: str | None = None
    credentials: Credentials
    mentions: bool = True
    direct_messages: bool = True
    page_size: int = Field(default=100, ge=5, le=100)
    max_pages: int = Field(default=10, ge=1, le=100)
    """Pages read on the first poll (the backfill); later polls read to their cursor."""

    @field_validator("base_url", "token_url")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)

    @_model_validator(mode="after")
    def _refresh_needs_a_file(self) -> XAccount:
        if self.auth == "oauth2" and self.credentials.file is None:
            raise ValueError("oauth2 credentials must be a file: each refresh rewrites the pair")
        if self.auth == "bearer" and self.direct_messages:
            raise ValueError("an app bearer token cannot read direct messages")
        if self.auth == "bearer" and self.user_id is None:
            raise ValueError("a bearer token cannot look the account up: set user_id")
        return self


class FacebookAccount(_Account):
    """A Facebook Page: Messenger conversations and comments on the Page's posts."""

    type: Literal["facebook"]
    base_url: str = "https://graph.facebook.com"
    api_version: str = Field(default="v21.0", pattern=r"^v[0-9]+\.[0-9]+$")
    page_id: str = Field(pattern=r"^[0-9]{1,30}$")
    credentials: Credentials
    """The Page access token."""
    messenger: bool = True
    comments: bool = True
    feed_posts: int = Field(default=25, ge=1, le=100)
    """How many of the Page's most recent posts are watched for new comments."""
    human_agent_tag: bool = False
    """Meta granted the Human Agent permission: private replies may go up to 7 days."""
    overlap_seconds: int = Field(default=300, ge=0, le=86_400)
    page_size: int = Field(default=25, ge=1, le=100)
    max_pages: int = Field(default=10, ge=1, le=100)
    """Pages read on the first poll (the backfill); later polls read to their cursor."""

    @field_validator("base_url")
    @classmethod
    def _urls(cls, value: str) -> str:
        return _http_url(value)


def _mail_url(value: str, kind: str) -> str:
    parts = urlsplit(value)
    schemes = (kind, f"{kind}s", f"{kind}+starttls")
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"must look like {kind}s://host:port (or {kind}+starttls://, {kind}://)")
    return value


class EmailAccount(_Account):
    """A mailbox: IMAP polling in, SMTP out."""

    type: Literal["email"]
    imap_url: str
    """imaps://host:993 (TLS), imap+starttls://host:143, or imap://host:port (no TLS)."""
    smtp_url: str
    """smtps://host:465, smtp+starttls://host:587, or smtp://host:port (no TLS)."""
    username: str = Field(min_length=1)
    smtp_username: str | None = None
    credentials: Credentials
    address: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    display_name: str = ""
    mailbox: str = "INBOX"
    sent_mailbox: str | None = "Sent"
    """Replies are filed here and looked up by Message-ID before any resend; "": neither."""
    domain: str | None = None
    """Right-hand side of generated Message-IDs; the address's domain when absent."""
    resync_days: int = Field(default=14, ge=1, le=365)
    batch_size: int = Field(default=200, ge=1, le=5000)

    @field_validator("imap_url")
    @classmethod
    def _imap(cls, value: str) -> str:
        return _mail_url(value, "imap")

    @field_validator("smtp_url")
    @classmethod
    def _smtp(cls, value: str) -> str:
        return _mail_url(value, "smtp")

    @field_validator("sent_mailbox")
    @classmethod
    def _no_copy(cls, value: str | None) -> str | None:
        return value or None  # TOML has no null: "" means no Sent copy


class JsonFeedAccount(_Account):
    """Any source that serves normalised messages as JSON (see docs/channels.md)."""

    type: Literal["jsonfeed"]
    url: str
    reply_url: str | None = None
    """Where replies are POSTed; without it the channel is read-only."""
    channel: Literal["x", "facebook", "email"]
    """The channel the feed's messages are queued under when they do not name one."""
    credentials: Credentials | None = None
    """A bearer token sent with every request, if the feed wants one."""
    max_length: int | None = Field(default=None, ge=1)
    max_pages: int = Field(default=10, ge=1, le=100)

    @field_validator("url", "reply_url")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)


Account = Annotated[
    XAccount | FacebookAccount | EmailAccount | JsonFeedAccount, Field(discriminator="type")
]
TYPES = ("x", "facebook", "email", "jsonfeed")
_ACCOUNTS: TypeAdapter[dict[str, Account]] = TypeAdapter(dict[str, Account])


def parse_accounts(data: Mapping[str, Any]) -> dict[str, Account]:
    """The `[accounts.NAME]` tables of a sync config; ConfigError naming the first bad key."""
    tables = data.get("accounts", {})
    if not isinstance(tables, Mapping):
        raise ConfigError("accounts: must be a table of tables, one per account")
    for name in tables:
        if not ACCOUNT_NAME.match(name):
            raise ConfigError(f"accounts.{name}: use lower-case letters, digits, - and _")
    try:
        return _ACCOUNTS.validate_python(dict(tables))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(p) for p in first["loc"]]
        # The discriminator's tag (`x`, `email`, ...) follows the account name; nobody wrote it.
        if len(loc) > 1 and loc[1] in TYPES:
            del loc[1]
        reason = first["msg"].removeprefix("Value error, ")
        if first["type"] in ("union_tag_not_found", "union_tag_invalid"):
            loc.append("type")
            reason = f"must be one of {', '.join(TYPES)}"
        raise ConfigError(f"accounts.{'.'.join(loc)}: {reason}") from None


def load_accounts(path: Path) -> dict[str, Account]:
    """Read the accounts of a sync config file."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return parse_accounts(data)
