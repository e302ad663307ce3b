"""What one recorded API call said, read from the bytes on the wire (no SDK needed).

Three APIs are recognised by the request's method and path: Anthropic Messages
(``POST …/messages``), OpenAI Chat Completions (``POST …/chat/completions``) and OpenAI
Responses (``POST …/responses``). Token counting (``…/messages/count_tokens``,
``…/responses/input_tokens``), batches and every other endpoint are not model calls and are not
recorded.

From a response body (JSON) or its Server-Sent Events, :func:`read_answer` takes the ``usage``
object exactly as the provider sent it (streamed Anthropic usage: ``message_start``'s usage with
every field ``message_delta`` carries put over it, as the counts in ``message_delta`` are
cumulative; streamed Chat Completions: the final chunk's ``usage``, present only when the request
set ``stream_options.include_usage``; streamed Responses: the ``response.completed`` /
``.incomplete`` / ``.failed`` event's ``response.usage``), the served model, stop reason, service
tier, response id, and the answer itself: its text and the tool calls it requested (name and
arguments, JSON-decoded where they are JSON).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

MESSAGES = "messages"
CHAT = "chat.completions"
RESPONSES = "responses"
APIS = (MESSAGES, CHAT, RESPONSES)
PROVIDER = {MESSAGES: "anthropic", CHAT: "openai", RESPONSES: "openai"}


def api_of(method: str, path: str) -> str | None:
    """The API a request calls, or None when it is not a recorded model call."""
    if method.upper() != "POST":
        return None
    p = path.rstrip("/")
    if p.endswith("/chat/completions"):
        return CHAT
    if p.endswith("/responses"):
        return RESPONSES
    if p.endswith("/messages") and "/batches" not in p:
        return MESSAGES
    return None


@dataclass
class ToolCall:
    name: str
    arguments: Any  # decoded JSON where the provider sent JSON, else the raw string

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": self.arguments}


@dataclass
class Answer:
    """What a response said. ``None`` fields: the response did not carry them."""

    usage: dict[str, Any] | None = None
    response_model: str | None = None
    response_id: str | None = None
    stop_reason: str | None = None
    service_tier: str | None = None
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    error: dict[str, Any] | None = None
    first_content_offset: int | None = None  # byte offset of the first content event (SSE)


def sse_events(data: bytes) -> Iterator[tuple[int, str | None, Any]]:
    """``(end offset, event name, JSON data or raw string)`` for each event of an SSE body."""
    pos = 0
    text = data.replace(b"\r\n", b"\n")
    while pos < len(text):
        end = text.find(b"\n\n", pos)
        end = len(text) if end < 0 else end + 2
        name: str | None = None
        lines: list[str] = []
        for line in text[pos:end].decode("utf-8", "replace").split("\n"):
            if not line or line.startswith(":"):
                continue
            key, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if key == "event":
                name = value.strip()
            elif key == "data":
                lines.append(value)
        if lines:
            raw = "\n".join(lines)
            try:
                yield end, name, json.loads(raw)
            except ValueError:
                yield end, name, raw
        pos = end


def _args(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw) if raw.strip() else {}
        except ValueError:
            return raw
    return raw


def _d(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _l(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def read_answer(api: str, body: bytes, streamed: bool) -> Answer:
    """The answer in a response ``body`` (JSON, or SSE when ``streamed``)."""
    if not streamed:
        try:
            obj = json.loads(body) if body else None
        except ValueError:
            return Answer(error={"type": "invalid_response", "message": "not JSON"})
        return from_body(api, obj) if isinstance(obj, dict) else Answer()
    if api == MESSAGES:
        return _messages_stream(body)
    if api == CHAT:
        return _chat_stream(body)
    return _responses_stream(body)


def from_body(api: str, b: dict[str, Any]) -> Answer:
    """The answer of a non-streamed response body."""
    a = Answer(response_id=_str(b.get("id")), response_model=_str(b.get("model")))
    if isinstance(b.get("error"), dict) or b.get("type") == "error":
        err = _d(b.get("error"))
        a.error = {
            "type": _str(err.get("type")) or _str(err.get("code")) or "error",
            "message": _str(err.get("message")),
        }
    if isinstance(b.get("usage"), dict):
        a.usage = b["usage"]
    if api == MESSAGES:
        a.stop_reason = _str(b.get("stop_reason"))
        _anthropic_content(a, b.get("content"))
        a.service_tier = _str((a.usage or {}).get("service_tier"))
    elif api == CHAT:
        a.service_tier = _str(b.get("service_tier"))
        choices = _l(b.get("choices"))
        ch = choices[0] if choices and isinstance(choices[0], dict) else {}
        a.stop_reason = _str(ch.get("finish_reason"))
        msg = _d(ch.get("message"))
        a.text = _str(msg.get("content")) or ""
        for tc in msg.get("tool_calls") or []:
            fn = tc.get("function") if isinstance(tc, dict) else None
            if isinstance(fn, dict) and isinstance(fn.get("name"), str):
                a.tool_calls.append(ToolCall(fn["name"], _args(fn.get("arguments"))))
    else:
        _responses_final(a, b)
    return a


def _anthropic_content(a: Answer, content: Any) -> None:
    for blk in content if isinstance(content, list) else []:
        if not isinstance(blk, dict):
            continue
        if blk.get("type") == "text" and isinstance(blk.get("text"), str):
            a.text += blk["text"]
        elif blk.get("type") in ("tool_use", "server_tool_use", "mcp_tool_use") and isinstance(
            blk.get("name"), str
        ):
            a.tool_calls.append(ToolCall(blk["name"], blk.get("input")))


def _responses_final(a: Answer, b: dict[str, Any]) -> None:
    a.response_id = _str(b.get("id")) or a.response_id
    a.response_model = _str(b.get("model")) or a.response_model
    a.service_tier = _str(b.get("service_tier"))
    if isinstance(b.get("usage"), dict):
        a.usage = b["usage"]
    status = _str(b.get("status"))
    inc = b.get("incomplete_details")
    if status == "incomplete" and isinstance(inc, dict) and _str(inc.get("reason")):
        status = inc["reason"]
    a.stop_reason = status
    if isinstance(b.get("error"), dict):
        a.error = {
            "type": _str(b["error"].get("code")) or "error",
            "message": _str(b["error"].get("message")),
        }
    a.text, a.tool_calls = "", []
    for item in _l(b.get("output")):
        _responses_item(a, item)


def _responses_item(a: Answer, item: Any) -> None:
    if not isinstance(item, dict):
        return
    t = item.get("type")
    if t == "message":
        for part in item.get("content") or []:
            if isinstance(part, dict) and part.get("type") == "output_text":
                a.text += part.get("text") or ""
    elif t in ("function_call", "custom_tool_call") and isinstance(item.get("name"), str):
        a.tool_calls.append(ToolCall(item["name"], _args(item.get("arguments", item.get("input")))))


def _messages_stream(body: bytes) -> Answer:
    a = Answer()
    blocks: dict[int, dict[str, Any]] = {}
    for end, _name, d in sse_events(body):
        if not isinstance(d, dict):
            continue
        t = d.get("type")
        if t == "message_start" and isinstance(d.get("message"), dict):
            m = d["message"]
            a.response_id, a.response_model = _str(m.get("id")), _str(m.get("model"))
            a.usage = dict(m["usage"]) if isinstance(m.get("usage"), dict) else None
        elif t == "content_block_start" and isinstance(d.get("content_block"), dict):
            blocks[int(d.get("index") or 0)] = {**d["content_block"], "_json": ""}
        elif t == "content_block_delta" and isinstance(d.get("delta"), dict):
            if a.first_content_offset is None:
                a.first_content_offset = end
            blk = blocks.setdefault(int(d.get("index") or 0), {"type": "text", "_json": ""})
            delta = d["delta"]
            if delta.get("type") == "text_delta":
                blk["text"] = (blk.get("text") or "") + str(delta.get("text") or "")
            elif delta.get("type") == "input_json_delta":
                blk["_json"] += str(delta.get("partial_json") or "")
        elif t == "message_delta":
            delta = _d(d.get("delta"))
            a.stop_reason = _str(delta.get("stop_reason")) or a.stop_reason
            if isinstance(d.get("usage"), dict):
                # cumulative counts: every field given is final (never summed)
                a.usage = {
                    **(a.usage or {}),
                    **{k: v for k, v in d["usage"].items() if v is not None},
                }
        elif t == "error":
            err = _d(d.get("error"))
            a.error = {
                "type": _str(err.get("type")) or "error",
                "message": _str(err.get("message")),
            }
    for i in sorted(blocks):
        blk = blocks[i]
        if blk.get("_json"):
            blk["input"] = _args(blk["_json"])
        blk.pop("_json", None)
    _anthropic_content(a, [blocks[i] for i in sorted(blocks)])
    a.service_tier = _str((a.usage or {}).get("service_tier"))
    return a


def _chat_stream(body: bytes) -> Answer:
    a = Answer()
    calls: dict[int, dict[str, str]] = {}
    for end, _name, d in sse_events(body):
        if not isinstance(d, dict):
            continue
        a.response_id = a.response_id or _str(d.get("id"))
        a.response_model = a.response_model or _str(d.get("model"))
        a.service_tier = _str(d.get("service_tier")) or a.service_tier
        if isinstance(d.get("usage"), dict):
            a.usage = d["usage"]
        if isinstance(d.get("error"), dict):
            a.error = {
                "type": _str(d["error"].get("type")) or "error",
                "message": _str(d["error"].get("message")),
            }
        for ch in d.get("choices") or []:
            if not isinstance(ch, dict) or (ch.get("index") or 0) != 0:
                continue
            a.stop_reason = _str(ch.get("finish_reason")) or a.stop_reason
            delta = _d(ch.get("delta"))
            if delta.get("content") or delta.get("tool_calls"):
                if a.first_content_offset is None:
                    a.first_content_offset = end
            a.text += _str(delta.get("content")) or ""
            for tc in delta.get("tool_calls") or []:
                if not isinstance(tc, dict):
                    continue
                c = calls.setdefault(int(tc.get("index") or 0), {"name": "", "arguments": ""})
                fn = _d(tc.get("function"))
                c["name"] += str(fn.get("name") or "")
                c["arguments"] += str(fn.get("arguments") or "")
    a.tool_calls = [ToolCall(c["name"], _args(c["arguments"])) for _, c in sorted(calls.items())]
    return a


def _responses_stream(body: bytes) -> Answer:
    a = Answer()
    final: dict[str, Any] | None = None
    items: list[Any] = []
    for end, _name, d in sse_events(body):
        if not isinstance(d, dict):
            continue
        t = str(d.get("type") or "")
        resp = d.get("response") if isinstance(d.get("response"), dict) else None
        if t in ("response.completed", "response.incomplete", "response.failed") and resp:
            final = resp
        elif t == "response.created" and resp:
            a.response_id, a.response_model = _str(resp.get("id")), _str(resp.get("model"))
        elif t == "response.output_item.done":
            items.append(d.get("item"))
        elif t.endswith(".delta") and a.first_content_offset is None:
            a.first_content_offset = end
        elif t == "error":
            a.error = {"type": _str(d.get("code")) or "error", "message": _str(d.get("message"))}
    offset, error = a.first_content_offset, a.error
    if final is not None:
        _responses_final(a, final)
    else:
        for item in items:
            _responses_item(a, item)
    a.first_content_offset, a.error = offset, a.error or error
    return a
