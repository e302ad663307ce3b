"""Span attributes → step rows, for every span-based format the ``otlp`` reader accepts.

Readers of OTLP/JSON, any-agent ``AgentTrace`` and Vercel AI SDK span captures first turn each
span into a :class:`Span` (ids as lowercase hex, times as UTC ns, attributes as a plain dict);
:func:`span_to_row` then maps the attributes of the three conventions (provider-rules §F) to a
step row:

* **OTel GenAI** (current and deprecated names): ``gen_ai.usage.input_tokens`` /
  ``prompt_tokens`` (inclusive of cache reads and writes), ``output_tokens`` /
  ``completion_tokens``, ``cache_read.input_tokens``, ``cache_creation.input_tokens`` /
  ``cache_write.input_tokens`` (and the legacy underscore forms), reasoning,
  ``gen_ai.provider.name`` / ``gen_ai.system``, request/response model, finish reasons,
  ``gen_ai.response.time_to_first_chunk`` (s), ``gen_ai.operation.name``,
  ``gen_ai.conversation.id``, tool spans (``execute_tool``, ``gen_ai.tool.*``).
* **OpenInference**: ``openinference.span.kind``, ``llm.token_count.*`` (prompt is inclusive),
  ``llm.model_name``, ``llm.provider`` / ``llm.system``, ``tool.name``, ``session.id``,
  ``llm.output_messages.*.tool_calls.*``, ``llm.cost.total``; ``input.value`` holding the raw
  request JSON yields ``segments``.
* **OpenLLMetry / Traceloop**: ``traceloop.span.kind``, ``gen_ai.usage.*``,
  ``llm.usage.total_tokens``, ``traceloop.association.properties.session_id``.
* **Vendor extras**: the anthropic SDK's ``anthropic.usage.cache_creation.ephemeral_{5m,1h}_…``
  split and ``anthropic.message.stop_reason``; openlit's ``gen_ai.server.time_to_first_token`` and
  ``gen_ai.usage.cost``; any-agent's ``gen_ai.usage.input_cost``/``output_cost``; Vercel's
  ``ai.*`` attributes.

Kinds: inference spans are ``llm``, tool spans ``tool``; agent / chain / workflow / task spans
are ``agent`` and never carry tokens (their usage attributes are roll-ups of their children).
Spans that are none of these (HTTP client spans, framework internals) are not steps.

A token figure the span does not carry stays ``None`` (unknown), never 0 — with one exception,
documented with the correction: OpenInference's Anthropic instrumentation omits zero cache
details, so a missing cache figure there is 0.

Library deviations are corrected by instrumentation scope (and version where one is given), and
each correction is reported as an ingest note:

* ``openlit.instrumentation.anthropic`` (openlit ≤ 1.45.0, which stamps no scope version):
  ``gen_ai.usage.input_tokens`` is Anthropic's raw ``input_tokens``, i.e. it *excludes* cache
  reads and writes; both are added.
* OpenInference with ``OPENINFERENCE_ENABLE_GENAI_SEMCONV``: ``gen_ai.request.model`` holds the
  response snapshot; the requested model is taken from ``llm.invocation_parameters``.
* Any Anthropic span whose cache reads + writes exceed its input tokens reports Anthropic's raw
  (exclusive) input; the cache tokens are added.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from agentcost.ingest import usage as U
from agentcost.ingest.common import (
    args_hash,  # noqa: F401 - re-exported
    as_list,
    is_redacted,
    label_text,
)
from agentcost.ingest.segments import from_request, is_request_body
from agentcost.steps import int_text

# ---------------------------------------------------------------------------------------------
# the common span shape


class Span:
    """One span of any accepted format, normalised."""

    __slots__ = ("trace_id", "span_id", "parent_id", "name", "start_ns", "end_ns", "error",
                 "attrs", "scope", "scope_version", "line", "source", "ttft_event_ns",
                 "labels")

    def __init__(self, *, trace_id: str | None, span_id: str | None, parent_id: str | None,
                 name: str, start_ns: int | None, end_ns: int | None, error: bool | None,
                 attrs: dict[str, Any], scope: str | None = None,
                 scope_version: str | None = None, line: int | None = None,
                 source: str = "", ttft_event_ns: int | None = None,
                 labels: dict[str, str] | None = None) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.parent_id = parent_id
        self.name = name
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.error = error
        self.attrs = attrs
        self.scope = scope
        self.scope_version = scope_version
        self.line = line
        self.source = source
        self.ttft_event_ns = ttft_event_ns
        self.labels = labels  # the resource's attributes as text (shared by its spans)


# ---------------------------------------------------------------------------------------------
# OTLP/JSON value decoding

_VALUE_KEYS = {
    "stringValue": "s", "string_value": "s",
    "intValue": "i", "int_value": "i",
    "doubleValue": "d", "double_value": "d",
    "boolValue": "b", "bool_value": "b",
    "arrayValue": "a", "array_value": "a",
    "kvlistValue": "k", "kvlist_value": "k",
    "bytesValue": "y", "bytes_value": "y",
}


def any_value(v: Any) -> Any:
    """Decode an OTLP ``AnyValue`` (lowerCamelCase or snake_case keys)."""
    if not isinstance(v, dict):
        return v
    if "stringValue" in v:  # fast path: most attributes are strings
        return v["stringValue"]
    for key, x in v.items():
        t = _VALUE_KEYS.get(key)
        if t is None:
            continue
        if t == "s":
            return x
        if t == "i":
            if isinstance(x, str):
                try:
                    return int(x)
                except ValueError:
                    return x
            return x
        if t == "d":
            if isinstance(x, str):
                try:
                    return float(x)
                except ValueError:
                    return x
            return x
        if t == "b":
            return x if isinstance(x, bool) else str(x).lower() == "true"
        if t == "a":
            vals = x.get("values") if isinstance(x, dict) else None
            return [any_value(i) for i in vals] if isinstance(vals, list) else []
        if t == "k":
            vals = x.get("values") if isinstance(x, dict) else None
            return attr_dict(vals) if isinstance(vals, list) else {}
        return x  # bytes: base64 text, kept as is
    return None


def attr_dict(items: Any) -> dict[str, Any]:
    """``[{key, value: AnyValue}]`` → plain dict (a plain dict is returned as is)."""
    if isinstance(items, dict):
        return items
    out: dict[str, Any] = {}
    if not isinstance(items, list):
        return out
    for it in items:
        try:
            k = it["key"]
            v = it["value"]
        except (KeyError, TypeError):
            if isinstance(it, dict) and isinstance(it.get("key"), str):
                out[it["key"]] = None
            continue
        if not isinstance(k, str):  # OTLP keys are strings: a number or list names nothing
            continue
        if type(v) is dict and "stringValue" in v:
            out[k] = v["stringValue"]
        else:
            out[k] = any_value(v)
    return out


# span attributes that name who or what a call was for, kept as labels with the resource's
LABEL_SPAN_KEYS = ("user.id", "enduser.id", "enduser.role", "gen_ai.conversation.id")


def resource_labels(resource: Any) -> dict[str, str] | None:
    """A resource's scalar attributes as ``{key: text}`` (``service.name``,
    ``deployment.environment``, team or project attributes a collector adds), or ``None``."""
    attrs = attr_dict(resource.get("attributes")) if isinstance(resource, dict) else {}
    return {k: t for k, v in attrs.items() if (t := label_text(v)) is not None} or None


def span_labels(span: Span) -> dict[str, str] | None:
    """The resource's labels plus the span's :data:`LABEL_SPAN_KEYS`."""
    own = {k: t for k in LABEL_SPAN_KEYS if (t := label_text(span.attrs.get(k))) is not None}
    if not own:
        return span.labels
    return {**(span.labels or {}), **own}


_HEX_RE = re.compile(r"[0-9a-f]+")


def norm_id(v: Any, nbytes: int) -> str | None:
    """A trace/span id as lowercase hex: hex strings as given (OTLP/JSON), base64 (protobuf
    JSON mapping), or integers (any-agent's decimal ids). All-zero or empty ids are ``None``."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int):
        if v <= 0:
            return None
        return format(v, f"0{nbytes * 2}x")
    if not isinstance(v, str):
        return None
    if _HEX_RE.fullmatch(v):  # the usual case: OTLP/JSON lowercase hex
        return v if v.strip("0") else None
    s = v.strip()
    if not s:
        return None
    low = s.lower()
    if low.startswith("0x"):
        low = low[2:]
    if _HEX_RE.fullmatch(low):
        return low if low.strip("0") else None
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        return low
    if len(raw) in (8, 16):
        h = raw.hex()
        return h if h.strip("0") else None
    return low


# ---------------------------------------------------------------------------------------------
# small helpers


def _int(v: Any, key: str) -> int | None:
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError(f"{key} is not a finite number")
        if v == int(v):
            return int(v)
        raise ValueError(f"{key} is not a whole number: {v!r}")
    if isinstance(v, str):
        s = v.strip()
        if int_text(s) is not None:
            return int_text(s)
        if not s or is_redacted(s):
            return None  # "[REDACTED]" and the like: unknown, not 0 and not an error
    raise ValueError(f"{key} is not a token count: {str(v)[:40]!r}")


def _first(a: dict[str, Any], keys: tuple[str, ...]) -> tuple[str | None, Any]:
    for k in keys:
        v = a.get(k)
        if v is not None and v != "":
            return k, v
    return None, None


def _first_int(a: dict[str, Any], keys: tuple[str, ...]) -> int | None:
    k, v = _first(a, keys)
    return _int(v, k) if k else None


def _float(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        f = float(v)
    elif isinstance(v, str):
        try:
            f = float(v)
        except ValueError:
            return None
    else:
        return None
    if f != f or f < 0 or f == float("inf"):
        return None
    return f


def _str(v: Any) -> str | None:
    if isinstance(v, str):
        s = v.strip()
        return s or None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    return None




def _json(v: Any) -> Any:
    if isinstance(v, str):
        s = v.lstrip()
        if s[:1] in ("{", "["):
            try:
                return orjson.loads(s)
            except orjson.JSONDecodeError:
                return None
        return None
    return v


# ---------------------------------------------------------------------------------------------
# classification

LLM_OPERATIONS = {"chat", "text_completion", "generate_content", "completion", "call_llm",
                  "embeddings", "embedding", "responses", "response", "generate"}
TOOL_OPERATIONS = {"execute_tool", "tool", "tool_call"}
AGENT_OPERATIONS = {"invoke_agent", "create_agent", "invoke_workflow", "plan", "agent",
                    "workflow", "task"}
OI_KINDS = {"LLM": "llm", "EMBEDDING": "llm", "TOOL": "tool", "RETRIEVER": "tool",
            "RERANKER": "tool", "AGENT": "agent", "CHAIN": "agent", "GUARDRAIL": "agent",
            "EVALUATOR": "agent", "PROMPT": "agent"}
TRACELOOP_KINDS = {"tool": "tool", "workflow": "agent", "task": "agent", "agent": "agent"}

IN_KEYS = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt",
           "llm.usage.prompt_tokens", "ai.usage.inputTokens", "ai.usage.promptTokens")
OUT_KEYS = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens",
            "llm.token_count.completion", "llm.usage.completion_tokens",
            "ai.usage.outputTokens", "ai.usage.completionTokens")
