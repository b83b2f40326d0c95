"""Facts as columns (numpy arrays), their groups, and the Figures of any selection of rows."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from frontdesk.core.db import DriverStatement
from frontdesk.core.metrics_model import NONE_KEY, Figures, Scores, Timing
from frontdesk.core.metrics_time import summarise

PRAISE = "praise"
COMPLAINT = "complaint"
VERDICTS = ("requested", "approved", "rejected")
_CHUNK = 500
# Past this many conversations one scan of the table beats lookups by id.
_SCAN_ALL = 5000
_COLUMNS = "SELECT id, channel, team, category, {tags} FROM conversation"
_BY_ID = {
    tags: text(_COLUMNS.format(tags=tags) + " WHERE id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    for tags in ("tags", "NULL")
}
_ALL = {tags: DriverStatement(_COLUMNS.format(tags=tags)) for tags in ("tags", "NULL")}


@dataclass(frozen=True, slots=True)
class Attributes:
    """What the metrics need of a conversation row (its values now, not when it started)."""

    channel: str
    team: str | None
    category: str | None
    tags: tuple[str, ...]


def attributes(session: Session, ids: Collection[int], *, tags: bool) -> dict[int, Attributes]:
    """The attributes of the conversations `ids` (tags only if asked; missing ids absent)."""
    conn = session.connection()
    column = "tags" if tags else "NULL"
    if not ids:
        return {}
    if len(ids) > _SCAN_ALL:
        rows: list[Any] = _ALL[column].run(conn, {}).fetchall()
    else:
        ordered = sorted(ids)
        rows = []
        for i in range(0, len(ordered), _CHUNK):
            rows += conn.execute(_BY_ID[column], {"ids": ordered[i : i + _CHUNK]}).all()
    return {int(r[0]): Attributes(r[1], r[2], r[3], _tags(r[4])) for r in rows}


@lru_cache(maxsize=4096)
def _parse_tags(value: str) -> tuple[str, ...]:
    return _tags(json.loads(value))


def _tags(value: Any) -> tuple[str, ...]:
    """A tags column as a tuple: SQLite hands JSON back as text (few distinct ones, so cached),
    psycopg as a list."""
    if isinstance(value, str):
        return _parse_tags(value)
    return tuple(str(t) for t in value) if isinstance(value, list) else ()


def keys_of(attrs: Attributes | None, by: str) -> tuple[str, ...]:
    """The groups a conversation counts in (several for several tags)."""
    if attrs is None:
        return (NONE_KEY,)
    if by == "channel":
        return (attrs.channel,)
    if by == "team":
        return (attrs.team or NONE_KEY,)
    if by == "category":
        return (attrs.category or NONE_KEY,)
    return attrs.tags or (NONE_KEY,)


@dataclass
class Column:
    """One kind of fact: a row per fact, its conversation, its operator and its values."""

    cids: Sequence[int]
    operators: Sequence[str | None]
    values: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.cids)

    def at(self, rows: np.ndarray | None, name: str) -> np.ndarray:
        values = self.values[name]
        return values if rows is None else values[rows]


Selection = dict[str, np.ndarray | None]
"""Rows of each column by name; None: all of them."""


def group(
    columns: dict[str, Column], by: str, attrs: dict[int, Attributes]
) -> dict[str, Selection]:
    """Each group's rows of every column: by the fact's operator, or its conversation's keys."""
    if by == "tag":  # a conversation may count in several groups
        return _by_tags(columns, attrs)
    names: dict[str, int] = {NONE_KEY: 0}
    lookup = ConversationCodes(attrs, lambda a: keys_of(a, by)[0], names)
    found: dict[str, dict[str, np.ndarray]] = defaultdict(dict)
    for name, column in columns.items():
        if by == "operator":
            codes = np.array(
                [names.setdefault(o or NONE_KEY, len(names)) for o in column.operators],
                dtype=np.int64,
            )
        else:
            codes = lookup.codes(column.cids)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
        for key, code in names.items():
            if bounds[code + 1] > bounds[code]:
                found[key][name] = order[bounds[code] : bounds[code + 1]]
    return {key: _complete(columns, rows) for key, rows in found.items()}


def _complete(columns: dict[str, Column], rows: dict[str, np.ndarray]) -> Selection:
    empty = np.zeros(0, dtype=np.int64)
    return {name: rows.get(name, empty) for name in columns}


