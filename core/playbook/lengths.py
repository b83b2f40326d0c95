"""Reply lengths as X counts them, and where a reply passes a channel's limit."""

from __future__ import annotations

import re

from frontdesk.kb.lint import URL_RE, X_URL_LENGTH

# Characters X counts once; everything else (CJK, emoji) counts twice. kb.lint.x_length
# has the same rule as a Python loop; this is the same count at C speed.
_X_HEAVY = re.compile("[^\u0000-\u10ff\u2000-\u200d\u2010-\u201f\u2032-\u2037]")


def x_length(text: str) -> int:
    """Length as X counts it: every link as 23, CJK and emoji as two."""
    total = len(text) + len(_X_HEAVY.findall(text))
    for match in URL_RE.finditer(text):
        url = match.group()
        total += X_URL_LENGTH - len(url) - len(_X_HEAVY.findall(url))
    return total


def x_cut(text: str, limit: int) -> int:
    """Where the text passes `limit` as X counts it: the offset of the character (or the
    start of the link) that goes over; len(text) when it never does."""
    links = [m.span() for m in URL_RE.finditer(text)]
    # The count never shrinks as a prefix grows, and every character outside a link counts
    # at least once, so the crossing lies within the first limit + 1 + (link lengths).
    low, high = 0, min(len(text), limit + 1 + sum(end - start for start, end in links))
    if x_length(text[:high]) <= limit:
        return len(text)
    while low < high:  # the shortest prefix that is over the limit
        middle = (low + high) // 2
        if x_length(text[:middle]) > limit:
            high = middle
        else:
            low = middle + 1
    cut = low - 1
    for start, end in links:
        if start <= cut < end:
            return start
    return cut


def length_on(channel: str, text: str) -> int:
    """A reply's length as its channel counts it."""
    return x_length(text) if channel == "x" else len(text)


def cut_on(channel: str, text: str, limit: int) -> int:
    """Where a reply passes `limit` as its channel counts it (len(text) if it never does)."""
    return x_cut(text, limit) if channel == "x" else min(limit, len(text))
