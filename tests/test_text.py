"""core.text.terminal_safe: hostile control and bidi characters become visible, text stays."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontdesk.core.text import terminal_safe

# Everything a terminal may act on: C0 (line breaks handled separately), DEL, C1, and the
# bidi embeddings, overrides, isolates and marks (Trojan Source).
UNSAFE = (
    {chr(c) for c in range(0x00, 0x20)}
    | {chr(c) for c in range(0x7F, 0xA0)}
    | {chr(c) for c in range(0x202A, 0x202F)}
    | {chr(c) for c in range(0x2066, 0x206A)}
    | {"\u200e", "\u200f", "\u061c"}
)
UNSAFE_KEEPING_NEWLINES = UNSAFE - {"\n"}


def unsafe_in(text: str, *, keep_newlines: bool = True) -> set[str]:
    allowed = UNSAFE_KEEPING_NEWLINES if keep_newlines else UNSAFE
    return {c for c in text if c in allowed}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\x1b[31mred", "\u241b[31mred"),  # ESC → ␛
        ("ding\x07", "ding\u2407"),  # BEL → ␇
        ("nul\x00byte", "nul\u2400byte"),  # NUL → ␀
        ("del\x7f", "del\u2421"),  # DEL → ␡
        ("csi\x9b2J", "csi<U+009B>2J"),  # C1 CSI
        ("osc\x9d0;title\x9c", "osc<U+009D>0;title<U+009C>"),
        ("abc\u202edcba", "abc<U+202E>dcba"),  # RIGHT-TO-LEFT OVERRIDE
        ("\u202aembed\u202c", "<U+202A>embed<U+202C>"),
        ("\u2066isolate\u2069", "<U+2066>isolate<U+2069>"),
        ("\u2067\u2068", "<U+2067><U+2068>"),
        ("mark\u200e\u200f\u061c", "mark<U+200E><U+200F><U+061C>"),
    ],
)
def test_unsafe_characters_become_visible_placeholders(raw: str, expected: str) -> None:
    assert terminal_safe(raw) == expected


def test_osc_hyperlink_and_title_sequences_are_defused() -> None:
    raw = "\x1b]0;pwned\x07\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\"
    out = terminal_safe(raw)
    assert "\x1b" not in out and "\x07" not in out
    assert out.count("\u241b") == 5
    assert "https://evil.example" in out  # the text itself is still readable


@pytest.mark.parametrize(
    "text",
    [
        "Hello, world! Order #123 (refund?) [b]not markup[/b] 100% ~ `code`",
        "Emoji stay: 🎉👍🏽👨‍👩‍👧‍👦 🇳🇱",  # ZWJ sequences and flags
        "مرحبا، كيف يمكنني مساعدتك؟",  # Arabic, no bidi controls
        "שלום עולם",
        "日本語のテキスト、한국어 텍스트",
        "Zero width joiner in emoji only: \u200d and nbsp\u00a0here",
        "Ünïcödé àccents ß",
    ],
)
def test_ordinary_text_is_untouched(text: str) -> None:
    assert terminal_safe(text) == text
    assert terminal_safe(text, keep_newlines=False) == text


def test_newlines_kept_or_flattened() -> None:
    raw = "one\r\ntwo\nthree\rfour\tfive"
    assert terminal_safe(raw) == "one\ntwo\nthree\u240dfour    five"
    assert terminal_safe(raw, keep_newlines=False) == "one two three four five"


def test_flattened_output_is_a_single_line() -> None:
    raw = "a\nb\rc\r\nd\x0be\x0cf\x1cg\x1dh\x1ei\x85j\u2028k"
    out = terminal_safe(raw, keep_newlines=False)
    # Line breaks become spaces; the other separators (VT, FF, FS/GS/RS, NEL) placeholders.
    assert unsafe_in(out, keep_newlines=False) == set()
    assert "\n" not in out and "\r" not in out


@given(st.text())
def test_output_never_contains_an_unsafe_character(text: str) -> None:
    assert unsafe_in(terminal_safe(text)) == set()
    assert unsafe_in(terminal_safe(text, keep_newlines=False), keep_newlines=False) == set()


@given(st.text(alphabet=st.characters(exclude_characters=UNSAFE)))
def test_safe_text_is_returned_unchanged(text: str) -> None:
    assert terminal_safe(text) == text


@given(st.text(alphabet=st.sampled_from(sorted(UNSAFE_KEEPING_NEWLINES - {"\r", "\t"}))))
def test_each_unsafe_character_becomes_exactly_one_placeholder(text: str) -> None:
    out = terminal_safe(text)
    assert unsafe_in(out) == set()
    # Control Pictures are one character, the <U+XXXX> forms eight.
    pictures = sum(1 for c in text if ord(c) < 0x20 or c == "\x7f")
    assert len(out) == pictures + 8 * (len(text) - pictures)
