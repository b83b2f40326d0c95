"""Sign-off: the rules that hold a reply for approval (legal words, large refunds, categories)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from pydantic import Field

from frontdesk.core.playbook.base import Section
from frontdesk.core.playbook.phrases import PhraseMatcher, normalise

DEFAULT_WORDS = (
    "lawsuit",
    "sue",
    "suing",
    "legal action",
    "solicitor*",
    "lawyer*",
    "attorney*",
    "court",
    "injury",
    "injuries",
    "injured",
    "data breach",
    "hacked",
    "police",
    "ombudsman",
    "trading standards",
    "recall",
)
DEFAULT_REFUND_WORDS = ("refund*", "reimburs*", "compensat*", "goodwill", "credit", "money back")
# An amount with its currency: $120, £1,250.00, 80 EUR, 45 pounds.
_AMOUNT = re.compile(
    r"[$£€]\s?(?P<a>\d{1,3}(?:,\d{3})+|\d+)(?P<ac>\.\d{1,2})?"
    r"|(?<![\w.,])(?P<b>\d{1,3}(?:,\d{3})+|\d+)(?P<bc>\.\d{1,2})?\s?"
    r"(?:usd|gbp|eur|dollars?|pounds?|euros?)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


class SignoffConfig(Section):
    """The `[signoff]` table."""

    words: list[str] = Field(default_factory=lambda: list(DEFAULT_WORDS))
    """A reply, or the customer's messages, with any of these needs approval."""
    refund_words: list[str] = Field(default_factory=lambda: list(DEFAULT_REFUND_WORDS))
    refund_above: Decimal = Field(default=Decimal(100), ge=0)
    """A sentence of the reply with a refund word and an amount above this needs approval
    (`refund_words = []` switches the rule off). Any currency symbol or name counts."""
    categories: list[str] = Field(default_factory=list)
    """Every reply in a conversation of these categories needs approval."""
    tags: list[str] = Field(default_factory=lambda: ["press"])
    """Every reply in a conversation with one of these source tags needs approval."""


@dataclass(frozen=True, slots=True)
class SignoffReason:
    """Why a reply needs approval; `span` is where in the reply, when it is in the reply."""

    rule: str
    why: str
    span: tuple[int, int] | None = None

    def as_json(self) -> dict[str, object]:
        return {"rule": self.rule, "why": self.why, "span": list(self.span) if self.span else None}


class SignoffRules:
    """The sign-off rules compiled once."""

    def __init__(self, config: SignoffConfig) -> None:
        self.config = config
        self._words = PhraseMatcher(config.words)
        self._refund = PhraseMatcher(config.refund_words)

    def reasons(
        self,
        reply: str,
        *,
        category: str | None = None,
        tags: Iterable[str] = (),
        inbound: Iterable[str] = (),
        crisis: bool = False,
    ) -> list[SignoffReason]:
        """Every reason `reply` needs approval before it is sent; empty when it needs none.

        `inbound` is the customer's messages in the conversation: a customer who mentions a
        lawsuit makes every reply to them need approval. While crisis mode is on (`crisis`,
        the latest crisis event: core/crisis.py) every reply does.
        """
        reasons: list[SignoffReason] = []
        if crisis:
            reasons.append(SignoffReason("crisis", "crisis mode: every reply needs sign-off"))
        if category is not None and category in self.config.categories:
            reasons.append(SignoffReason("category", f"every {category} reply needs approval"))
        for tag in tags:
            if tag in self.config.tags:
                reasons.append(
                    SignoffReason("tag", f"every reply to a {tag} source needs approval")
                )
        for hit in self._words.finditer(reply):
            said = " ".join(reply[hit.start : hit.end].split())
            reasons.append(
                SignoffReason("word", f'the reply mentions "{said}"', (hit.start, hit.end))
            )
        seen: set[str] = set()
        for message in inbound:
            for hit in self._words.finditer(message):
                said = normalise(message[hit.start : hit.end])
                if said not in seen:
                    seen.add(said)
                    reasons.append(SignoffReason("inbound-word", f'the customer wrote "{said}"'))
        reasons.extend(self._refunds(reply))
        return reasons

    def _refunds(self, reply: str) -> Iterator[SignoffReason]:
        limit = self.config.refund_above
        if not self._refund:
            return
        start = 0
        for end in [m.start() for m in _SENTENCE_END.finditer(reply)] + [len(reply)]:
            sentence = reply[start:end]
            word = self._refund.search(sentence)
            if word is not None:
                for match in _AMOUNT.finditer(sentence):
                    amount = amount_of(match)
                    if amount > limit:
                        span = (start + match.start(), start + match.end())
                        why = f"a refund of {match.group().strip()} is above {limit}"
                        yield SignoffReason("refund", why, span)
            start = end


def amount_of(match: re.Match[str]) -> Decimal:
    """The number an `_AMOUNT` match names, thousands separators dropped."""
    whole = match.group("a") or match.group("b")
    cents = match.group("ac") or match.group("bc") or ""
    return Decimal(whole.replace(",", "") + cents)
