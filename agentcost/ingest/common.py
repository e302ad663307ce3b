"""Small helpers every reader shares."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson


def args_hash(args: Any) -> str | None:
    """Fingerprint (SHA-1, first 16 hex) of a tool call's arguments as canonical JSON.

    JSON strings are parsed first, so key order and whitespace do not matter; a string that is
    not JSON is hashed as is. Used to spot repeated identical tool calls; the arguments
    themselves are never stored.
    """
    if args is None:
        return None
    if isinstance(args, (bytes, str)):
        try:
            args = orjson.loads(args)
        except orjson.JSONDecodeError:
            raw = args.encode() if isinstance(args, str) else args
            return hashlib.sha1(raw).hexdigest()[:16]
    try:
        data = orjson.dumps(args, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        data = repr(args).encode()
    return hashlib.sha1(data).hexdigest()[:16]


def as_list(v: Any) -> list[Any]:
    """``v`` when it is a JSON array, else ``[]``: a field that should hold a list but holds a
    number, a string or an object contributes nothing (and cannot crash the loop over it)."""
    return v if isinstance(v, list) else []


def as_str(v: Any) -> str | None:
    """``v`` when it is a string, else ``None``: a ``type`` or ``action`` field holding a list
    or an object matches no known value (and cannot be looked up in a set, which would raise)."""
    return v if isinstance(v, str) else None


def nonneg_int(v: Any) -> int | None:
    """``v`` as a non-negative whole number, or ``None`` (bools, negatives, fractions, text)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int) and v >= 0:
        return v
    if isinstance(v, float) and v.is_integer() and v >= 0:
        return int(v)
    return None


_ITERATION_TOKENS = ("input_tokens", "cache_read_tokens", "cache_write_tokens",
                     "cache_write_5m_tokens", "cache_write_1h_tokens", "output_tokens",
                     "reasoning_tokens")


def iteration_steps(row: dict[str, Any], extras: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The llm steps of the sampling iterations a response bills on top of its own usage
    (Anthropic server-side compaction, advisor sub-inferences: see
    :func:`agentcost.ingest.usage.extra_iterations`). Each is its own priced call in the same
    task, named after its type, on the iteration's model (else the response's), with no time
    of its own: it starts and ends where the response starts (its seconds are the
    response's). ``parent_id`` points at the response's span when it has one."""
    out: list[dict[str, Any]] = []
    for i, ex in enumerate(extras, 1):
        step: dict[str, Any] = {k: row.get(k) for k in (
            "task_id", "session_id", "parent_task_id", "provider", "service_tier", "line",
            "source")}
        step.update(kind="llm", name=str(ex["type"]),
                    model=ex.get("model") or row.get("model"),
                    response_model=ex.get("model") or row.get("response_model"),
                    started_at=row.get("started_at"), ended_at=row.get("started_at"),
                    parent_id=row.get("span_id"))
        if row.get("span_id"):
            step["span_id"] = f"{row['span_id']}#{ex['type']}-{i}"
        for k in _ITERATION_TOKENS:
            if ex.get(k) is not None:
                step[k] = ex[k]
        out.append({k: v for k, v in step.items() if v is not None})
    return out


def label_text(v: Any) -> str | None:
    """A label's value as text: strings, numbers and booleans; anything else is no label."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str) and v.strip():
        return v
    return None


def is_redacted(s: str) -> bool:
    """A text that stands where a number was removed: ``[REDACTED]``, ``<redacted>``,
    ``***``, ``REDACTED_TOKEN_COUNT`` — no digit in it and not blank. Such a usage value is
    unknown (``None``), never 0 and never a malformed line."""
    t = s.strip()
    return bool(t) and not any(ch.isdigit() for ch in t) and (
        "redact" in t.lower() or "hidden" in t.lower() or set(t) <= set("*#x-X[]<>"))
