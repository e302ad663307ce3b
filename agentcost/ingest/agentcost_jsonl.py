"""agentcost's own JSONL (DESIGN.md §3): one object per line, one line per step.

Required: ``task_id`` and ``kind``. Token fields may be flat (canonical meaning) or a
provider-native ``usage`` object plus ``provider``; a ``request`` body yields ``segments``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from agentcost.ingest import usage as U
from agentcost.ingest.base import (
    IngestContext,
    Source,
    first_json_object,
    iter_json_objects,
)
from agentcost.ingest.common import iteration_steps, label_text
from agentcost.ingest.segments import from_request, is_request_body, validate_segments
from agentcost.steps import COLUMNS

_FIELDS = set(COLUMNS) - {"source", "format", "line", "uncached_input_tokens", "cost_usd",
                          "output_cost_usd", "cache_read_cost_usd", "cache_write_cost_usd",
                          "cache_savings_usd", "cache_1h_premium_usd",
                          "cost_source"}


class AgentcostJsonlReader:
    name = "agentcost"
    description = "agentcost JSONL (one step per line, DESIGN.md §3)"

    def sniff(self, source: Source) -> int:
        obj = first_json_object(source.head)
        if obj is None:
            return 0
        if isinstance(obj, dict) and "task_id" in obj and obj.get("kind") in (
                "llm", "tool", "agent"):
            return 95  # certain enough: the readers after it are not imported to be asked
        return 0

    def read(self, source: Source, ctx: IngestContext) -> Iterator[dict[str, Any]]:
        off = 0
        for n, obj in iter_json_objects(source, ctx):
            row = self._row(obj, source, n, ctx)
            if row is None:
                continue
            if row.pop("_gemini_total_off", False):
                off += 1
            if not ctx.in_window(row.get("started_at")):
                continue
            extras = row.pop("_iterations", None)
            yield row
            if extras:
                yield from iteration_steps(row, extras)
        if off:
            ctx.note(f"agentcost-jsonl: {source.name}: {off} Gemini usage object(s) whose "
                     "totalTokenCount differs from prompt + tool-use prompt + candidates + "
                     "thoughts; the parts were used")

    def _row(self, obj: dict[str, Any], source: Source, n: int,
             ctx: IngestContext) -> dict[str, Any] | None:
        """One line as a step row, or ``None`` (reported as malformed)."""
        if "task_id" not in obj or "kind" not in obj:
            ctx.malformed(source, n, "missing required field 'task_id' or 'kind'")
            return None
        row: dict[str, Any] = {k: obj[k] for k in _FIELDS if k in obj}
        bad = _text_fields(row)
        if bad is None and obj.get("usage") is not None:
            bad = _usage(obj, row, source, ctx)
        for check in (_times, _numbers, _labels_and_calls):
            if bad is not None:
                break
            bad = check(row)
        if bad is None:
            bad = _segments(obj, row)
        if bad is not None:
            ctx.malformed(source, n, bad)
            return None
        row["line"] = n
        return row


def _text_fields(row: dict[str, Any]) -> str | None:
    """Ids, names, model and provider as text (numbers are taken as text); the reason when one
    is neither."""
    for k in ("task_id", "name", "model", "provider", "span_id", "parent_id"):
        if k in row and row[k] is not None and not isinstance(row[k], str):
            if isinstance(row[k], (int, float)) and not isinstance(row[k], bool):
                row[k] = str(row[k])
            else:
                return f"{k} must be a string"
    return None


def _usage(obj: dict[str, Any], row: dict[str, Any], source: Source,
           ctx: IngestContext) -> str | None:
    """A provider-native ``usage`` object: its canonical fields fill what the line does not
    state flat; unread fields and extra iterations are reported."""
    usage = obj["usage"]
    if not isinstance(usage, dict):
        return "usage must be an object"
    try:
        norm = U.detect_and_normalize(usage, obj.get("provider") or obj.get("model"))
    except ValueError as exc:
        return str(exc)
    for k, v in norm.items():
        row.setdefault(k, v)
    if U.gemini_total_mismatch(usage, norm):
        row["_gemini_total_off"] = True
    unread = U.unread_fields(usage)
    if unread:
        ctx.unread_usage(source, unread)
    extras, why = U.extra_iterations(usage)
    if why:
        ctx.note(f"agentcost-jsonl: {source.name}: {why}")
    if extras:
        row["_iterations"] = extras
    return None


def _times(row: dict[str, Any]) -> str | None:
    from agentcost.steps import to_utc_ns

    for tcol in ("started_at", "ended_at"):
        if row.get(tcol) is not None:
            ns = to_utc_ns(row[tcol])
            if ns is None:
                return f"{tcol} is not a valid time: {row[tcol]!r}"
            row[tcol] = ns
    return None


def _numbers(row: dict[str, Any]) -> str | None:
    for fcol in ("duration_ms", "ttft_ms", "reported_cost_usd"):
        v = row.get(fcol)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0):
            return f"{fcol} must be a non-negative number"
    return None


def _labels_and_calls(row: dict[str, Any]) -> str | None:
    if "labels" in row:
        labels = _labels(row["labels"])
        if isinstance(labels, str):
            return labels
        row["labels"] = labels
    tc = row.get("tool_calls")
    if tc is not None and not (isinstance(tc, list) and all(isinstance(t, str) for t in tc)):
        return "tool_calls must be a list of names"
    return None


def _segments(obj: dict[str, Any], row: dict[str, Any]) -> str | None:
    """Segments as given (validated) or derived from a ``request`` body; a call without usage
    that did not fail takes their sum as its input tokens. DESIGN.md §3: a hand-written llm
    line with input but no cache fields leaves the cache fields unknown."""
    if "segments" in obj:
        reason = validate_segments(obj["segments"])
        if reason:
            return reason
    elif is_request_body(obj.get("request")):
        row["segments"] = from_request(obj["request"], _int_or_none(row.get("input_tokens")))
    if row.get("input_tokens") is None and row.get("segments") \
            and row.get("is_error") is not True:
        # a failed call without usage was not billed: its request's size is not its usage
        row["input_tokens"] = sum(s["tokens"] for s in row["segments"])
    return None


def _labels(v: Any) -> dict[str, str] | None | str:
    """``labels`` as ``{key: text}`` (numbers and booleans as text), ``None`` when empty, or
    the reason it is malformed."""
    if v is None:
        return None
    if not isinstance(v, dict):
        return "labels must be an object of key: value"
    out = {str(k): t for k, x in v.items() if (t := label_text(x)) is not None}
    return out or None


def _int_or_none(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


READER = AgentcostJsonlReader()
