"""Derive ``segments`` (DESIGN.md §2) from a request body.

A segment is one block of the prompt in the order the provider hashes it for caching:
each tool definition (role ``tools``), each system block (``system``), each message (its role;
OpenAI ``developer`` counts as ``system``, ``function_call_output`` items as ``tool``).
Each is ``{"role", "tokens", "hash"}`` plus ``"breakpoint": True`` where the block carries an
Anthropic ``cache_control`` marker (the request's top-level ``cache_control`` marks the last
block). A tool definition names its tool (``name``); a tool result names its tool (``name``,
from the assistant message that requested it) and its call (``call_id``). An Anthropic user
message that holds ``tool_result`` blocks is split: each result is a ``tool`` segment of its
own, the message's other blocks stay ``user`` segments in place. ``hash`` is a SHA-1 prefix of the block's canonical JSON: equal hashes mean identical
bytes as far as caching is concerned. Text is never kept.

Token counts per block are an estimate (canonical-JSON characters / 4, at least 1) scaled so
that the segments add up to the call's reported ``input_tokens`` when that is known; the
estimate only decides how the reported total is split between blocks.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from agentcost.ingest.common import as_list

CHARS_PER_TOKEN = 4.0


def _canon(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def _fp(obj: Any) -> str:
    # Hash the bytes as sent (key order included) — a reordering is a real cache break.
    data = orjson.dumps(obj) if not isinstance(obj, (bytes, str)) else (
        obj.encode() if isinstance(obj, str) else obj)
    return hashlib.sha1(data).hexdigest()[:16]


def _est(obj: Any) -> int:
    if isinstance(obj, str):
        n = len(obj)
    else:
        n = len(_canon(obj))
    return max(1, round(n / CHARS_PER_TOKEN))


def _has_cc(block: Any) -> bool:
    if isinstance(block, dict):
        if block.get("cache_control"):
            return True
        content = block.get("content")
        if isinstance(content, list):
            return any(isinstance(c, dict) and c.get("cache_control") for c in content)
    return False


def _strip_cc(obj: Any) -> Any:
    """The block without its cache_control markers (a moved breakpoint does not change bytes
    the cache hashes)."""
    if isinstance(obj, dict):
        return {k: _strip_cc(v) for k, v in obj.items() if k != "cache_control"}
    if isinstance(obj, list):
        return [_strip_cc(v) for v in obj]
    return obj


def block_hash(block: Any) -> str:
    """The ``hash`` a segment of ``block`` carries (its bytes without cache markers)."""
    return _fp(_strip_cc(block))


def is_request_body(body: Any) -> bool:
    return isinstance(body, dict) and any(k in body for k in ("messages", "input", "system"))


def _tool_name(tool: Any) -> str | None:
    """Name of a tool definition (Anthropic / Responses ``name``, Chat ``function.name``)."""
    if not isinstance(tool, dict):
        return None
    fn = tool.get("function")
    name = fn.get("name") if isinstance(fn, dict) else tool.get("name")
    return name if isinstance(name, str) and name else None


def _requested(msg: dict[str, Any], names: dict[str, str]) -> None:
    """Record the tool calls an assistant message (or Responses item) makes: id -> name."""
    if msg.get("type") in ("function_call", "custom_tool_call"):
        cid, name = msg.get("call_id"), msg.get("name")
        if isinstance(cid, str) and isinstance(name, str):
            names[cid] = name
    for tc in as_list(msg.get("tool_calls")):
        if isinstance(tc, dict) and isinstance(tc.get("id"), str):
            name = _tool_name(tc)
            if name:
                names[tc["id"]] = name
    content = msg.get("content")
    if isinstance(content, list):
        for b in content:
            if isinstance(b, dict) and b.get("type") == "tool_use" and isinstance(
                    b.get("id"), str) and isinstance(b.get("name"), str):
                names[b["id"]] = b["name"]


def tool_result_parts(msg: dict[str, Any]) -> list[tuple[str, Any]] | None:
    """An Anthropic user message with ``tool_result`` blocks as (role, part) pairs in order:
    each result alone, runs of other blocks together; ``None`` for any other message."""
    content = msg.get("content")
    if msg.get("role") != "user" or not isinstance(content, list) or not any(
            isinstance(b, dict) and b.get("type") == "tool_result" for b in content):
        return None
    parts: list[tuple[str, Any]] = []
    run: list[Any] = []
    for b in content:
        if isinstance(b, dict) and b.get("type") == "tool_result":
            if run:
                parts.append(("user", run))
                run = []
            parts.append(("tool", b))
        else:
            run.append(b)
    if run:
        parts.append(("user", run))
    return parts


def _message_role(msg: dict[str, Any]) -> str:
    role = msg.get("role") or ""
    t = msg.get("type")
    if t in ("function_call_output", "custom_tool_call_output"):
        role = "tool"
    elif t in ("function_call", "reasoning", "custom_tool_call"):
        role = "assistant"
    if role == "developer":
        role = "system"
    return role if role in ("system", "user", "assistant", "tool") else "user"


def _call_id(block: dict[str, Any]) -> str | None:
    for k in ("tool_use_id", "tool_call_id", "call_id"):
        v = block.get(k)
        if isinstance(v, str) and v:
            return v
    return None


def _segment(role: str, block: Any, bp: bool = False, name: str | None = None,
             call_id: str | None = None) -> dict[str, Any]:
    """One segment of ``block``: role, estimated tokens, hash (cache markers left out)."""
    clean = _strip_cc(block)
    seg: dict[str, Any] = {"role": role, "tokens": _est(clean), "hash": _fp(clean)}
    if bp:
        seg["breakpoint"] = True
    if name:
        seg["name"] = name
    if call_id:
        seg["call_id"] = call_id
    return seg


def _preamble_segments(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Tool definitions, system blocks and Responses ``instructions``, in that order."""
    segs = [_segment("tools", tool, _has_cc(tool), _tool_name(tool))
            for tool in as_list(body.get("tools"))]
    system = body.get("system")
    if isinstance(system, str) and system:
        segs.append(_segment("system", system))
    elif isinstance(system, list):
        segs += [_segment("system", blk, _has_cc(blk)) for blk in system]
    instructions = body.get("instructions")
    if isinstance(instructions, str) and instructions:
        segs.append(_segment("system", instructions))
    return segs


