"""Connector types by channel name, and building one from its account table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from frontdesk.core.clock import utcnow
from frontdesk.core.connectors.accounts import (
    Account,
    EmailAccount,
    FacebookAccount,
    JsonFeedAccount,
    XAccount,
)
from frontdesk.core.connectors.base import Clock, Connector
from frontdesk.core.connectors.email import EmailConnector
from frontdesk.core.connectors.facebook import FacebookConnector
from frontdesk.core.connectors.jsonfeed import JsonFeedConnector
from frontdesk.core.connectors.x import XConnector
from frontdesk.core.errors import ConfigError

Factory = Callable[..., Connector]
"""Called as factory(name, account, client=..., transport=..., clock=...)."""


def _x(name: str, account: Any, **kw: Any) -> Connector:
    return XConnector(name, account, **kw)


def _facebook(name: str, account: Any, **kw: Any) -> Connector:
    return FacebookConnector(name, account, **kw)


def _jsonfeed(name: str, account: Any, **kw: Any) -> Connector:
    return JsonFeedConnector(name, account, **kw)


def _email(name: str, account: Any, **kw: Any) -> Connector:
    # IMAP and SMTP are not HTTP: the HTTP client and transport do not apply.
    kw.pop("client", None)
    kw.pop("transport", None)
    return EmailConnector(name, account, **kw)


REGISTRY: dict[str, tuple[type[Any], Factory]] = {
    "x": (XAccount, _x),
    "facebook": (FacebookAccount, _facebook),
    "email": (EmailAccount, _email),
    "jsonfeed": (JsonFeedAccount, _jsonfeed),
}


def register(channel: str, account_type: type[Any], factory: Factory) -> None:
    """Add a connector type (a plug-in, or a test double) under a channel name."""
    REGISTRY[channel] = (account_type, factory)


def channels() -> list[str]:
    return sorted(REGISTRY)


def build(
    name: str,
    account: Account,
    *,
    client: httpx.Client | None = None,
    transport: httpx.BaseTransport | None = None,
    clock: Clock = utcnow,
) -> Connector:
    """The connector for one configured account."""
    entry = REGISTRY.get(account.type)
    if entry is None:
        raise ConfigError(f"accounts.{name}.type: no connector for {account.type!r}")
    account_type, factory = entry
    if not isinstance(account, account_type):
        raise ConfigError(f"accounts.{name}: not a {account.type} account table")
    return factory(name, account, client=client, transport=transport, clock=clock)
