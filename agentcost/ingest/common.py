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


def is_redacted(s: str) -> bool:
    """A text that stands where a number was removed: ``[REDACTED]``, ``<redacted>``,
    ``***``, ``REDACTED_TOKEN_COUNT`` — no digit in it and not blank. Such a usage value is
    unknown (``None``), never 0 and never a malformed line."""
    t = s.strip()
    return bool(t) and not any(ch.isdigit() for ch in t) and (
        "redact" in t.lower() or "hidden" in t.lower() or set(t) <= set("*#x-X[]<>"))