CR_KEYS = ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens",
           "llm.token_count.prompt_details.cache_read", "ai.usage.cachedInputTokens",
           "ai.usage.inputTokenDetails.cacheReadTokens")
CW_KEYS = ("gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_write.input_tokens",
           "gen_ai.usage.cache_creation_input_tokens", "llm.token_count.prompt_details.cache_write",
           "ai.usage.inputTokenDetails.cacheWriteTokens")
W5_KEYS = ("anthropic.usage.cache_creation.ephemeral_5m_input_tokens",)
W1_KEYS = ("anthropic.usage.cache_creation.ephemeral_1h_input_tokens",)
RS_KEYS = ("gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens",
           "llm.token_count.completion_details.reasoning", "ai.usage.reasoningTokens",
           "ai.usage.outputTokenDetails.reasoningTokens")
TOTAL_KEYS = ("gen_ai.usage.total_tokens", "llm.usage.total_tokens", "llm.token_count.total",
              "ai.usage.totalTokens")
EMBED_KEYS = ("ai.usage.tokens",)
USAGE_KEYS = frozenset(IN_KEYS + OUT_KEYS + CR_KEYS + CW_KEYS + W5_KEYS + W1_KEYS + RS_KEYS
                       + TOTAL_KEYS + EMBED_KEYS)

