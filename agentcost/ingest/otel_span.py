"""The common span shape of the span-based formats, and OTLP/JSON attribute decoding.

Readers of OTLP/JSON, any-agent ``AgentTrace`` and Vercel AI SDK span captures turn each span
into a :class:`Span`: ids as lowercase hex (:func:`norm_id` accepts OTLP/JSON hex, the
protobuf JSON mapping's base64 and any-agent's decimal integers), times as UTC ns,
attributes as a plain dict (:func:`attr_dict` decodes OTLP ``[{key, value: AnyValue}]``
lists), the resource's scalar attributes as labels.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from agentcost.ingest.common import label_text

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
