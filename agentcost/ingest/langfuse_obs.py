"""One Langfuse observation → a step row: kind, identity and times, and for a generation its
model, provider, requested tools, stop reason, time to first token, tokens and cost; for a
tool its name, call id and argument fingerprint (the rules: :mod:`agentcost.ingest.langfuse`).
"""

from __future__ import annotations

import re
from typing import Any

from agentcost.ingest.base import IngestContext, Source
from agentcost.ingest.common import args_hash
from agentcost.ingest.langfuse_usage import number, parse_struct, stated_cost
from agentcost.steps import to_utc_ns

DROP_ROLLUP = "langfuse: usage on a span/agent observation (roll-up of its children)"

# BeeAI's per-event observations: "<base>.<event>-<n>"
EVENT_MARKER = re.compile(r"^(?P<base>.+)\.(?P<ev>[a-z_]+)-(?P<n>\d+)$")
_OI_TOOL_NAME = re.compile(
    r"^llm\.output_messages\.\d+\.message\.tool_calls\.\d+\.tool_call\.function\.name$")
_KNOWN_PROVIDERS = {"openai", "anthropic", "google", "gcp.gemini", "gcp.vertex_ai", "gcp.gen_ai",
                    "aws.bedrock", "azure.ai.openai", "azure", "deepseek", "mistral_ai", "x_ai",
                    "groq", "openrouter", "cohere", "ollama"}
_PROVIDER_ALIASES = {"vertex_ai": "gcp.vertex_ai", "gemini": "google", "google_genai": "google",
                     "bedrock": "aws.bedrock", "mistral": "mistral_ai", "xai": "x_ai",
                     "azure_openai": "azure.ai.openai"}


def _provider(attrs: dict[str, Any] | None, model: str | None) -> str | None:
    raw = None
    if attrs:
        for k in ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"):
            v = attrs.get(k)
            if isinstance(v, str) and v:
                raw = v.lower()
                break
    if raw:
        raw = _PROVIDER_ALIASES.get(raw, raw)
        if raw in _KNOWN_PROVIDERS:
            return raw
    m = (model or "").lower()
    if m.startswith(("gpt-", "o1", "o3", "o4", "chatgpt", "text-embedding")):
        return "openai"
    if "claude" in m:
        return "anthropic"
    if m.startswith("gemini"):
        return "google"
    if m.startswith(("mistral", "codestral")):
        return "mistral_ai"
    if m.startswith("deepseek"):
        return "deepseek"
    return raw


def _tool_names(attrs: dict[str, Any] | None, output: Any) -> list[str]:
    names: list[str] = []
    if attrs:
        keys = sorted(k for k in attrs if _OI_TOOL_NAME.match(k))
        names = [str(attrs[k]) for k in keys if isinstance(attrs[k], str)]
        if names:
            return names
    out = parse_struct(output) if isinstance(output, str) else output
    _walk_tool_calls(out, names, 0)
    return names


def _walk_tool_calls(v: Any, names: list[str], depth: int) -> None:
    if depth > 6:
        return
    if isinstance(v, dict):
        fn = v.get("function")
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            names.append(fn["name"])
            return
        if v.get("type") in ("function_call", "tool_call", "tool_use", "tool-call") \
                and isinstance(v.get("name"), str):
            names.append(v["name"])
            return
        for k, sub in v.items():
            if k in ("arguments", "args", "input", "parameters"):
                continue
            _walk_tool_calls(sub, names, depth + 1)
    elif isinstance(v, list):
        for sub in v:
            _walk_tool_calls(sub, names, depth + 1)


def _stop_reason(attrs: dict[str, Any] | None) -> str | None:
    if not attrs:
        return None
    v = parse_struct(attrs.get("gen_ai.response.finish_reasons"))
    if isinstance(v, (list, tuple)) and v and isinstance(v[0], str):
        return v[0]
    if isinstance(v, str) and v:
        return v
    v = attrs.get("llm.finish_reason")
    return v if isinstance(v, str) and v else None


def _kind(typ: str, a: dict[str, Any], wrapper: bool) -> str:
    """llm for a (non-wrapping) GENERATION, tool for a TOOL or a tool-like SPAN, else agent."""
    oi_kind = str(a.get("openinference.span.kind") or "").upper()
    op = a.get("gen_ai.operation.name")
    if typ == "GENERATION" and not wrapper:
        return "llm"
    if typ == "TOOL" or (typ == "SPAN" and (
            oi_kind == "TOOL" or op == "execute_tool"
            or (a.get("gen_ai.tool.name") and oi_kind not in ("AGENT", "CHAIN", "LLM")))):
        return "tool"
    return "agent"


