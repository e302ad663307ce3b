"""Provider-native ``usage`` objects → canonical token fields (DESIGN.md §2, provider-rules §F5).

Each function returns a dict with the canonical keys it can fill; a key is absent (unknown) when
the source does not carry that figure. Callers pass the result straight into a step row.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from agentcost.steps import int_text


def _int(v: Any) -> int | None:
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and math.isfinite(v) and v == int(v):
        return int(v)
    if isinstance(v, str) and int_text(v) is not None:
        return int_text(v)
    raise ValueError(f"token count is not a number: {v!r}")


def _get(d: Any, *path: str) -> Any:
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d


def anthropic(u: dict[str, Any]) -> dict[str, Any]:
    """Anthropic Messages ``usage``: raw ``input_tokens`` *excludes* cache reads and writes.

    total input = input_tokens + cache_read_input_tokens + cache_creation_input_tokens (A5).
    The 5m/1h split comes from ``cache_creation.ephemeral_{5m,1h}_input_tokens``; when the split
    is absent the whole write is taken as 5m (the default TTL) and ``cache_write_1h_tokens`` is 0.
    """
    raw_in = _int(u.get("input_tokens"))
    cr = _int(u.get("cache_read_input_tokens"))
    cw = _int(u.get("cache_creation_input_tokens"))
    out: dict[str, Any] = {}
    split = u.get("cache_creation") if isinstance(u.get("cache_creation"), dict) else None
    w5 = _int(split.get("ephemeral_5m_input_tokens")) if split else None
    w1 = _int(split.get("ephemeral_1h_input_tokens")) if split else None
    if cw is None and (w5 is not None or w1 is not None):
        cw = (w5 or 0) + (w1 or 0)
    if raw_in is not None:
        out["input_tokens"] = raw_in + (cr or 0) + (cw or 0)
    # Anthropic always reports cache fields when caching is possible; their absence in a
    # response (e.g. Bedrock converse in old Claude Code) means none happened on that call.
    out["cache_read_tokens"] = cr or 0
    out["cache_write_tokens"] = cw or 0
    if cw:
        if w5 is None and w1 is None:
            w5, w1 = cw, 0
        out["cache_write_5m_tokens"] = w5 or 0
        out["cache_write_1h_tokens"] = w1 or 0
    else:
        out["cache_write_5m_tokens"] = 0
        out["cache_write_1h_tokens"] = 0
    o = _int(u.get("output_tokens"))
    if o is not None:
        out["output_tokens"] = o
    th = _int(_get(u, "output_tokens_details", "thinking_tokens"))
    if th is not None:
        out["reasoning_tokens"] = th
    tier = u.get("service_tier")
    if isinstance(tier, str) and tier:
        out["service_tier"] = tier
    return out


def openai_chat(u: dict[str, Any]) -> dict[str, Any]:
    """OpenAI Chat Completions ``usage``: ``prompt_tokens`` *includes* cached and written tokens.

    ``prompt_tokens_details`` missing entirely ⇒ cache reads unknown (not 0).
    """
    out: dict[str, Any] = {}
    p = _int(u.get("prompt_tokens"))
    if p is not None:
        out["input_tokens"] = p
    details = u.get("prompt_tokens_details")
    if isinstance(details, dict):
        cr = _int(details.get("cached_tokens"))
        out["cache_read_tokens"] = cr if cr is not None else None
        cw = _int(details.get("cache_write_tokens"))
        if cw is not None:
            out["cache_write_tokens"] = cw
    # litellm/Anthropic-through-OpenAI-shape: extra Anthropic-style fields
    if "cache_read_input_tokens" in u and out.get("cache_read_tokens") in (None, 0):
        out["cache_read_tokens"] = _int(u.get("cache_read_input_tokens"))
    if "cache_creation_input_tokens" in u and out.get("cache_write_tokens") in (None, 0):
        out["cache_write_tokens"] = _int(u.get("cache_creation_input_tokens"))
    c = _int(u.get("completion_tokens"))
    if c is not None:
        out["output_tokens"] = c
    r = _int(_get(u, "completion_tokens_details", "reasoning_tokens"))
    if r is not None:
        out["reasoning_tokens"] = r
    return {k: v for k, v in out.items() if v is not None}


def openai_responses(u: dict[str, Any]) -> dict[str, Any]:
    """OpenAI Responses / Agents SDK ``usage``: ``input_tokens`` includes cached and written."""
    out: dict[str, Any] = {}
    i = _int(u.get("input_tokens"))
    if i is not None:
        out["input_tokens"] = i
    details = u.get("input_tokens_details")
    if isinstance(details, dict):
        cr = _int(details.get("cached_tokens"))
        if cr is not None:
            out["cache_read_tokens"] = cr
        cw = _int(details.get("cache_write_tokens"))
        if cw is not None:
            out["cache_write_tokens"] = cw
    o = _int(u.get("output_tokens"))
    if o is not None:
        out["output_tokens"] = o
    r = _int(_get(u, "output_tokens_details", "reasoning_tokens"))
    if r is not None:
        out["reasoning_tokens"] = r
    return out


def gemini(u: dict[str, Any]) -> dict[str, Any]:
    """Gemini ``usage_metadata``: ``prompt_token_count`` with ``cached_content_token_count``
    taken as a subset (provider-rules §U10: inclusion stated by third parties); thoughts are
    billed as output, so output = candidates + thoughts; ``toolUsePromptTokenCount`` is separate
    prompt input, so input = prompt + tool-use prompt (totalTokenCount = input + output)."""
    out: dict[str, Any] = {}
    p = _int(u.get("prompt_token_count", u.get("promptTokenCount")))
    tool = _int(u.get("tool_use_prompt_token_count", u.get("toolUsePromptTokenCount")))
    if p is not None:
        # tool-use prompt tokens are separate from promptTokenCount and billed as input (§U)
        out["input_tokens"] = p + (tool or 0)
    c = _int(u.get("cached_content_token_count", u.get("cachedContentTokenCount")))
    out["cache_read_tokens"] = c or 0
    out["cache_write_tokens"] = 0
    cand = _int(u.get("candidates_token_count", u.get("candidatesTokenCount"))) or 0
    th = _int(u.get("thoughts_token_count", u.get("thoughtsTokenCount"))) or 0
    out["output_tokens"] = cand + th
    out["reasoning_tokens"] = th
    return out


def bedrock_converse_usage(d: Mapping[str, Any]) -> dict[str, Any]:
    """AWS Bedrock Converse ``usage`` (also ConverseStream ``metadata.usage``), provider-rules §U.

    ``inputTokens`` excludes cache reads and writes, so inclusive input =
    ``inputTokens + cacheReadInputTokens + cacheWriteInputTokens``; absent cache fields mean
    none on that call (0). The 5m/1h split of the writes comes from ``cacheDetails``
    (``[{inputTokens, ttl: "5m" | "1h"}]``, AWS ``TokenUsage``) when it adds up to the writes;
    without it a write is taken as 5m (the default). ``cacheRead/WriteInputTokenCount``, which
    real responses carry next to the documented names, are the same figures.
    """
    out: dict[str, Any] = {}
    raw_in = _int(d.get("inputTokens"))
    cr = _int(d.get("cacheReadInputTokens", d.get("cacheReadInputTokenCount"))) or 0
    cw = _int(d.get("cacheWriteInputTokens", d.get("cacheWriteInputTokenCount"))) or 0
    if raw_in is not None:
        out["input_tokens"] = raw_in + cr + cw
    out["cache_read_tokens"] = cr
    out["cache_write_tokens"] = cw
    by_ttl = {"5m": 0, "1h": 0}
    details = d.get("cacheDetails")
    for det in details if isinstance(details, list) else []:
        if isinstance(det, dict) and det.get("ttl") in by_ttl:
            by_ttl[det["ttl"]] += _int(det.get("inputTokens")) or 0
    split = sum(by_ttl.values()) == cw and cw > 0
    out["cache_write_5m_tokens"] = by_ttl["5m"] if split else cw
    out["cache_write_1h_tokens"] = by_ttl["1h"] if split else 0
    o = _int(d.get("outputTokens"))
    if o is not None:
        out["output_tokens"] = o
    return out


def mistral(u: dict[str, Any]) -> dict[str, Any]:
    """Mistral ``usage``: Chat-shaped, ``prompt_tokens`` inclusive; a cache read is
    ``prompt_tokens_details.cached_tokens`` or the older top-level ``num_cached_tokens``."""
    out = openai_chat(u)
    if out.get("cache_read_tokens") is None:
        n = _int(u.get("num_cached_tokens"))
        if n is not None:
            out["cache_read_tokens"] = n
    return out


def detect_and_normalize(u: dict[str, Any], provider: str | None = None) -> dict[str, Any]:
    """Normalise a usage object whose shape tells its convention.

    Anthropic shape (``cache_creation_input_tokens`` / ``cache_read_input_tokens`` next to
    ``input_tokens`` and no ``prompt_tokens``) → :func:`anthropic`; ``prompt_tokens`` → Chat;
    ``input_tokens_details`` or plain ``input_tokens`` with an OpenAI provider → Responses;
    camelCase ``inputTokens``/``outputTokens`` → Bedrock Converse; ``num_cached_tokens`` → Mistral.
    A bare ``{input_tokens, output_tokens}`` is Anthropic's convention only if ``provider`` says
    anthropic; otherwise it is taken as inclusive (OpenAI / OTel meaning).
    """
    prov = (provider or "").lower()
    if "inputTokens" in u or "outputTokens" in u or "cacheReadInputTokens" in u:
        return bedrock_converse_usage(u)
    if "num_cached_tokens" in u:
        return mistral(u)
    if "prompt_tokens" in u or "completion_tokens" in u:
        return openai_chat(u)
    if "prompt_token_count" in u or "promptTokenCount" in u:
        return gemini(u)
    if "prompt_cache_hit_tokens" in u:  # DeepSeek
        out = openai_chat(u)
        out["cache_read_tokens"] = _int(u.get("prompt_cache_hit_tokens")) or 0
        out.setdefault("cache_write_tokens", 0)
        return out
    if ("cache_creation_input_tokens" in u or "cache_read_input_tokens" in u
            or "anthropic" in prov or "claude" in prov):
        return anthropic(u)
    return openai_responses(u)


# --- Anthropic per-iteration usage (server-side compaction, advisor sub-inferences) ---------

#: ``usage.iterations[].type`` values whose tokens the top-level usage already holds
_IN_TOP_LEVEL = frozenset({"message", "fallback_message"})


def extra_iterations(u: Mapping[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    """Anthropic ``usage.iterations[]`` entries billed *on top of* the top-level usage.

    The SDK's ``BetaIterationsUsage`` documents that a ``compaction`` entry's tokens are not
    in the top-level fields; ``message`` (and ``fallback_message``) entries are. An
    ``advisor_message`` entry (a sub-inference on its own ``model``) is taken as extra only
    when the message entries alone add up to the top-level usage — the check that tells,
    for this response, whether the top level left it out. Returns the extra entries
    normalised like :func:`anthropic` (plus ``type`` and ``model``) and, when the entries
    cannot be reconciled with the top level, a one-line reason (then nothing is added).
    """
    items = u.get("iterations")
    if not isinstance(items, list) or not items:
        return [], None
    parsed: list[dict[str, Any]] = []
    for it in items:
        if not isinstance(it, dict) or not isinstance(it.get("type"), str):
            return [], "usage.iterations holds an entry without a type"
        norm = anthropic(it)
        norm.pop("service_tier", None)
        norm["type"] = it["type"]
        if isinstance(it.get("model"), str) and it["model"]:
            norm["model"] = it["model"]
        parsed.append(norm)
    extra = [p for p in parsed if p["type"] == "compaction"]
    advisors = [p for p in parsed if p["type"] == "advisor_message"]
    unknown = {p["type"] for p in parsed} - _IN_TOP_LEVEL - {"compaction", "advisor_message"}
    if unknown:
        return [], f"usage.iterations type(s) not understood: {', '.join(sorted(unknown))}"
    if advisors:
        top = anthropic({k: v for k, v in u.items() if k != "iterations"})
        msgs = [p for p in parsed if p["type"] in _IN_TOP_LEVEL]
        keys = ("input_tokens", "output_tokens")
        if msgs and all(sum(p.get(k) or 0 for p in msgs) == top.get(k) for k in keys):
            extra += advisors
        else:
            return extra, ("usage.iterations: advisor sub-inference tokens could not be told "
                           "apart from the top-level usage; not added")
    return extra, None


# --- usage fields nobody reads ---------------------------------------------------------------

# Every top-level key a normaliser here reads, or knows and leaves out on purpose (totals that are
# derived, tiers read elsewhere, routing metadata). Nested details are checked one level down.
UNDERSTOOD_KEYS = frozenset({
    # Anthropic
    "input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
    "cache_creation", "service_tier", "inference_geo", "speed", "iterations",
    "output_tokens_details", "server_tool_use",
    # OpenAI Chat / Responses
    "prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details",
    "completion_tokens_details", "input_tokens_details",
    # DeepSeek, Mistral
    "prompt_cache_hit_tokens", "prompt_cache_miss_tokens", "num_cached_tokens",
    # Gemini (both spellings)
    "prompt_token_count", "promptTokenCount", "candidates_token_count", "candidatesTokenCount",
    "cached_content_token_count", "cachedContentTokenCount", "thoughts_token_count",
    "thoughtsTokenCount", "tool_use_prompt_token_count", "toolUsePromptTokenCount",
    "total_token_count", "totalTokenCount", "prompt_tokens_details_list", "promptTokensDetails",
    "candidatesTokensDetails", "cacheTokensDetails", "toolUsePromptTokensDetails",
    "traffic_type", "trafficType",
    # Bedrock Converse
    "inputTokens", "outputTokens", "totalTokens", "cacheReadInputTokens",
    "cacheWriteInputTokens", "cacheDetails", "cacheReadInputTokenCount",
    "cacheWriteInputTokenCount",
})
# nested keys read (or neutral) per details object; any other nested key with a non-zero
# value is named (audio tokens, for one, are priced apart and not here)
_NESTED = {
    "cache_creation": frozenset({"ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens"}),
    "prompt_tokens_details": frozenset({"cached_tokens", "cache_write_tokens"}),
    "input_tokens_details": frozenset({"cached_tokens", "cache_write_tokens"}),
    "completion_tokens_details": frozenset({"reasoning_tokens", "accepted_prediction_tokens",
                                            "rejected_prediction_tokens"}),
    "output_tokens_details": frozenset({"reasoning_tokens", "thinking_tokens"}),
    # web fetches cost only their tokens; a web search is billed per request (not priced)
    "server_tool_use": frozenset({"web_fetch_requests"}),
}


def unread_fields(u: Mapping[str, Any]) -> list[str]:
    """The usage keys no normaliser here understands, and understood details agentcost does
    not price (``server_tool_use.web_search_requests``, ``prompt_tokens_details.audio_tokens``),
    when they carry a figure (see :func:`carries`). Names are dotted paths; empty when all
    is read."""
    out: list[str] = []
    for k, v in u.items():
        if k not in UNDERSTOOD_KEYS:
            if carries(v):
                out.append(k)
            continue
        inner = _NESTED.get(k)
        if inner is not None and isinstance(v, dict):
            out += [f"{k}.{kk}" for kk, vv in v.items() if kk not in inner and carries(vv)]
    return out


def carries(v: Any) -> bool:
    """Whether a usage value holds a figure: a non-zero number (or numeric text), a
    non-empty text, or a container holding one. Zeros, nulls and empties lose nothing when
    left unread."""
    if v is None or isinstance(v, bool):
        return bool(v)
    if isinstance(v, (int, float)):
        return v != 0
    if isinstance(v, str):
        return v.strip() not in ("", "0")
    if isinstance(v, dict):
        return any(carries(x) for x in v.values())
    if isinstance(v, list):
        return any(carries(x) for x in v)
    return True


def gemini_total_mismatch(u: Mapping[str, Any], norm: Mapping[str, Any]) -> str | None:
    """A reason when a Gemini body's own ``totalTokenCount`` disagrees with input + output as
    normalised (prompt + tool-use prompt + candidates + thoughts); ``None`` when it agrees or
    the body states no total."""
    total = u.get("totalTokenCount", u.get("total_token_count"))
    if isinstance(total, bool) or not isinstance(total, int):
        return None
    got = (norm.get("input_tokens") or 0) + (norm.get("output_tokens") or 0)
    if got == total:
        return None
    return (f"Gemini totalTokenCount {total:,} != prompt + tool-use prompt + candidates + "
            f"thoughts {got:,}")
