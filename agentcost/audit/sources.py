"""Read a prompt input into :class:`PromptDoc`: the texts the static rules scan, each with a map
from its characters back to line and column in the file.

Inputs:

* plain text or a template (Jinja ``{{ }}``/``{% %}``, ``str.format``/f-string ``{name}``):
  one block, the whole file;
* a JSON or YAML request body (Anthropic Messages, OpenAI Chat Completions or Responses): one
  block per string inside ``tools`` and the system prompt (``system``, ``instructions``, leading
  ``system``/``developer`` messages) — the prefix shared by every request. Conversation messages
  are per-conversation by nature and are not scanned (they still count for ``short-prefix`` when
  a breakpoint sits on them);
* a Python file's string constant named with ``--symbol NAME`` (``Class.NAME`` for a class
  attribute): a literal, implicitly concatenated or ``+``-joined literals, an f-string, or such a
  literal wrapped in ``textwrap.dedent``/``inspect.cleandoc``/``.strip()``/``.format()``.
"""

from __future__ import annotations

import ast
import bisect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentcost.errors import InputError

TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".prompt", ".j2", ".jinja", ".jinja2", ".tmpl",
                 ".tpl", ".mustache", ".hbs", ".rst")

Path_t = tuple[Any, ...]


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


# ------------------------------------------------------------------------- template style


def template_style(text: str) -> str:
    if re.search(r"\{\{-?\s*[A-Za-z_(\[].*?\}\}|\{%.*?%\}", text, re.S):
        return "jinja"
    if re.search(r"(?<!\{)\{[A-Za-z_][\w.]*(?:\[[^\]{}]*\])*(?:\([^{}]*\))?(?:![rsa])?"
                 r"(?::[^{}]*)?\}(?!\})", text):
        return "format"
    return "none"


# ------------------------------------------------------------------------------- JSON


class _JsonPos:
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
        j = start
        s = self.s
        while True:
            k = s.find('"', j)
            if k < 0:
                raise self.fail("unterminated string")
            bs = 0
            p = k - 1
            while p >= start and s[p] == "\\":
                bs += 1
                p -= 1
            if bs % 2 == 0:
                break
            j = k + 1
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


def _yaml_positions(text: str) -> tuple[Any, dict[Path_t, list[int]], dict[Path_t, Any]]:
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


# ------------------------------------------------------------------------- request body


def is_request_body(obj: Any) -> bool:
    return isinstance(obj, dict) and (
        any(k in obj for k in ("messages", "system", "instructions"))
        or ("input" in obj and "model" in obj) or ("tools" in obj and "model" in obj))


def _text_of(part: Any) -> str | None:
    if isinstance(part, str):
        return part
    if isinstance(part, dict) and isinstance(part.get("text"), str):
        return str(part["text"])
    return None