def _tool_fields(row: dict[str, Any], o: dict[str, Any], a: dict[str, Any]) -> None:
    """Tool name, call id and argument fingerprint of a tool row."""
    tname = a.get("gen_ai.tool.name") or a.get("tool.name")
    if isinstance(tname, str) and tname:
        row["name"] = tname
    elif row["name"]:
        nm = row["name"]
        m = EVENT_MARKER.match(nm)
        if m:
            nm = m.group("base")
        for prefix in ("execute_tool ", "running tool: ", "tool."):
            if nm.startswith(prefix):
                nm = nm[len(prefix):]
        row["name"] = nm
    cid = a.get("gen_ai.tool.call.id") or a.get("tool_call.id")
    row["tool_call_id"] = str(cid) if cid else None
    args = a.get("gen_ai.tool.call.arguments") or a.get("tool.parameters") \
        or a.get("tool_arguments")
    row["tool_input_hash"] = args_hash(args if args is not None else o.get("input"))


def observation_row(source: Source, o: dict[str, Any], n: int, tid: str, session: str | None,
                    info: dict[str, Any], *, wrapper: bool, stats: dict[str, int],
                    ctx: IngestContext) -> dict[str, Any] | None:
    """The step row of observation ``o`` (record ``n``) of trace ``tid``, or ``None`` for an
    ``EVENT``; ``info`` is its :func:`~agentcost.ingest.langfuse_usage.usage_info`, ``stats``
    counts inferred and corrected usage for the reader's notes."""
    typ = o["type"].upper()
    if typ == "EVENT":
        return None
    attrs: dict[str, Any] | None = info["attrs"]
    a = attrs or {}
    kind = _kind(typ, a, wrapper)
    start = to_utc_ns(o.get("startTime"))
    end = to_utc_ns(o.get("endTime"))
    row: dict[str, Any] = {
        "kind": kind, "task_id": tid, "session_id": session,
        "span_id": o.get("id") if isinstance(o.get("id"), str) else None,
        "parent_id": o.get("parentObservationId")
        if isinstance(o.get("parentObservationId"), str) else None,
        "name": o.get("name") if isinstance(o.get("name"), str) and o.get("name") else None,
        "started_at": start, "ended_at": end,
        "is_error": True if o.get("level") == "ERROR" else None,
        "line": n, "source": source.name,
    }
    if end is None and start is not None:
        lat = number(o.get("latency"))
        if lat is not None and lat >= 0:
            row["duration_ms"] = lat
    if kind == "llm":
        _llm_fields(row, o, attrs, info, stats)
    elif kind == "tool":
        _tool_fields(row, o, a)
    else:
        if info["reported"] and any(info["fields"].values()) and typ != "GENERATION":
            ctx.dropped(DROP_ROLLUP)
    return row


def _llm_fields(row: dict[str, Any], o: dict[str, Any], attrs: dict[str, Any] | None,
                info: dict[str, Any], stats: dict[str, int]) -> None:
    """Model, provider, tool calls, TTFT and usage/cost of a generation's llm row."""
    a = attrs or {}
    start = row["started_at"]
    model = o.get("model") if isinstance(o.get("model"), str) and o.get("model") else None
    req = a.get("gen_ai.request.model") or a.get("llm.request.model_name") \
        or a.get("llm.model_name") or model
    resp = a.get("gen_ai.response.model") or a.get("llm.response.model_name")
    row["model"] = str(req) if req else None
    row["response_model"] = str(resp) if resp else None
    row["provider"] = _provider(attrs, row["model"] or row["response_model"])
    row["tool_calls"] = _tool_names(attrs, o.get("output"))
    row["stop_reason"] = _stop_reason(attrs)
    cst = to_utc_ns(o.get("completionStartTime"))
    if cst is not None and start is not None and cst >= start:
        row["ttft_ms"] = (cst - start) / 1e6
    if info["inferred"]:
        stats["inferred"] += 1
    else:
        row.update({k: v for k, v in info["fields"].items()})
        stats["fixed"] += int(info["fixed"])
        has_tokens = any(v for v in info["fields"].values())
        cost = stated_cost(o)
        if cost is not None and not (cost == 0 and has_tokens):
            row["reported_cost_usd"] = cost
