"""A deterministic demo feed: ingest-format messages for the fictional Northwind Outfitters."""

from __future__ import annotations

import random
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlmodel import Session, col, select

from frontdesk.core import demo_corpus as corpus
from frontdesk.core.clock import as_utc

# X mentions dominate real care queues; email is the slower minority.
_MIX: tuple[tuple[str, str, int], ...] = (
    ("x", "public", 38),
    ("x", "private", 10),
    ("facebook", "public", 20),
    ("facebook", "private", 14),
    ("email", "private", 18),
)
_TWITTER_EPOCH_MS = 1_288_834_974_657
_RETURNING = 0.07  # customers who come back, so "first contact" history means something
_THREADED = 0.28  # conversations where the customer adds follow-ups before anyone answers
_HOSTILE_EVERY = 60  # one hostile conversation per this many keeps them under 2%
_SLACK = timedelta(seconds=30)  # nothing lands closer to `now` than this


@dataclass(frozen=True, slots=True)
class _Person:
    channel: str
    id: str
    handle: str
    name: str
    followers: int | None = None
    utc_offset: int = 0

    def author(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "handle": self.handle, "name": self.name}
        if self.followers is not None:
            out["followers"] = self.followers
        return out


@dataclass
class _Feed:
    rng: random.Random
    now: datetime
    out: list[dict[str, Any]] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    seq: int = 0

    def unique(self, make: Callable[[], str]) -> str:
        value = make()
        while value in self.ids:
            value = make()
        self.ids.add(value)
        return value

    def person(self, channel: str) -> _Person:
        r = self.rng
        first, last = r.choice(corpus.FIRST_NAMES), r.choice(corpus.LAST_NAMES)
        name = f"{first} {last}"
        plain = _ascii(first + last)
        if channel == "email":
            host = r.choice(corpus.MAIL_HOSTS)
            addr = self.unique(lambda: f"{plain[: r.randint(4, 9)]}{r.randint(1, 99)}@{host}")
            return _Person(channel, addr, addr, name, utc_offset=r.choice(corpus.MAIL_OFFSETS))
        if channel == "facebook":
            # Facebook exposes no handle or follower count for ordinary users.
            return _Person(channel, self.unique(lambda: str(r.randrange(10**14, 10**15))), "", name)
        uid = self.unique(lambda: str(r.randrange(10**8, 2 * 10**18)))
        if r.random() < 0.03:
            handle, name = r.choice(corpus.INFLUENCERS)
            if handle not in self.ids:
                self.ids.add(handle)
                return _Person(channel, uid, handle, name, r.randint(50_000, 1_200_000))
        handle = self.unique(lambda: _x_handle(r, first, last))
        return _Person(channel, uid, handle, name, int(r.lognormvariate(5.0, 1.6)))

    def start(self, topic: str) -> datetime:
        """When a conversation opens: mostly the last two hours, so SLAs are in every state."""
        r = self.rng
        if topic == "outage":  # an outage arrives as a burst, which is what the team sees
            minutes = r.uniform(18, 55)
        elif (roll := r.random()) < 0.75:
            minutes = r.uniform(1, 120)
        else:
            minutes = r.uniform(120, 1440) if roll < 0.93 else r.uniform(1440, 4320)
        return self.at(timedelta(minutes=minutes))

    def at(self, ago: timedelta) -> datetime:
        return (self.now - max(ago, _SLACK)).replace(microsecond=0)

    def times(self, start: datetime, count: int) -> list[datetime]:
        times = [start]
        for _ in range(count - 1):
            nxt = times[-1] + timedelta(minutes=self.rng.uniform(2, 50))
            if nxt > self.now - _SLACK:
                break
            times.append(nxt.replace(microsecond=0))
        return times

    def slots(self, person: _Person) -> dict[str, Any]:
        r = self.rng
        return {
            "brand": corpus.BRAND,
            # Only on X is the brand addressed by its handle.
            "brand_x": corpus.BRAND_X if person.channel == "x" else "Northwind",
            "first": person.name.split()[0],
            "product": r.choice(corpus.PRODUCTS),
            "garment": r.choice(corpus.GARMENTS),
            "order": f"NW-{r.randint(100_000, 999_999)}",
            "staff": r.choice(corpus.STAFF),
            "city": r.choice(corpus.CITIES),
            "country": r.choice(corpus.COUNTRIES),
            "competitor": r.choice(corpus.COMPETITORS),
            "carrier": r.choice(corpus.CARRIERS),
            "colour": r.choice(corpus.COLOURS),
            "size": r.choice(corpus.SIZES),
            "qty": r.choice(corpus.QUANTITIES),
            "price": f"{r.randint(25, 420)}.{r.choice(('00', '95', '99'))}",
            "days": r.randint(3, 16),
            "months": r.randint(3, 9),
            "times": r.randint(4, 12),
            "hour": r.randint(1, 8),
        }

    def texts(
        self, person: _Person, visibility: str, key: str, slots: dict[str, Any], count: int
    ) -> list[str]:
        r = self.rng
        topic = corpus.TOPICS[key]
        opening = r.choice(topic.lines).format(**slots)
        public, email = visibility == "public", person.channel == "email"
        pool = list(topic.follow_ups)
        # Nobody chases a thank-you, and nags stay in the customer's own language.
        if topic.kind != "praise" and topic.lang == "en":
            nags = corpus.EMAIL_NAGS if email else corpus.NAGS
            pool += nags + (corpus.PUBLIC_NAGS if public else ())
        follow = [t.format(**slots) for t in r.sample(pool, min(count - 1, len(pool)))]
        if email:
            subject = topic.subject.format(**slots)
            first = slots["first"]
            return [
                _email(r, subject, opening, topic, slots),
                *(f"Re: {subject}\n\n{t}\n\n{first}" for t in follow),
            ]
        if topic.lang == "en" and r.random() < 0.15:
            opening = f"{opening} {r.choice(corpus.EMOJI)}"
        texts = [opening, *follow]
        if person.channel == "x" and public:
            texts = [t if corpus.BRAND_X in t else f"{corpus.BRAND_X} {t}" for t in texts]
        return texts

    def emit(
        self, person: _Person, visibility: str, texts: list[str], times: list[datetime]
    ) -> None:
        """Append one conversation, threaded the way its platform threads it."""
        r, channel = self.rng, person.channel
        zone = timezone(timedelta(hours=person.utc_offset))
        thread: str | None = None  # email threads take their first Message-ID below
        if channel != "email" and visibility == "private":
            thread = f"{corpus.BRAND_X_ID}-{person.id}" if channel == "x" else f"t_{person.id}"
        post = r.choice(corpus.FB_POSTS)
        root: str | None = None
        parent: str | None = None
        for text, at in zip(texts, times, strict=False):
            self.seq += 1
            msg: dict[str, Any] = {"channel": channel, "visibility": visibility}
            if channel == "x":
                ms = int(at.timestamp() * 1000) - _TWITTER_EPOCH_MS
                ext = str((ms << 22) | (self.seq % (1 << 22)))  # snowflake-shaped, unique
                if visibility == "public":
                    msg["in_reply_to"] = parent
                    msg["url"] = f"https://x.com/{person.handle.lstrip('@')}/status/{ext}"
            elif channel == "facebook" and visibility == "public":
                ext = f"{post}_{r.randrange(10**6, 10**7)}{self.seq:05d}"
                # Facebook nests replies one level: every follow-up answers the first comment.
                msg["in_reply_to"] = root or post
                msg["url"] = (
                    f"https://www.facebook.com/{corpus.FB_PAGE}/posts/{post}?comment_id={ext}"
                )
            elif channel == "facebook":
                ext = "m_" + "".join(r.choices(string.ascii_letters + string.digits, k=22))
            else:
                ext = f"<{r.getrandbits(48):012x}.{self.seq}@{person.id.split('@')[1]}>"
                thread = thread or ext
                msg["in_reply_to"] = parent
            msg.update(
                external_id=ext,
                text=text,
                created_at=at.astimezone(zone).isoformat(),
                author=person.author(),
            )
            if thread is not None:
                msg["thread_id"] = thread
            self.out.append({k: v for k, v in msg.items() if v is not None})
            root, parent = root or ext, ext

    def conversation(
        self,
        person: _Person,
        visibility: str,
        key: str,
        start: datetime | None = None,
        slots: dict[str, Any] | None = None,
    ) -> None:
        slots = slots or self.slots(person)
        count = self.rng.randint(2, 4) if self.rng.random() < _THREADED else 1
        times = self.times(start or self.start(key), count)
        self.emit(person, visibility, self.texts(person, visibility, key, slots, len(times)), times)


