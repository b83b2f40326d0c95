"""Snapshots of the workstation at 80x24 and 160x48, on a fixed clock and a fixed database.

After a deliberate change to the look, regenerate with
`pytest tests/test_tui_snapshots.py --snapshot-update` and look at the SVGs before committing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.widgets import Input

from frontdesk.core import schema
from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.tui.app import FrontdeskApp
from frontdesk.tui.widgets.queue_list import QueueList
from tests.tui_support import settle

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday morning
WIDE, NARROW = (160, 48), (80, 24)

# Three short answers written here, so the snapshots do not move when the demo KB is edited.
ARTICLES = {
    "orders/where-is-my-order.md": """---
title: Where is my order?
tags: [order, tracking, delivery]
questions:
  - where is my order
  - tracking has not moved
  - still no update on my parcel
reviewed: 2026-02-01
---
# Where is my order?

Orders can be tracked under **Account > Orders** or from the dispatch email.

## x
Hi {name}, sorry for the wait! DM us your order number (it starts NW) and we'll chase it.

## facebook
Hi {name}, thanks for your patience. Send us a private message with your order number.

## email
Hi {name},

You can follow your order under Account > Orders. Reply with your order number and I'll
chase the courier for you.

{agent}
""",
    "returns/refund-status.md": """---
title: Where is my refund?
tags: [refund, returns, money]
questions:
  - where is my refund
  - still no money back after returning
reviewed: 2026-02-01
---
# Where is my refund?

Refunds reach the original payment method within 5 working days of the return arriving.

## x
Hi {name}, refunds land within 5 working days of your return reaching us. DM us the order.

## facebook
Hi {name}, refunds land within 5 working days of your return reaching us.

## email
Hi {name},

Refunds land within 5 working days of your return reaching our warehouse.

{agent}
""",
    "orders/change-delivery-address.md": """---
title: Changing the delivery address
tags: [order, address, delivery]
questions:
  - can I change the delivery address
  - wrong address on my order
reviewed: 2026-02-01
---
# Changing the delivery address

An address can be changed until the order is dispatched.

## x
Hi {name}, we can change it until dispatch: DM us the order number and the new address.

## facebook
Hi {name}, we can change it until dispatch: message us the order number and new address.

## email
Hi {name},

We can change the address until the order is dispatched: reply with the new one.

