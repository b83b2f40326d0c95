"""Where each key of a TOML document is written: key paths mapped to line numbers."""

from __future__ import annotations

from collections.abc import Sequence

Path = tuple[str | int, ...]

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


class _Scanner:
    """tomllib reports the line of a syntax error but keeps no positions in what it returns,
    so a validation error ("tone.banned[2].phrase: field required") could not name its line.
    This walks text tomllib has already accepted and records the line of every table, key
    and array element; trusting the syntax keeps it small."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.lines: dict[Path, int] = {}
        self.arrays: dict[Path, int] = {}

    # -- characters
    def peek(self, ahead: int = 0) -> str:
        index = self.pos + ahead
        return self.text[index] if index < len(self.text) else ""

    def advance(self, count: int = 1) -> None:
        self.line += self.text.count("\n", self.pos, self.pos + count)
        self.pos += count

    def skip_blank(self, newlines: bool) -> None:
        """Skip spaces, tabs and comments, and line breaks too when `newlines`."""
        while self.pos < len(self.text):
            char = self.peek()
            if char in " \t\r" or (newlines and char == "\n"):
                self.advance()
            elif char == "#":
                end = self.text.find("\n", self.pos)
                self.advance((len(self.text) if end < 0 else end) - self.pos)
            else:
                return

    # -- keys and strings
    def key(self) -> list[str]:
        """A dotted key: `a.b."c d"`."""
        parts = []
        while True:
            self.skip_blank(False)
            char = self.peek()
            if char in "\"'":
                parts.append(self.string())
            else:
                start = self.pos
                while self.peek() and self.peek() in _BARE:
                    self.advance()
                parts.append(self.text[start : self.pos])
            self.skip_blank(False)
            if self.peek() != ".":
                return parts
            self.advance()

    def string(self) -> str:
        quote = self.peek()
        if self.text.startswith(quote * 3, self.pos):
            self.advance(3)
            while not self.text.startswith(quote * 3, self.pos):
                self.advance(2 if self.peek() == "\\" and quote == '"' else 1)
            while self.text.startswith(quote * 4, self.pos):  # up to two quotes end the value
                self.advance()
            self.advance(3)
            return ""  # a multi-line string is never a key
        self.advance()
        out = []
        while (char := self.peek()) != quote:
            if char == "\\" and quote == '"':
                out.append(self.escape())
                continue
            out.append(char)
            self.advance()
        self.advance()
        return "".join(out)

    def escape(self) -> str:
        code = self.peek(1)
        width = {"u": 4, "U": 8}.get(code, 0)
        if width:
            char = chr(int(self.text[self.pos + 2 : self.pos + 2 + width], 16))
            self.advance(2 + width)
            return char
        self.advance(2)
        return _ESCAPES.get(code, code)

    # -- values
    def value(self, path: Path) -> None:
        char = self.peek()
        if char in "\"'":
            self.string()
        elif char == "[":
            self.array(path)
        elif char == "{":
            self.inline_table(path)
        else:  # numbers, booleans, dates: up to the next delimiter
            while self.peek() and self.peek() not in ",]}\n#":
                self.advance()

    def array(self, path: Path) -> None:
        self.advance()
        index = 0
        while True:
            self.skip_blank(True)
            if self.peek() in ("]", ""):
                self.advance()
                return
            self.lines.setdefault((*path, index), self.line)
            self.value((*path, index))
            index += 1
            self.skip_blank(True)
            if self.peek() == ",":
                self.advance()

    def inline_table(self, path: Path) -> None:
        self.advance()
        while True:
            self.skip_blank(True)
            if self.peek() in ("}", ""):
                self.advance()
                return
            self.key_value(path)
            self.skip_blank(True)
            if self.peek() == ",":
                self.advance()

    def key_value(self, table: Path) -> None:
        line = self.line
        parts = self.key()
        for depth in range(1, len(parts) + 1):
            self.lines.setdefault((*table, *parts[:depth]), line)
        self.advance()  # the `=`
        self.skip_blank(False)
        self.value((*table, *parts))

    # -- the document
    def document(self) -> dict[Path, int]:
        table: Path = ()
        while True:
            self.skip_blank(True)
            if not self.peek():
                return self.lines
            if self.peek() == "[":
                table = self.header()
            else:
                self.key_value(table)

    def header(self) -> Path:
        """A `[table]` or `[[array.of.tables]]` header; names inside an array of tables
        refer to its latest element, as in TOML."""
        many = self.text.startswith("[[", self.pos)
        self.advance(2 if many else 1)
        line = self.line
        parts = self.key()
        self.advance(2 if many else 1)
        path: Path = ()
        for depth, part in enumerate(parts, start=1):
            path = (*path, part)
            self.lines.setdefault(path, line)
            if many and depth == len(parts):
                index = self.arrays.get(path, 0)
                self.arrays[path] = index + 1
                path = (*path, index)
                self.lines[path] = line
            elif path in self.arrays:
                path = (*path, self.arrays[path] - 1)
        return path


def key_lines(text: str) -> dict[Path, int]:
    """The 1-based line of every key path in a TOML document tomllib accepts.

    Array elements appear with their index: `("tone", "banned", 2, "phrase")`.
    """
    return _Scanner(text).document()


def line_of(lines: dict[Path, int], loc: Sequence[str | int]) -> int:
    """The line of `loc`, or of its nearest enclosing key that is written in the file
    (a missing key is reported at its table); 1 when nothing of it is."""
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return 1
