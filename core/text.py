"""Making hostile text inert for a terminal: control characters become visible placeholders."""

from __future__ import annotations

import re

# C0 controls and DEL, C1 controls, and the bidi embeddings, overrides and isolates that
# can reorder what an operator sees (Trojan Source). Line breaks are handled by the caller.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def _placeholder(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␀ ␛ …
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def terminal_safe(text: str, *, keep_newlines: bool = True) -> str:
    """`text` with every control and bidi-control character replaced by a visible stand-in.

    With `keep_newlines` false, line breaks and tabs become spaces too (for one-line rows).
    """
    if not keep_newlines:
        text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " ")
    else:
        text = text.replace("\r\n", "\n").replace("\t", "    ")
        text = text.replace("\r", "\u240d")
    return _UNSAFE.sub(_placeholder, text)