def _compact(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _has_cc(obj: Any) -> bool:
    if isinstance(obj, dict):
        if obj.get("cache_control") or obj.get("prompt_cache_breakpoint"):
            return True
        c = obj.get("content")
        if isinstance(c, list):
            return any(isinstance(p, dict) and (p.get("cache_control")
                                                or p.get("prompt_cache_breakpoint"))
                       for p in c)
    return False


def _body_doc(path: str, kind: str, text: str, body: dict[str, Any],
              offsets_of: Callable[[Path_t], list[int] | None],
              object_list: list[tuple[Path_t, list[str], int]]) -> PromptDoc:
    """The prompt document of a request body: model, tools, system blocks and messages as
    segments (in request order) and their strings as blocks with source positions."""
    lines = LineIndex(text)
    doc = PromptDoc(path=path, kind=kind, text=text, blocks=[], lines=lines, body=body)
    b = _BodyDocBuilder(doc, lines, offsets_of)
    model = body.get("model")
    if isinstance(model, str):
        doc.model = model
        doc.model_location = b.loc(("model",))
    b.tools(body.get("tools"))
    b.system(body.get("system"))
    instructions = body.get("instructions")
    if isinstance(instructions, str):
        b.add_strings(instructions, ("instructions",), "system", "instructions")
        doc.segments.append(Segment("system", "instructions", instructions, False,
                                    b.loc(("instructions",))))
    key = "messages" if isinstance(body.get("messages"), list) else "input"
    b.messages(key, body.get(key))
    if body.get("cache_control") and doc.segments:  # Anthropic automatic mode: last block
        doc.segments[-1].breakpoint = True
    doc.objects = [(p, keys, lines.pos(off)) for p, keys, off in object_list]
    return doc


class _BodyDocBuilder:
    """Adds one request body's parts to a :class:`PromptDoc`, part by part."""

    def __init__(self, doc: PromptDoc, lines: LineIndex,
                 offsets_of: Callable[[Path_t], list[int] | None]) -> None:
        self.doc, self.lines, self.offsets_of = doc, lines, offsets_of

    def loc(self, p: Path_t) -> tuple[int, int] | None:
        offs = self.offsets_of(p)
        return self.lines.pos(offs[0]) if offs else None

    def add_strings(self, obj: Any, p: Path_t, role: str, label: str) -> None:
        """Every non-empty string under ``obj`` as a block (cache markers and types skipped)."""
        doc = self.doc
        if isinstance(obj, str):
            offs = self.offsets_of(p)
            if obj:
                doc.blocks.append(Block(role, label, obj, template_style(obj),
                                        offs if offs is not None else [0] * len(obj),
                                        self.lines, seg=len(doc.segments)))
        elif isinstance(obj, dict):
            for k, v in obj.items():
                if k in ("cache_control", "type", "prompt_cache_breakpoint"):
                    continue
                self.add_strings(v, (*p, k), role, f"{label}.{k}")
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                self.add_strings(v, (*p, i), role, f"{label}[{i}]")

    def tools(self, tools: Any) -> None:
        if not isinstance(tools, list):
            return
        doc = self.doc
        doc.tools_location = self.loc(("tools",)) or (self.loc(("tools", 0, "name"))
                                                      if tools else None)
        for i, tool in enumerate(tools):
            name = None
            if isinstance(tool, dict):
                name = tool.get("name") or (tool.get("function") or {}).get("name")
            doc.tool_names.append(str(name) if name else f"#{i}")
            self.add_strings(tool, ("tools", i), "tools", f"tools[{i}]")
            doc.segments.append(Segment("tools", f"tools[{i}]" + (f" ({name})" if name else ""),
                                        _compact(tool), _has_cc(tool),
                                        self.loc(("tools", i, "name"))))

    def system(self, system: Any) -> None:
        doc = self.doc
        if isinstance(system, str):
            self.add_strings(system, ("system",), "system", "system")
            doc.segments.append(Segment("system", "system", system, False,
                                        self.loc(("system",))))
        elif isinstance(system, list):
            for i, blk in enumerate(system):
                self.add_strings(blk, ("system", i), "system", f"system[{i}]")
                t = _text_of(blk)
                doc.segments.append(Segment("system", f"system[{i}]",
                                            t if t is not None else _compact(blk),
                                            _has_cc(blk),
                                            self.loc(("system", i, "text"))
                                            or self.loc(("system", i))))

    def messages(self, key: str, msgs: Any) -> None:
        """Messages (or Responses ``input`` items); leading system/developer messages are
        the shared prefix, so their strings are audited like the system prompt's."""
        if isinstance(msgs, str):
            self.doc.segments.append(Segment("user", key, msgs, False, self.loc((key,))))
            return
        leading = True
        for i, msg in enumerate(msgs or []):
            if not isinstance(msg, dict):
                continue
            role = str(msg.get("role") or "user")
            shared = leading and role in ("system", "developer")
            leading = leading and shared
            seg_role = "system" if role in ("system", "developer") else (
                role if role in ("user", "assistant", "tool") else "user")
            if shared:
                self.add_strings(msg.get("content"), (key, i, "content"), "system",
                                 f"{key}[{i}].content")
            self.message(key, i, msg, seg_role)

    def message(self, key: str, i: int, msg: dict[str, Any], seg_role: str) -> None:
        content = msg.get("content")
        if isinstance(content, list):
            for j, part in enumerate(content):
                t = _text_of(part)
                self.doc.segments.append(Segment(
                    seg_role, f"{key}[{i}].content[{j}]", t if t is not None else _compact(part),
                    _has_cc(part), self.loc((key, i, "content", j, "text"))
                    or self.loc((key, i))))
        else:
            t = _text_of(content) if content is not None else None
            self.doc.segments.append(Segment(seg_role, f"{key}[{i}]",
                                             t if t is not None else _compact(msg),
                                             _has_cc(msg), self.loc((key, i, "content"))
                                             or self.loc((key, i))))


def _json_doc(path: str, text: str) -> PromptDoc | None:
    jp = _JsonPos(text)
    body = jp.parse()
    if not is_request_body(body):
        return None

    def offsets_of(p: Path_t) -> list[int] | None:
        span = jp.strings.get(p)
        if span is None:
            return None
        return json_string_offsets(text[span[0]: span[1]], span[0])

    objs = [(p, keys, off) for p, (off, keys) in jp.objects.items()]
    return _body_doc(path, "json", text, body, offsets_of, objs)


def _yaml_doc(path: str, text: str) -> PromptDoc | None:
    body, strings, objects = _yaml_positions(text)
    if not is_request_body(body):
        return None
    objs = [(p, [k.value for k, _ in node.value], node.start_mark.index)
            for p, node in objects.items()]
    return _body_doc(path, "yaml", text, body, strings.get, objs)


# ----------------------------------------------------------------------------- Python


_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b", "f": "\f", "n": "\n",
            "r": "\r", "t": "\t", "v": "\v"}


