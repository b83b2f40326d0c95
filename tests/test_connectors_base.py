"""The connector contract, errors, registry, account tables, secrets, and the ingest hand-off."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from frontdesk.core.config import SlaSettings
from frontdesk.core.connectors import registry
from frontdesk.core.connectors.accounts import (
    Credentials,
    EmailAccount,
    Stream,
    XAccount,
    load_accounts,
    parse_accounts,
)
from frontdesk.core.connectors.base import (
    Capabilities,
    Connector,
    FetchResult,
    RateWindow,
    Reply,
    SendReceipt,
    make_inbound,
)
from frontdesk.core.connectors.email import EmailConnector
from frontdesk.core.connectors.errors import (
    AmbiguousOutcome,
    AuthFailed,
    ConnectorError,
    MalformedResponse,
    PermanentError,
    RateLimited,
    TransientError,
    Unsupported,
    WindowClosed,
)
from frontdesk.core.connectors.facebook import FacebookConnector
from frontdesk.core.connectors.http import parse_time
from frontdesk.core.connectors.jsonfeed import JsonFeedConnector
from frontdesk.core.connectors.tokens import FileTokenStore, MemoryTokenStore, OAuthTokens
from frontdesk.core.connectors.x import XConnector
from frontdesk.core.errors import ConfigError, FrontdeskError
from frontdesk.core.ingest import ingest_stream
from frontdesk.core.sync_listen import Listener
from frontdesk.core.sync_send import PassReport
from tests.fakes.platform import FakeClock
from tests.fakes.x import FakeX

DOCS = Path(__file__).parent.parent / "docs" / "channels.md"


class Notebook(Connector):
    """A connector that writes into a list: the contract's own checks, without a platform."""

    channel = "notebook"

    def __init__(self, caps: Capabilities, clock: FakeClock) -> None:
        super().__init__("notes", clock=clock)
        self.caps = caps
        self.sent: list[tuple[str, Reply]] = []

    @property
    def capabilities(self) -> Capabilities:
        return self.caps

    def fetch(self, cursor: str | None) -> FetchResult:
        return FetchResult(messages=[], cursor=cursor)

    def find_sent(self, reply: Reply, *, private: bool) -> SendReceipt | None:
        return None

    def _send_public(self, reply: Reply) -> SendReceipt:
        self.sent.append(("public", reply))
        return SendReceipt(reply.key, self.clock())

    def _send_private(self, reply: Reply) -> SendReceipt:
        self.sent.append(("private", reply))
        return SendReceipt(reply.key, self.clock())

    def _publish(self, post: Reply) -> SendReceipt:
        self.sent.append(("post", post))
        return SendReceipt(post.key, self.clock())

    def _find_published(self, post: Reply) -> SendReceipt | None:
        found = [r for kind, r in self.sent if kind == "post" and r.text == post.text]
        return SendReceipt(found[0].key, self.clock()) if found else None


def test_every_error_is_a_frontdesk_error_with_a_title_and_a_retry_rule() -> None:
    reset = datetime(2025, 3, 3, 10, 45, tzinfo=UTC)
    throttled = RateLimited("x: slow down", reset_at=reset)
    errors: list[ConnectorError] = [
        throttled,
        AuthFailed("x: token refused"),
        TransientError("x: 503"),
        AmbiguousOutcome("x: timed out after sending"),
        PermanentError("x: duplicate"),
        WindowClosed("fb: cannot go", reason="24 hours passed", alternatives="reply publicly"),
        MalformedResponse("x: data.0.id: not a string"),
    ]
    for error in errors:
        assert isinstance(error, ConnectorError) and isinstance(error, FrontdeskError)
        assert error.title and str(error) == error.message
    assert [e.retryable for e in errors] == [True, False, True, False, False, False, False]
    window = errors[5]
    assert isinstance(window, PermanentError)
    assert str(window) == "fb: cannot go: 24 hours passed; reply publicly"
    assert throttled.reset_at == reset


def test_the_contract_refuses_what_a_channel_cannot_send_before_any_request() -> None:
    clock = FakeClock()
    quiet = Notebook(Capabilities(False, False, False, 10), clock)
    with pytest.raises(PermanentError, match="cannot send public replies"):
        quiet.send_public_reply(Reply("hi", "k", in_reply_to="1"))
    with pytest.raises(PermanentError, match="cannot send private messages"):
        quiet.send_private_message(Reply("hi", "k", recipient="u"))
    chatty = Notebook(Capabilities(True, True, False, 10), clock)
    with pytest.raises(PermanentError, match="needs the id of what it answers"):
        chatty.send_public_reply(Reply("hi", "k"))
    with pytest.raises(PermanentError, match="needs a recipient"):
        chatty.send_private_message(Reply("hi", "k", in_reply_to="comment-1"))
    with pytest.raises(PermanentError, match="11 characters"):
        chatty.send_private_message(Reply("hello world", "k", recipient="u"))
    chatty.send_private_message(Reply("hello", "k", recipient="u"))
    assert [kind for kind, _ in chatty.sent] == ["private"]
    comments = Notebook(Capabilities(False, True, True, None), clock)
    comments.send_private_message(Reply("private answer", "k2", in_reply_to="comment-1"))
    assert [kind for kind, _ in comments.sent] == ["private"]


