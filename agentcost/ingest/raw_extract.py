"""What a provider response says, per API: usage, served model, stop reason, tool calls
requested, service tier, error, response id — from a JSON body or folded from a stream.

Streams (provider-rules §A5, §B3): an Anthropic Messages stream's ``message_start`` usage is
updated by each ``message_delta`` usage, whose counts are cumulative (the last value wins,
deltas are never summed: :func:`merge_anthropic_delta`); a Chat Completions stream's usage is
its usage chunk (present only when the request set ``stream_options.include_usage``); a
Responses stream's is the ``response.completed`` (or ``.incomplete`` / ``.failed``) event's
``response.usage``. Bedrock Converse is read by :mod:`agentcost.ingest.bedrock`.
"""

from __future__ import annotations

from typing import Any

from agentcost.ingest import bedrock
from agentcost.ingest.common import as_list
from agentcost.ingest.raw_call import ANTHROPIC, CHAT, CONVERSE, RESPONSES, Call, as_dict, as_text

_TIERS = {"default": "standard", "standard": "standard", "auto": "standard", "flex": "flex",
          "priority": "priority", "scale": "priority", "batch": "batch"}


def service_tier(v: Any) -> str | None:
    """A stated service tier as a pricing tier (``standard``, ``flex``, ``priority``,
    ``batch``), or ``None``."""
    return _TIERS.get(v.lower()) if isinstance(v, str) else None


def anthropic_tool_names(content: Any) -> list[str]:
    """Tool names of an Anthropic message's ``tool_use`` (server / MCP too) blocks."""
    return [b["name"] for b in as_list(content)
            if isinstance(b, dict) and b.get("type") in ("tool_use", "server_tool_use",
                                                         "mcp_tool_use")
            and isinstance(b.get("name"), str)]


def responses_tool_names(output: Any) -> list[str]:
    """Tool names of Responses output items: function / custom / MCP calls by name, built-in
    tools (``web_search_call``, ...) by type."""
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


def extract(c: Call) -> dict[str, Any]:
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
    out["response_id"] = as_text(b.get("id"))
    out["response_model"] = as_text(b.get("model"))
    if isinstance(b.get("usage"), dict):
        out["usage"] = b["usage"]
    if api == ANTHROPIC:
        out["stop_reason"] = as_text(b.get("stop_reason"))
        if isinstance(b.get("content"), list):
            out["tool_calls"] = anthropic_tool_names(b["content"])
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
            out["response_id"] = as_text(m.get("id"))
            out["response_model"] = as_text(m.get("model"))
            if isinstance(m.get("usage"), dict):
                usage = dict(m["usage"])
        elif t == "content_block_start" and isinstance(d.get("content_block"), dict):
            tools += anthropic_tool_names([d["content_block"]])
        elif t == "message_delta":
            delta = as_dict(d.get("delta"))
            out["stop_reason"] = as_text(delta.get("stop_reason")) or out["stop_reason"]
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
        out["response_id"] = out["response_id"] or as_text(d.get("id"))
        out["response_model"] = out["response_model"] or as_text(d.get("model"))
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
        out["stop_reason"] = as_text(ch["finish_reason"])
    delta = as_dict(ch.get("delta"))
    for j, tc in enumerate(as_list(delta.get("tool_calls"))):
        if not isinstance(tc, dict):
            continue
        ti = tc["index"] if isinstance(tc.get("index"), int) else j
        fn = as_dict(tc.get("function"))
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
            out["response_id"] = as_text(d["response"].get("id"))
            out["response_model"] = as_text(d["response"].get("model"))
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


def _chat_choices(choices: Any, out: dict[str, Any]) -> None:
    names: list[str] = []
    for ch in as_list(choices):
        if not isinstance(ch, dict):
            continue
        if ch.get("finish_reason") and out["stop_reason"] is None:
            out["stop_reason"] = as_text(ch["finish_reason"])
        msg = as_dict(ch.get("message"))
        for tc in as_list(msg.get("tool_calls")):
            fn = tc.get("function") if isinstance(tc, dict) else None
            if isinstance(fn, dict) and isinstance(fn.get("name"), str):
                names.append(fn["name"])
        fc = msg.get("function_call")
        if isinstance(fc, dict) and isinstance(fc.get("name"), str):
            names.append(fc["name"])
    out["tool_calls"] = names if choices is not None else None


def _responses_final(b: dict[str, Any], out: dict[str, Any]) -> None:
    out["response_id"] = as_text(b.get("id")) or out["response_id"]
    out["response_model"] = as_text(b.get("model")) or out["response_model"]
    status = as_text(b.get("status"))
    inc = b.get("incomplete_details")
    if status == "incomplete" and isinstance(inc, dict) and as_text(inc.get("reason")):
        status = inc["reason"]
    out["stop_reason"] = status
    if status == "failed" or b.get("error"):
        out["is_error"] = True
    if isinstance(b.get("output"), list):
        out["tool_calls"] = responses_tool_names(b["output"])
    out["service_tier"] = service_tier(b.get("service_tier"))