SESSION_KEYS = ("session.id", "gen_ai.conversation.id",
                "traceloop.association.properties.session_id", "langfuse.session.id",
                "ai.telemetry.metadata.sessionId", "ai.telemetry.metadata.session_id")

VERCEL_LLM_SUFFIXES = (".doGenerate", ".doStream", ".doEmbed")


def has_usage(a: dict[str, Any]) -> bool:
    return any(k in a for k in USAGE_KEYS)


def classify(span: Span) -> str | None:
    """``llm`` | ``tool`` | ``agent`` | ``None`` (not a step)."""
    a = span.attrs
    oi = a.get("openinference.span.kind")
    if isinstance(oi, str) and oi.upper() in OI_KINDS:
        return OI_KINDS[oi.upper()]
    tl = a.get("traceloop.span.kind")
    if isinstance(tl, str) and tl.lower() in TRACELOOP_KINDS:
        return TRACELOOP_KINDS[tl.lower()]
    op = a.get("gen_ai.operation.name")
    if isinstance(op, str):
        o = op.lower()
        if o in TOOL_OPERATIONS:
            return "tool"
        if o in AGENT_OPERATIONS:
            return "agent"
        if o in LLM_OPERATIONS:
            return "llm"
    vop = a.get("ai.operationId")
    if isinstance(vop, str) and vop.startswith("ai."):
        if vop.endswith(VERCEL_LLM_SUFFIXES):
            return "llm"
        if vop == "ai.toolCall":
            return "tool"
        return "agent"
    if has_usage(a):
        return "llm"
    if "gen_ai.tool.name" in a or "tool.name" in a:
        return "tool"
    if "gen_ai.agent.name" in a:
        return "agent"
    return None


