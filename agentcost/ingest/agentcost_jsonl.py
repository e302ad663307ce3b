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

    def _row(self, obj: dict[str, Any], source: Source, n: int,  # noqa: C901 (split pending)
             ctx: IngestContext) -> dict[str, Any] | None:
        from agentcost.steps import to_utc_ns

        if "task_id" not in obj or "kind" not in obj:
            ctx.malformed(source, n, "missing required field 'task_id' or 'kind'")
            return None
        row: dict[str, Any] = {k: obj[k] for k in _FIELDS if k in obj}
        for k in ("task_id", "name", "model", "provider", "span_id", "parent_id"):
            if k in row and row[k] is not None and not isinstance(row[k], str):
                if isinstance(row[k], (int, float)) and not isinstance(row[k], bool):
                    row[k] = str(row[k])
                else:
                    ctx.malformed(source, n, f"{k} must be a string")
                    return None
        usage = obj.get("usage")
        if usage is not None:
            if not isinstance(usage, dict):
                ctx.malformed(source, n, "usage must be an object")
                return None
            try:
                norm = U.detect_and_normalize(usage, obj.get("provider") or obj.get("model"))
            except ValueError as exc:
                ctx.malformed(source, n, str(exc))
                return None
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
        for tcol in ("started_at", "ended_at"):
            if row.get(tcol) is not None:
                ns = to_utc_ns(row[tcol])
                if ns is None:
                    ctx.malformed(source, n, f"{tcol} is not a valid time: {row[tcol]!r}")
                    return None
                row[tcol] = ns
        for fcol in ("duration_ms", "ttft_ms", "reported_cost_usd"):
            v = row.get(fcol)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))
                                  or v < 0):
                ctx.malformed(source, n, f"{fcol} must be a non-negative number")
                return None
        if "labels" in row:
            labels = _labels(row["labels"])
            if isinstance(labels, str):
                ctx.malformed(source, n, labels)
                return None
            row["labels"] = labels
        tc = row.get("tool_calls")
        if tc is not None and not (isinstance(tc, list) and all(isinstance(t, str) for t in tc)):
            ctx.malformed(source, n, "tool_calls must be a list of names")
            return None
        if "segments" in obj:
            reason = validate_segments(obj["segments"])
            if reason:
                ctx.malformed(source, n, reason)
                return None
        elif is_request_body(obj.get("request")):
            row["segments"] = from_request(obj["request"], _int_or_none(row.get("input_tokens")))
        if row.get("input_tokens") is None and row.get("segments") \
                and row.get("is_error") is not True:
            # a failed call without usage was not billed: its request's size is not its usage
            row["input_tokens"] = sum(s["tokens"] for s in row["segments"])
        if row.get("kind") == "llm":
            # DESIGN.md §3: a hand-written line with input but no cache fields had no caching
            # only if it says so; flat lines without the field leave it unknown.
            pass
        row["line"] = n
        return row


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