def _ascii(name: str) -> str:
    """A name as handles and addresses spell it: García → garcia, Bjørn → bjorn."""
    folded = unicodedata.normalize("NFKD", name.lower().replace("ø", "o"))
    return "".join(ch for ch in folded if ch in string.ascii_lowercase)


def _x_handle(r: random.Random, first: str, last: str) -> str:
    f, l_ = _ascii(first) or "user", _ascii(last) or "x"
    style = r.randrange(4)
    if style == 0:
        return f"@{f}{l_[0]}{r.randint(1, 999)}"
    if style == 1:
        return f"@{f}_{l_}"[:16]
    if style == 2:
        return f"@{f}{r.choice(corpus.HANDLE_WORDS)}"
    return f"@{l_}{f[:3]}{r.randint(70, 99)}"


def _email(
    r: random.Random, subject: str, opening: str, topic: corpus.Topic, slots: dict[str, Any]
) -> str:
    if topic.lang != "en":
        return f"{subject}\n\n{opening}\n\n{slots['first']}"
    details = r.sample(topic.details, min(len(topic.details), r.randint(1, 2)))
    body = " ".join([opening, *(d.format(**slots) for d in details)])
    order = f"\n\nOrder number: {slots['order']}" if "{order}" in topic.subject else ""
    return (
        f"{subject}\n\n{r.choice(corpus.GREETINGS)}\n\n{body}{order}\n\n"
        f"{r.choice(corpus.SIGNOFFS)}\n{slots['first']}"
    )


