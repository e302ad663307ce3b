"""The parsed form of a prompt input: :class:`PromptDoc`, its :class:`Block` s (the texts the
static rules scan, each with a map from its characters back to line and column in the file) and
:class:`Segment` s (a request body's parts in prefix order, for token counting).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

Path_t = tuple[Any, ...]  # a value's path in a JSON/YAML document: keys and list indexes


class LineIndex:
    """Offset in a text → 1-based (line, column), columns in Unicode code points."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
        self.n = len(text)

    def pos(self, offset: int) -> tuple[int, int]:
        offset = max(0, min(offset, self.n))
        i = bisect.bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i] + 1


@dataclass
class Block:
    """One text the rules scan. ``offsets[i]`` is the file offset of ``text[i]`` (None: the text
    is the file itself, offsets are identity)."""

    role: str  # text | tools | system | message
    label: str  # "file", "system[0].text", "tools[1].description", ...
    text: str
    style: str  # none | jinja | format | fstring
    offsets: list[int] | None
    lines: LineIndex
    scan: bool = True  # content rules (timestamp, ids, user content) apply
    whole_file: bool = False
    seg: int | None = None  # index into PromptDoc.segments (request bodies)

    def file_offset(self, i: int) -> int:
        if self.offsets is None:
            return i
        if not self.offsets:
            return 0
        if i >= len(self.offsets):
            return self.offsets[-1] + 1
        return self.offsets[max(0, i)]

    def locate(self, i: int) -> tuple[int, int]:
        return self.lines.pos(self.file_offset(i))


@dataclass
class Segment:
    """One block of a request body in provider prefix order, for token counting."""

    role: str  # tools | system | user | assistant | tool
    label: str
    text: str  # what to count (text, or compact JSON of a tool/message part)
    breakpoint: bool = False
    location: tuple[int, int] | None = None


@dataclass
class PromptDoc:
    path: str
    kind: str  # text | json | yaml | python
    text: str  # the whole file
    blocks: list[Block]
    lines: LineIndex
    body: dict[str, Any] | None = None
    segments: list[Segment] = field(default_factory=list)  # request bodies only
    model: str | None = None
    model_location: tuple[int, int] | None = None
    objects: list[tuple[Path_t, list[str], tuple[int, int]]] = field(default_factory=list)
    tool_names: list[str] = field(default_factory=list)
    tools_location: tuple[int, int] | None = None


def template_style(text: str) -> str:
    if re.search(r"\{\{-?\s*[A-Za-z_(\[].*?\}\}|\{%.*?%\}", text, re.S):
        return "jinja"
    if re.search(r"(?<!\{)\{[A-Za-z_][\w.]*(?:\[[^\]{}]*\])*(?:\([^{}]*\))?(?:![rsa])?"
                 r"(?::[^{}]*)?\}(?!\})", text):
        return "format"
    return "none"


def closing_quote(s: str, quote: str, start: int) -> int:
    """Where the string literal whose body begins at ``start`` ends: the first ``quote`` at or
    after ``start`` not escaped by an odd run of backslashes (counted back to ``start`` at
    most); -1 when there is none."""
    j = start
    while True:
        k = s.find(quote, j)
        if k < 0:
            return -1
        p = k - 1
        while p >= start and s[p] == "\\":
            p -= 1
        if (k - 1 - p) % 2 == 0:
            return k
        j = k + 1
