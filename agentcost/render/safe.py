"""Terminal safety for text that comes from a trace (task ids, model and tool names, messages,
file names): no control character from the input reaches the terminal.

* :func:`printable` replaces C0 controls (except newline and tab), DEL, C1 controls and the
  bidirectional overrides with visible escapes (``\\x1b``, ``\\x9b``, ``\\u202e``): an ANSI
  sequence in a model name prints as text and cannot recolour, retitle or clear the terminal.
* :func:`markup` is :func:`printable` plus ``rich.markup.escape``, for anything a rich console
  prints.
* :func:`json_text` makes orjson output terminal-safe without changing what it decodes to:
  orjson escapes C0 itself; DEL, C1 and the overrides become ``\\u007f``-style escapes.
"""

from __future__ import annotations

import re
from typing import Any

# C0 except \t and \n, DEL, C1, and the bidi embeddings/overrides/isolates (U+202A-E, U+2066-9)
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# the same without C0: what orjson leaves unescaped inside JSON strings
_UNSAFE_JSON = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def printable(v: Any) -> str:
    """``str(v)`` (``""`` for None) with every control character shown as an escape."""
    s = "" if v is None else str(v)
    return _UNSAFE.sub(_visible, s) if _UNSAFE.search(s) else s


def markup(v: Any) -> str:
    """:func:`printable`, escaped for rich markup."""
    from rich.markup import escape

    return escape(printable(v))


def json_text(text: str) -> str:
    """orjson output with DEL, C1 and bidi controls as JSON ``\\uXXXX`` escapes (lossless: they
    only occur inside strings)."""
    if not _UNSAFE_JSON.search(text):
        return text
    return _UNSAFE_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(v: Any, raw: bool = False) -> Any:
    """A CSV cell that a spreadsheet will not run as a formula: text starting with ``= + - @``
    (or a tab or carriage return) gets a leading ``'`` (OWASP's CSV-injection advice, as
    spreadsheet-safe CSV writers do). Numbers stay numbers; ``raw`` turns this off."""
    if raw or not isinstance(v, str) or not v.startswith(_FORMULA):
        return v
    return "'" + v