def _message_segments(msg: dict[str, Any], names: dict[str, str]) -> list[dict[str, Any]]:
    """The segments of one message (a user message with tool results split into parts);
    ``names`` (tool call id -> tool name) grows with the calls an assistant message makes."""
    role = _message_role(msg)
    if role == "assistant":
        _requested(msg, names)
    parts = tool_result_parts(msg)
    if parts is not None:
        out = []
        for prole, part in parts:
            if prole == "tool":
                cid = _call_id(part)
                out.append(_segment("tool", part, _has_cc(part), names.get(cid or ""), cid))
            else:
                out.append(_segment("user", part, any(_has_cc(b) for b in part)))
        return out
    if role == "tool":
        cid = _call_id(msg)
        own = msg.get("name")
        return [_segment(role, msg, _has_cc(msg),
                         names.get(cid or "") or (own if isinstance(own, str) else None), cid)]
    return [_segment(role, msg, _has_cc(msg))]


def from_request(body: dict[str, Any], input_tokens: int | None = None) -> list[dict[str, Any]]:
    """Segments of an Anthropic Messages, OpenAI Chat or OpenAI Responses request body."""
    segs = _preamble_segments(body)
    names: dict[str, str] = {}  # tool call id -> tool name, from the assistant messages
    messages = body.get("messages")
    if messages is None:
        inp = body.get("input")
        messages = [{"role": "user", "content": inp}] if isinstance(inp, str) else inp
    for msg in as_list(messages):
        if isinstance(msg, dict):
            segs += _message_segments(msg, names)
    if body.get("cache_control") and segs:
        segs[-1]["breakpoint"] = True
    if input_tokens and segs:
        scale_to(segs, input_tokens)
    return segs


def scale_to(segs: list[dict[str, Any]], total: int) -> None:
    """Rescale segment token counts so they add up to ``total`` (largest remainder)."""
    est = sum(s["tokens"] for s in segs)
    if est <= 0:
        return
    raw = [s["tokens"] * total / est for s in segs]
    floors = [int(r) for r in raw]
    rest = total - sum(floors)
    order = sorted(range(len(segs)), key=lambda i: raw[i] - floors[i], reverse=True)
    for i in order[:rest]:
        floors[i] += 1
    for s, v in zip(segs, floors, strict=True):
        s["tokens"] = v