# ---------------------------------------------------------------------------------------------
# provider / model

_OTEL_PROVIDERS = {"aws.bedrock", "gcp.gemini", "gcp.vertex_ai", "gcp.gen_ai",
                   "azure.ai.openai", "azure.ai.inference", "ibm.watsonx.ai"}


def norm_provider(p: Any) -> str | None:
    s = _str(p)
    if s is None:
        return None
    s = s.lower()
    if s in _OTEL_PROVIDERS:
        return s
    if "." in s:  # Vercel: "openai.responses", "anthropic.messages"
        s = s.split(".", 1)[0]
    return s


_TIERS = {"standard": "standard", "default": "standard", "batch": "batch", "flex": "flex",
          "priority": "priority"}


def _finish(a: dict[str, Any]) -> str | None:
    for k in ("anthropic.message.stop_reason", "gen_ai.response.finish_reasons",
              "llm.finish_reason", "ai.response.finishReason", "gen_ai.response.finish_reason"):
        v = a.get(k)
        if v is None or v == "":
            continue
        if isinstance(v, str) and v.startswith("["):
            v = _json(v)
        if isinstance(v, list):
            v = next((x for x in v if isinstance(x, str) and x), None)
        s = _str(v)
        if s:
            return s.split(",")[0].strip()
    return None


def _tool_calls(a: dict[str, Any]) -> list[str] | None:  # noqa: C901 (split pending)
    """Tool names an llm span requested, in order."""
    # OpenInference: llm.output_messages.<i>.message.tool_calls.<j>.tool_call.function.name
    found: list[tuple[int, int, str]] = []
    prefix = "llm.output_messages."
    for k, v in a.items():
        if not k.startswith(prefix) or not k.endswith(".tool_call.function.name"):
            continue
        parts = k.split(".")
        # llm output_messages i message tool_calls j tool_call function name
        if len(parts) == 9 and parts[3] == "message" and parts[4] == "tool_calls":
            try:
                found.append((int(parts[2]), int(parts[5]), str(v)))
            except ValueError:
                continue
    if found:
        return [n for _, _, n in sorted(found)]
    # OTel GenAI structured output messages: parts of type tool_call
    msgs = a.get("gen_ai.output.messages")
    if isinstance(msgs, str) and "tool_call" in msgs:
        parsed = _json(msgs)
        names: list[str] = []
        if isinstance(parsed, list):
            for m in parsed:
                for p in as_list(m.get("parts")) if isinstance(m, dict) else []:
                    if isinstance(p, dict) and p.get("type") == "tool_call" and p.get("name"):
                        names.append(str(p["name"]))
        if names:
            return names
    # any-agent: gen_ai.output = [{"tool.name": ..., "tool.args": ...}]
    out = a.get("gen_ai.output")
    if isinstance(out, str) and '"tool.name"' in out:
        parsed = _json(out)
        if isinstance(parsed, list):
            names = [str(x["tool.name"]) for x in parsed
                     if isinstance(x, dict) and x.get("tool.name")]
            if names:
                return names
    # Vercel: ai.response.toolCalls = [{"toolName": ...}]
    vt = a.get("ai.response.toolCalls")
    if isinstance(vt, str) and vt:
        parsed = _json(vt)
        if isinstance(parsed, list):
            names = [str(x["toolName"]) for x in parsed
                     if isinstance(x, dict) and x.get("toolName")]
            if names:
                return names
    # openlit: gen_ai.tool.name on the chat span, comma-joined for parallel calls
    tn = a.get("gen_ai.tool.name")
    if isinstance(tn, str) and tn.strip():
        return [t.strip() for t in tn.split(",") if t.strip()]
    return None


