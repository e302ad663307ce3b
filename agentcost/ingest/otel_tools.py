"""Tools in spans: the tool calls a model-call span requested, and tool spans → step rows.

Requested tools, in order, from the first convention a span uses: OpenInference
``llm.output_messages.<i>.message.tool_calls.<j>.tool_call.function.name``, OTel GenAI
``gen_ai.output.messages`` parts of type ``tool_call``, any-agent's ``gen_ai.output``
(``[{"tool.name", "tool.args"}]``), Vercel's ``ai.response.toolCalls``, openlit's
``gen_ai.tool.name`` on the chat span (comma-joined for parallel calls).

A tool span's name, call id and an argument fingerprint (``tool_input_hash``; the arguments
themselves are not kept) come from ``gen_ai.tool.*``, OpenInference ``tool.*`` /
``input.value``, Vercel ``ai.toolCall.*`` or Traceloop's ``traceloop.entity.*``.
"""

from __future__ import annotations

from typing import Any

from agentcost.ingest.common import args_hash, as_list
from agentcost.ingest.otel_keys import Notes, attr_json, attr_str
from agentcost.ingest.otel_span import Span

_OI_PREFIX = "llm.output_messages."
_OI_SUFFIX = ".tool_call.function.name"


def requested_tools(a: dict[str, Any]) -> list[str] | None:
    """Tool names an llm span requested, in order."""
    return (_openinference_calls(a) or _genai_output_calls(a) or _any_agent_calls(a)
            or _vercel_calls(a) or _openlit_calls(a))


def _openinference_calls(a: dict[str, Any]) -> list[str] | None:
    found: list[tuple[int, int, str]] = []
    for k, v in a.items():
        if not k.startswith(_OI_PREFIX) or not k.endswith(_OI_SUFFIX):
            continue
        parts = k.split(".")
        # llm output_messages i message tool_calls j tool_call function name
        if len(parts) == 9 and parts[3] == "message" and parts[4] == "tool_calls":
            try:
                found.append((int(parts[2]), int(parts[5]), str(v)))
            except ValueError:
                continue
    return [n for _, _, n in sorted(found)] if found else None


def _genai_output_calls(a: dict[str, Any]) -> list[str] | None:
    """OTel GenAI structured output messages: parts of type tool_call."""
    msgs = a.get("gen_ai.output.messages")
    if not isinstance(msgs, str) or "tool_call" not in msgs:
        return None
    parsed = attr_json(msgs)
    names: list[str] = []
    if isinstance(parsed, list):
        for m in parsed:
            for p in as_list(m.get("parts")) if isinstance(m, dict) else []:
                if isinstance(p, dict) and p.get("type") == "tool_call" and p.get("name"):
                    names.append(str(p["name"]))
    return names or None


def _any_agent_calls(a: dict[str, Any]) -> list[str] | None:
    """any-agent: gen_ai.output = [{"tool.name": ..., "tool.args": ...}]."""
    out = a.get("gen_ai.output")
    if not isinstance(out, str) or '"tool.name"' not in out:
        return None
    parsed = attr_json(out)
    if not isinstance(parsed, list):
        return None
    return [str(x["tool.name"]) for x in parsed
            if isinstance(x, dict) and x.get("tool.name")] or None


def _vercel_calls(a: dict[str, Any]) -> list[str] | None:
    """Vercel: ai.response.toolCalls = [{"toolName": ...}]."""
    vt = a.get("ai.response.toolCalls")
    if not isinstance(vt, str) or not vt:
        return None
    parsed = attr_json(vt)
    if not isinstance(parsed, list):
        return None
    return [str(x["toolName"]) for x in parsed
            if isinstance(x, dict) and x.get("toolName")] or None


def _openlit_calls(a: dict[str, Any]) -> list[str] | None:
    """openlit: gen_ai.tool.name on the chat span, comma-joined for parallel calls."""
    tn = a.get("gen_ai.tool.name")
    if isinstance(tn, str) and tn.strip():
        return [t.strip() for t in tn.split(",") if t.strip()]
    return None


# ---------------------------------------------------------------------------------------------
# tool spans


def tool_fields(span: Span, row: dict[str, Any], note: Notes) -> None:
    """Name, call id and argument fingerprint of a tool span's row."""
    a = span.attrs
    row["name"] = _tool_name(span)
    tcid = (attr_str(a.get("gen_ai.tool.call.id")) or attr_str(a.get("tool_call.id"))
            or attr_str(a.get("ai.toolCall.id")))
    if tcid:
        row["tool_call_id"] = tcid
    h = args_hash(_tool_args(a, note))
    if h:
        row["tool_input_hash"] = h


def _tool_name(span: Span) -> str:
    a = span.attrs
    name = (attr_str(a.get("gen_ai.tool.name")) or attr_str(a.get("tool.name"))
            or attr_str(a.get("ai.toolCall.name")) or attr_str(a.get("traceloop.entity.name")))
    if name is None:
        name = span.name
        for pre in ("execute_tool ",):
            if name.startswith(pre):
                name = name[len(pre):]
        if name.endswith(".tool"):
            name = name[:-5]
    return name


def _tool_args(a: dict[str, Any], note: Notes) -> Any:
    """The arguments a tool span records, by convention (``None`` when there are none)."""
    args: Any = None
    if "openinference.span.kind" in a and a.get("input.value") is not None:
        # OpenInference: input.value holds the arguments. Its GenAI-semconv mapping copies
        # tool.parameters (the JSON schema) into gen_ai.tool.call.arguments.
        args = a["input.value"]
        if a.get("gen_ai.tool.call.arguments") is not None \
                and a.get("gen_ai.tool.call.arguments") == a.get("tool.parameters"):
            note("otlp: OpenInference's GenAI semconv mapping puts the tool's parameter schema "
                 "in gen_ai.tool.call.arguments; arguments were taken from input.value")
    for k in ("gen_ai.tool.call.arguments", "gen_ai.tool.args", "ai.toolCall.args",
              "ai.toolCall.input", "tool.arguments"):
        if args is not None:
            break
        if a.get(k) is not None:
            args = a[k]
    if args is None and a.get("input.value") is not None:
        args = a["input.value"]
    if args is None and isinstance(a.get("traceloop.entity.input"), str):
        args = _traceloop_args(a["traceloop.entity.input"])
    return args


def _traceloop_args(text: str) -> Any:
    """Traceloop's @tool decorator records the Python call: {"args": [...], "kwargs": {...}}."""
    ent = attr_json(text)
    if not isinstance(ent, dict):
        return text
    kw, pos = ent.get("kwargs"), ent.get("args")
    if kw:
        return kw
    if isinstance(pos, list) and pos:
        return pos[0]
    return None