def validate_segments(segs: Any) -> str | None:
    """Reason why a user-given ``segments`` value is unusable, or ``None``."""
    if not isinstance(segs, list):
        return "segments must be a list"
    for i, s in enumerate(segs):
        if not isinstance(s, dict):
            return f"segments[{i}] must be an object"
        if s.get("role") not in ("tools", "system", "user", "assistant", "tool"):
            return f"segments[{i}].role must be one of tools, system, user, assistant, tool"
        tok = s.get("tokens")
        if isinstance(tok, bool) or not isinstance(tok, int) or tok < 0:
            return f"segments[{i}].tokens must be a non-negative integer"
        if not isinstance(s.get("hash"), str):
            return f"segments[{i}].hash must be a string"
        for k in ("name", "call_id"):
            if s.get(k) is not None and not isinstance(s.get(k), str):
                return f"segments[{i}].{k} must be a string"
    return None


class SegmentPool:
    """One shared dict per distinct segment across the calls of a read.

    An agent loop re-sends every earlier message with each call, and tool definitions and
    system prompts repeat across tasks, so most of a trace's segments are copies of a few: a
    call's list then holds references to the shared dicts instead of copies of its own (on the
    simulate bench's agent loop, 3.5x fewer dicts). Two segments are shared
    only when they have the same keys in the same order and equal values of the same types, so
    every consumer (and every export) sees exactly what the reader built. Nothing may change a
    segment dict once it is shared.
    """

    CANDIDATES = 8  # distinct segments kept per hash (a block scaled to different sizes)
    VALUES = ("role", "tokens", "name")  # values repeated across distinct segments

    def __init__(self) -> None:
        self._by_hash: dict[Any, list[dict[str, Any]]] = {}
        self._strs: dict[str, str] = {}
        self._ints: dict[int, int] = {}

    def _join(self, s: dict[str, Any]) -> None:
        """A segment new to the pool keeps one shared object per repeated value (a role is one
        of five words; a token count or a tool name recurs across messages)."""
        for k in self.VALUES:
            v = s.get(k)
            if type(v) is str:
                s[k] = self._strs.setdefault(v, v)
            elif type(v) is int:
                s[k] = self._ints.setdefault(v, v)

    def share(self, segs: list[Any]) -> list[Any]:
        """``segs`` with each segment replaced by the pool's equal one (the list is changed in
        place and returned); a segment not seen before joins the pool when it has only the
        usual keys and value types (see :func:`_plain`)."""
        by_hash = self._by_hash
        for i, s in enumerate(segs):
            if type(s) is not dict:
                continue
            h = s.get("hash")
            try:
                cands = by_hash.get(h)
            except TypeError:  # an unhashable hash (not from a reader) stays as given
                continue
            if cands is not None:
                for c in cands:  # c is plain (see _plain): equal values, then the types
                    if c is s or (c == s and list(c) == list(s)
                                  and type(s.get("tokens", 0)) is int
                                  and s.get("breakpoint", True) is True):
                        segs[i] = c
                        break
                else:
                    if len(cands) < self.CANDIDATES and _plain(s):
                        self._join(s)
                        cands.append(s)
            elif _plain(s):
                self._join(s)
                by_hash[h] = [s]
        return segs


_TEXT_KEYS = frozenset(("role", "hash", "name", "call_id"))


def _plain(s: dict[str, Any]) -> bool:
    """Whether a segment may be pooled: only the keys a reader writes, text where text goes,
    ``tokens`` an int and ``breakpoint`` exactly ``True``. A dict equal to such a segment is
    then an exact copy once its ``tokens`` is an int and its ``breakpoint`` (if any) ``True``
    (``==`` alone takes ``1`` for ``True`` and ``1.0`` for ``1``)."""
    for k, v in s.items():
        if k in _TEXT_KEYS:
            if type(v) is not str:
                return False
        elif not ((k == "tokens" and type(v) is int) or (k == "breakpoint" and v is True)):
            return False
    return True