def _version_tuple(v: str | None) -> tuple[int, ...] | None:
    if not v:
        return None
    out: list[int] = []
    for part in v.split("."):
        digits = ""
        for ch in part[:9]:
            if "0" <= ch <= "9":
                digits += ch
            else:
                break
        if not digits:
            break
        out.append(int(digits))
    return tuple(out) or None


Notes = Callable[[str], None]


# ---------------------------------------------------------------------------------------------
# the mapping


def span_to_row(span: Span, kind: str, note: Notes, *, segments: bool = True) -> dict[str, Any]:
    """Map one classified span to a step row. Raises ``ValueError`` on a token attribute that
    is not a number (the reader reports the span as malformed). ``segments=False`` skips
    deriving prompt segments from a recorded request body (see ``IngestContext.segments``).

    Private keys (prefixed ``_``) carry what de-duplication needs: ``_scope``, ``_usage``
    (the span carried usage attributes), ``_split`` (the 5m/1h split is stated).
    """
    a = span.attrs
    row: dict[str, Any] = {
        "kind": kind,
        "task_id": span.trace_id,
        "span_id": span.span_id,
        "parent_id": span.parent_id,
        "started_at": span.start_ns,
        "ended_at": span.end_ns,
        "is_error": bool(span.error) or ("error.type" in a and kind != "agent"),
        "line": span.line,
        "source": span.source,
        "_scope": span.scope or "",
        "_ver": span.scope_version or "",
        "_usage": False,
        "_split": False,
    }
    sess = _first(a, SESSION_KEYS)[1]
    if sess is not None:
        row["session_id"] = str(sess)
    labels = span_labels(span)
    if labels:
        row["labels"] = labels
    if kind == "llm":
        _llm(span, row, note, segments)
    elif kind == "tool":
        _tool(span, row, note)
    else:
        _agent(span, row)
    return row


def _agent(span: Span, row: dict[str, Any]) -> None:
    a = span.attrs
    name = _str(a.get("gen_ai.agent.name")) or _str(a.get("traceloop.entity.name")) \
        or _str(a.get("agent.name")) or span.name
    row["name"] = name
    row["_usage"] = has_usage(a)


def _tool(span: Span, row: dict[str, Any], note: Notes) -> None:  # noqa: C901 (split pending)
    a = span.attrs
    name = (_str(a.get("gen_ai.tool.name")) or _str(a.get("tool.name"))
            or _str(a.get("ai.toolCall.name")) or _str(a.get("traceloop.entity.name")))
    if name is None:
        name = span.name
        for pre in ("execute_tool ",):
            if name.startswith(pre):
                name = name[len(pre):]
        if name.endswith(".tool"):
            name = name[:-5]
    row["name"] = name
    tcid = (_str(a.get("gen_ai.tool.call.id")) or _str(a.get("tool_call.id"))
            or _str(a.get("ai.toolCall.id")))
    if tcid:
        row["tool_call_id"] = tcid
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
        # Traceloop's @tool decorator records the Python call: {"args": [...], "kwargs": {...}}
        ent = _json(a["traceloop.entity.input"])
        if isinstance(ent, dict):
            kw, pos = ent.get("kwargs"), ent.get("args")
            if kw:
                args = kw
            elif isinstance(pos, list) and pos:
                args = pos[0]
        else:
            args = a["traceloop.entity.input"]
    h = args_hash(args)
    if h:
        row["tool_input_hash"] = h


USAGE_PREFIXES = ("gen_ai.usage.", "llm.token_count.", "llm.usage.", "ai.usage.")
# every usage attribute read (tokens above, stated costs below)
READ_USAGE_KEYS = frozenset({*IN_KEYS, *OUT_KEYS, *CR_KEYS, *CW_KEYS, *W5_KEYS, *W1_KEYS,
                             *RS_KEYS, *TOTAL_KEYS, *EMBED_KEYS, "gen_ai.usage.cost",
                             "gen_ai.usage.input_cost", "gen_ai.usage.output_cost"})


def unread_usage_attributes(a: dict[str, Any]) -> list[str]:
    """Usage attributes (``gen_ai.usage.*``, ``llm.token_count.*``, ...) of a span that no
    mapping here reads and that carry a figure: a new instrumentation field is named, never
    silently lost."""
    return [k for k, v in a.items() if k.startswith(USAGE_PREFIXES)
            and k not in READ_USAGE_KEYS and U.carries(v)]


