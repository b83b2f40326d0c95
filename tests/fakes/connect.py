"""Connectors wired to the fakes: the account tables and transports tests would otherwise repeat."""

from __future__ import annotations

from typing import Any

import httpx

from frontdesk.core.connectors.accounts import FacebookAccount, XAccount
from frontdesk.core.connectors.facebook import FacebookConnector
from frontdesk.core.connectors.tokens import MemoryTokenStore, OAuthTokens, TokenStore
from frontdesk.core.connectors.x import XConnector
from tests.fakes.facebook import FakeFacebook
from tests.fakes.platform import FakeClock
from tests.fakes.x import FakeX

X_BASE = "https://api.x.test"
GRAPH_BASE = "https://graph.test"


def x_account(**overrides: Any) -> XAccount:
    """An X account table; the token file is never read when a store is passed in."""
    table = {"type": "x", "base_url": X_BASE, "credentials": {"file": "/unused"}}
    return XAccount.model_validate(table | overrides)


def x_connector(
    fake: FakeX,
    clock: FakeClock,
    *,
    tokens: TokenStore | None = None,
    transport: httpx.BaseTransport | None = None,
    name: str = "acme_x",
    **overrides: Any,
) -> XConnector:
    """An X connector with a fresh token pair of the fake's, talking to `transport` (by
    default the fake itself, mounted with httpx.MockTransport)."""
    return XConnector(
        name,
        x_account(**overrides),
        tokens=tokens or MemoryTokenStore(OAuthTokens(**fake.oauth_pair())),
        transport=transport or fake.transport(),
        clock=clock,
    )


def facebook_account(fake: FakeFacebook, **overrides: Any) -> FacebookAccount:
    table = {
        "type": "facebook",
        "page_id": fake.page.psid,
        "base_url": GRAPH_BASE,
        "api_version": "v23.0",
        "credentials": {"env": "ACME_PAGE_TOKEN"},
    }
    return FacebookAccount.model_validate(table | overrides)


def facebook_connector(
    fake: FakeFacebook,
    clock: FakeClock,
    *,
    transport: httpx.BaseTransport | None = None,
    **overrides: Any,
) -> FacebookConnector:
    """A connector for the fake's Page, holding its Page token."""
    return FacebookConnector(
        "acme_fb",
        facebook_account(fake, **overrides),
        token=fake.page_token,
        transport=transport or fake.transport(),
        clock=clock,
    )
