"""Reading a survey answer out of a customer's reply: a score, a comment, or nothing.

The rule, in order (anything it does not cover is "not an answer", and the message is an
ordinary inbound one):

1. Only the customer's own words count: quoted lines (`>`), everything from an email
   attribution line ("On ... wrote:", "-----Original Message-----", "From: ...") and a
   signature ("-- ", "Sent from my ...") are cut off first.
2. The score opens the reply, in one of these forms:
   - a number alone, or followed by the survey's scale ("5/5", "10/10", "4 out of 5"),
     "star(s)", a line break, or punctuation (`-`, `:`, `,`, `.`, `!`, `)`) and then a
     comment: "5", "5/5 thanks!", "4 - slow but ok", "5 stars", "3.";
   - an explicit lead-in, after which anything may follow: "I'd give it a 3",
     "I would rate you 9", "rating: 4", "score 8";
   - only star characters, for the 1-5 survey: "⭐⭐⭐⭐".
   Number words (zero to ten) count like digits: "five", "Ten out of ten".
3. A number followed by a space and a word is NOT a score ("2 days late!", "3 items
   missing"), nor one glued to more ("12345", "2nd", "4.5", "5%", "4-5", "1-800-..."), nor a
   number that is not at the start ("order 12345 still missing"), nor a scale other than the
   survey's ("3/5" answers the 1-5 survey, not the 0-10 one), nor a score outside the scale.
   Ambiguous replies are left to the operators: a missed answer costs one reopened
   conversation, a wrong one skews the figures silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from frontdesk.core.playbook.surveys import SCALES

WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
_NUMBER = r"(?P<n>\d{1,2}|" + "|".join(WORDS) + r")"
_LEAD = re.compile(
    r"(?:(?:i[’']?d|i would|i[’']ll|i will|i|we[’']?d|we)\s+(?:give|rate)\s+(?:it|you|you guys|"
    r"u|this|that|them|the service)?\s*(?:an?\s+)?|(?:my\s+)?(?:rating|score)\s*(?:is|[:=])?\s*)"
    + _NUMBER
    + r"\b",
    re.IGNORECASE,
)
_OPEN = re.compile(_NUMBER + r"(?![\w%$£€])", re.IGNORECASE)
_SCALE = re.compile(r"\s*(?:/\s*|out\s+of\s+)(?P<of>\d{1,2}|five|ten)\b", re.IGNORECASE)
_STARS = re.compile(r"\s*stars?\b", re.IGNORECASE)
# Punctuation or a line break; or a space before a symbol or emoji ("5 👍", "5 :)"), never
# before a word or a number.
_SEPARATOR = re.compile(r"[ \t]*(?:[-–—:,.!)]+|\n)|[ \t]+(?=[^\w\s$£€#%+*/])")
_MENTIONS = re.compile(r"^(?:@\w+[\s,:]+)+")
_ATTRIBUTION = re.compile(
    r"^(?:on\b.*\bwrote:?\s*$|-{2,}\s*original message|from:\s|sent from my\b|--\s*$)",
    re.IGNORECASE,
)
_STAR_CHARS = re.compile(r"[⭐★]{1,5}")
_SPACING = re.compile(r"[\s\ufe0f]")  # an emoji's variation selector rides along with it


@dataclass(frozen=True, slots=True)
class Answer:
    """A score in the survey's scale and what the customer added (maybe empty)."""

    score: int
    comment: str


def own_words(text: str) -> str:
    """The reply without quoted text, attribution lines and signatures (rule 1)."""
    kept: list[str] = []
    for line in text.splitlines():
        if _ATTRIBUTION.match(line.strip()):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line)
    # A public reply on X opens with the handles it answers.
    return _MENTIONS.sub("", "\n".join(kept).strip())


def _value(token: str) -> int:
    return WORDS[token.lower()] if token.lower() in WORDS else int(token)


def parse_answer(text: str, kind: str) -> Answer | None:
    """The answer to a `kind` survey ("csat" or "nps") in `text`, or None (see the module)."""
    low, high = SCALES[kind]
    words = own_words(text)
    stars = _SPACING.sub("", words)
    if kind == "csat" and _STAR_CHARS.fullmatch(stars):
        return Answer(len(stars), "")
    lead = _LEAD.match(words)
    if lead:
        score, rest = _value(lead["n"]), words[lead.end() :]
        scale = _SCALE.match(rest)
        if scale:
            if _value(scale["of"]) != high:
                return None
            rest = rest[scale.end() :]
        return _within(score, low, high, rest)
    opening = _OPEN.match(words)
    if opening is None:
        return None
    score, rest = _value(opening["n"]), words[opening.end() :]
    scale = _SCALE.match(rest)
    if scale:
        if _value(scale["of"]) != high:
            return None
        rest = rest[scale.end() :]
    elif stars_word := _STARS.match(rest):
        rest = rest[stars_word.end() :]
    elif rest.strip():
        separator = _SEPARATOR.match(rest)
        # "4.5", "4-5", "1-800": the separator runs straight into another number.
        if separator is None or re.match(r"\s*\d", rest[separator.end() :]):
            return None
        rest = rest[separator.end() :]
    return _within(score, low, high, rest)


def _within(score: int, low: int, high: int, rest: str) -> Answer | None:
    if not low <= score <= high:
        return None
    return Answer(score, rest.lstrip(" \t\n-–—:,.!)").strip())


def reopens(answer: Answer, kind: str) -> bool:
    """Whether an answer needs a person: a comment that asks something ("?") or explains a
    low score (1-2 of 5, 0-6 of 10). A bare score, or praise with it, leaves the
    conversation resolved."""
    if not answer.comment:
        return False
    low_score = answer.score <= (2 if kind == "csat" else 6)
    return low_score or "?" in answer.comment
