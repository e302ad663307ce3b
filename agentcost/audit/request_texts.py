"""The request texts of the trace audit's calls, read back from their source files (agentcost
JSONL ``request`` bodies, raw request logs): a block's text is kept only where its fingerprint
matches the segment's hash, so a changed block can be shown with before/after excerpts.
"""

from __future__ import annotations

import json
from typing import Any

from agentcost.audit.calls import Call


def _request_of(obj: Any) -> dict[str, Any] | None:
    if not isinstance(obj, dict):
        return None
    req = obj.get("request", obj.get("request_body"))
    if isinstance(req, str):
        try:
            req = json.loads(req)
        except (ValueError, RecursionError):  # not JSON, or nested too deeply
            return None
    if isinstance(req, dict) and not any(k in req for k in ("messages", "input", "system")) \
            and "body" in req:
        body = req["body"]
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except (ValueError, RecursionError):
                return None
        req = body
    return req if isinstance(req, dict) else None


def _block_texts(body: dict[str, Any]) -> list[tuple[Any, str]]:
    """(block as the segments module hashes it, text for comparison), in segment order."""
    out: list[tuple[Any, str]] = []

    def text_of(block: Any) -> str:
        if isinstance(block, str):
            return block
        if isinstance(block, dict):
            if isinstance(block.get("text"), str) and block.get("type") in (None, "text",
                                                                            "input_text"):
                return str(block["text"])
            content = block.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list) and all(
                    isinstance(p, dict) and isinstance(p.get("text"), str) for p in content):
                return "\n".join(str(p["text"]) for p in content)
        return json.dumps(block, ensure_ascii=False)

    for tool in body.get("tools") or []:
        out.append((tool, json.dumps(tool, ensure_ascii=False)))
    system = body.get("system")
    if isinstance(system, str) and system:
        out.append((system, system))
    elif isinstance(system, list):
        for blk in system:
            out.append((blk, text_of(blk)))
    instructions = body.get("instructions")
    if isinstance(instructions, str) and instructions:
        out.append((instructions, instructions))
    messages = body.get("messages")
    if messages is None:
        inp = body.get("input")
        messages = [{"role": "user", "content": inp}] if isinstance(inp, str) else (inp or [])
    out.extend(_message_texts(messages, text_of))
    return out


def _message_texts(messages: Any, text_of: Any) -> list[tuple[Any, str]]:
    """(block, text) per message segment, split as the segments module splits them: each
    Anthropic tool result alone, the message's other blocks together."""
    from agentcost.ingest.segments import tool_result_parts

    out: list[tuple[Any, str]] = []
    for msg in messages:
        if not isinstance(msg, dict):
            continue
        parts = tool_result_parts(msg)
        if parts is None:
            out.append((msg, text_of(msg)))
            continue
        for role, part in parts:
            out.append((part, text_of(part) if role == "tool"
                        else "\n".join(text_of(b) for b in part)))
    return out


def attach_texts(calls: list[Call]) -> int:
    """Read request bodies back from the source files (agentcost JSONL ``request``, raw logs);
    keep a block's text only where its hash matches the segment. Returns calls with text."""
    from pathlib import Path

    import orjson

    from agentcost.ingest import segments as segmod
    from agentcost.ingest.base import Source

    by_file: dict[str, dict[int, list[Call]]] = {}
    for c in calls:
        if c.source and c.line:
            by_file.setdefault(c.source, {}).setdefault(c.line, []).append(c)
    n = 0
    for src, wanted in by_file.items():
        p = Path(src)
        if not p.is_file():
            continue
        try:
            for lineno, raw in Source(name=src, path=p).lines():
                cs = wanted.get(lineno)
                if not cs:
                    continue
                try:
                    body = _request_of(orjson.loads(raw))
                except ValueError:
                    continue
                if body is None:
                    continue
                blocks = _block_texts(body)
                for c in cs:
                    if len(blocks) != c.n:
                        continue
                    texts: list[str | None] = []
                    for (blk, text), seg in zip(blocks, c.segs, strict=True):
                        h = segmod.block_hash(blk)  # same fingerprint as ingest
                        texts.append(text if h == seg.get("hash") else None)
                    c.texts = texts
                    n += 1
        except Exception:  # text is a bonus: never fail the audit over it
            continue
    return n


def clip(s: str) -> str:
    return s.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