def _attr_object(a: dict[str, Any], key: str) -> dict[str, Any] | None:
    v = _json(a.get(key))
    return v if isinstance(v, dict) else None


def body_usage(a: dict[str, Any]) -> dict[str, Any] | None:
    """Canonical tokens of a provider usage object a span carries whole, which wins over the
    span's own counts: Google ADK's ``gcp.vertex.agent.llm_response`` ``usage_metadata``
    (Gemini: thoughts are output, tool-use prompt is input), and the raw Anthropic ``usage``
    in Vercel AI SDK's ``ai.response.providerMetadata.anthropic.usage``."""
    llm = _attr_object(a, "gcp.vertex.agent.llm_response")
    if llm is not None and isinstance(llm.get("usage_metadata"), dict):
        return U.gemini(llm["usage_metadata"])
    meta = _attr_object(a, "ai.response.providerMetadata")
    anth = meta.get("anthropic") if meta else None
    if isinstance(anth, dict) and isinstance(anth.get("usage"), dict) \
            and "input_tokens" in anth["usage"]:
        out = U.anthropic(anth["usage"])
        out.pop("service_tier", None)
        return out
    return None


def metadata_cache(a: dict[str, Any]) -> dict[str, int]:
    """Cache and reasoning figures that Vercel AI SDK spans carry only inside
    ``ai.response.providerMetadata`` (provider-rules F6): Anthropic
    ``cacheCreationInputTokens`` / ``cacheReadInputTokens``, Bedrock
    ``usage.cacheReadInputTokens`` / ``cacheWriteInputTokens``, OpenAI
    ``cachedPromptTokens`` / ``reasoningTokens``."""
    meta = _attr_object(a, "ai.response.providerMetadata")
    if not meta:
        return {}
    found: list[tuple[str, Any, str]] = []
    anth = meta.get("anthropic")
    if isinstance(anth, dict):
        found += [("cache_write_tokens", anth.get("cacheCreationInputTokens"), "anthropic"),
                  ("cache_read_tokens", anth.get("cacheReadInputTokens"), "anthropic")]
    bed = meta.get("bedrock")
    bu = bed.get("usage") if isinstance(bed, dict) else None
    if isinstance(bu, dict):
        found += [("cache_read_tokens", bu.get("cacheReadInputTokens"), "bedrock"),
                  ("cache_write_tokens", bu.get("cacheWriteInputTokens"), "bedrock")]
    oai = meta.get("openai")
    if isinstance(oai, dict):
        found += [("cache_read_tokens", oai.get("cachedPromptTokens"), "openai"),
                  ("reasoning_tokens", oai.get("reasoningTokens"), "openai")]
    out: dict[str, int] = {}
    for col, v, prov in found:
        n = _int(v, f"providerMetadata.{prov}")
        if n is not None:
            out.setdefault(col, n)
    return out


def _llm(span: Span, row: dict[str, Any], note: Notes, segments: bool = True) -> None:
    a = span.attrs
    scope = span.scope or ""
    provider, model, response_model = _llm_model(a, scope, note)
    row.update(provider=provider, model=model, response_model=response_model, name=span.name)
    tok = _read_tokens(a, note)
    row["_usage"] = tok.inp is not None or tok.out is not None
    unread = unread_usage_attributes(a)
    if unread:
        row["_unread"] = unread
    _scope_corrections(tok, span, provider, model, note)
    _store_tokens(tok, row, provider)
    _llm_outcome(span, row)
    cost = _stated_cost(a)
    if cost is not None:
        row["reported_cost_usd"] = cost
    if segments:
        _request_segments(a, tok.inp, row)


