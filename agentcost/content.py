"""Prompt and response excerpts of chosen llm steps, read back from the trace files on request.

The step table never holds prompt text. ``agentcost report --with-content`` (and only it)
wants a few excerpts for the steps it draws: each step knows its ``source`` file and ``line``,
so those lines are read again — each file once, only up to the last line needed — and the text
is taken from them by format:

* ``claude-code``: the response's text blocks (all lines of the streamed response, which share
  ``message.id``) and its tool calls; the prompt is the last user text or tool result written
  before it.
* ``raw``: the request's last message (or Responses ``input`` item) and the response's text.
* ``agentcost``: the ``request`` body's last message, when the line carries one.

Other formats (OTel spans, exports) give no excerpt; the step is left without one. Excerpts are
cut to ``max_chars`` and are plain text (control characters are removed by the report's
cleaning, as for every other string).
"""

from __future__ import annotations

import gzip
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

FORMATS = ("claude-code", "raw", "agentcost")


@dataclass(frozen=True)
class Excerpt:
    prompt: str | None
    response: str | None


def excerpts(steps: Iterable[tuple[str, int, str]], max_chars: int = 400
             ) -> dict[tuple[str, int], Excerpt]:
    """``{(source, line): Excerpt}`` for the ``(source, line, format)`` steps that can have
    one; unreadable files and lines are skipped (the report already read them once)."""
    wanted: dict[tuple[str, str], set[int]] = {}
    for source, line, fmt in steps:
        if fmt in FORMATS and line:
            wanted.setdefault((source, fmt), set()).add(int(line))
    out: dict[tuple[str, int], Excerpt] = {}
    for (source, fmt), lines in wanted.items():
        try:
            found = _claude_code(source, lines) if fmt == "claude-code" else _by_line(
                source, lines, fmt)
        except (OSError, EOFError, ValueError):
            continue
        for line, ex in found.items():
            out[(source, line)] = Excerpt(_cut(ex.prompt, max_chars), _cut(ex.response, max_chars))
    return out


def _cut(text: str | None, n: int) -> str | None:
    if not text:
        return None
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _lines(source: str, last: int) -> Iterator[tuple[int, Any]]:
    """(line number, decoded object or None) up to ``last``."""
    path = Path(source)
    raw = path.open("rb")
    with raw:
        fh = gzip.open(raw) if raw.read(2) == b"\x1f\x8b" else raw
        raw.seek(0) if fh is raw else None
        for n, line in enumerate(fh, 1):
            if n > last:
                return
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                obj = None
            yield n, obj