def _visibility(r: random.Random, channel: str) -> str:
    options = [(v, w) for c, v, w in _MIX if c == channel]
    return r.choices([v for v, _ in options], [w for _, w in options])[0]


def _pick(r: random.Random, keys: list[str]) -> str:
    return r.choices(keys, [corpus.TOPICS[k].weight for k in keys])[0]


def _returning(feed: _Feed, person: _Person, earlier: int) -> None:
    """A customer with conversations over past weeks and one today, sharing order details.

    Some come back exaggerating ("months!") while their first contact was only weeks ago,
    which is what the operator's customer history is there to show.
    """
    r = feed.rng
    english = [k for k, t in corpus.TOPICS.items() if t.weight and t.lang == "en"]
    complaints = [k for k in english if corpus.TOPICS[k].kind == "complaint"]
    exaggerating = r.random() < 0.4
    slots = feed.slots(person)
    # Earlier ones stay public so each author's single DM thread is not shared.
    visibility = "private" if person.channel == "email" else "public"
    # Few go back weeks: nothing can mark them resolved, so each tops the queue as overdue.
    ago = [r.uniform(7, 28) if r.random() < 0.4 else r.uniform(1, 3) for _ in range(earlier)]
    for days in sorted(ago, reverse=True):
        key = r.choice(complaints) if exaggerating else _pick(r, english)
        start = feed.at(timedelta(days=days))
        feed.conversation(person, visibility, key, start=start, slots=slots)
    last = "exaggerated" if exaggerating else _pick(r, english)
    feed.conversation(person, _visibility(r, person.channel), last, slots=slots)


def demo_messages(conversations: int, *, now: datetime, seed: int = 7) -> list[dict[str, Any]]:
    """About `conversations` conversations of inbound messages, oldest first, none after `now`."""
    rng = random.Random(seed)
    feed = _Feed(rng, as_utc(now))
    keys = [k for k, t in corpus.TOPICS.items() if t.weight]
    hostile_left = max(conversations, 0) // _HOSTILE_EVERY
    made = 0
    while made < conversations:
        channel, visibility, _ = rng.choices(_MIX, [w for *_, w in _MIX])[0]
        person = feed.person(channel)
        left = conversations - made
        if hostile_left and rng.random() < hostile_left / left:
            text = rng.choice(corpus.HOSTILE)
            if channel == "x" and visibility == "public":
                text = f"{corpus.BRAND_X} {text}"
            feed.emit(person, visibility, [text], [feed.start("hostile")])
            hostile_left, made = hostile_left - 1, made + 1
        elif left - hostile_left >= 2 and rng.random() < _RETURNING:
            earlier = min(rng.choices((1, 2, 3), (10, 7, 3))[0], left - hostile_left - 1)
            _returning(feed, person, earlier)
            made += earlier + 1
        else:
            feed.conversation(person, visibility, _pick(rng, keys))
            made += 1
    # Feed order: a reply always follows the post it answers, as ingest needs.
    return sorted(feed.out, key=lambda m: datetime.fromisoformat(m["created_at"]))


def arriving(rng: random.Random, *, now: datetime) -> list[dict[str, Any]]:
    """One new conversation's opening message, sent just now (the live simulator's unit)."""
    # A random sequence start keeps X ids apart for arrivals within the same second.
    feed = _Feed(rng, as_utc(now), seq=rng.randrange(1 << 21))
    channel, visibility, _ = rng.choices(_MIX, [w for *_, w in _MIX])[0]
    person = feed.person(channel)
    key = _pick(rng, [k for k, t in corpus.TOPICS.items() if t.weight])
    stamp = feed.now.replace(microsecond=0)
    slots = feed.slots(person)
    feed.emit(person, visibility, feed.texts(person, visibility, key, slots, 1), [stamp])
    return feed.out


def settle_history(session: Session, *, now: datetime, older_than: timedelta) -> int:
    """Resolve demo conversations that went quiet long ago, as the team would have.

    Returning customers' earlier conversations stay in the database (so the thread header's
    history is real) but leave the live queue. Returns how many were resolved.
    """
    from frontdesk.core import claims
    from frontdesk.core.models import Conversation

    cutoff = now - older_than
    stale = session.exec(
        select(Conversation.id).where(
            col(Conversation.last_inbound_at) < cutoff,
            col(Conversation.status).in_(("new", "open")),
        )
    ).all()
    for conversation_id in stale:
        if conversation_id is not None:
            claims.resolve(session, conversation_id=conversation_id, operator="demo-team", now=now)
    return len(stale)
