"""One recorded call → one agentcost JSONL line (docs/formats.md, "Recorded calls").

The line carries the canonical step fields (DESIGN.md §2/§3) the reader takes as they are, and
the provider's own ``usage`` object untouched (the reader normalises it by ``provider``). Fields
only the recorder writes: ``api``, ``stream``, ``status``, ``attempt`` (0 for the first try, n for
the SDK's n-th retry), ``error``, ``request_id``, ``response_id`` and ``answer`` (the text and the
tool calls with their arguments, which ``replay`` compares against).

With ``content=False`` the request body and the answer's text and arguments are left out: the
line keeps ``segments`` (role, token count and fingerprint per block), a fingerprint of the whole
request, and fingerprints and sizes of the answer. Secrets are never written: the line is built
from the request body, the response body and the response's request id, never from headers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agentcost.record.wire import PROVIDER, Answer

TIERS = {
    "standard": "standard",
    "default": "standard",
    "auto": "standard",
    "batch": "batch",
    "flex": "flex",
    "priority": "priority",
    "scale": "priority",
}


@dataclass
class CallInfo:
    """What the recorder saw of one HTTP attempt."""

    api: str
    task_id: str
    body: dict[str, Any] | None
    started_ns: int
    ended_ns: int
    ttft_ms: float | None = None
    stream: bool = False
    status: int | None = None
    attempt: int = 0
    request_id: str | None = None
    exception: str | None = None  # a connection error or timeout: no response


def iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def fingerprint(obj: Any) -> str:
    data = (
        obj.encode()
        if isinstance(obj, str)
        else json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    return hashlib.sha256(data).hexdigest()[:16]


def build_line(c: CallInfo, a: Answer, *, content: bool, version: str) -> dict[str, Any]:
    """The JSONL object for one call."""
    body = c.body or {}
    model = body.get("model") if isinstance(body.get("model"), str) else None
    line: dict[str, Any] = {
        "task_id": c.task_id,
        "kind": "llm",
        "name": c.api,
        "provider": PROVIDER[c.api],
        "api": c.api,
        "model": model,
        "response_model": a.response_model,
        "started_at": iso(c.started_ns),
        "ended_at": iso(c.ended_ns),
        "duration_ms": round((c.ended_ns - c.started_ns) / 1e6, 3),
        "stream": c.stream,
    }
    if c.ttft_ms is not None:
        line["ttft_ms"] = round(c.ttft_ms, 3)
    line.update(
        {
            "status": c.status,
            "attempt": c.attempt,
            "usage": a.usage,
            "stop_reason": a.stop_reason,
            "tool_calls": [t.name for t in a.tool_calls],
            "service_tier": TIERS.get((a.service_tier or "").lower()),
        }
    )
    error = _error(c, a, content)
    line["is_error"] = error is not None
    if error is not None:
        line["error"] = error
    line["request_id"], line["response_id"] = c.request_id, a.response_id
    if content:
        line["answer"] = {"text": a.text, "tool_calls": [t.to_dict() for t in a.tool_calls]}
        line["request"] = c.body
    else:
        line["answer"] = {
            "text_chars": len(a.text),
            "text_hash": fingerprint(a.text),
            "tool_calls": [
                {"name": t.name, "arguments_hash": fingerprint(t.arguments)} for t in a.tool_calls
            ],
        }
        line["request_hash"] = fingerprint(body)
        line["segments"] = _segments(body, line)
    line["recorder"] = f"agentcost {version}"
    return line


def _error(c: CallInfo, a: Answer, content: bool) -> dict[str, Any] | None:
    if c.exception is not None:
        return {"type": c.exception}
    if a.error is None and (c.status is None or c.status < 400):
        return None
    err = dict(a.error or {"type": f"http_{c.status}"})
    if not content:
        err.pop("message", None)  # an error message may quote the prompt
    return err


def _segments(body: dict[str, Any], line: dict[str, Any]) -> list[dict[str, Any]]:
    from agentcost.ingest.segments import from_request, is_request_body
    from agentcost.ingest.usage import detect_and_normalize

    if not is_request_body(body):
        return []
    total = None
    if isinstance(line.get("usage"), dict):
        try:
            total = detect_and_normalize(line["usage"], line["provider"]).get("input_tokens")
        except ValueError:
            total = None
    return from_request(body, total)
