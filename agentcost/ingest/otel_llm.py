"""Model-call spans → the llm columns of a step row: provider and models, tokens (with the
per-library corrections of :mod:`agentcost.ingest.otel_attrs`), time to first token, stop
reason, tool calls requested, service tier, a stated cost, and prompt segments from a recorded
request body.

A token figure the span does not carry stays ``None`` (unknown), never 0, except where a
correction says otherwise (OpenInference's Anthropic instrumentation omits zero cache
details); every correction is reported as an ingest note.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentcost.ingest.common import is_redacted
from agentcost.ingest.otel_body import body_usage, metadata_cache
from agentcost.ingest.otel_keys import (
    CR_KEYS,
    CW_KEYS,
    EMBED_KEYS,
    IN_KEYS,
    OUT_KEYS,
    RS_KEYS,
    TOTAL_KEYS,
    USAGE_KEYS,
    W1_KEYS,
    W5_KEYS,
    Notes,
    attr_float,
    attr_json,
    attr_str,
    first_attr,
    first_int,
    unread_usage_attributes,
)
from agentcost.ingest.otel_span import Span
from agentcost.ingest.otel_tools import requested_tools
from agentcost.ingest.segments import from_request, is_request_body

# ---------------------------------------------------------------------------------------------
# provider / model

_OTEL_PROVIDERS = {"aws.bedrock", "gcp.gemini", "gcp.vertex_ai", "gcp.gen_ai",
                   "azure.ai.openai", "azure.ai.inference", "ibm.watsonx.ai"}


def norm_provider(p: Any) -> str | None:
    s = attr_str(p)
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
            v = attr_json(v)
        if isinstance(v, list):
            v = next((x for x in v if isinstance(x, str) and x), None)
        s = attr_str(v)
        if s:
            return s.split(",")[0].strip()
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


# ---------------------------------------------------------------------------------------------
# the llm columns


def llm_fields(span: Span, row: dict[str, Any], note: Notes, segments: bool = True) -> None:
    """The llm columns of a model-call span's row (module docstring)."""
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
    provider = norm_provider(first_attr(a, ("gen_ai.provider.name", "llm.provider", "gen_ai.system",
                                        "llm.system", "ai.model.provider"))[1])
    inv = a.get("llm.invocation_parameters")
    inv_model = None
    if isinstance(inv, str) and '"model"' in inv:
        p = attr_json(inv)
        if isinstance(p, dict):
            inv_model = attr_str(p.get("model"))
    if is_oi:
        model = (attr_str(a.get("llm.request.model_name")) or inv_model
                 or attr_str(a.get("gen_ai.request.model")) or attr_str(a.get("llm.model_name")))
        g = attr_str(a.get("gen_ai.request.model"))
        if g and inv_model and g != inv_model and model == inv_model:
            note("otlp: OpenInference spans with GenAI semconv put the response snapshot in "
                 "gen_ai.request.model; the requested model was taken from "
                 "llm.invocation_parameters")
    else:
        model = (attr_str(a.get("gen_ai.request.model")) or attr_str(a.get("llm.request.model"))
                 or inv_model or attr_str(a.get("ai.model.id")) or attr_str(a.get("llm.model_name")))
    response_model = (attr_str(a.get("gen_ai.response.model")) or attr_str(a.get("llm.response.model_name"))
                      or attr_str(a.get("ai.response.model"))
                      or (attr_str(a.get("llm.model_name")) if is_oi else None))
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
    t = _Tok(first_int(a, IN_KEYS), first_int(a, OUT_KEYS), first_int(a, CR_KEYS),
             first_int(a, CW_KEYS), first_int(a, W5_KEYS), first_int(a, W1_KEYS),
             first_int(a, RS_KEYS))
    total = first_int(a, TOTAL_KEYS)
    op = attr_str(a.get("gen_ai.operation.name"))
    vop = attr_str(a.get("ai.operationId")) or ""
    embedding = vop.endswith(".doEmbed") or op in ("embeddings", "embedding") or str(
        a.get("openinference.span.kind", "")).upper() == "EMBEDDING"
    if t.inp is None and embedding:
        t.inp = first_int(a, EMBED_KEYS)
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
    ttft = attr_float(a.get("gen_ai.response.time_to_first_chunk"))
    if ttft is None:
        ttft = attr_float(a.get("gen_ai.server.time_to_first_token"))
    if ttft is not None:
        row["ttft_ms"] = ttft * 1000.0
    else:
        ms = attr_float(a.get("ai.response.msToFirstChunk"))
        if ms is not None:
            row["ttft_ms"] = ms
        elif span.ttft_event_ns is not None and span.start_ns is not None:
            row["ttft_ms"] = max(0.0, (span.ttft_event_ns - span.start_ns) / 1e6)
    row["stop_reason"] = _finish(a)
    tc = requested_tools(a)
    if tc:
        row["tool_calls"] = tc
    tier = attr_str(first_attr(a, ("openai.response.service_tier", "anthropic.response.service_tier",
                           "gen_ai.openai.response.service_tier",
                           "gen_ai.response.service_tier"))[1])
    if tier and tier.lower() in _TIERS:
        row["service_tier"] = _TIERS[tier.lower()]


def _stated_cost(a: dict[str, Any]) -> float | None:
    """The cost the source itself states (total, or the sum of its parts), if any."""
    cost = attr_float(a.get("gen_ai.usage.cost"))
    if cost is None:
        cost = attr_float(a.get("llm.cost.total"))
    for keys in (("gen_ai.usage.input_cost", "gen_ai.usage.output_cost"),
                 ("llm.cost.prompt", "llm.cost.completion")):
        if cost is not None:
            break
        parts = [attr_float(a.get(k)) for k in keys]
        if any(p is not None for p in parts):
            cost = sum(p for p in parts if p is not None)
    return cost


def _request_segments(a: dict[str, Any], inp: int | None, row: dict[str, Any]) -> None:
    """Prompt segments from the raw request OpenInference keeps in ``input.value``."""
    iv = a.get("input.value")
    if isinstance(iv, str) and iv[:1] == "{" and a.get("input.mime_type", "application/json") \
            == "application/json":
        body = attr_json(iv)
        if is_request_body(body):
            try:
                row["segments"] = from_request(body, inp)
            except (TypeError, ValueError, AttributeError):
                pass
