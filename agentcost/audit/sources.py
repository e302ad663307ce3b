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

This module picks the reader; the document types are in :mod:`agentcost.audit.document`, the
request-body reader in :mod:`agentcost.audit.body` (positions from
:mod:`agentcost.audit.positions`), the Python reader in :mod:`agentcost.audit.pysource`.
"""

from __future__ import annotations

from pathlib import Path

from agentcost.audit.body import json_doc, yaml_doc
from agentcost.audit.document import Block, LineIndex, PromptDoc, template_style
from agentcost.audit.pysource import python_doc
from agentcost.errors import InputError

TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".prompt", ".j2", ".jinja", ".jinja2", ".tmpl",
                 ".tpl", ".mustache", ".hbs", ".rst")


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
        return python_doc(path, text, symbol)
    stripped = text.lstrip("\ufeff \t\r\n")
    if low.endswith(".json") or (stripped.startswith("{") and not low.endswith(TEXT_SUFFIXES)):
        try:
            doc = json_doc(path, text.lstrip("\ufeff"))
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
            doc = yaml_doc(path, text)
        except InputError as exc:
            raise InputError(exc.reason, path) from None
        if doc is not None:
            return doc
    if low.endswith(".py"):
        raise InputError("a Python file needs --symbol NAME (the string constant to audit)",
                         path)
    return text_doc(path, text)
