"""Attribute names of the span conventions (OTel GenAI, OpenInference, OpenLLMetry, Vercel AI
SDK) and the small readers of their values, shared by the mappings of
:mod:`agentcost.ingest.otel_attrs`.

A token attribute (:func:`token_int`) is a whole number, a numeric string, or a redaction
marker (unknown); anything else is an error the reader reports as a malformed span. The other
readers return ``None`` for what they cannot read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from agentcost.ingest import usage as U
from agentcost.ingest.common import is_redacted
from agentcost.steps import int_text

Notes = Callable[[str], None]

# ---------------------------------------------------------------------------------------------
# attribute names

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

USAGE_PREFIXES = ("gen_ai.usage.", "llm.token_count.", "llm.usage.", "ai.usage.")
# every usage attribute read (tokens above, stated costs below)
READ_USAGE_KEYS = frozenset({*IN_KEYS, *OUT_KEYS, *CR_KEYS, *CW_KEYS, *W5_KEYS, *W1_KEYS,
                             *RS_KEYS, *TOTAL_KEYS, *EMBED_KEYS, "gen_ai.usage.cost",
                             "gen_ai.usage.input_cost", "gen_ai.usage.output_cost"})


def has_usage(a: dict[str, Any]) -> bool:
    """Whether a span carries any token attribute this mapping reads."""
    return any(k in a for k in USAGE_KEYS)


def unread_usage_attributes(a: dict[str, Any]) -> list[str]:
    """Usage attributes (``gen_ai.usage.*``, ``llm.token_count.*``, ...) of a span that no
    mapping here reads and that carry a figure: a new instrumentation field is named, never
    silently lost."""
    return [k for k, v in a.items() if k.startswith(USAGE_PREFIXES)
            and k not in READ_USAGE_KEYS and U.carries(v)]


# ---------------------------------------------------------------------------------------------
# value readers


def token_int(v: Any, key: str) -> int | None:
    """A token count (``None`` when absent or redacted); ``ValueError`` naming ``key`` when the
    value is not a whole number."""
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


def first_attr(a: dict[str, Any], keys: tuple[str, ...]) -> tuple[str | None, Any]:
    for k in keys:
        v = a.get(k)
        if v is not None and v != "":
            return k, v
    return None, None


def first_int(a: dict[str, Any], keys: tuple[str, ...]) -> int | None:
    k, v = first_attr(a, keys)
    return token_int(v, k) if k else None


def attr_float(v: Any) -> float | None:
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


def attr_str(v: Any) -> str | None:
    if isinstance(v, str):
        s = v.strip()
        return s or None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    return None


def attr_json(v: Any) -> Any:
    if isinstance(v, str):
        s = v.lstrip()
        if s[:1] in ("{", "["):
            try:
                return orjson.loads(s)
            except orjson.JSONDecodeError:
                return None
        return None
    return v
