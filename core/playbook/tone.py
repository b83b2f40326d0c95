"""The tone and safety check before every send: deterministic, each finding with span and fix."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from frontdesk.core.playbook.base import Severity
from frontdesk.core.playbook.lengths import cut_on, length_on
from frontdesk.core.playbook.personal_data import BUILT_IN, Spans, pattern_detector
from frontdesk.core.playbook.phrases import PhraseMatcher, fold, normalise
from frontdesk.core.playbook.tone_config import BannedPhrase, ToneConfig
from frontdesk.core.playbook.tone_patterns import (
    CAPS_RUN,
    CAPS_WORDS,
    EMOJI,
    EMOTICON,
    NAME_WORD,
    PLACEHOLDER,
)
from frontdesk.kb.lint import URL_RE


@dataclass(frozen=True, slots=True)
class ReplyContext:
    """What the check knows about the reply: where it goes and to whom."""

    channel: str
    visibility: str = "public"
    customer_name: str = ""
    customer_handle: str = ""
    values: Mapping[str, str] = field(default_factory=dict)
    """Placeholder values known for this conversation, to suggest as fixes."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: the rule, warn or block, the span `[start, end)` of the text it is about
    (empty at 0 for something missing), what is wrong and how to fix it."""

    rule: str
    severity: Severity
    start: int
    end: int
    message: str
    fix: str

    @property
    def blocks(self) -> bool:
        return self.severity == "block"

    def as_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "span": [self.start, self.end],
            "message": self.message,
            "fix": self.fix,
        }

    def __str__(self) -> str:
        return f"{self.severity} {self.rule} [{self.start}:{self.end}]: {self.message} ({self.fix})"


class ToneChecker:
    """The tone rules compiled once; `check` makes a few regex passes over the text."""

    def __init__(self, config: ToneConfig) -> None:
        self.config = config
        self.severity = config.rules
        self._level: dict[str, Severity] = {
            rule: level for rule, level in config.rules.items() if level != "off"
        }
        self._banned: dict[str, BannedPhrase] = {}
        for entry in config.banned:  # the first of two equal phrases counts, as in the matcher
            self._banned.setdefault(normalise(entry.phrase), entry)
        self._banned_words = PhraseMatcher(b.phrase for b in config.banned)
        self._profanity = PhraseMatcher(config.profanity)
        self._acronyms = frozenset(config.acronyms)
        self._personal = _detectors(config)
        self._allowance = config.emoji_allowance()

    def check(self, text: str, context: ReplyContext) -> list[Finding]:
        """Every finding for `text`, ordered by position then rule."""
        folded = fold(text)
        findings: list[Finding] = []
        for rule, produce in (
            ("banned-phrase", self._banned_phrases),
            ("profanity", self._profane),
            ("customer-name", self._name),
            ("length", self._length),
            ("placeholder", self._placeholders),
            ("personal-data", self._personal_data),
            ("shouting", self._shouting),
            ("emoji", self._emoji),
        ):
            if rule in self._level:
                findings.extend(produce(text, folded, context))
        findings.sort(key=lambda f: (f.start, f.end, f.rule))
        return findings

    def _finding(
        self, rule: str, start: int, end: int, message: str, fix: str, level: Severity | None = None
    ) -> Finding:
        return Finding(rule, level or self._level[rule], start, end, message, fix)

    def _banned_phrases(self, text: str, folded: str, context: ReplyContext) -> Iterator[Finding]:
        for hit in self._banned_words.finditer(text, folded):
            entry = self._banned[normalise(hit.phrase)]
            if entry.severity == "off":
                continue
            said = text[hit.start : hit.end]
            yield self._finding(
                "banned-phrase",
                hit.start,
                hit.end,
                f'"{said}" is not in the brand\'s voice',
                entry.instead or f'rephrase without "{said}"',
                entry.severity,
            )

    def _profane(self, text: str, folded: str, context: ReplyContext) -> Iterator[Finding]:
        for hit in self._profanity.finditer(text, folded):
            yield self._finding(
                "profanity", hit.start, hit.end, "profanity", "remove or replace the word"
            )

    def _name(self, text: str, folded: str, context: ReplyContext) -> Iterator[Finding]:
        first = NAME_WORD.search(context.customer_name.removeprefix("@"))
        if first is None:
            return
        wanted = [first.group()]
        if context.customer_handle:
            wanted.append("@" + context.customer_handle.removeprefix("@"))
        if any(_contains_word(folded, fold(word)) for word in wanted):
            return
        yield self._finding(
            "customer-name",
            0,
            0,
            f"the reply does not address {first.group()} by name",
            f'start with "Hi {first.group()},"',
        )

    def _length(self, text: str, folded: str, context: ReplyContext) -> Iterator[Finding]:
        limit = self.config.lengths.get(context.channel, 0)
        length = length_on(context.channel, text) if limit else 0
        if length <= limit:
            return
        counted = " as X counts it" if context.channel == "x" else ""
        yield self._finding(
            "length",
            cut_on(context.channel, text, limit),
            len(text),
            f"{length:,} characters{counted}; the limit is {limit:,}",
            f"cut {length - limit:,} characters or move the conversation to a private message",
        )

    def _placeholders(self, text: str, folded: str, context: ReplyContext) -> Iterator[Finding]:
        if "{" not in text and "[" not in text and "<" not in text:
            return
        for match in PLACEHOLDER.finditer(text):
            name = match.group().strip("{}[]<> ").lower()
            value = context.values.get(name)
            fix = f'replace it with "{value}"' if value else "fill it in or remove it"
            yield self._finding(
                "placeholder", match.start(), match.end(), f"unfilled {match.group()}", fix
            )

    def _personal_data(self, text: str, folded: str, context: ReplyContext) -> Iterator[Finding]:
        if context.visibility != "public":
            return
        links: list[tuple[int, int]] | None = None
        for kind, detect in self._personal:
            for start, end in detect(text):
                if links is None:
                    links = [m.span() for m in URL_RE.finditer(text)]
                if _inside(links, start, end):
                    continue  # part of a link the reply gives, not data written out
                yield self._finding(
                    "personal-data",
                    start,
                    end,
                    f"{kind} in a public reply",
                    "move this to a private message",
                )

    def _shouting(self, text: str, folded: str, context: ReplyContext) -> Iterator[Finding]:
        for match in CAPS_RUN.finditer(text):
            words = CAPS_WORDS.findall(match.group())
            loud = [w for w in words if len(w) > 1 and w not in self._acronyms]
            if len(loud) >= self.config.shouting_words:
                yield self._finding(
                    "shouting",
                    match.start(),
                    match.end(),
                    f"{len(words)} words in capitals read as shouting",
                    "write it in sentence case",
                )

    def _emoji(self, text: str, folded: str, context: ReplyContext) -> Iterator[Finding]:
        allowance = self._allowance
        voice = self.config.voice
        allowed = "none" if allowance == 0 else f"{allowance} per reply"
        marks = sorted([*EMOJI.finditer(text), *EMOTICON.finditer(text)], key=lambda m: m.start())
        for count, match in enumerate(marks, start=1):
            if count > allowance:
                yield self._finding(
                    "emoji",
                    match.start(),
                    match.end(),
                    f"{match.group()}: the brand's {voice} voice allows {allowed}",
                    "remove it",
                )


def _contains_word(folded: str, word: str) -> bool:
    """Whether `word` occurs in `folded` with no letter or digit touching either end."""
    start = folded.find(word)
    while start >= 0:
        end = start + len(word)
        before = folded[start - 1] if start else " "
        after = folded[end] if end < len(folded) else " "
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            return True
        start = folded.find(word, start + 1)
    return False


def _inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether `[start, end)` lies within one of the sorted, disjoint `spans`."""
    index = bisect.bisect_right(spans, start, key=lambda span: span[0]) - 1
    return index >= 0 and spans[index][0] <= start and end <= spans[index][1]


def _detectors(config: ToneConfig) -> list[tuple[str, Callable[[str], Spans]]]:
    """The personal-data detectors the playbook switches on, by the kind of data they find."""
    settings = config.personal_data
    detectors: list[tuple[str, Callable[[str], Spans]]] = []
    for kind, on in (
        ("email address", settings.email),
        ("phone number", settings.phone),
        ("postal address", settings.postal_address),
    ):
        if on:
            detectors.append((kind, BUILT_IN[kind]))
    order = settings.order_number
    if isinstance(order, str):
        detectors.append(("order number", pattern_detector(order)))
    elif order:
        detectors.append(("order number", BUILT_IN["order number"]))
    detectors.extend((kind, pattern_detector(p)) for kind, p in settings.patterns.items())
    return detectors
