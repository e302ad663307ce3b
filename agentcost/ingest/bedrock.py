"""AWS Bedrock runtime bodies: Converse / ConverseStream responses and the model id in the path.

Used by every reader that sees HTTP calls (raw logs, cassettes, HAR); facts from provider-rules
§F6 and the Bedrock API reference (``TokenUsage``, ``ConverseStream`` event stream):

* The model id is only in the request path: ``/model/{modelId}/converse``,
  ``/converse-stream``, ``/invoke``, ``/invoke-with-response-stream`` (URL-encoded, so
  ``%3A`` for ``:``), often with a cross-region inference prefix (``us.``, ``eu.``,
  ``apac.``, ``global.`` …) and a ``-v1:0`` version suffix; it is kept as given (the pricing
  resolves it through genai-prices' Bedrock entries).
* Converse ``usage``: ``inputTokens`` excludes cache reads and writes
  (:func:`agentcost.ingest.usage.bedrock_converse_usage` converts it); ``stopReason``;
  ``metrics.latencyMs`` is the call's latency.
* ConverseStream answers in the AWS event-stream binary framing
  (``application/vnd.amazon.eventstream``): messages of ``total length (4) · headers length
  (4) · prelude CRC (4) · headers · payload · message CRC (4)``, big-endian; the
  ``:event-type`` header names the event; the ``metadata`` event's JSON payload carries
  ``usage`` and ``metrics``, ``messageStop`` the ``stopReason``, ``contentBlockStart`` the
  tool names.
"""

from __future__ import annotations

import re
import struct
from typing import Any
from urllib.parse import unquote

import orjson

from agentcost.ingest.common import as_list

CONVERSE = "converse"  # the step name of a Bedrock Converse call
_MODEL_PATH = re.compile(r"/model/([^/?#]+)/(converse-stream|converse|invoke-with-response-stream"
                         r"|invoke)(?:[/?#]|$)")
# header value types of the event-stream framing -> fixed size (None: 2-byte length prefix)
_HEADER_SIZES: dict[int, int | None] = {0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 6: None, 7: None,
                                        8: 8, 9: 16}


def model_from_path(path: str) -> tuple[str, str] | None:
    """``(model id, operation)`` from a Bedrock runtime path or URL, else ``None``."""
    m = _MODEL_PATH.search(path)
    if m is None:
        return None
    return unquote(m.group(1)), m.group(2)


def is_converse_body(body: Any) -> bool:
    """A Converse response body: ``output.message`` or ``stopReason`` next to camelCase usage."""
    if not isinstance(body, dict):
        return False
    usage = body.get("usage")
    return ("stopReason" in body or isinstance(body.get("output"), dict)) and (
        isinstance(usage, dict) and ("inputTokens" in usage or "outputTokens" in usage))


def event_stream(data: bytes) -> list[tuple[str | None, Any]] | None:
    """``(event type, JSON payload)`` of each message of an AWS event stream, or ``None`` when
    ``data`` is not one (or is cut short: the messages decoded so far are returned)."""
    out: list[tuple[str | None, Any]] = []
    pos, n = 0, len(data)
    while pos + 16 <= n:
        total, hlen = struct.unpack_from(">II", data, pos)
        if total < 16 or hlen > total - 16 or pos + total > n:
            break
        headers = _headers(data[pos + 12: pos + 12 + hlen])
        if headers is None:
            break
        payload = data[pos + 12 + hlen: pos + total - 4]
        try:
            value: Any = orjson.loads(payload) if payload else None
        except orjson.JSONDecodeError:
            value = None
        etype = headers.get(":event-type") or headers.get(":exception-type")
        out.append((etype, value))
        pos += total
    return out if out else None


def _headers(raw: bytes) -> dict[str, str] | None:
    out: dict[str, str] = {}
    i, n = 0, len(raw)
    while i < n:
        nlen = raw[i]
        name = raw[i + 1: i + 1 + nlen].decode("utf-8", "replace")
        i += 1 + nlen
        if i >= n:
            return None
        vtype = raw[i]
        i += 1
        if vtype not in _HEADER_SIZES:
            return None
        size = _HEADER_SIZES[vtype]
        if size is None:
            if i + 2 > n:
                return None
            (vlen,) = struct.unpack_from(">H", raw, i)
            val = raw[i + 2: i + 2 + vlen]
            i += 2 + vlen
            if vtype == 7:
                out[name] = val.decode("utf-8", "replace")
        else:
            i += size
    return out


def converse_extract(body: dict[str, Any] | None,
                     events: list[tuple[str | None, Any]] | None) -> dict[str, Any]:
    """``usage`` (Bedrock-native), ``stop_reason``, ``tool_calls``, ``latency_ms`` and
    ``is_error`` of a Converse response body or a ConverseStream event list."""
    out: dict[str, Any] = {"usage": None, "stop_reason": None, "tool_calls": [],
                           "latency_ms": None, "is_error": False}
    if body is not None:
        if isinstance(body.get("usage"), dict):
            out["usage"] = body["usage"]
        out["stop_reason"] = body.get("stopReason") if isinstance(
            body.get("stopReason"), str) else None
        msg = body.get("output", {}).get("message") if isinstance(body.get("output"),
                                                                  dict) else None
        for block in as_list(msg.get("content") if isinstance(msg, dict) else None):
            tu = block.get("toolUse") if isinstance(block, dict) else None
            if isinstance(tu, dict) and isinstance(tu.get("name"), str):
                out["tool_calls"].append(tu["name"])
        _metrics(body, out)
        if "message" in body and "usage" not in body and "output" not in body:
            out["is_error"] = True  # an error body: {"message": "..."}
        return out
    for etype, value in events or []:
        if not isinstance(value, dict):
            continue
        if etype == "metadata":
            if isinstance(value.get("usage"), dict):
                out["usage"] = value["usage"]
            _metrics(value, out)
        elif etype == "messageStop" and isinstance(value.get("stopReason"), str):
            out["stop_reason"] = value["stopReason"]
        elif etype == "contentBlockStart":
            tu = value.get("start", {}).get("toolUse") if isinstance(value.get("start"),
                                                                     dict) else None
            if isinstance(tu, dict) and isinstance(tu.get("name"), str):
                out["tool_calls"].append(tu["name"])
        elif etype is not None and etype.endswith("Exception"):
            out["is_error"] = True
    return out


def _metrics(d: dict[str, Any], out: dict[str, Any]) -> None:
    m = d.get("metrics")
    lat = m.get("latencyMs") if isinstance(m, dict) else None
    if isinstance(lat, (int, float)) and not isinstance(lat, bool) and lat >= 0:
        out["latency_ms"] = float(lat)
