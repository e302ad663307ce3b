"""Tokens and cost of a Langfuse observation (the rules: "Tokens" in
:mod:`agentcost.ingest.langfuse`): the span's raw OTel attributes kept in ``metadata`` win
(OpenInference, then GenAI names); else ``usageDetails``, whose key family or ``total`` says
which details lie outside ``input`` / ``output``. Usage Langfuse inferred with a tokenizer is
not used. Reads + writes above the prompt count, and reasoning above the completion count,
are added to it.
"""

from __future__ import annotations

import ast
from typing import Any

import orjson

from agentcost.steps import int_text


def count(v: Any) -> int | None:
    """A token count from an int, an integral float or a numeric string; else ``None``."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int):
        return v if v >= 0 else None
    if isinstance(v, float):
        return int(v) if v.is_integer() and v >= 0 else None
    if isinstance(v, str):
        n = int_text(v)
        return n if n is not None and n >= 0 else None
    return None


def number(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def parse_struct(v: Any) -> Any:
    """A dict given as a dict, a JSON string or a Python ``repr`` string."""
    if not isinstance(v, str):
        return v
    s = v.strip()
    if not s or s[0] not in "{[":
        return v
    try:
        return orjson.loads(s)
    except orjson.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(s)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return v


def metadata(obs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None, str | None]:
    """(metadata, raw OTel attributes or None, instrumentation scope name)."""
    md = parse_struct(obs.get("metadata"))
    if not isinstance(md, dict):
        return {}, None, None
    attrs = parse_struct(md.get("attributes"))
    scope = parse_struct(md.get("scope"))
    scope_name = None
    if isinstance(scope, dict) and isinstance(scope.get("name"), str):
        scope_name = scope["name"]
    elif isinstance(scope, str):
        scope_name = scope
    return md, attrs if isinstance(attrs, dict) else None, scope_name


def _first(d: dict[str, Any], *keys: str) -> int | None:
    for k in keys:
        v = count(d.get(k))
        if v is not None:
            return v
    return None


def _finish_tokens(p: int | None, cr: int | None, cw: int | None, out: int | None,
                   rs: int | None) -> tuple[dict[str, Any], bool]:
    fixed = False
    if p is not None and (cr or 0) + (cw or 0) > p:
        p += (cr or 0) + (cw or 0)
        fixed = True
    if out is not None and rs is not None and rs > out:
        out += rs  # reasoning reported outside the completion count
    fields = {"input_tokens": p, "cache_read_tokens": cr, "cache_write_tokens": cw,
              "output_tokens": out, "reasoning_tokens": rs}
    return fields, fixed


def _has_token_attrs(attrs: dict[str, Any]) -> bool:
    for k in attrs:
        if k.startswith("llm.token_count.") or k.startswith("langfuse.observation.usage"):
            return True
        if k.startswith("gen_ai.usage.") and "cost" not in k:
            return True
    return False


def _attr_usage(attrs: dict[str, Any]) -> tuple[dict[str, Any], bool] | None:
    p = _first(attrs, "llm.token_count.prompt")
    c = _first(attrs, "llm.token_count.completion")
    if p is not None or c is not None:
        return _finish_tokens(
            p, _first(attrs, "llm.token_count.prompt_details.cache_read"),
            _first(attrs, "llm.token_count.prompt_details.cache_write"), c,
            _first(attrs, "llm.token_count.completion_details.reasoning"))
    p = _first(attrs, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
    c = _first(attrs, "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
    if p is not None or c is not None:
        return _finish_tokens(
            p, _first(attrs, "gen_ai.usage.cache_read.input_tokens",
                      "gen_ai.usage.cache_read_input_tokens"),
            _first(attrs, "gen_ai.usage.cache_creation.input_tokens",
                   "gen_ai.usage.cache_creation_input_tokens"), c,
            _first(attrs, "gen_ai.usage.reasoning.output_tokens",
                   "gen_ai.usage.reasoning_tokens"))
    return None


_CR_KEYS = ("input_cache_read", "input_cached_tokens", "input_cache_read_tokens",
            "prompt_details.cache_read", "cache_read_input_tokens")
_CW_KEYS = ("input_cache_creation", "input_cache_write", "input_cache_creation_tokens",
            "prompt_details.cache_write", "cache_creation_input_tokens")
_RS_KEYS = ("output_reasoning", "output_reasoning_tokens", "completion_details.reasoning")


def _details_usage(obs: dict[str, Any]) -> tuple[dict[str, Any], bool] | None:
    ud = obs.get("usageDetails")
    if not isinstance(ud, dict) or not ud:
        ud = obs.get("usage") if isinstance(obs.get("usage"), dict) else None
    if not isinstance(ud, dict) or not ud:
        legacy = {"input": obs.get("inputUsage", obs.get("promptTokens")),
                  "output": obs.get("outputUsage", obs.get("completionTokens")),
                  "total": obs.get("totalUsage", obs.get("totalTokens"))}
        ud = {k: v for k, v in legacy.items() if v is not None}
    if not ud:
        return None
    inp = _first(ud, "input", "promptTokens", "input_tokens", "prompt_tokens")
    out = _first(ud, "output", "completionTokens", "output_tokens", "completion_tokens")
    total = _first(ud, "total", "totalTokens", "total_tokens")
    if inp is None and out is None:
        return None
    excl_in = sum(count(v) or 0 for k, v in ud.items()
                  if (k.startswith("input_") and k != "input_tokens")
                  or k in ("cache_read_input_tokens", "cache_creation_input_tokens"))
    amb_in = sum(count(v) or 0 for k, v in ud.items() if k.startswith("prompt_details."))
    excl_out = sum(count(v) or 0 for k, v in ud.items()
                   if k.startswith("output_") and k != "output_tokens")
    amb_out = sum(count(v) or 0 for k, v in ud.items() if k.startswith("completion_details."))
    add_in, add_out = excl_in, excl_out  # default by key family
    if total is not None and inp is not None and out is not None:
        if inp + out == total:
            add_in = add_out = 0
        elif inp + excl_in + amb_in + out + excl_out + amb_out == total:
            add_in, add_out = excl_in + amb_in, excl_out + amb_out
    cr, cw, rs = _first(ud, *_CR_KEYS), _first(ud, *_CW_KEYS), _first(ud, *_RS_KEYS)
    p = inp + add_in if inp is not None else None
    o = out + add_out if out is not None else None
    return _finish_tokens(p, cr, cw, o, rs)


def usage_info(o: dict[str, Any]) -> dict[str, Any]:
    """An observation's raw attributes and token fields: ``attrs``, ``fields``, ``fixed``
    (cache tokens added to the prompt count), ``inferred`` (only Langfuse's own tokenizer
    estimate is there: not used), ``reported`` (usage was found)."""
    _, attrs, scope = metadata(o)
    res = _attr_usage(attrs) if attrs else None
    inferred = False
    if res is None:
        otel = attrs is not None and not (scope or "").startswith("langfuse")
        if otel and not _has_token_attrs(attrs or {}):
            inferred = o.get("type") == "GENERATION" and _details_usage(o) is not None
            res = None
        else:
            res = _details_usage(o)
    fields, fixed = res if res is not None else ({}, False)
    return {"attrs": attrs, "fields": fields, "fixed": fixed, "inferred": inferred,
            "reported": res is not None}


def stated_cost(o: dict[str, Any]) -> float | None:
    """The cost Langfuse states (``costDetails.total`` or the sum of its parts; older exports'
    ``calculatedTotalCost`` / ``totalCost``), or ``None``."""
    if "costDetails" in o:
        cd = o.get("costDetails")
        if not isinstance(cd, dict) or not cd:
            return None
        v = number(cd.get("total"))
        if v is None:
            parts = [number(x) for x in cd.values()]
            v = sum(p for p in parts if p is not None) if any(
                p is not None for p in parts) else None
        return v if v is None or v >= 0 else None
    for k in ("calculatedTotalCost", "totalCost"):
        v = number(o.get(k))
        if v is not None and v >= 0:
            return v
    return None
