"""The gatekeeper's synonym table: what customers write, mapped to the words articles use."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# A problem here is reported like a broken article's (path, line, reason), so the lint, the
# CLI and the workstation list it with no extra code.
from frontdesk.kb.article import ArticleError
from frontdesk.kb.query import STOPWORDS, stem, words

# One file at the root of the knowledge-base folder. The leading underscore sorts it first
# in a listing and keeps it apart from the articles, which are all Markdown.
SYNONYMS_FILE = "_synonyms.toml"
_SECTION = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*=""")
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")
_TOML_END = re.compile(r"\(at end of document\)")

Phrase = tuple[str, ...]  # the stems of a phrase's words, in order


@dataclass(frozen=True, slots=True)
class Match:
    """One customer phrasing found in a query: words `start` to `end` (exclusive) of the
    query's word sequence stand for the article words `target` (stopwords dropped)."""

    start: int
    end: int
    target: Phrase


@dataclass(frozen=True, slots=True)
class Synonyms:
    """Customer phrasing (stems of every word, stopwords kept, so "too small" is not
    "small") -> the article phrasings it stands for (stems, stopwords dropped, as indexed)."""

    rules: Mapping[Phrase, tuple[Phrase, ...]] = field(default_factory=dict)
    digest: str = ""
    longest: int = 0  # words in the longest phrasing: how far a match can reach

    def __len__(self) -> int:
        return len(self.rules)

    def matches(self, stems: Sequence[str]) -> list[Match]:
        """Every phrasing of the table that occurs in `stems` (the stems of a query's words,
        stopwords kept, in order). Overlapping and nested phrasings all count: "money back"
        and "money" can both say something."""
        found: list[Match] = []
        for start in range(len(stems)):
            for end in range(start + 1, min(len(stems), start + self.longest) + 1):
                for target in self.rules.get(tuple(stems[start:end]), ()):
                    found.append(Match(start, end, target))
        return found


def phrase_of(text: str) -> Phrase:
    """The stems search looks up for `text` (stopwords dropped, as indexed)."""
    return tuple(stem(w) for w in words(text))


def load_synonyms(path: Path, rel: str = SYNONYMS_FILE) -> Synonyms:
    """Read and check a synonym file.

    Raises:
        ArticleError: unreadable, not UTF-8, broken TOML, or an entry of the wrong shape;
            the message names the file and line.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ArticleError(rel, 0, f"cannot read: {exc.strerror}") from exc
    return parse_synonyms(raw, rel)


def parse_synonyms(raw: bytes, rel: str = SYNONYMS_FILE) -> Synonyms:
    """Parse a synonym file's bytes; see docs/kb-format.md for the format."""
    try:
        source = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = 1 + raw[: exc.start].count(b"\n")
        raise ArticleError(rel, line, f"not UTF-8 (byte {exc.start})") from None
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        # tomllib says where in its message: "... (at line 3, column 9)".
        message = str(exc)
        at = _TOML_LINE.search(message)
        line = int(at.group(1)) if at else 1
        if _TOML_END.search(message):
            line = source.count("\n") + 1
        reason = _TOML_END.sub("", _TOML_LINE.sub("", message)).strip()
        raise ArticleError(rel, line, f"broken TOML: {reason}") from None
    lines = _key_lines(source)
    text_lines = source.splitlines()
    rules: dict[Phrase, list[Phrase]] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            # A table only groups entries for the reader ([orders], [returns], ...).
            for inner, phrasings in value.items():
                line = lines.get((key, inner)) or lines.get((f"{key}.{inner}", "")) or 1
                _add(rules, inner, phrasings, rel, line, text_lines)
        else:
            _add(rules, key, value, rel, lines.get(("", key), 1), text_lines)
    frozen = {alias: tuple(targets) for alias, targets in rules.items()}
    longest = max((len(alias) for alias in frozen), default=0)
    return Synonyms(frozen, hashlib.sha256(raw).hexdigest(), longest)


def _add(
    rules: dict[Phrase, list[Phrase]],
    key: str,
    value: Any,
    rel: str,
    line: int,
    text_lines: list[str],
) -> None:
    """Check one entry (its key on `line`) and file each customer phrasing under the
    article phrasing `key`."""
    if isinstance(value, dict):
        raise ArticleError(rel, line, f"{key!r}: tables group entries only one level deep")
    phrasings = [value] if isinstance(value, str) else value
    if not isinstance(phrasings, list) or not all(isinstance(p, str) for p in phrasings):
        raise ArticleError(rel, line, f"{key!r}: expected a list of words or phrases")
    target = phrase_of(key)
    if not target:
        raise ArticleError(rel, line, f"{key!r}: no searchable words (only stopwords?)")
    for phrasing in phrasings:
        spoken = words(phrasing, keep_stopwords=True)
        if not spoken:
            where = _value_line(text_lines, line, phrasing)
            raise ArticleError(rel, where, f"{phrasing!r}: no words (one-letter words don't count)")
        if len(spoken) == 1 and spoken[0] in STOPWORDS:
            # A lone "us" or "get" would fire on nearly every message; a phrase of several
            # common words ("can't get in") is specific enough.
            where = _value_line(text_lines, line, phrasing)
            raise ArticleError(rel, where, f"{phrasing!r}: too common a word to match on its own")
        alias = tuple(stem(w) for w in spoken)
        if alias != target and target not in rules.setdefault(alias, []):
            rules[alias].append(target)


def _key_lines(source: str) -> dict[tuple[str, str], int]:
    """(table, key) -> the line the key is defined on, for errors TOML itself does not see;
    a table's own line is filed under (table, "")."""
    lines: dict[tuple[str, str], int] = {}
    table = ""
    for number, text in enumerate(source.splitlines(), start=1):
        section = _SECTION.match(text)
        if section:
            table = _unquote(section.group(1))
            lines.setdefault((table, ""), number)
            continue
        key = _KEY.match(text)
        if key:
            lines.setdefault((table, _unquote(key.group(1))), number)
    return lines


def _value_line(text_lines: list[str], line: int, phrasing: str) -> int:
    """The line of `phrasing` in the list that starts on `line`, which may span lines."""
    quoted = (f'"{phrasing}"', f"'{phrasing}'")
    for number in range(line, min(len(text_lines), line + 200) + 1):
        if any(q in text_lines[number - 1] for q in quoted):
            return number
    return line


def _unquote(key: str) -> str:
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "\"'":
        inner = key[1:-1]
        return inner if key[0] == "'" else inner.replace('\\"', '"').replace("\\\\", "\\")
    return key