def _decode_py(body: str, base: int, raw: bool) -> tuple[str, list[int]]:
    """Decode a Python string literal body, with the file offset of each decoded char."""
    if raw:
        return body, [base + i for i in range(len(body))]
    out: list[str] = []
    offs: list[int] = []
    i, n = 0, len(body)
    while i < n:
        ch = body[i]
        if ch != "\\" or i + 1 >= n:
            out.append(ch)
            offs.append(base + i)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt == "\n":
            i += 2
            continue
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            offs.append(base + i)
            i += 2
            continue
        m = re.match(r"x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([0-7]{1,3})",
                     body[i + 1:])
        if m:
            code = int(next(g for g in m.groups() if g is not None),
                       8 if m.group(4) is not None else 16)
            out.append(chr(code))
            offs.append(base + i)
            i += 1 + m.end()
            continue
        m = re.match(r"N\{([^}]*)\}", body[i + 1:])
        if m:
            import unicodedata

            try:
                out.append(unicodedata.lookup(m.group(1)))
            except KeyError:
                out.append("?")
            offs.append(base + i)
            i += 1 + m.end()
            continue
        out.append("\\")
        offs.append(base + i)
        i += 1
    return "".join(out), offs


_STR_START = re.compile(r"([rRbBuUfF]{0,2})('''|\"\"\"|'|\")")


def _scan_literals(src: str, start: int, end: int) -> tuple[str, list[int], bool]:
    """Concatenate the string literals between ``start`` and ``end`` of ``src`` (implicit
    concatenation and ``+``), skipping everything else. Returns text, offsets, is_fstring."""
    text: list[str] = []
    offs: list[int] = []
    fstring = False
    i = start
    while i < end:
        m = _STR_START.match(src, i)
        if m and (m.start() == 0 or not (src[m.start() - 1].isalnum()
                                         or src[m.start() - 1] == "_")):
            prefix, quote = m.group(1).lower(), m.group(2)
            if "b" in prefix:
                raise InputError("bytes literal, not a string")
            body_start = m.end()
            j = body_start
            while True:
                k = src.find(quote, j)
                if k < 0:
                    raise InputError("unterminated string literal")
                bs = 0
                p = k - 1
                while p >= body_start and src[p] == "\\":
                    bs += 1
                    p -= 1
                if bs % 2 == 0:
                    break
                j = k + 1
            body = src[body_start:k]
            t, o = _decode_py(body, body_start, "r" in prefix)
            text.append(t)
            offs.extend(o)
            fstring = fstring or "f" in prefix
            i = k + len(quote)
            continue
        if src[i] == "#":
            nl = src.find("\n", i)
            i = end if nl < 0 else nl
            continue
        i += 1
    return "".join(text), offs, fstring


def _find_symbol(tree: ast.Module, symbol: str) -> ast.expr | None:
    parts = symbol.split(".")
    body: list[ast.stmt] = tree.body
    for n, part in enumerate(parts):
        last = n == len(parts) - 1
        found: ast.expr | None = None
        nxt: list[ast.stmt] | None = None
        for stmt in body:
            if last:
                if isinstance(stmt, ast.Assign):
                    for tgt in stmt.targets:
                        if isinstance(tgt, ast.Name) and tgt.id == part:
                            found = stmt.value
                elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                    if isinstance(stmt.target, ast.Name) and stmt.target.id == part:
                        found = stmt.value
            elif isinstance(stmt, (ast.ClassDef, ast.FunctionDef)) and stmt.name == part:
                nxt = stmt.body
        if last:
            return found
        if nxt is None:
            return None
        body = nxt
    return None