def _text(content: Any) -> str | None:
    """Plain text of a message content: a string, or its text / tool-result blocks."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return None
    parts: list[str] = []
    for b in content:
        if isinstance(b, str):
            parts.append(b)
        elif isinstance(b, dict):
            if isinstance(b.get("text"), str) and b.get("type") in ("text", "input_text",
                                                                      "output_text", None):
                parts.append(b["text"])
            elif b.get("type") == "tool_result":
                parts.append(_text(b.get("content")) or "")
            elif b.get("type") == "tool_use" and isinstance(b.get("name"), str):
                parts.append(f"[tool call: {b['name']}]")
    return "\n".join(p for p in parts if p) or None


def _claude_code(source: str, lines: set[int]) -> dict[int, Excerpt]:
    out: dict[int, Excerpt] = {}
    prompt: str | None = None
    texts: dict[str, list[str]] = {}
    recent: deque[str] = deque(maxlen=64)  # message ids whose text blocks are kept
    asked: dict[str, str | None] = {}  # message id -> the prompt before its first line
    for n, obj in _lines(source, max(lines)):
        if not isinstance(obj, dict) or not isinstance(obj.get("message"), dict):
            continue
        msg = obj["message"]
        if obj.get("type") == "user":
            prompt = _text(msg.get("content")) or prompt
            continue
        mid = msg.get("id") if isinstance(msg.get("id"), str) else f"line:{n}"
        if mid not in texts:
            if len(recent) == recent.maxlen:
                old = recent.popleft()
                texts.pop(old, None)
                asked.pop(old, None)
            recent.append(mid)
            texts[mid] = []
            asked[mid] = prompt
        t = _text(msg.get("content"))
        if t:
            texts[mid].append(t)
        if n in lines:
            out[n] = Excerpt(asked.get(mid), "\n".join(texts[mid]) or None)
    return out


def _by_line(source: str, lines: set[int], fmt: str) -> dict[int, Excerpt]:
    out: dict[int, Excerpt] = {}
    for n, obj in _lines(source, max(lines)):
        if n in lines and isinstance(obj, dict):
            req = obj.get("request") or obj.get("request_body")
            resp = (obj.get("response") or obj.get("response_body") or obj.get("response_sse")
                    if fmt == "raw" else None)
            out[n] = Excerpt(_last_message(req), _response_text(resp))
    return out


def _decoded(v: Any) -> Any:
    """``v``, or the JSON a string holds (``None`` when it holds none)."""
    if not isinstance(v, str):
        return v
    try:
        return orjson.loads(v)
    except orjson.JSONDecodeError:
        return None


def _last_message(req: Any) -> str | None:
    req = _decoded(req)
    if not isinstance(req, dict):
        return None
    msgs = req.get("messages") if isinstance(req.get("messages"), list) else req.get("input")
    if isinstance(msgs, str):
        return msgs
    if isinstance(msgs, list) and msgs and isinstance(msgs[-1], dict):
        last = msgs[-1]
        return _text(last.get("content")) or (str(last["output"]) if "output" in last else None)
    return None


def _stream_text(sse: str) -> str | None:
    """The text a streamed response (SSE) carried: Anthropic ``text_delta``s, Chat
    Completions ``delta.content`` and Responses ``output_text`` deltas, in order."""
    from agentcost.ingest.raw_provider import parse_sse

    parts: list[str] = []
    for _name, d in parse_sse(sse):
        if isinstance(d, dict):
            parts += _event_text(d)
    return "".join(parts) or None


def _event_text(d: dict[str, Any]) -> list[str]:
    """Text and tool-call names one stream event adds."""
    t, delta = d.get("type"), d.get("delta")
    if t == "content_block_delta" and isinstance(delta, dict) \
            and isinstance(delta.get("text"), str):
        return [delta["text"]]
    if t == "content_block_start" and isinstance(d.get("content_block"), dict):
        name = d["content_block"].get("name")
        return [f" [tool call: {name}]"] if isinstance(name, str) else []
    if t == "response.output_text.delta" and isinstance(delta, str):
        return [delta]
    if t == "response.output_item.added" and isinstance(d.get("item"), dict):
        name = d["item"].get("name")
        return [f" [tool call: {name}]"] if isinstance(name, str) else []
    out: list[str] = []
    for ch in d.get("choices") or []:
        dd = ch.get("delta") if isinstance(ch, dict) else None
        if isinstance(dd, dict) and isinstance(dd.get("content"), str):
            out.append(dd["content"])
        for tc in (dd or {}).get("tool_calls") or []:
            fn = tc.get("function") if isinstance(tc, dict) else None
            if isinstance(fn, dict) and isinstance(fn.get("name"), str):
                out.append(f" [tool call: {fn['name']}]")
    return out


def _response_text(resp: Any) -> str | None:
    if isinstance(resp, str):
        body = _decoded(resp)
        if body is None:
            return _stream_text(resp)
        resp = body
    if not isinstance(resp, dict):
        return None
    if isinstance(resp.get("content"), list):  # Anthropic Messages
        return _text(resp["content"])
    choices = resp.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        m = choices[0].get("message")
        if not isinstance(m, dict):
            return None
        calls = [f"[tool call: {tc['function']['name']}]" for tc in m.get("tool_calls") or []
                 if isinstance(tc, dict) and isinstance(tc.get("function"), dict)
                 and isinstance(tc["function"].get("name"), str)]
        return "\n".join(p for p in (_text(m.get("content")), *calls) if p) or None
    if isinstance(resp.get("output"), list):  # Responses
        parts = [f"[tool call: {item['name']}]" if item.get("type") == "function_call"
                 and isinstance(item.get("name"), str) else _text(item.get("content"))
                 for item in resp["output"] if isinstance(item, dict)]
        return "\n".join(p for p in parts if p) or None
    return None