def test_only_a_channel_that_offers_posts_is_asked_to_publish_one() -> None:
    clock = FakeClock()
    replies_only = Notebook(Capabilities(True, True, False, None), clock)
    with pytest.raises(PermanentError, match="notebook accounts cannot publish posts"):
        replies_only.publish_post(Reply("Sale!", "k"))
    assert replies_only.find_published(Reply("Sale!", "k")) is None and replies_only.sent == []
    page = Notebook(Capabilities(False, False, False, 2, posts=True, max_post_length=5), clock)
    with pytest.raises(PermanentError, match="the post is 6 characters") as long:
        page.publish_post(Reply("Sales!", "k"))
    assert long.value.title == "post too long"
    with pytest.raises(PermanentError, match="the post is empty"):
        page.publish_post(Reply("  ", "k"))
    assert page.find_published(Reply("Sale!", "k")) is None
    assert page.publish_post(Reply("Sale!", "k1")).external_id == "k1"  # not the reply limit
    found = page.find_published(Reply("Sale!", "k1"))
    assert found is not None and found.external_id == "k1"


class Boaster(Notebook):
    """Claims posts and search in its capabilities, implements neither."""

    _publish = Connector._publish
    _find_published = Connector._find_published


def test_a_claimed_capability_without_its_method_is_a_one_line_connector_error(db) -> None:
    clock = FakeClock()
    caps = Capabilities(True, True, False, None, posts=True, search=True)
    boaster = Boaster(caps, clock)
    calls: dict[str, Callable[[], object]] = {
        "publishing posts": lambda: boaster.publish_post(Reply("Sale!", "k")),
        "reading its posts back": lambda: boaster.find_published(Reply("Sale!", "k")),
        "searching": lambda: boaster.search("acme", None),
    }
    for what, call in calls.items():
        with pytest.raises(Unsupported) as refused:
            call()
        assert isinstance(refused.value, PermanentError) and not refused.value.retryable
        assert refused.value.message.startswith(f"notes: the Boaster connector claims {what}")
    # sync's listening pass takes it as any channel error: one line for the stream.
    report = PassReport("notes", "poll")
    listener = Listener(db, sla=SlaSettings(), intake=None, clock=clock)
    listener.listen("notes", boaster, [Stream(name="brand", query="acme")], report)
    assert report.errors == [
        "stream brand: notes: the Boaster connector claims searching in its capabilities"
        " but does not implement it (a bug in the connector)"
    ]


def test_the_rate_gate_holds_until_the_clock_passes_it() -> None:
    clock = FakeClock()
    notes = Notebook(Capabilities(True, True, False, None), clock)
    until = clock() + timedelta(minutes=5)
    notes.rate_limits["posting"] = RateWindow(100, 0, until)
    with pytest.raises(RateLimited, match="rate-limited on posting until 09:05:00 UTC"):
        notes.check_gate("posting")
    notes.check_gate("reading")  # other endpoints are not held
    clock.advance(300)
    notes.check_gate("posting")
    notes.rate_limits["posting"] = RateWindow(100, 40, None, blocked_until=clock() + timedelta(1))
    with pytest.raises(RateLimited):
        notes.check_gate("posting")