def _unwrap(node: ast.expr) -> tuple[ast.expr, bool]:
    """Strip dedent()/cleandoc()/.strip()/.format() wrappers; bool: a .format() template."""
    fmt = False
    while isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr in ("strip", "lstrip", "rstrip", "format",
                                                      "format_map"):
            fmt = fmt or f.attr.startswith("format")
            node = f.value
        elif ((isinstance(f, ast.Name) and f.id in ("dedent", "cleandoc"))
              or (isinstance(f, ast.Attribute) and f.attr in ("dedent", "cleandoc"))) and node.args:
            node = node.args[0]
        else:
            break
    return node, fmt


def _python_doc(path: str, text: str, symbol: str) -> PromptDoc:
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise InputError(f"not valid Python (line {exc.lineno}): {exc.msg}", path) from None
    node = _find_symbol(tree, symbol)
    if node is None:
        raise InputError(f"no assignment to {symbol!r} at module or class level", path)
    node, fmt = _unwrap(node)
    ok = isinstance(node, (ast.Constant, ast.JoinedStr, ast.BinOp)) and not (
        isinstance(node, ast.Constant) and not isinstance(node.value, str))
    if not ok or node.end_lineno is None or node.end_col_offset is None:
        raise InputError(f"{symbol!r} is not a string constant", path)
    lines = LineIndex(text)
    src_lines = text.splitlines(keepends=True)

    def off(lineno: int, col_bytes: int) -> int:
        line = src_lines[lineno - 1] if lineno - 1 < len(src_lines) else ""
        col = len(line.encode("utf-8")[:col_bytes].decode("utf-8", "replace"))
        return lines.starts[lineno - 1] + col

    start = off(node.lineno, node.col_offset)
    end = off(node.end_lineno, node.end_col_offset)
    s, offs, fstring = _scan_literals(text, start, end)
    style = "fstring" if fstring else ("format" if fmt else template_style(s))
    if style == "jinja" and fstring:
        style = "fstring"
    doc = PromptDoc(path=path, kind="python", text=text, lines=lines,
                    blocks=[Block("text", symbol, s, style, offs, lines)])
    return doc


# ------------------------------------------------------------------------------ entry


def read_text_file(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", str(path)) from None
    if b"\x00" in data[:4096]:
        raise InputError("binary file, not a prompt", str(path))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", str(path)) from None


def text_doc(path: str, text: str, in_memory: bool = False) -> PromptDoc:
    """A plain-text prompt. ``in_memory``: a string, not a file (no final-newline/BOM rules)."""
    lines = LineIndex(text)
    blk = Block("text", "file", text, template_style(text), None, lines,
                whole_file=not in_memory)
    return PromptDoc(path=path, kind="text", text=text, blocks=[blk], lines=lines)


def load_doc(path: str, text: str, symbol: str | None = None) -> PromptDoc:
    """Parse one prompt input (see the module docstring)."""
    low = path.lower()
    if symbol is not None:
        return _python_doc(path, text, symbol)
    stripped = text.lstrip("\ufeff \t\r\n")
    if low.endswith(".json") or (stripped.startswith("{") and not low.endswith(TEXT_SUFFIXES)):
        try:
            doc = _json_doc(path, text.lstrip("\ufeff"))
        except InputError as exc:
            if low.endswith(".json"):
                raise InputError(exc.reason, path) from None
            doc = None
        if doc is not None:
            return doc
        if low.endswith(".json"):
            raise InputError("JSON but not a request body (no system, messages, input or "
                             "instructions) nor a trace", path)
    if low.endswith((".yaml", ".yml")):
        try:
            doc = _yaml_doc(path, text)
        except InputError as exc:
            raise InputError(exc.reason, path) from None
        if doc is not None:
            return doc
    if low.endswith(".py"):
        raise InputError("a Python file needs --symbol NAME (the string constant to audit)",
                         path)
    return text_doc(path, text)
