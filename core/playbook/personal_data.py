"""Detectors of personal data a public reply must not carry: e-mail, phone, order, address."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

Spans = Iterator[tuple[int, int]]

# Each detector starts its regex on a rare character (`@`, a digit, a capital letter) so `re`
# skips the rest of the text at C speed; a pattern that could start anywhere is tried at
# every position and costs ten times as much on a long reply.
_EMAIL_DOMAIN = re.compile(r"@[\w-]+(?:\.[\w-]+)+")
_EMAIL_LOCAL = frozenset("._+-")
# Digits in groups, optionally with a + or a bracketed area code first; the lookbehind sits
# after the first character so `re` still starts only at `+`, `(` or a digit.
_PHONE = re.compile(r"[+(\d](?<![\w+-][+(\d])[\d ().-]{5,}\d")
_NOT_PHONE = re.compile(
    r"\d{4}-\d{2}-\d{2}"  # an ISO date
    r"|\d{1,2}[.:]\d{2}\s*-\s*\d{1,2}[.:]\d{2}"  # opening hours 09.00-17.00
    r"|(?:19|20)\d{2}\s*-\s*(?:19|20)\d{2}"  # a span of years
)
PHONE_DIGITS = (7, 15)
_DIGITS = re.compile(r"\d{4,}(?!\w)")
_ORDER_PREFIX = re.compile(
    r"(?:(?<!\w)[A-Z]{2,4}-|#|(?<!\w)(?i:order)\s*(?:(?i:no)\.?\s*|(?i:number)\s*)?(?:#\s*)?)\Z"
)
# A house number and street, or a UK postcode, in one pass that starts only on a digit or
# a capital letter.
_POSTAL = re.compile(
    r"[A-Z\d](?<!\w[A-Z\d])"
    r"(?:(?<=\d)\d{0,4}\s+(?:[A-Z][\w'.-]*\s+){1,3}"
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Way|Place|Pl"
    r"|Close|Crescent|Terrace)\b"
    r"|(?<=[A-Z])[A-Z]?\d[A-Z\d]?\s?\d[A-Z]{2}\b)"
)


def emails(text: str) -> Spans:
    """E-mail addresses: found at their `@`, the local part read backwards from there."""
    for match in _EMAIL_DOMAIN.finditer(text):
        start = match.start()
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] in _EMAIL_LOCAL):
            start -= 1
        while start < match.start() and text[start] in _EMAIL_LOCAL:
            start += 1  # a local part does not start with a dot or a sign
        if start < match.start():
            yield start, match.end()


def phones(text: str) -> Spans:
    """Runs of 7 to 15 digits in phone-number groups; dates, hours and years excluded."""
    for match in _PHONE.finditer(text):
        digits = sum(char.isdigit() for char in match.group())
        if PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1] and not _NOT_PHONE.fullmatch(
            match.group().strip("()")
        ):
            yield match.span()


def order_numbers(text: str) -> Spans:
    """`NW-123456`, `#123456`, `order 123456`, `order no. 123456`: a run of digits (five or
    more unless after a code such as `NW-`) and what stands before it."""
    for match in _DIGITS.finditer(text):
        start = match.start()
        if start and (text[start - 1].isalnum() or text[start - 1] == "_"):
            continue
        prefix = _ORDER_PREFIX.search(text, max(0, start - 24), start)
        if prefix is None:
            continue
        coded = prefix.group().endswith("-")
        if coded or len(match.group()) >= 5:
            yield prefix.start(), match.end()


def postal_addresses(text: str) -> Spans:
    """A house number and street (`12 Birch Road`) or a UK postcode (`SW1A 1AA`)."""
    return (m.span() for m in _POSTAL.finditer(text))


def pattern_detector(pattern: str) -> Callable[[str], Spans]:
    """A detector for a playbook's own regular expression."""
    compiled = re.compile(pattern)

    def detect(text: str) -> Spans:
        return (m.span() for m in compiled.finditer(text) if m.end() > m.start())

    return detect


BUILT_IN: dict[str, Callable[[str], Spans]] = {
    "email address": emails,
    "phone number": phones,
    "order number": order_numbers,
    "postal address": postal_addresses,
}
