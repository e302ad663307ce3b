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

Where the pieces live: the span shape and OTLP value decoding in
:mod:`~agentcost.ingest.otel_span`, attribute names and value readers in
:mod:`~agentcost.ingest.otel_keys`, model-call spans in :mod:`~agentcost.ingest.otel_llm`
(ADK / Vercel provider objects in :mod:`~agentcost.ingest.otel_body`), tools in
:mod:`~agentcost.ingest.otel_tools`; classification and the row itself here.
"""

from __future__ import annotations

from typing import Any

from agentcost.ingest.common import args_hash as args_hash  # re-exported
from agentcost.ingest.otel_keys import SESSION_KEYS, Notes, attr_str, first_attr, has_usage
from agentcost.ingest.otel_llm import llm_fields
from agentcost.ingest.otel_span import Span, span_labels
from agentcost.ingest.otel_tools import tool_fields

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

VERCEL_LLM_SUFFIXES = (".doGenerate", ".doStream", ".doEmbed")


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
    sess = first_attr(a, SESSION_KEYS)[1]
    if sess is not None:
        row["session_id"] = str(sess)
    labels = span_labels(span)
    if labels:
        row["labels"] = labels
    if kind == "llm":
        llm_fields(span, row, note, segments)
    elif kind == "tool":
        tool_fields(span, row, note)
    else:
        _agent(span, row)
    return row


def _agent(span: Span, row: dict[str, Any]) -> None:
    a = span.attrs
    name = attr_str(a.get("gen_ai.agent.name")) or attr_str(a.get("traceloop.entity.name")) \
        or attr_str(a.get("agent.name")) or span.name
    row["name"] = name
    row["_usage"] = has_usage(a)


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