def _by_tags(columns: dict[str, Column], attrs: dict[int, Attributes]) -> dict[str, Selection]:
    rows: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    cache: dict[int, tuple[str, ...]] = {}
    for name, column in columns.items():
        for i, cid in enumerate(column.cids):
            keys = cache.get(cid)
            if keys is None:
                keys = cache[cid] = keys_of(attrs.get(cid), "tag")
            for key in keys:
                rows[key][name].append(i)
    return {
        key: _complete(columns, {n: np.array(r, dtype=np.int64) for n, r in found.items()})
        for key, found in rows.items()
    }


class ConversationCodes:
    """A small integer per conversation (its group, its calendar), looked up for many at once.

    `names` maps each label to its code and grows as labels are met; code 0 is for
    conversations without attributes.
    """

    def __init__(
        self,
        attrs: dict[int, Attributes],
        label: Callable[[Attributes], str],
        names: dict[str, int],
    ) -> None:
        ids = sorted(attrs)
        self._ids = np.array(ids, dtype=np.int64)
        codes = [names.setdefault(label(attrs[i]), len(names)) for i in ids]
        self._codes = np.array([*codes, 0], dtype=np.int64)  # the last: not found

    def codes(self, cids: Sequence[int] | np.ndarray) -> np.ndarray:
        wanted = np.asarray(cids, dtype=np.int64)
        if not len(self._ids):
            return np.zeros(len(wanted), dtype=np.int64)
        at = np.minimum(np.searchsorted(self._ids, wanted), len(self._ids) - 1)
        return self._codes[np.where(self._ids[at] == wanted, at, -1)]


def figures(columns: dict[str, Column], rows: Selection) -> Figures:
    """The figures of the selected rows of every column (see core/metrics.py)."""

    def n(name: str) -> int:
        chosen = rows.get(name)
        return len(columns[name]) if chosen is None else len(chosen)

    def get(name: str, value: str) -> np.ndarray:
        return columns[name].at(rows.get(name), value)

    praise, answered = get("topics", "praise"), get("topics", "answered")
    first, met = get("responses", "first"), get("responses", "met")
    wall, business = get("responses", "wall"), get("responses", "business")
    timed = get("resolutions", "timed")
    verdicts = np.bincount(get("signoffs", "verdict"), minlength=len(VERDICTS))
    survey, score = get("surveys", "nps"), get("surveys", "score")
    return Figures(
        conversations=n("created"),
        messages_in=int(get("received", "count").sum()),
        replies=n("replies"),
        handled=len(np.unique(get("replies", "cid"))),
        first_response=_timing(wall[first], business[first]),
        next_response=_timing(wall[~first], business[~first]),
        sla_met=int(met.sum()),
        sla_breached=n("breaches"),
        resolved=n("resolutions"),
        resolved_in_channel=int((~get("resolutions", "referred")).sum()),
        resolution=_timing(
            get("resolutions", "wall")[timed], get("resolutions", "business")[timed]
        ),
        referred=n("referrals"),
        signoffs_requested=int(verdicts[0]),
        signoffs_approved=int(verdicts[1]),
        signoffs_rejected=int(verdicts[2]),
        praise=int(praise.sum()),
        praise_answered=int((praise & answered).sum()),
        complaints=int((~praise).sum()),
        complaints_answered=int((~praise & answered).sum()),
        csat=scores("csat", score[~survey]),
        nps=scores("nps", score[survey]),
    )


def _timing(wall: np.ndarray, business: np.ndarray) -> Timing:
    return Timing(len(wall), summarise(wall), summarise(business))


def scores(survey: str, values: np.ndarray) -> Scores:
    """Count, mean and distribution of survey answers; NPS for the 0-10 survey."""
    scale = range(1, 6) if survey == "csat" else range(11)
    counts = np.bincount(values.astype(np.int64), minlength=scale.stop)
    distribution = {score: int(counts[score]) for score in scale}
    count = len(values)
    average = int(values.sum()) / count if count else None
    nps = None
    if survey == "nps" and count:
        promoters = distribution[9] + distribution[10]
        detractors = sum(distribution[s] for s in range(7))
        nps = 100 * (promoters - detractors) / count
    return Scores(survey, count, average, distribution, nps)
