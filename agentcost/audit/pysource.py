"""A Python file's string constant (``--symbol NAME``) as a
:class:`~agentcost.audit.document.PromptDoc`: the literal (implicitly concatenated or
``+``-joined, an f-string, or wrapped in ``textwrap.dedent``/``inspect.cleandoc``/``.strip()``/
``.format()``) decoded, with the file offset of each character.
"""

from __future__ import annotations

import ast
import re

from agentcost.audit.document import Block, LineIndex, PromptDoc, closing_quote, template_style
from agentcost.errors import InputError

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
            k = closing_quote(src, quote, body_start)
            if k < 0:
                raise InputError("unterminated string literal")
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


def python_doc(path: str, text: str, symbol: str) -> PromptDoc:
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
