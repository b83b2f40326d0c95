"""Listening from the outside: the streams in sync's config, `frontdesk sync --once` against the
fake X on 127.0.0.1, then `frontdesk streams`, `frontdesk mute` and `frontdesk queue --stream`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from frontdesk.core import sync_config
from frontdesk.core.connectors.base import PermanentError
from frontdesk.core.db import Database
from frontdesk.core.errors import ConfigError
from frontdesk.core.playbook.triage import Inbound, TriageConfig, Triager
from frontdesk.tui.cli.main import main
from frontdesk.tui.screens.filter import QueueView, parse_view
from tests.fakes.connect import facebook_connector
from tests.fakes.facebook import FakeFacebook
from tests.fakes.platform import FakeClock
from tests.fakes.server import serve
from tests.fakes.x import FakeX
from tests.fakes.x_search import matches, parse
from tests.test_sync_cli import WallClock, write_config, x_table

STREAMS = """
[[accounts.acme_x.streams]]
name = "brand"
query = 'acme OR "acme gear" -is:retweet -from:acme'
tags = ["brand"]

[[accounts.acme_x.streams]]
name = "competitors"
query = "peakway OR trailhead"
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[FakeX, Path]]:
    fake = FakeX(WallClock())
    fake.rate_limits = False
    with serve(fake) as base:
        yield fake, write_config(tmp_path, x_table(fake, base, tmp_path) + STREAMS)


@pytest.fixture
def env(db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTDESK_DATABASE_URL", db_url)
    monkeypatch.setenv("FRONTDESK_OPERATOR", "alice")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_cli_lists_streams_mutes_and_filters_the_queue(served, env, capsys) -> None:
    fake, config = served
    jane, bot = fake.user("jane"), fake.user("dealsbot")
    fake.post(jane, "Peakway tent leaks, never again")
    fake.post(bot, "acme 50% off today only")
    code, _, err = run(capsys, "sync", "--once", "--config", str(config))
    assert code == 0, err

    code, out, _ = run(capsys, "streams", "--json")
    rows = {s["name"]: s for s in json.loads(out)["streams"]}
    assert (rows["brand"]["matched_24h"], rows["competitors"]["matched_24h"]) == (1, 1)
    assert rows["brand"]["account"] == "acme_x" and rows["brand"]["last_poll_at"]
    code, out, _ = run(capsys, "streams")
    assert out.splitlines()[0].split()[:3] == ["STREAM", "ACCOUNT", "LAST"]

    code, out, _ = run(capsys, "queue", "--stream", "competitors", "--json")
    [lead] = json.loads(out)
    assert "stream:competitors" in lead["tags"]  # (the demo playbook test checks triage)

    code, out, _ = run(capsys, "mute", "add", "--stream", "brand", "--author", "@DealsBot")
    assert code == 0 and "mute 1: brand no longer brings in author 'dealsbot'" in out
    code, _, err = run(capsys, "mute", "add", "--stream", "nope", "--phrase", "x y")
    assert code == 1 and "no listening stream 'nope'" in err
    code, out, _ = run(capsys, "mute", "list", "--json")
    [rule] = json.loads(out)["mutes"]
    assert (rule["stream"], rule["kind"], rule["value"], rule["created_by"]) == (
        "brand",
        "author",
        "dealsbot",
        "alice",
    )
    fake.post(bot, "acme deal again")
    run(capsys, "sync", "--once", "--config", str(config))
    code, out, _ = run(capsys, "streams", "--json")
    brand = next(s for s in json.loads(out)["streams"] if s["name"] == "brand")
    assert (brand["matched_24h"], brand["muted_24h"], brand["mutes"]) == (2, 1, 1)

    code, out, _ = run(capsys, "mute", "remove", "1")
    assert code == 0 and "removed" in out
    code, out, _ = run(capsys, "mute", "list")
    assert out.strip() == "no mute rules"


def test_stream_names_are_unique_and_only_searching_connectors_take_streams(tmp_path) -> None:
    doubled = (
        '[accounts.a]\ntype = "x"\ncredentials = { file = "/t" }\n'
        '[[accounts.a.streams]]\nname = "brand"\nquery = "acme"\n'
        '[accounts.b]\ntype = "x"\ncredentials = { file = "/t" }\n'
        '[[accounts.b.streams]]\nname = "brand"\nquery = "acme"\n'
    )
    with pytest.raises(ConfigError, match=r"'brand' is already a stream of accounts\.a"):
        sync_config.load(write_config(tmp_path, doubled))
    with pytest.raises(ConfigError, match=r"accounts\.a\.streams\.0\.query"):
        sync_config.load(
            write_config(
                tmp_path,
                '[accounts.a]\ntype = "x"\ncredentials = { file = "/t" }\n'
                f'[[accounts.a.streams]]\nname = "long"\nquery = "{"a" * 513}"\n',
            )
        )
    page = (
        '[accounts.fb]\ntype = "facebook"\npage_id = "1"\ncredentials = { env = "T" }\n'
        '[[accounts.fb.streams]]\nname = "brand"\nquery = "acme"\n'
    )
    config = sync_config.load(write_config(tmp_path, page))
    with pytest.raises(ConfigError, match="facebook accounts cannot search"):
        sync_config.build(config.accounts)
    connector = facebook_connector(FakeFacebook(FakeClock()), FakeClock())
    assert connector.capabilities.search is False
    with pytest.raises(PermanentError, match="cannot search"):
        connector.search("acme", None)


def test_the_fake_search_reads_x_query_syntax() -> None:
    fake = FakeX(FakeClock())
    jane, acme = fake.user("jane"), fake.me

    def hit(query: str, text: str, author=jane) -> bool:
        return matches(parse(query), fake.post(author, text), fake.world)

    assert hit("acme", "I love ACME!") and not hit("acme", "acmeology")
    assert hit('"acme gear"', "my Acme  gear") and not hit('"acme gear"', "gear by acme")
    assert hit("tent OR stove", "the stove") and not hit("tent OR stove", "the pan")
    assert hit("acme -refund", "acme rocks") and not hit("acme -refund", "acme refund please")
    assert not hit("acme -from:acme", "acme news", author=acme)
    assert not hit("acme -is:retweet", "RT @x: acme")
    assert hit("acme tent OR stove", "acme stove") and not hit("acme tent OR stove", "acme pan")
    grouped = '(acme OR "acme gear" OR akme) -is:retweet lang:en'
    assert hit(grouped, "akme is here") and not hit(grouped, "RT @a: akme")


def test_triage_rules_can_name_streams_and_the_filter_takes_stream() -> None:
    config = TriageConfig.model_validate(
        {"rules": [{"name": "rival", "streams": ["competitors"], "category": "sales_lead"}]}
    )
    triager = Triager(config)
    tagged = Inbound(text="hi", channel="x", tags=("stream:competitors",))
    assert triager.triage(tagged).category == "sales_lead"
    assert triager.triage(tagged).reasons[0].why == "stream competitors"
    assert triager.triage(Inbound(text="hi", channel="x")).category == "question"
    view = parse_view("mine stream:brand")
    assert view == QueueView("mine", stream="brand") and view.label() == "mine stream:brand"
    assert view.query("alice", FakeClock()()).stream == "brand"
    assert view.cycled().stream == "brand"
