"""Usage that Google ADK and Vercel AI SDK spans carry inside a provider object, not as
attributes of their own.

* Google ADK's ``gcp.vertex.agent.llm_response`` holds the Gemini response whole: its
  ``usage_metadata`` wins over the span's counts (thoughts are output, tool-use prompt is input).
* Vercel AI SDK's ``ai.response.providerMetadata`` holds the raw Anthropic ``usage`` (which
  wins), or the cache and reasoning figures its ``ai.usage.*`` attributes leave out
  (provider-rules F6): Anthropic, Bedrock and OpenAI provider metadata.
"""

from __future__ import annotations

from typing import Any

from agentcost.ingest import usage as U
from agentcost.ingest.otel_keys import attr_json, token_int


def _attr_object(a: dict[str, Any], key: str) -> dict[str, Any] | None:
    v = attr_json(a.get(key))
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
        n = token_int(v, f"providerMetadata.{prov}")
        if n is not None:
            out.setdefault(col, n)
    return out
