"""`frontdesk sync`'s own config file: where it is, who may read it, and its accounts built."""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from frontdesk.core.clock import utcnow
from frontdesk.core.connectors import registry
from frontdesk.core.connectors.accounts import (
    Account,
    JsonFeedAccount,
    Stream,
    parse_accounts,
)
from frontdesk.core.connectors.base import Clock, Connector
from frontdesk.core.errors import ConfigError

DEFAULT_PATH = Path("/etc/frontdesk/sync.toml")
ENV_VAR = "FRONTDESK_SYNC_CONFIG"
# Group members may read the file (0640), nobody else may read it, and only the owner may
# change it: whoever can edit it can point an account's base URL at their own server and
# collect the tokens sync sends there.
FORBIDDEN_BITS = stat.S_IRWXO | stat.S_IWGRP


class SyncOptions(BaseModel):
    """The `[sync]` table: how the service paces itself (the accounts pace their polls)."""

    model_config = ConfigDict(extra="forbid")

    drain_seconds: float = Field(default=2.0, ge=0.1, le=300.0)
    """How often the outbox is checked for replies to send, between polls."""
    batch: int = Field(default=100, ge=1, le=1000)
    """Outbox rows read per query."""
    budget: int = Field(default=500, ge=1, le=100_000)
    """Replies one account sends before the other accounts get their turn."""
    lock_wait_seconds: float = Field(default=30.0, ge=0.0, le=3600.0)
    """How long a starting sync waits for one that is stopping to let go of the database."""


@dataclass
class SyncConfig:
    """A parsed sync config file."""

    path: Path
    accounts: dict[str, Account]
    options: SyncOptions = field(default_factory=SyncOptions)


def resolve_path(arg: str | None) -> Path:
    """The config file in force: `--config`, then $FRONTDESK_SYNC_CONFIG, then the default."""
    return Path(arg or os.environ.get(ENV_VAR) or DEFAULT_PATH).expanduser()


def check_private(path: Path) -> None:
    """Refuse a config that users other than the owner (and its group, read-only) can use.

    Raises:
        ConfigError: naming the file and the chmod that fixes it.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file; write the sync config there (docs/sync.md) or pass --config"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    if mode & FORBIDDEN_BITS:
        raise ConfigError(
            f"{path} is mode {stat.S_IMODE(mode):04o}, so other users can read or change the"
            f" platform settings; run: chmod 600 {path}"
        )


def load(path: Path) -> SyncConfig:
    """Read and check a sync config file.

    Raises:
        ConfigError: unreadable, exposed to other users, not TOML, or a bad key (named).
    """
    check_private(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return parse(data, path)


def parse(data: Mapping[str, Any], path: Path) -> SyncConfig:
    """The accounts and options of a config's TOML document."""
    unknown = sorted(set(data) - {"accounts", "sync"})
    if unknown:
        raise ConfigError(f"{path}: {unknown[0]}: unknown table; use [accounts.NAME] or [sync]")
    try:
        accounts = parse_accounts(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc.message}") from None
    owner: dict[str, str] = {}
    for name, account in accounts.items():
        for stream in account.streams:
            # Tags, mutes and volumes name a stream alone, so one name means one search.
            if stream.name in owner:
                raise ConfigError(
                    f"{path}: accounts.{name}.streams: {stream.name!r} is already a stream of"
                    f" accounts.{owner[stream.name]}; stream names must be unique"
                )
            owner[stream.name] = name
    try:
        options = SyncOptions.model_validate(data.get("sync", {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: sync.{where}: {first['msg']}") from None
    return SyncConfig(path, accounts, options)


def queue_channel(account: Account) -> str:
    """The queue channel an account's messages (and so the replies it sends) belong to."""
    return account.channel if isinstance(account, JsonFeedAccount) else account.type


def streams(accounts: Mapping[str, Account]) -> dict[str, list[Stream]]:
    """Each account's listening streams that are switched on."""
    return {n: on for n, a in accounts.items() if (on := [s for s in a.streams if s.enabled])}


def select(config: SyncConfig, only: str | None = None) -> dict[str, Account]:
    """The enabled accounts, or only `only` (an account name, or a type such as x).

    Several accounts may bring messages into one queue channel: each conversation records
    the account it came in on, and its replies leave by that account.

    Raises:
        ConfigError: nothing matches.
    """
    enabled = {name: a for name, a in config.accounts.items() if a.enabled}
    chosen = enabled
    if only is not None:
        chosen = {n: a for n, a in enabled.items() if only in (n, a.type)}
        if not chosen:
            names = ", ".join(enabled) or "none"
            raise ConfigError(f"{config.path}: no enabled account or type {only!r} (have: {names})")
    if not chosen:
        raise ConfigError(f"{config.path}: no enabled [accounts.NAME] table")
    return chosen


def build(
    accounts: Mapping[str, Account],
    *,
    clock: Clock = utcnow,
    transport: httpx.BaseTransport | None = None,
) -> dict[str, Connector]:
    """One connector per account, through the connector registry."""
    built: dict[str, Connector] = {}
    try:
        for name, account in accounts.items():
            built[name] = registry.build(name, account, clock=clock, transport=transport)
            if account.streams and not built[name].capabilities.search:
                raise ConfigError(
                    f"accounts.{name}.streams: {account.type} accounts cannot search;"
                    " listening streams need a connector that can (x)"
                )
    except BaseException:
        for connector in built.values():
            connector.close()
        raise
    return built
