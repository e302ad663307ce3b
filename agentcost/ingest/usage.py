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
    none on that call (0). Bedrock reports no 5m/1h split: a write is taken as 5m (the default).
    """
    out: dict[str, Any] = {}
    raw_in = _int(d.get("inputTokens"))
    cr = _int(d.get("cacheReadInputTokens")) or 0
    cw = _int(d.get("cacheWriteInputTokens")) or 0
    if raw_in is not None:
        out["input_tokens"] = raw_in + cr + cw
    out["cache_read_tokens"] = cr
    out["cache_write_tokens"] = cw
    out["cache_write_5m_tokens"] = cw
    out["cache_write_1h_tokens"] = 0
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
