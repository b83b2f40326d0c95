"""One knowledge-base article: Markdown with optional YAML frontmatter and channel variants."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt

CHANNELS = ("x", "facebook", "email")
PLACEHOLDERS = ("name", "handle", "agent", "conversation")
FRONTMATTER_KEYS = ("id", "title", "tags", "questions", "channels", "owner", "reviewed", "links")
PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_FENCE = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_MD = MarkdownIt("commonmark")
_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:", re.MULTILINE)
# libyaml's loader when PyYAML was built with it (the wheels are): ten times faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ArticleError(Exception):
    """A file that cannot be loaded as an article; says where and why."""

    def __init__(self, path: str, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Article:
    """A parsed article. `variants` maps a channel to its own text; `body` is the fallback."""

    id: str
    path: str
    title: str
    body: str
    variants: dict[str, str]
    tags: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()
    channels: tuple[str, ...] = CHANNELS
    owner: str = ""
    reviewed: dt.date | None = None
    links: tuple[str, ...] = ()
    digest: str = ""
    meta_lines: dict[str, int] = field(default_factory=dict)

    def text_for(self, channel: str) -> str:
        """The variant for `channel`, or the body when the article has none for it."""
        return self.variants.get(channel) or self.body

    def render(self, channel: str, values: dict[str, str]) -> str:
        """The channel's text with placeholders filled; unknown ones are left as written."""
        return fill(self.text_for(channel), values)


def fill(text: str, values: dict[str, str]) -> str:
    """Replace `{name}`-style placeholders present in `values`."""
    return PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def parse_article(path: Path, root: Path) -> Article:
    """Read and parse one article file.

    Raises:
        ArticleError: unreadable, not UTF-8, binary, or broken frontmatter.
    """
    rel = path.relative_to(root).as_posix()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ArticleError(rel, 0, f"cannot read: {exc.strerror}") from exc
    return parse_text(raw, rel)


def parse_text(raw: bytes, rel: str) -> Article:
    """Parse an article's bytes; `rel` is its path relative to the knowledge-base folder."""
    if b"\x00" in raw:
        raise ArticleError(rel, 1 + raw[: raw.index(b"\x00")].count(b"\n"), "binary file (NUL)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = 1 + raw[: exc.start].count(b"\n")
        raise ArticleError(rel, line, f"not UTF-8 (byte {exc.start})") from None
    text = text.removeprefix("\ufeff")
    meta, meta_lines, body_start = _frontmatter(text, rel)
    title, body, variants = _sections(text[body_start:])
    article_id = _str(meta.get("id"), rel, meta_lines, "id") or rel.removesuffix(".md")
    title = _str(meta.get("title"), rel, meta_lines, "title") or title or article_id
    reviewed = meta.get("reviewed")
    if reviewed is not None and not isinstance(reviewed, dt.date):
        raise ArticleError(rel, meta_lines.get("reviewed", 1), "reviewed: not a date (YYYY-MM-DD)")
    return Article(
        id=article_id,
        path=rel,
        title=title,
        body=body,
        variants=variants,
        tags=_strs(meta.get("tags"), rel, meta_lines, "tags"),
        questions=_strs(meta.get("questions"), rel, meta_lines, "questions"),
        channels=_strs(meta.get("channels"), rel, meta_lines, "channels") or CHANNELS,
        owner=_str(meta.get("owner"), rel, meta_lines, "owner"),
        reviewed=reviewed if isinstance(reviewed, dt.date) else None,
        links=_strs(meta.get("links"), rel, meta_lines, "links"),
        digest=hashlib.sha256(raw).hexdigest(),
        meta_lines=meta_lines,
    )


def _frontmatter(text: str, rel: str) -> tuple[dict[str, Any], dict[str, int], int]:
    if not text.startswith("---"):
        return {}, {}, 0
    match = _FENCE.match(text)
    if match is None:
        raise ArticleError(rel, 1, "frontmatter opened with --- but never closed")
    source = match.group(1) or ""
    try:
        data = yaml.load(source, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = 2 + mark.line if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ArticleError(rel, line, f"broken YAML frontmatter: {problem}") from None
    except ValueError as exc:  # a date-shaped value that is no date, such as 2026-13-45
        node = yaml.compose(source, Loader=yaml.SafeLoader)
        raise ArticleError(rel, _bad_date_line(node), f"invalid date: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ArticleError(rel, 2, "frontmatter must be a mapping of keys to values")
    # Top-level keys start a line at column 0; their line numbers make findings clickable.
    lines = {m.group(1): 2 + source.count("\n", 0, m.start()) for m in _TOP_KEY.finditer(source)}
    return data, lines, match.end()


def _bad_date_line(node: yaml.Node | None) -> int:
    """The file line of the first date-shaped value in `node` that is not a real date."""
    loader = yaml.SafeLoader("")
    pending = [node] if node is not None else []
    while pending:
        current = pending.pop(0)
        if isinstance(current, yaml.MappingNode):
            pending.extend(part for pair in current.value for part in pair)
        elif isinstance(current, yaml.SequenceNode):
            pending.extend(current.value)
        elif isinstance(current, yaml.ScalarNode) and current.tag.endswith(":timestamp"):
            try:
                loader.construct_yaml_timestamp(current)
            except ValueError:
                return 2 + current.start_mark.line
    return 1


def _sections(content: str) -> tuple[str, str, dict[str, str]]:
    """Split Markdown into its title (first H1), body, and `## x|facebook|email` variants.

    Headings are found with a real Markdown parser so that a `## x` inside a code block
    is text, not a variant.
    """
    lines = content.splitlines(keepends=True)
    title = ""
    cuts: list[tuple[int, int, str]] = []  # (start line, end line of heading, channel or "")
    tokens = _MD.parse(content)
    for i, token in enumerate(tokens):
        if token.type != "heading_open" or token.map is None or token.level != 0:
            continue  # a heading quoted or inside a list item is text, not a section
        heading = tokens[i + 1].content.strip()
        if token.tag == "h1" and not title and not cuts:
            title = heading
            cuts.append((token.map[0], token.map[1], "#title"))
        elif token.tag == "h2" and heading.lower() in CHANNELS:
            cuts.append((token.map[0], token.map[1], heading.lower()))
    variants: dict[str, str] = {}
    body_parts: list[str] = []
    position = 0
    current = ""
    for start, end, kind in cuts:
        chunk = "".join(lines[position:start])
        _store(current, chunk, body_parts, variants)
        current = "" if kind == "#title" else kind
        position = end
    _store(current, "".join(lines[position:]), body_parts, variants)
    return title, "".join(body_parts).strip(), variants


def _store(kind: str, chunk: str, body: list[str], variants: dict[str, str]) -> None:
    if kind:
        variants[kind] = chunk.strip()
    else:
        body.append(chunk)


def _str(value: Any, rel: str, lines: dict[str, int], key: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str | int | float):
        return str(value)
    raise ArticleError(rel, lines.get(key, 1), f"{key}: expected text")


def _strs(value: Any, rel: str, lines: dict[str, int], key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return tuple(str(v) for v in value)
    raise ArticleError(rel, lines.get(key, 1), f"{key}: expected a list of text")
