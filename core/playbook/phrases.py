"""Finding whole words and phrases of a list in text, case-insensitively and fast."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_WILDCARD = "*"
_WORD_START = re.compile(r"\w")
_WORD_END = re.compile(r"\w\Z")


@dataclass(frozen=True, slots=True)
class PhraseHit:
    """One phrase found: where, and which entry of the list it was."""

    start: int
    end: int
    phrase: str


def fold(text: str) -> str:
    """`text` in lower case with straight apostrophes and every character in its place, so
    spans found in the result fit the original. Only U+0130 lowers to two characters; it
    becomes a plain `i`."""
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = "".join(char.lower()[0] for char in text)
    # Curly apostrophes read as straight ones; `replace` is far faster than `translate`.
    return lowered.replace("\u2019", "'").replace("\u2018", "'")


def normalise(phrase: str) -> str:
    """The form phrases are compared in: folded, with single spaces."""
    return " ".join(fold(phrase).split())


def _pattern(key: str) -> re.Pattern[str]:
    """A normalised phrase as a regex that starts with its literal first word, so `re` finds
    candidates at C speed (as `str.find` would), with the word boundary checked by a
    lookbehind after that word: any run of white space between words, a trailing `*` for
    any word ending, and a boundary after a final word character."""
    stem = key.removesuffix(_WILDCARD)
    words = [re.escape(word) for word in stem.split(" ")]
    body = words[0]
    if _WORD_START.match(stem):
        body += rf"(?<!\w{words[0]})"
    body += "".join(rf"\s+{word}" for word in words[1:])
    if key.endswith(_WILDCARD):
        body += r"\w*"
    if key.endswith(_WILDCARD) or _WORD_END.search(stem):
        body += r"(?!\w)"
    return re.compile(body)


class PhraseMatcher:
    """Every listed phrase that occurs in a text, as whole words, case-insensitively;
    `refund*` matches any word starting with `refund`.

    Each entry is its own small regex that begins with literal text. For the short lists of
    the playbook (tens of entries) that is several times faster than one alternation, which
    `re` tries at every position of the text. Hits do not overlap: the leftmost wins, then
    the longest, so of "not our fault" and "our fault" only the first is reported.
    """

    def __init__(self, phrases: Iterable[str]) -> None:
        entries: dict[str, str] = {}
        for phrase in phrases:
            key = normalise(phrase)
            if key.removesuffix(_WILDCARD):
                entries.setdefault(key, phrase)
        self._entries = [(_pattern(key), phrase, key) for key, phrase in entries.items()]

    def __bool__(self) -> bool:
        return bool(self._entries)

    def finditer(self, text: str, folded: str | None = None) -> Iterator[PhraseHit]:
        """The phrases in `text`, left to right; pass `fold(text)` if it is at hand."""
        if folded is None:
            folded = fold(text)
        found = [
            (match.start(), -match.end(), phrase)
            for pattern, phrase, _ in self._entries
            for match in pattern.finditer(folded)
        ]
        found.sort()
        reached = 0
        for start, negative_end, phrase in found:
            if start >= reached:
                reached = -negative_end
                yield PhraseHit(start, reached, phrase)

    def present(self, text: str, folded: str | None = None) -> set[str]:
        """The normalised entries that occur anywhere in `text`, overlaps included: for
        rules that each ask "does my word occur?" ("not our fault" and "our fault" both do
        in "not our fault")."""
        if folded is None:
            folded = fold(text)
        return {key for pattern, _, key in self._entries if pattern.search(folded)}

    def search(self, text: str, folded: str | None = None) -> PhraseHit | None:
        """The first phrase in `text`, or None."""
        return next(self.finditer(text, folded), None)
