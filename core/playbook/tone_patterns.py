"""The patterns of the tone check: capitals of every script, placeholders, emoji, emoticons."""

from __future__ import annotations

import re

# Every regex here that scans a whole reply starts on a character class that is rare in
# ordinary text, with any lookbehind after it, so `re` skips the rest of the text at C speed.


def _capitals() -> str:
    """A regex class body of the capital letters of every script in the Basic Multilingual
    Plane ("ÜBER", "ΑΠΑΡΑΔΕΚΤΟ"), as ranges so it compiles quickly."""
    ranges: list[list[int]] = []
    for code in range(0x10000):
        char = chr(code)
        if not (char.isupper() and char.isalpha()):
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )


UPPER = _capitals()
CAPS_WORD = rf"[{UPPER}]+(?:['\u2019][{UPPER}]+)*(?!\w)"
# Capital words in a row on one line; whether the run is shouting is decided by counting.
CAPS_RUN = re.compile(
    rf"[{UPPER}](?<!\w.)[{UPPER}]*(?:['\u2019][{UPPER}]+)*(?!\w)(?:[^\w\n]+{CAPS_WORD})+"
)
CAPS_WORDS = re.compile(rf"[{UPPER}]+(?:['\u2019][{UPPER}]+)*")
PLACEHOLDER = re.compile(r"\{\{?\s*[A-Za-z_][\w.]*\s*\}?\}|\[[A-Z][A-Z_ ]{2,}\]|<[A-Z][A-Z_]{2,}>")
EMOJI_CHAR = "\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff"
EMOJI_MARK = "\ufe0f\U0001f3fb-\U0001f3ff"  # presentation selector, skin tones
# One emoji as a reader sees it: joined sequences (ZWJ) and flags (two regional indicators,
# which lie inside the emoji range) count once.
EMOJI = re.compile(
    rf"[{EMOJI_CHAR}][{EMOJI_MARK}\U0001f1e6-\U0001f1ff]*(?:\u200d[{EMOJI_CHAR}][{EMOJI_MARK}]*)*"
)
EMOTICON = re.compile(
    r":(?<![\w:/]:)[-^']?[)(\]\[DPpOo3|*](?!\w)"
    r"|;(?<!\w;)[-^']?[)(\]\[DPp](?!\w)"
    r"|=(?<!\w=)[-^']?[)(DPp](?!\w)"
    r"|<3|\^_?\^"
    r"|x(?<!\wx)D(?!\w)|X(?<!\wX)D(?!\w)"
)
NAME_WORD = re.compile(r"\w[\w'\u2019-]*")