def doc_tables() -> list[dict[str, object]]:
    blocks = re.findall(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    return [tomllib.loads(block) for block in blocks]


def test_every_example_in_the_channels_doc_is_a_valid_account_table() -> None:
    tables = doc_tables()
    kinds = set()
    for table in tables:
        for name, account in parse_accounts(table).items():
            kinds.add(account.type)
            connector = registry.build(name, account)
            assert connector.channel == account.type
            connector.close()
    assert kinds == {"x", "facebook", "email", "jsonfeed"}


def test_the_registry_builds_each_type_and_takes_new_ones() -> None:
    tables = {k: v for t in doc_tables() for k, v in parse_accounts(t).items()}
    built = {name: registry.build(name, account) for name, account in tables.items()}
    kinds = {type(c) for c in built.values()}
    assert kinds == {XConnector, FacebookConnector, EmailConnector, JsonFeedConnector}
    assert registry.channels() == ["email", "facebook", "jsonfeed", "x"]
    registry.register("notebook", XAccount, lambda name, account, **kw: built["acme_x"])
    try:
        assert "notebook" in registry.channels()
    finally:
        del registry.REGISTRY["notebook"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"a": {"type": "myspace"}}, "accounts.a.type: must be one of x, facebook, email"),
        ({"a": {"type": "facebook", "credentials": {"env": "T"}}}, "accounts.a.page_id: Field"),
        ({"a": {"type": "x", "credentials": {"env": "T"}}}, "oauth2 credentials must be a file"),
        ({"a": {"type": "x", "auth": "bearer", "credentials": {"env": "T"}}}, "cannot read direct"),
        ({"a": {"type": "jsonfeed", "url": "ftp://x", "channel": "x"}}, "accounts.a.url: must"),
        ({"A b": {"type": "x"}}, "accounts.A b: use lower-case"),
        ({"a": {"type": "x", "credentials": {"env": "T", "file": "/f"}}}, "exactly one of env"),
        ({"a": {"type": "x", "credentials": {"file": "/f"}, "colour": 1}}, "accounts.a.colour"),
    ],
)
def test_a_bad_account_table_is_a_config_error_naming_the_key(table, message) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_accounts({"accounts": table})
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_load_accounts_reads_a_file_and_names_bad_toml(tmp_path) -> None:
    good = tmp_path / "sync.toml"
    good.write_text(
        '[accounts.mail]\ntype = "email"\nimap_url = "imap://127.0.0.1:1"\n'
        'smtp_url = "smtp://127.0.0.1:2"\nusername = "u"\naddress = "u@example.com"\n'
        'sent_mailbox = ""\ncredentials = { env = "PW" }\n'
    )
    account = load_accounts(good)["mail"]
    assert isinstance(account, EmailAccount) and account.sent_mailbox is None
    bad = tmp_path / "bad.toml"
    bad.write_text("[accounts.mail\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_accounts(bad)


def test_secrets_come_from_the_environment_or_a_private_file(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ACME_TOKEN", " tok-123 \n")
    assert Credentials(env="ACME_TOKEN").read("acme") == "tok-123"
    monkeypatch.delenv("ACME_TOKEN")
    with pytest.raises(AuthFailed, match="ACME_TOKEN is not set"):
        Credentials(env="ACME_TOKEN").read("acme")
    secret = tmp_path / "token"
    secret.write_text("file-secret\n")
    secret.chmod(0o640)
    with pytest.raises(AuthFailed, match=f"run chmod 600 {secret}"):
        Credentials(file=secret).read("acme")
    secret.chmod(0o600)
    assert Credentials(file=secret).read("acme") == "file-secret"
    with pytest.raises(AuthFailed, match="cannot read"):
        Credentials(file=tmp_path / "missing").read("acme")


def test_a_token_file_round_trips_and_stays_private(tmp_path) -> None:
    store = FileTokenStore(tmp_path / "pair.json")
    expires = datetime(2025, 3, 3, 11, 0, tzinfo=UTC)
    store.save(OAuthTokens("a", "r", expires, "client", "secret"))
    assert store.load() == OAuthTokens("a", "r", expires, "client", "secret")
    assert (tmp_path / "pair.json").stat().st_mode & 0o777 == 0o600
    (tmp_path / "pair.json").write_text('{"access_token": "a"}')
    with pytest.raises(AuthFailed, match="missing refresh_token, expires_at, client_id"):
        store.load()


def test_platform_times_in_every_form_become_aware_utc() -> None:
    expected = datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    for raw in ("2024-01-15T10:30:00+0000", "2024-01-15T10:30:00.000Z", 1705314600, "1705314600"):
        assert parse_time(raw) == expected


def test_a_message_ingest_would_refuse_is_a_malformed_response() -> None:
    with pytest.raises(MalformedResponse, match=r"^here: author\.id: String should have"):
        make_inbound(
            "here", channel="x", external_id="1", text="t", created_at=1, author={"id": ""}
        )


def test_fetched_messages_go_straight_into_ingest(db) -> None:
    """What a connector returns is what ingest takes, and a re-read is dropped as a duplicate."""
    clock = FakeClock()
    fake = FakeX(clock)
    jane = fake.user("jane", "Jane")
    question = fake.mention(jane, "my order is late")
    fake.mention(jane, "hello?", replied_to=question.id)
    fake.dm(jane, "order 12")
    settings = {"type": "x", "base_url": "https://api.x.test", "credentials": {"file": "/unused"}}
    connector = XConnector(
        "acme_x",
        XAccount.model_validate(settings),
        tokens=MemoryTokenStore(OAuthTokens(**fake.oauth_pair())),
        transport=fake.transport(),
        clock=clock,
    )
    result = connector.fetch(None)
    lines = [m.model_dump_json() for m in result.messages]
    first = ingest_stream(db, lines, sla=SlaSettings(), actor="sync:acme_x", now=clock())
    assert (first.accepted, first.rejected) == (3, [])
    assert first.conversations_created == 2  # the public thread, and the direct messages
    again = ingest_stream(db, lines, sla=SlaSettings(), actor="sync:acme_x", now=clock())
    assert (again.accepted, again.duplicates) == (0, 3)
