"""Raw provider request/response logs: Anthropic Messages, OpenAI Chat Completions and Responses.

One JSON object per line, one line per API call. Accepted shapes:

* ``{"request": {...body...}, "response": {...body...}}`` — the response may also be a JSON
  string, or the raw SSE text of a streamed call;
* ``{"request": ..., "response_sse": "event: ...\\ndata: ...\\n\\n"}`` for streamed calls;
* wire captures with ``request_body`` / ``response_body`` / ``response_sse``, ``path``,
  ``request_headers``, ``status``, ``started_unix`` / ``ended_unix``;
* HTTP envelopes: ``{"request": {"url", "headers", "body"}, "response": {"status", "headers",
  "body"}}`` (bodies as objects or strings).

Optional per line: ``started_at`` / ``ended_at`` / ``timestamp`` (taken as the start) /
``started_unix`` / ``ended_unix`` / ``start_time`` / ``end_time`` (any form ``to_utc_ns``
reads), ``duration_ms``, ``ttft_ms`` or a first-token time (``first_token_at``,
``first_chunk_at``, ``first_byte_at``), ``task_id`` / ``conversation_id`` / ``session_id`` /
``trace_id``, ``provider``, ``model``.

The API is told from the path (``/v1/messages``, ``/chat/completions``, ``/responses``), then
the headers (``anthropic-version``), then the response shape, then the request shape.

Usage (provider-rules §A5, §B3): Anthropic ``input_tokens`` excludes cache reads and writes and
is converted to the inclusive meaning; streamed, the ``message_start`` usage is updated by each
``message_delta`` usage, whose counts are cumulative (the last value wins, deltas are never
summed). Chat Completions streamed usage is the final chunk's ``usage`` (only present when the
request set ``stream_options.include_usage``; otherwise tokens are unknown and the report says
so). Responses streamed usage is the ``response.completed`` (or ``.incomplete`` / ``.failed``)
event's ``response.usage``. Chat Completions without ``prompt_tokens_details.cache_write_tokens``
leaves cache writes unknown.

Tasks. A line's own task id (first of ``task_id``, ``conversation_id``, ``session_id``,
``trace_id``; or the request's ``metadata`` task/conversation/session id, or the Responses
``conversation``) wins. A Responses request whose ``previous_response_id`` names an earlier
response of the file joins that response's task. Otherwise calls are grouped by the usual
append-only agent loop: a call continues an open task when that task's latest request had the
same system prompt / instructions and its messages (``input`` items), compared without
``cache_control`` markers, are a prefix of this call's messages. Interleaved conversations are
told apart this way too. A call that continues nothing starts a task named
``<file>:<line>``.

Each call is one ``llm`` step named after the endpoint (``messages``, ``chat.completions``,
``responses``) with ``segments`` derived from the request body. No prompt text is kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from agentcost.ingest import bedrock
from agentcost.ingest import usage as U
from agentcost.ingest.base import IngestContext, Source, first_json_line, iter_json_objects
from agentcost.ingest.common import as_list, iteration_steps
from agentcost.ingest.segments import from_request, is_request_body
from agentcost.steps import to_utc_ns

ANTHROPIC = "messages"
CHAT = "chat.completions"
RESPONSES = "responses"
CONVERSE = bedrock.CONVERSE  # AWS Bedrock Converse / ConverseStream

_REQ_KEYS = ("request", "request_body")
_RESP_KEYS = ("response", "response_body", "response_sse")
_START_KEYS = ("started_at", "started_unix", "start_time", "timestamp", "request_time")
_END_KEYS = ("ended_at", "ended_unix", "end_time", "response_time")
_FIRST_TOKEN_KEYS = ("first_token_at", "first_chunk_at", "first_byte_at", "first_token_unix")
_TASK_KEYS = ("task_id", "conversation_id", "session_id", "trace_id")
_OPEN_TASKS_CHECKED = 64  # open tasks a call is compared with (most recent first)
_OPEN_TASKS_KEPT = 256

_TIERS = {"default": "standard", "standard": "standard", "auto": "standard", "flex": "flex",
          "priority": "priority", "scale": "priority", "batch": "batch"}


# -- small helpers (SSE parsing is also usable by other readers) ------------------------------

def parse_sse(text: str) -> list[tuple[str | None, Any]]:
    """Parse Server-Sent Events text into ``(event name, data)`` pairs.

    ``data`` is the JSON value of the event's (joined) ``data:`` lines, or the raw string when it
    is not JSON (e.g. ``[DONE]``). Comment lines (``:``) and ``id:`` / ``retry:`` are ignored.
    """
    events: list[tuple[str | None, Any]] = []
    name: str | None = None
    data: list[str] = []

    def flush() -> None:
        nonlocal name, data
        if data:
            raw = "\n".join(data)
            try:
                val: Any = orjson.loads(raw)
            except orjson.JSONDecodeError:
                val = raw
            events.append((name, val))
        name, data = None, []

    for line in text.splitlines():
        if not line.strip():
            flush()
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "event":
            name = value.strip()
        elif field == "data":
            data.append(value)
    flush()
    return events


def _looks_sse(s: str) -> bool:
    head = s.lstrip()[:16]
    return head.startswith(("event:", "data:", ":"))


def service_tier(v: Any) -> str | None:
    return _TIERS.get(v.lower()) if isinstance(v, str) else None


def _fp(obj: Any) -> str:
    return hashlib.sha1(orjson.dumps(_strip_cc(obj), option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def _strip_cc(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_cc(v) for k, v in obj.items() if k != "cache_control"}
    if isinstance(obj, list):
        return [_strip_cc(v) for v in obj]
    return obj


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _str(v: Any) -> str | None:
    if isinstance(v, str) and v:
        return v
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return None


def _json_or_text(v: Any) -> Any:
    """A body given as a string: parsed JSON, or the string itself (SSE text). Bytes that are
    not UTF-8 (a Bedrock event stream) stay bytes."""
    if isinstance(v, (bytes, bytearray)):
        try:
            v = bytes(v).decode("utf-8")
        except UnicodeDecodeError:
            return bytes(v)
    if isinstance(v, str) and v.lstrip().startswith(("{", "[")):
        try:
            return orjson.loads(v)
        except orjson.JSONDecodeError:
            return v
    return v


def _lower_keys(h: Any) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in h.items()} if isinstance(h, dict) else {}


# -- one call ---------------------------------------------------------------------------------

class _Call:
    """Everything the reader extracts from one line."""

    def __init__(self) -> None:
        self.api: str | None = None
        self.request: dict[str, Any] = {}
        self.path: str = ""
        self.req_headers: dict[str, Any] = {}
        self.status: int | None = None
        self.body: Any = None  # parsed response JSON (dict) or None
        self.sse: list[tuple[str | None, Any]] | None = None
        self.events: list[tuple[str | None, Any]] | None = None  # AWS event stream


def _unpack(obj: dict[str, Any]) -> _Call | str:
    """Pull request, response, path and headers out of a line; a str is a malformed reason."""
    c = _Call()
    req: Any = None
    for k in _REQ_KEYS:
        if k in obj:
            req = _json_or_text(obj[k])
            break
    if not isinstance(req, dict):
        return "no request body ('request' or 'request_body' object)"
    c.path = _str(obj.get("path")) or _str(obj.get("url")) or _str(obj.get("endpoint")) or ""
    c.req_headers = _lower_keys(obj.get("request_headers"))
    if not is_request_body(req) and ("body" in req or "url" in req or "headers" in req):
        c.path = c.path or _str(req.get("url")) or _str(req.get("path")) or ""
        c.req_headers = c.req_headers or _lower_keys(req.get("headers"))
        req = _json_or_text(req.get("body"))
        if not isinstance(req, dict):
            return "request envelope without a JSON body"
    c.request = req
    status = obj.get("status", obj.get("status_code"))
    resp: Any = None
    for k in _RESP_KEYS:
        if obj.get(k) is not None:
            resp = _json_or_text(obj[k])
            break
    if isinstance(resp, dict) and "body" in resp and not any(
            k in resp for k in ("usage", "content", "choices", "output", "type", "object")):
        status = resp.get("status", resp.get("status_code", status))
        resp = _json_or_text(resp.get("body"))
    if isinstance(status, int) and not isinstance(status, bool):
        c.status = status
    reason = _set_response(c, resp)
    return reason if reason else c


def _set_response(c: _Call, resp: Any) -> str | None:
    """Put the response body on ``c``: parsed JSON, SSE events, or an AWS event stream."""
    if isinstance(resp, str):
        if c.status is not None and c.status >= 400 and not _looks_sse(resp):
            c.body = {}  # an error page: the call failed (status), no usage
        elif not _looks_sse(resp):
            return "response is neither JSON nor SSE text"
        else:
            c.sse = parse_sse(resp)
    elif isinstance(resp, list) and all(isinstance(e, dict) for e in resp):
        # a stream given as a list of already-parsed events / chunks
        c.sse = [(_str(e.get("type")), e) for e in resp]
    elif isinstance(resp, dict):
        c.body = resp
    elif isinstance(resp, bytes):
        return _event_stream(resp, c)
    elif resp is not None:
        return f"response must be an object or SSE text, got {type(resp).__name__}"
    return None


def _event_stream(data: bytes, c: _Call) -> str | None:
    """A binary response body: an AWS event stream (ConverseStream, or InvokeModel's
    ``chunk`` events wrapping the provider's own stream events); else a malformed reason."""
    import base64
    import binascii

    events = bedrock.event_stream(data)
    if events is None:
        return "response body is binary and not an AWS event stream"
    if any(t == "chunk" for t, _ in events):
        sse: list[tuple[str | None, Any]] = []
        for t, v in events:
            raw = v.get("bytes") if t == "chunk" and isinstance(v, dict) else None
            try:
                inner = orjson.loads(base64.b64decode(raw)) if isinstance(raw, str) else None
            except (binascii.Error, ValueError):
                inner = None
            if isinstance(inner, dict):
                sse.append((_str(inner.get("type")), inner))
        c.sse = sse
    else:
        c.events = events
    return None


def _detect_api(c: _Call, hint: str | None) -> str | None:  # noqa: C901 (split pending)
    p = c.path.lower().split("?", 1)[0]
    op = bedrock.model_from_path(p)
    if c.events is not None or bedrock.is_converse_body(c.body) or (
            op is not None and op[1].startswith("converse")):
        return CONVERSE
    if p.endswith("/messages") or "/v1/messages" in p:
        return ANTHROPIC
    if "chat/completions" in p:
        return CHAT
    if p.rstrip("/").endswith("/responses") or "/v1/responses" in p:
        return RESPONSES
    if "anthropic-version" in c.req_headers:
        return ANTHROPIC
    b = c.body
    if isinstance(b, dict):
        if b.get("type") == "message" or ("stop_reason" in b and "content" in b):
            return ANTHROPIC
        if b.get("type") == "error" and isinstance(b.get("error"), dict):
            return ANTHROPIC
        obj = b.get("object")
        if obj in ("chat.completion", "chat.completion.chunk") or "choices" in b:
            return CHAT
        if obj == "response" or isinstance(b.get("output"), list):
            return RESPONSES
    for _name, data in c.sse or []:
        if not isinstance(data, dict):
            continue
        t = data.get("type")
        if isinstance(t, str):
            if t.startswith(("message_", "content_block_")):
                return ANTHROPIC
            if t.startswith("response."):
                return RESPONSES
        if data.get("object") == "chat.completion.chunk" or "choices" in data:
            return CHAT
    r = c.request
    if "input" in r or "instructions" in r or "previous_response_id" in r:
        return RESPONSES
    model = _str(r.get("model")) or ""
    prov = (hint or "").lower()
    if "anthropic" in prov or "claude" in prov or model.startswith("claude") or "system" in r \
            or "anthropic_version" in r:
        return ANTHROPIC
    if "messages" in r:
        return CHAT
    return None


def _anthropic_blocks_tools(content: Any) -> list[str]:
    return [b["name"] for b in as_list(content)
            if isinstance(b, dict) and b.get("type") in ("tool_use", "server_tool_use",
                                                         "mcp_tool_use")
            and isinstance(b.get("name"), str)]


def responses_tool_names(output: Any) -> list[str]:
    out: list[str] = []
    for item in as_list(output):
        if not isinstance(item, dict):
            continue
        t = item.get("type")
        if t in ("function_call", "custom_tool_call", "mcp_call") and isinstance(
                item.get("name"), str):
            out.append(item["name"])
        elif isinstance(t, str) and t.endswith("_call") and t not in ("function_call",):
            out.append(t[: -len("_call")])
    return out


def _extract(c: _Call) -> dict[str, Any]:
    """Usage, served model, stop reason, tool calls, tier, error flag of the response."""
    out: dict[str, Any] = {"usage": None, "response_model": None, "stop_reason": None,
                           "tool_calls": None, "service_tier": None, "is_error": False,
                           "response_id": None}
    if c.status is not None and c.status >= 400:
        out["is_error"] = True
    api = c.api
    if api == CONVERSE:
        ex = bedrock.converse_extract(c.body, c.events)
        out.update({k: ex[k] for k in ("usage", "stop_reason", "tool_calls")})
        out["is_error"] = out["is_error"] or ex["is_error"]
        out["latency_ms"] = ex["latency_ms"]
        return out
    if c.body is not None:
        _body_response(api, c.body, out)
    elif c.sse is not None:
        events = [d for _name, d in c.sse if isinstance(d, dict)]
        if api == ANTHROPIC:
            _anthropic_stream(events, out)
        elif api == CHAT:
            _chat_stream(events, out)
        elif api == RESPONSES:
            _responses_stream(events, out)
    return out


def _body_response(api: str | None, b: dict[str, Any], out: dict[str, Any]) -> None:
    """A JSON response body of any of the three APIs."""
    if b.get("error") or b.get("type") == "error":
        out["is_error"] = True
    out["response_id"] = _str(b.get("id"))
    out["response_model"] = _str(b.get("model"))
    if isinstance(b.get("usage"), dict):
        out["usage"] = b["usage"]
    if api == ANTHROPIC:
        out["stop_reason"] = _str(b.get("stop_reason"))
        if isinstance(b.get("content"), list):
            out["tool_calls"] = _anthropic_blocks_tools(b["content"])
        if isinstance(b.get("usage"), dict):
            out["service_tier"] = service_tier(b["usage"].get("service_tier"))
    elif api == CHAT:
        _chat_choices(b.get("choices"), out)
        out["service_tier"] = service_tier(b.get("service_tier"))
    elif api == RESPONSES:
        _responses_final(b, out)


def _anthropic_stream(events: list[dict[str, Any]], out: dict[str, Any]) -> None:
    """A Messages stream: ``message_start`` usage, then what each ``message_delta`` carries."""
    usage: dict[str, Any] | None = None
    tools: list[str] = []
    for d in events:
        t = d.get("type")
        if t == "message_start" and isinstance(d.get("message"), dict):
            m = d["message"]
            out["response_id"] = _str(m.get("id"))
            out["response_model"] = _str(m.get("model"))
            if isinstance(m.get("usage"), dict):
                usage = dict(m["usage"])
        elif t == "content_block_start" and isinstance(d.get("content_block"), dict):
            tools += _anthropic_blocks_tools([d["content_block"]])
        elif t == "message_delta":
            delta = _dict(d.get("delta"))
            out["stop_reason"] = _str(delta.get("stop_reason")) or out["stop_reason"]
            du = d.get("usage")
            if isinstance(du, dict):
                usage = merge_anthropic_delta(usage, du)
        elif t == "error":
            out["is_error"] = True
    out["usage"] = usage
    out["tool_calls"] = tools
    if usage:
        out["service_tier"] = service_tier(usage.get("service_tier"))


def _chat_stream(events: list[dict[str, Any]], out: dict[str, Any]) -> None:
    """A Chat Completions stream: the usage chunk, finish reasons, tool-call names in order."""
    names: dict[tuple[int, int], str] = {}
    for d in events:
        if d.get("error"):
            out["is_error"] = True
        out["response_id"] = out["response_id"] or _str(d.get("id"))
        out["response_model"] = out["response_model"] or _str(d.get("model"))
        out["service_tier"] = service_tier(d.get("service_tier")) or out["service_tier"]
        if isinstance(d.get("usage"), dict):
            out["usage"] = d["usage"]
        for ch in as_list(d.get("choices")):
            if isinstance(ch, dict):
                _chat_chunk_choice(ch, out, names)
    out["tool_calls"] = [names[k] for k in sorted(names)]


def _chat_chunk_choice(ch: dict[str, Any], out: dict[str, Any],
                       names: dict[tuple[int, int], str]) -> None:
    ci = ch["index"] if isinstance(ch.get("index"), int) else 0
    if ch.get("finish_reason"):
        out["stop_reason"] = _str(ch["finish_reason"])
    delta = _dict(ch.get("delta"))
    for j, tc in enumerate(as_list(delta.get("tool_calls"))):
        if not isinstance(tc, dict):
            continue
        ti = tc["index"] if isinstance(tc.get("index"), int) else j
        fn = _dict(tc.get("function"))
        if isinstance(fn.get("name"), str) and fn["name"]:
            names.setdefault((ci, ti), fn["name"])
    fc = delta.get("function_call")
    if isinstance(fc, dict) and isinstance(fc.get("name"), str):
        names.setdefault((ci, -1), fc["name"])


def _responses_stream(events: list[dict[str, Any]], out: dict[str, Any]) -> None:
    """A Responses stream: the final response event wins; tool calls from finished items."""
    final: dict[str, Any] | None = None
    items: list[Any] = []
    for d in events:
        t = d.get("type")
        if t in ("response.completed", "response.incomplete", "response.failed") \
                and isinstance(d.get("response"), dict):
            final = d["response"]
            if t == "response.failed":
                out["is_error"] = True
        elif t == "response.created" and isinstance(d.get("response"), dict):
            out["response_id"] = _str(d["response"].get("id"))
            out["response_model"] = _str(d["response"].get("model"))
        elif t == "response.output_item.done":
            items.append(d.get("item"))
        elif t == "error":
            out["is_error"] = True
    if final is not None:
        _responses_final(final, out)
        if isinstance(final.get("usage"), dict):
            out["usage"] = final["usage"]
    if out["tool_calls"] is None and items:
        out["tool_calls"] = responses_tool_names(items)


def merge_anthropic_delta(usage: dict[str, Any] | None, delta: dict[str, Any]
                          ) -> dict[str, Any]:
    """``message_start`` usage updated by a ``message_delta`` usage: the delta's counts are
    cumulative and final for every field it carries (provider-rules F6), the 5m/1h
    ``cache_creation`` split and ``iterations`` included. A start-time split that no longer
    adds up to a changed write total (the delta gave a total but no split) is dropped, so the
    write's TTL is then taken as 5m rather than mis-split."""
    out = dict(usage or {})
    cw_before = out.get("cache_creation_input_tokens")
    out.update({k: v for k, v in delta.items() if v is not None})
    if "cache_creation" not in delta and out.get("cache_creation_input_tokens") != cw_before:
        out.pop("cache_creation", None)
    return out


def _time_of(obj: dict[str, Any], keys: tuple[str, ...]) -> tuple[int | None, str | None]:
    """(ns, None) from the first of ``keys`` the line has, or (None, why it is not a time)."""
    for k in keys:
        if obj.get(k) is not None:
            ns = to_utc_ns(obj[k])
            return (ns, None) if ns is not None else (
                None, f"{k} is not a valid time: {str(obj[k])[:40]!r}")
    return None, None


def _times(obj: dict[str, Any], row: dict[str, Any]) -> str | None:
    """Start, end, duration and time to first token of a logged call into ``row``; the reason
    when one of them is malformed."""
    start, bad = _time_of(obj, _START_KEYS)
    end, bad_end = _time_of(obj, _END_KEYS)
    if bad or bad_end:
        return bad or bad_end
    row["started_at"], row["ended_at"] = start, end
    for k in ("duration_ms", "ttft_ms"):
        v = obj.get(k)
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            return f"{k} must be a non-negative number"
        row[k] = float(v)
    if row.get("ttft_ms") is None and start is not None:
        for k in _FIRST_TOKEN_KEYS:
            ft = to_utc_ns(obj.get(k))
            if ft is not None and ft >= start:
                row["ttft_ms"] = (ft - start) / 1e6
                break
    return None


def _chat_choices(choices: Any, out: dict[str, Any]) -> None:
    names: list[str] = []
    for ch in as_list(choices):
        if not isinstance(ch, dict):
            continue
        if ch.get("finish_reason") and out["stop_reason"] is None:
            out["stop_reason"] = _str(ch["finish_reason"])
        msg = _dict(ch.get("message"))
        for tc in as_list(msg.get("tool_calls")):
            fn = tc.get("function") if isinstance(tc, dict) else None
            if isinstance(fn, dict) and isinstance(fn.get("name"), str):
                names.append(fn["name"])
        fc = msg.get("function_call")
        if isinstance(fc, dict) and isinstance(fc.get("name"), str):
            names.append(fc["name"])
    out["tool_calls"] = names if choices is not None else None


def _responses_final(b: dict[str, Any], out: dict[str, Any]) -> None:
    out["response_id"] = _str(b.get("id")) or out["response_id"]
    out["response_model"] = _str(b.get("model")) or out["response_model"]
    status = _str(b.get("status"))
    inc = b.get("incomplete_details")
    if status == "incomplete" and isinstance(inc, dict) and _str(inc.get("reason")):
        status = inc["reason"]
    out["stop_reason"] = status
    if status == "failed" or b.get("error"):
        out["is_error"] = True
    if isinstance(b.get("output"), list):
        out["tool_calls"] = responses_tool_names(b["output"])
    out["service_tier"] = service_tier(b.get("service_tier"))


def _messages(api: str, req: dict[str, Any]) -> tuple[str, list[str]]:
    """(system fingerprint, message fingerprints) of a request, for task continuation."""
    if api == RESPONSES:
        system = req.get("instructions")
        inp = req.get("input")
        msgs = [{"role": "user", "content": inp}] if isinstance(inp, str) else (inp or [])
    else:
        system = req.get("system")
        msgs = req.get("messages") or []
    if not isinstance(msgs, list):
        msgs = []
    return _fp(system), [_fp(m) for m in msgs]


# -- the reader -------------------------------------------------------------------------------

class RawProviderReader:
    name = "raw"
    description = ("raw provider request/response logs (Anthropic Messages, OpenAI Chat "
                   "Completions / Responses; JSON or SSE)")

    def sniff(self, source: Source) -> int:
        line = first_json_line(source.head)
        if not line.startswith(b"{"):
            return 0
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            return 0
        if not isinstance(obj, dict):
            return 0
        if not any(k in obj for k in _REQ_KEYS) or not any(k in obj for k in _RESP_KEYS):
            return 0
        req = _json_or_text(obj.get("request", obj.get("request_body")))
        if isinstance(req, dict) and (is_request_body(req) or "model" in req
                                      or "body" in req):
            return 85
        return 0

    def read(self, source: Source, ctx: IngestContext) -> Iterator[dict[str, Any]]:
        yield from read_calls(iter_json_objects(source, ctx), source, ctx)

    def read_calls(self, objs: Iterable[tuple[int, dict[str, Any]]], source: Source,
                   ctx: IngestContext) -> Iterator[dict[str, Any]]:
        # open tasks for append-only grouping: [task_id, system fp, message fps] (latest last)
        open_tasks: list[list[Any]] = []
        by_response: dict[str, str] = {}
        no_usage = 0
        for n, obj in objs:
            c = _unpack(obj)
            if isinstance(c, str):
                ctx.malformed(source, n, c)
                continue
            if "count_tokens" in c.path or "/embeddings" in c.path:
                ctx.dropped("raw: requests that are not model calls (count_tokens, embeddings)")
                continue
            c.api = _detect_api(c, _str(obj.get("provider")))
            if c.api is None:
                ctx.malformed(source, n, "cannot tell the API (Anthropic Messages, OpenAI Chat "
                                         "Completions or Responses) from path, headers or bodies")
                continue
            row = self._row(obj, c, source, n, ctx)
            if row is None:
                continue
            if row.get("input_tokens") is None and not row.get("is_error"):
                no_usage += 1

            row["task_id"] = self._task(obj, c, f"{source.name}:{n}", open_tasks, by_response,
                                        row.pop("_response_id", None))

            if not ctx.in_window(row.get("started_at")):
                continue
            extras = row.pop("_iterations", None)
            yield row
            if extras:
                yield from iteration_steps(row, extras)
        if no_usage:
            ctx.note(f"raw: {no_usage} call(s) of {source.name} carry no usage (e.g. a Chat "
                     "Completions stream without stream_options.include_usage); their tokens "
                     "are unknown")

    def _task(self, obj: dict[str, Any], c: _Call, fallback: str, open_tasks: list[list[Any]],
              by_response: dict[str, str], resp_id: str | None) -> str:
        """The call's task: stated by the line or the request, else the task whose request
        this one extends (previous_response_id, or the same system prompt with its messages
        as a prefix), else a task of its own. ``open_tasks`` and ``by_response`` are updated."""
        task = self._explicit_task(obj, c.request)
        sys_fp, msg_fps = _messages(c.api or "", c.request)
        prev = c.request.get("previous_response_id")
        if task is None and isinstance(prev, str) and prev in by_response:
            task = by_response[prev]
        if task is None:
            for tid, s_fp, m_fps in reversed(open_tasks[-_OPEN_TASKS_CHECKED:]):
                if s_fp == sys_fp and m_fps and len(m_fps) <= len(msg_fps) \
                        and msg_fps[: len(m_fps)] == m_fps:
                    task = tid
                    break
        if task is None:
            task = fallback
        open_tasks[:] = [e for e in open_tasks[-_OPEN_TASKS_KEPT:] if e[0] != task]
        open_tasks.append([task, sys_fp, msg_fps])
        if resp_id:
            by_response[resp_id] = task
        return task

    @staticmethod
    def _explicit_task(obj: dict[str, Any], req: dict[str, Any]) -> str | None:
        for k in _TASK_KEYS:
            v = _str(obj.get(k))
            if v:
                return v
        meta = req.get("metadata")
        if isinstance(meta, dict):
            for k in ("task_id", "conversation_id", "session_id"):
                v = _str(meta.get(k))
                if v:
                    return v
        conv = req.get("conversation")
        if isinstance(conv, dict):
            conv = conv.get("id")
        return _str(conv)

    def _row(self, obj: dict[str, Any], c: _Call, source: Source, n: int,  # noqa: C901 (split pending)
             ctx: IngestContext) -> dict[str, Any] | None:
        api = c.api
        ex = _extract(c)
        provider = "anthropic" if api == ANTHROPIC else "openai"
        hint = _str(obj.get("provider"))
        if hint and not (hint.lower() == "openai" and api == ANTHROPIC):
            provider = hint
        on_bedrock = bedrock.model_from_path(c.path)
        if on_bedrock is not None or api == CONVERSE:
            provider = hint or "aws.bedrock"
        row: dict[str, Any] = {
            "kind": "llm", "name": api, "provider": provider,
            "model": _str(c.request.get("model")) or _str(obj.get("model"))
            or (on_bedrock[0] if on_bedrock else None),
            "response_model": ex["response_model"], "stop_reason": ex["stop_reason"],
            "tool_calls": ex["tool_calls"], "is_error": ex["is_error"],
            "service_tier": ex["service_tier"] or service_tier(c.request.get("service_tier")),
            "session_id": _str(obj.get("session_id")), "line": n,
            "_response_id": ex["response_id"],
        }
        if ex["usage"] is not None:
            try:
                if api == ANTHROPIC:
                    norm = U.anthropic(ex["usage"])
                    norm.pop("service_tier", None)
                    extras, why = U.extra_iterations(ex["usage"])
                    if why:
                        ctx.note(f"raw: {source.name}: {why}")
                    if extras:
                        row["_iterations"] = extras
                elif api == CONVERSE:
                    norm = U.bedrock_converse_usage(ex["usage"])
                elif api == CHAT:
                    norm = U.openai_chat(ex["usage"])
                else:
                    norm = U.openai_responses(ex["usage"])
            except ValueError as exc:
                ctx.malformed(source, n, str(exc))
                return None
            row.update(norm)
            unread = U.unread_fields(ex["usage"])
            if unread:
                ctx.unread_usage(source, unread)
        bad = _times(obj, row)
        if bad:
            ctx.malformed(source, n, bad)
            return None
        if row.get("duration_ms") is None and ex.get("latency_ms") is not None:
            row["duration_ms"] = ex["latency_ms"]  # Bedrock's own metrics.latencyMs
        inp = row.get("input_tokens")
        if ctx.segments and is_request_body(c.request):
            row["segments"] = from_request(c.request, inp if isinstance(inp, int) else None)
        return row


READER = RawProviderReader()


def read_calls(objs: Iterable[tuple[int, dict[str, Any]]], source: Source,
               ctx: IngestContext) -> Iterator[dict[str, Any]]:
    """Step rows of HTTP calls given as ``(line, object)`` pairs in any shape this module
    reads (see the module docstring; the HTTP envelope ``{"request": {"url", "headers",
    "body"}, "response": {"status", "headers", "body"}}`` is what the cassette and HAR readers
    hand over). Tasks are grouped as for a raw log."""
    yield from READER.read_calls(objs, source, ctx)
