"""A JSON or YAML request body (Anthropic Messages, OpenAI Chat Completions or Responses) as a
:class:`~agentcost.audit.document.PromptDoc`: one block per string inside ``tools`` and the system
prompt, and every part as a segment in request order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from agentcost.audit.document import Block, LineIndex, Path_t, PromptDoc, Segment, template_style
from agentcost.audit.positions import JsonPositions, json_string_offsets, yaml_positions


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


def json_doc(path: str, text: str) -> PromptDoc | None:
    jp = JsonPositions(text)
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


def yaml_doc(path: str, text: str) -> PromptDoc | None:
    body, strings, objects = yaml_positions(text)
    if not is_request_body(body):
        return None
    objs = [(p, [k.value for k, _ in node.value], node.start_mark.index)
            for p, node in objects.items()]
    return _body_doc(path, "yaml", text, body, strings.get, objs)
