"""Where each string of a JSON or YAML request body sits in its file: a small JSON parser that
records the position of every string and object, and PyYAML's node marks mapped to the offset of
each decoded character.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agentcost.audit.document import LineIndex, Path_t, closing_quote
from agentcost.errors import InputError

# ------------------------------------------------------------------------------- JSON


class JsonPositions:
    """A small JSON parser that records where every string value and object sits."""

    _NUM = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
    _WS = re.compile(r"[ \t\r\n]*")
    # two Python frames per level (value -> object/array): stop well inside the recursion limit
    MAX_DEPTH = 256

    def __init__(self, s: str) -> None:
        self.s = s
        self.i = 0
        self.strings: dict[Path_t, tuple[int, int]] = {}  # path -> raw inner span
        self.objects: dict[Path_t, tuple[int, list[str]]] = {}

    def fail(self, what: str) -> InputError:
        line, col = LineIndex(self.s).pos(self.i)
        return InputError(f"invalid JSON at line {line} column {col}: {what}")

    def ws(self) -> None:
        m = self._WS.match(self.s, self.i)
        assert m is not None
        self.i = m.end()

    def parse(self) -> Any:
        self.ws()
        v = self.value(())
        self.ws()
        if self.i != len(self.s):
            raise self.fail("extra data after the JSON value")
        return v

    def value(self, path: Path_t) -> Any:
        self.ws()
        if self.i >= len(self.s):
            raise self.fail("unexpected end")
        if len(path) >= self.MAX_DEPTH:  # the parser recurses: stop well before Python does
            raise self.fail(f"nested more than {self.MAX_DEPTH} levels deep")
        c = self.s[self.i]
        if c == "{":
            return self.object(path)
        if c == "[":
            return self.array(path)
        if c == '"':
            return self.string(path)
        for lit, val in (("true", True), ("false", False), ("null", None)):
            if self.s.startswith(lit, self.i):
                self.i += len(lit)
                return val
        m = self._NUM.match(self.s, self.i)
        if not m or m.end() == self.i:
            raise self.fail(f"unexpected character {c!r}")
        self.i = m.end()
        return json.loads(m.group())

    def object(self, path: Path_t) -> dict[str, Any]:
        """``{...}`` at the cursor; records where it starts and its keys in order."""
        start = self.i
        self.i += 1
        obj: dict[str, Any] = {}
        keys: list[str] = []
        self.ws()
        if self.s.startswith("}", self.i):
            self.i += 1
            self.objects[path] = (start, keys)
            return obj
        while True:
            self.ws()
            if not self.s.startswith('"', self.i):
                raise self.fail("expected a string key")
            k = self.string(None)
            self.ws()
            if not self.s.startswith(":", self.i):
                raise self.fail("expected ':'")
            self.i += 1
            obj[k] = self.value((*path, k))
            keys.append(k)
            if self.close("}"):
                break
        self.objects[path] = (start, keys)
        return obj

    def array(self, path: Path_t) -> list[Any]:
        self.i += 1
        arr: list[Any] = []
        self.ws()
        if self.s.startswith("]", self.i):
            self.i += 1
            return arr
        while True:
            arr.append(self.value((*path, len(arr))))
            if self.close("]"):
                return arr

    def close(self, end: str) -> bool:
        """After a member: ``,`` (more follow: False) or ``end`` (done: True), else an error."""
        self.ws()
        if self.s.startswith(",", self.i):
            self.i += 1
            return False
        if self.s.startswith(end, self.i):
            self.i += 1
            return True
        raise self.fail(f"expected ',' or '{end}'")

    def string(self, path: Path_t | None) -> str:
        start = self.i + 1
        s = self.s
        k = closing_quote(s, '"', start)
        if k < 0:
            raise self.fail("unterminated string")
        self.i = k + 1
        try:
            val = json.loads(s[start - 1: k + 1])
        except ValueError:
            raise self.fail("bad string escape") from None
        if path is not None:
            self.strings[path] = (start, k)
        return str(val)


def json_string_offsets(raw: str, base: int) -> list[int]:
    """File offset of each decoded character of a JSON string whose raw body is ``raw``."""
    out: list[int] = []
    i = 0
    n = len(raw)
    while i < n:
        if raw[i] != "\\":
            out.append(base + i)
            i += 1
            continue
        nxt = raw[i + 1] if i + 1 < n else ""
        if nxt == "u":
            code = int(raw[i + 2: i + 6], 16) if i + 6 <= n else 0
            if 0xD800 <= code < 0xDC00 and raw[i + 6: i + 8] == "\\u":
                out.append(base + i)
                i += 12
            else:
                out.append(base + i)
                i += 6
        else:
            out.append(base + i)
            i += 2
    return out


# ------------------------------------------------------------------------------- YAML


def yaml_positions(text: str) -> tuple[Any, dict[Path_t, list[int]], dict[Path_t, Any]]:
    """Parse YAML; map each string scalar's path to file offsets of its decoded characters
    (exact for single-line and literal ``|`` scalars, line-accurate for folded ones)."""
    import yaml

    try:
        value = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise InputError(f"invalid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    except RecursionError:  # PyYAML's composer recurses once per nesting level
        raise InputError("invalid YAML: nested too deeply") from None
    strings: dict[Path_t, list[int]] = {}
    objects: dict[Path_t, Any] = {}

    def walk(node: Any, path: Path_t, val: Any) -> None:
        if isinstance(node, yaml.MappingNode):
            objects[path] = node
            for k, v in node.value:
                key = k.value
                if isinstance(val, dict) and key in val:
                    walk(v, (*path, key), val[key])
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                if isinstance(val, list) and i < len(val):
                    walk(v, (*path, i), val[i])
        elif isinstance(node, yaml.ScalarNode) and isinstance(val, str):
            strings[path] = _yaml_scalar_offsets(text, node, val)

    if root is not None:
        walk(root, (), value)
    return value, strings, objects


def _yaml_scalar_offsets(text: str, node: Any, val: str) -> list[int]:
    start, end = node.start_mark.index, node.end_mark.index
    style = node.style
    out: list[int] = []
    if style in ("|", ">"):
        nl = text.find("\n", start)
        if nl < 0 or nl >= end:
            return [start] * len(val)
        pos = nl + 1
        indent = None
        for line in text[pos:end].split("\n"):
            stripped = line.lstrip(" ")
            if indent is None and stripped:
                indent = len(line) - len(stripped)
            cut = min(indent or 0, len(line) - len(line.lstrip(" ")))
            for k in range(cut, len(line)):
                out.append(pos + k)
            out.append(pos + len(line))  # the newline
            pos += len(line) + 1
    else:
        first = start + (1 if style in ('"', "'") else 0)
        raw = text[first:end]
        i = 0
        while i < len(raw):
            ch = raw[i]
            if ch == "\n":
                out.append(first + i)
                i += 1
                while i < len(raw) and raw[i] in " \t":
                    i += 1
                continue
            if style == '"' and ch == "\\":
                out.append(first + i)
                nxt = raw[i + 1: i + 2]
                i += {"x": 4, "u": 6, "U": 10}.get(nxt, 2)
                continue
            if style == "'" and raw.startswith("''", i):
                out.append(first + i)
                i += 2
                continue
            out.append(first + i)
            i += 1
    if len(out) < len(val):
        out += [out[-1] if out else start] * (len(val) - len(out))
    return out[: len(val)]