def _llm_model(a: dict[str, Any], scope: str, note: Notes
               ) -> tuple[str | None, str | None, str | None]:
    """(provider, requested model, served model) of an llm span, by convention."""
    is_oi = scope.startswith("openinference.") or "openinference.span.kind" in a
    provider = norm_provider(_first(a, ("gen_ai.provider.name", "llm.provider", "gen_ai.system",
                                        "llm.system", "ai.model.provider"))[1])
    inv = a.get("llm.invocation_parameters")
    inv_model = None
    if isinstance(inv, str) and '"model"' in inv:
        p = _json(inv)
        if isinstance(p, dict):
            inv_model = _str(p.get("model"))
    if is_oi:
        model = (_str(a.get("llm.request.model_name")) or inv_model
                 or _str(a.get("gen_ai.request.model")) or _str(a.get("llm.model_name")))
        g = _str(a.get("gen_ai.request.model"))
        if g and inv_model and g != inv_model and model == inv_model:
            note("otlp: OpenInference spans with GenAI semconv put the response snapshot in "
                 "gen_ai.request.model; the requested model was taken from "
                 "llm.invocation_parameters")
    else:
        model = (_str(a.get("gen_ai.request.model")) or _str(a.get("llm.request.model"))
                 or inv_model or _str(a.get("ai.model.id")) or _str(a.get("llm.model_name")))
    response_model = (_str(a.get("gen_ai.response.model")) or _str(a.get("llm.response.model_name"))
                      or _str(a.get("ai.response.model"))
                      or (_str(a.get("llm.model_name")) if is_oi else None))
    if provider is None and model and "/" in model:
        provider = norm_provider(model.split("/", 1)[0])  # LiteLLM-style "mistral/…"
    return provider, model, response_model


@dataclass
class _Tok:
    """An llm span's token figures while they are read and corrected (None: unknown)."""

    inp: int | None
    out: int | None
    cr: int | None
    cw: int | None
    w5: int | None
    w1: int | None
    rs: int | None


def _read_tokens(a: dict[str, Any], note: Notes) -> _Tok:
    """The span's token attributes; a provider usage object it carries whole wins (ADK,
    Vercel's raw Anthropic usage), Vercel's provider metadata fills cache figures."""
    hidden = [k for k in USAGE_KEYS if isinstance(a.get(k), str) and is_redacted(a[k])]
    if hidden:
        note(f"otlp: usage attributes holding a redaction marker instead of a number "
             f"({', '.join(sorted(hidden))}) are unknown tokens, not 0")
    t = _Tok(_first_int(a, IN_KEYS), _first_int(a, OUT_KEYS), _first_int(a, CR_KEYS),
             _first_int(a, CW_KEYS), _first_int(a, W5_KEYS), _first_int(a, W1_KEYS),
             _first_int(a, RS_KEYS))
    total = _first_int(a, TOTAL_KEYS)
    op = _str(a.get("gen_ai.operation.name"))
    vop = _str(a.get("ai.operationId")) or ""
    embedding = vop.endswith(".doEmbed") or op in ("embeddings", "embedding") or str(
        a.get("openinference.span.kind", "")).upper() == "EMBEDDING"
    if t.inp is None and embedding:
        t.inp = _first_int(a, EMBED_KEYS)
    if embedding and t.inp is not None and t.out is None:
        t.out = 0  # an embedding call generates no tokens
    body = body_usage(a)
    if body is not None:
        t.inp, t.out = body.get("input_tokens", t.inp), body.get("output_tokens", t.out)
        t.cr, t.cw = body.get("cache_read_tokens", t.cr), body.get("cache_write_tokens", t.cw)
        t.rs = body.get("reasoning_tokens", t.rs)
        if "cache_write_5m_tokens" in body:
            t.w5, t.w1 = body["cache_write_5m_tokens"], body.get("cache_write_1h_tokens")
    else:
        extra = metadata_cache(a)
        t.cr = t.cr if t.cr is not None else extra.get("cache_read_tokens")
        t.cw = t.cw if t.cw is not None else extra.get("cache_write_tokens")
        t.rs = t.rs if t.rs is not None else extra.get("reasoning_tokens")
    if t.inp is None and total is not None and t.out is not None and total >= t.out:
        t.inp = total - t.out
        note("otlp: input tokens derived as total - output where a span stated only "
             "llm.usage.total_tokens / gen_ai.usage.total_tokens")
    return t


def _scope_corrections(t: _Tok, span: Span, provider: str | None, model: str | None,
                       note: Notes) -> None:
    """Known deviations of instrumentations, by scope name and version (module docstring)."""
    scope = span.scope or ""
    if scope == "openinference.instrumentation.anthropic" and t.inp is not None:
        if t.cr is None or t.cw is None:
            note("otlp: openinference-instrumentation-anthropic omits zero cache details; "
                 "a missing cache read/write figure there is taken as 0")
        t.cr = 0 if t.cr is None else t.cr
        t.cw = 0 if t.cw is None else t.cw
    if t.inp is None:
        return
    cache = (t.cr or 0) + (t.cw or 0)
    if scope == "openlit.instrumentation.anthropic":
        ver = _version_tuple(span.scope_version)
        known_bad = ver is None or ver <= (1, 45, 0)
        if known_bad or cache > t.inp:
            t.inp += cache
            note("otlp: openlit (openlit.instrumentation.anthropic"
                 f"{' ' + span.scope_version if span.scope_version else ', no version'}) "
                 "reports Anthropic's raw gen_ai.usage.input_tokens, which excludes cache "
                 "reads and writes; added them")
    elif cache > t.inp and (
            provider in ("anthropic", "aws.bedrock") or (model or "").lower().startswith("claude")
            or "anthropic" in scope or "anthropic." in (model or "").lower()):
        # Bedrock's inputTokens excludes the cache too (provider-rules §F6)
        t.inp += cache
        note(f"otlp: {scope or 'an instrumentation'} reported Anthropic input tokens "
             "without cache tokens (cache reads + writes exceeded input); added them")