{agent}
""",
}


def inbound(
    key: str, channel: str, minutes_ago: int, text: str, author: dict[str, str], **extra: str
) -> str:
    return json.dumps(
        {
            "channel": channel,
            "external_id": key,
            "text": text,
            "created_at": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
            "author": author,
            **extra,
        }
    )


KIM = {"id": "501", "handle": "@trailrunner_kim", "name": "Kim Tanaka"}
EARLIER = [
    inbound(
        "x-kim-1",
        "x",
        95,
        "@NorthwindOut ordered a Ridgeline 45L backpack 6 days ago and tracking still says "
        "label created. Where is my order?",
        KIM,
    ),
    inbound(
        "mail-tom-1",
        "email",
        300,
        "Wrong item in my parcel\n\nHi, I ordered the Kestrel 2 tent and got a mat.\n\nTom",
        {"id": "tom.w@example.org", "handle": "tom.w@example.org", "name": "Tom Walsh"},
        visibility="private",
    ),
    inbound(
        "mail-priya-1",
        "email",
        200,
        "Refund not received\n\nI returned my boots three weeks ago and still no refund.\n\nPriya",
        {"id": "priya@example.com", "handle": "priya@example.com", "name": "Priya Shah"},
        visibility="private",
    ),
]
LATER = [
    inbound(
        "x-kim-2",
        "x",
        30,
        "@NorthwindOut done, sent you a DM. still no update on my parcel",
        KIM,
        in_reply_to="x-kim-1",
    ),
    inbound(
        "fb-sam-1",
        "facebook",
        50,
        "Do you price match other outdoor stores?",
        {"id": "100200300400501", "handle": "", "name": "Sam Okafor"},
        in_reply_to="post_1",
    ),
    inbound(
        "x-mo-1",
        "x",
        20,
        "Can I change the delivery address on my order? I'm moving on Friday",
        {"id": "502", "handle": "@mountain_mo", "name": "Mo Ibrahim"},
        visibility="private",
        thread_id="dm-502",
    ),
    inbound(
        "x-jo-1",
        "x",
        35,
        "@NorthwindOut is the Aurora jacket back in stock in M?",
        {"id": "503", "handle": "@outdoorsy_jo", "name": "Jo Lindqvist"},
    ),
    inbound(
        "fb-lars-1",
        "facebook",
        10,
        "Love the new Kestrel tent, thanks to the Bergen store team!",
        {"id": "100200300400502", "handle": "", "name": "Lars Berg"},
        visibility="private",
        thread_id="t_502",
    ),
]


def desk_at(db: Database, login: str, minutes_ago: int = 0) -> Desk:
    at = NOW - timedelta(minutes=minutes_ago)
    return Desk(Settings(), login, db=db, clock=lambda: at)


@pytest.fixture
def workstation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FrontdeskApp]:
    """Alice's workstation over a fixed queue, on a clock stopped at NOW."""
    # The workstation's countdowns run on the desk's clock; the boot screen's peek, drawn
    # before there is a desk, on the wall clock: stop that one too for the picture.
    monkeypatch.setattr("frontdesk.tui.widgets.queue_list.utcnow", lambda: NOW)
    kb = tmp_path / "kb"
    for name, text in ARTICLES.items():
        (kb / name).parent.mkdir(parents=True, exist_ok=True)
        (kb / name).write_text(text, encoding="utf-8")
    db = Database(f"sqlite:///{tmp_path / 'snapshots.db'}")
    schema.upgrade(db)
    assert desk_at(db, "feed", 90).ingest(EARLIER).accepted == len(EARLIER)
    kim = desk_at(db, "alice", 60)
    kim.claim(1)
    kim.reply(1, "Hi Kim, sorry for the wait! Could you DM us your order number?")
    desk_at(db, "alice", 58).note(1, "Courier portal shows a depot delay in Leeds since Thursday.")
    assert desk_at(db, "feed", 1).ingest(LATER).accepted == len(LATER)
    desk_at(db, "alice", 2).claim(1)  # the first claim lapsed; alice holds it again
    yield FrontdeskApp(desk_at(db, "alice"), kb)
    db.dispose()


async def open_kims_thread(pilot) -> None:
    """Move the cursor to Kim's conversation and open it, as an operator would."""
    app = pilot.app
    await settle(pilot, app)
    queue = app.screen.query_one(QueueList)
    index = next(i for i, row in queue.rows.items() if row.conversation_id == 1)
    await pilot.press(*["j"] * index, "enter")
    await settle(pilot, app)


@pytest.mark.parametrize("size", [WIDE, NARROW], ids=["160x48", "80x24"])
def test_workstation_queue_thread_and_knowledge(
    snap_compare, workstation: FrontdeskApp, size: tuple[int, int]
) -> None:
    """Queue, Kim's thread (inbound, reply, internal note) and, when wide, the answers."""
    assert snap_compare(workstation, terminal_size=size, run_before=open_kims_thread)


def test_workstation_searching_the_knowledge_base_narrow(
    snap_compare, workstation: FrontdeskApp
) -> None:
    """At 80 columns the knowledge pane takes the queue's place while the operator searches."""

    async def search(pilot) -> None:
        await open_kims_thread(pilot)
        await pilot.press("slash", *"refund")
        pilot.app.screen.query_one("#kb-query", Input).cursor_blink = False
        await settle(pilot, pilot.app)
        # The answer preview is Markdown, drawn once typing pauses: wait until it is there.
        preview = pilot.app.screen.query_one("#kb-preview")
        for _ in range(100):
            if preview.children:
                break
            await pilot.pause(0.05)
        await settle(pilot, pilot.app)

    assert snap_compare(workstation, terminal_size=NARROW, run_before=search)


@pytest.mark.parametrize("size", [WIDE, NARROW], ids=["160x48", "80x24"])
def test_help_lists_the_keys_of_the_queue(
    snap_compare, workstation: FrontdeskApp, size: tuple[int, int]
) -> None:
    async def help_screen(pilot) -> None:
        await settle(pilot, pilot.app)
        await pilot.press("question_mark")
        await settle(pilot, pilot.app)

    assert snap_compare(workstation, terminal_size=size, run_before=help_screen)