def _store_tokens(t: _Tok, row: dict[str, Any], provider: str | None) -> None:
    """The token columns of the row, with the 5m/1h split when it adds up."""
    cw = t.cw
    if t.w5 is not None or t.w1 is not None:
        if cw is None:
            cw = (t.w5 or 0) + (t.w1 or 0)
        if (t.w5 or 0) + (t.w1 or 0) == cw:
            row["cache_write_5m_tokens"] = t.w5 or 0
            row["cache_write_1h_tokens"] = t.w1 or 0
            row["_split"] = True
    if not row["_split"] and cw is not None and provider == "anthropic":
        # DESIGN §2: a write whose TTL the source does not state counts as 5m in the split.
        row["cache_write_5m_tokens"] = cw
        row["cache_write_1h_tokens"] = 0
    row.update(input_tokens=t.inp, output_tokens=t.out, cache_read_tokens=t.cr,
               cache_write_tokens=cw, reasoning_tokens=t.rs)


def _llm_outcome(span: Span, row: dict[str, Any]) -> None:
    """Time to first token, stop reason, tool calls requested, service tier."""
    a = span.attrs
    ttft = _float(a.get("gen_ai.response.time_to_first_chunk"))
    if ttft is None:
        ttft = _float(a.get("gen_ai.server.time_to_first_token"))
    if ttft is not None:
        row["ttft_ms"] = ttft * 1000.0
    else:
        ms = _float(a.get("ai.response.msToFirstChunk"))
        if ms is not None:
            row["ttft_ms"] = ms
        elif span.ttft_event_ns is not None and span.start_ns is not None:
            row["ttft_ms"] = max(0.0, (span.ttft_event_ns - span.start_ns) / 1e6)
    row["stop_reason"] = _finish(a)
    tc = _tool_calls(a)
    if tc:
        row["tool_calls"] = tc
    tier = _str(_first(a, ("openai.response.service_tier", "anthropic.response.service_tier",
                           "gen_ai.openai.response.service_tier",
                           "gen_ai.response.service_tier"))[1])
    if tier and tier.lower() in _TIERS:
        row["service_tier"] = _TIERS[tier.lower()]


def _stated_cost(a: dict[str, Any]) -> float | None:
    """The cost the source itself states (total, or the sum of its parts), if any."""
    cost = _float(a.get("gen_ai.usage.cost"))
    if cost is None:
        cost = _float(a.get("llm.cost.total"))
    for keys in (("gen_ai.usage.input_cost", "gen_ai.usage.output_cost"),
                 ("llm.cost.prompt", "llm.cost.completion")):
        if cost is not None:
            break
        parts = [_float(a.get(k)) for k in keys]
        if any(p is not None for p in parts):
            cost = sum(p for p in parts if p is not None)
    return cost


def _request_segments(a: dict[str, Any], inp: int | None, row: dict[str, Any]) -> None:
    """Prompt segments from the raw request OpenInference keeps in ``input.value``."""
    iv = a.get("input.value")
    if isinstance(iv, str) and iv[:1] == "{" and a.get("input.mime_type", "application/json") \
            == "application/json":
        body = _json(iv)
        if is_request_body(body):
            try:
                row["segments"] = from_request(body, inp)
            except (TypeError, ValueError, AttributeError):
                pass


def info_score(row: dict[str, Any]) -> int:
    """How much a row says beyond the shared token counts (to pick one of two duplicates)."""
    score = 0
    for k in ("cache_read_tokens", "cache_write_tokens", "ttft_ms", "tool_calls", "segments",
              "stop_reason", "response_model", "model", "reported_cost_usd", "reasoning_tokens",
              "service_tier", "input_tokens", "output_tokens", "session_id"):
        if row.get(k) is not None:
            score += 1
    if row.get("_split"):
        score += 2
    return score
