"""OpenTelemetry spans as two more exporters write them (the OTLP reader does the mapping).

* **The OpenTelemetry Python SDK's ``ConsoleSpanExporter``** (and anything that prints
  ``ReadableSpan.to_json()``, as Microsoft Agent Framework's samples and many tutorials do):
  pretty-printed JSON objects, one per span, back to back — ``{"name", "context": {trace_id,
  span_id}, "kind": "SpanKind.CLIENT", "parent_id", "start_time", "end_time", "status":
  {status_code}, "attributes": {...}, "events", "links", "resource": {attributes}}`` with
  ``0x``-prefixed hex ids and ISO times. Text between the objects (a program's own prints in a
  captured console) is skipped and counted.
* **GitHub Copilot CLI's file exporter** (``COPILOT_OTEL_FILE_EXPORTER_PATH``): JSON lines
  ``{"type": "span", traceId, spanId, parentSpanId, name, startTime: [s, ns], endTime,
  attributes: {...}, status, resource}`` next to ``{"type": "metric", ...}`` lines, which carry
  no per-call usage and are counted and skipped.

Attributes go through :mod:`agentcost.ingest.otel_attrs` (OTel GenAI names, including the
underscore cache forms Copilot CLI writes); a usage value that is a redaction marker such as
``"[REDACTED]"`` is an unknown token count, never 0 and never an error. Roll-ups
(``invoke_agent``), two instrumentations of one call and re-exported spans are handled as in the
OTLP reader (:func:`agentcost.ingest.otlp.rows_from_spans`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from agentcost.ingest.base import IngestContext, Source, first_json_object
from agentcost.ingest.otlp import rows_from_spans

_CONSOLE_HEAD = re.compile(
    rb'^\{\s*"name"\s*:\s*"(?:[^"\\]|\\.)*"\s*,\s*"context"\s*:\s*\{\s*"trace_id"', re.M)
_NEXT_OBJECT = re.compile(r"^\{", re.M)
SKIPPED_TEXT = "otel-json: console lines between span objects (a program's own output)"


def _copilot_kind(obj: dict[str, Any] | None) -> str | None:
    """``span`` / ``metric`` / ``log`` for a Copilot CLI exporter line, else ``None``."""
    if obj is None:
        return None
    t = obj.get("type")
    if t == "span" and ("traceId" in obj or "spanId" in obj):
        return "span"
    if t in ("metric", "log") and "name" in obj:
        return str(t)
    return None


def _console_objects(src: Source, ctx: IngestContext) -> Iterator[tuple[Any, Source, int]]:
    """The span objects of a console capture: each ``{`` that starts a line begins one."""
    text = src.read_bytes().decode("utf-8", errors="replace")
    ctx.report.lines_read += text.count("\n") + (0 if text.endswith("\n") else 1)
    dec = json.JSONDecoder()
    pos, line, counted = 0, 1, 0
    while True:
        m = _NEXT_OBJECT.search(text, pos)
        if m is None:
            break
        if text[pos:m.start()].strip():
            ctx.dropped(SKIPPED_TEXT)
        line += text.count("\n", counted, m.start())
        counted = m.start()
        try:
            obj, end = dec.raw_decode(text, m.start())
        except (json.JSONDecodeError, RecursionError) as exc:
            why = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            ctx.malformed(src, line, f"invalid JSON ({why})")
            pos = m.start() + 1
            continue
        yield obj, src, line
        pos = end
    if text[pos:].strip():
        ctx.dropped(SKIPPED_TEXT)


def _copilot_objects(src: Source, ctx: IngestContext,
                     skipped: Counter[str]) -> Iterator[tuple[Any, Source, int]]:
    import orjson

    for n, raw in src.lines():
        ctx.report.lines_read += 1
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            ctx.malformed(src, n, f"invalid JSON ({exc.args[0].split(':')[0]})")
            continue
        kind = _copilot_kind(obj) if isinstance(obj, dict) else None
        if kind == "span":
            yield obj, src, n
        elif kind is not None:
            skipped[kind] += 1
        else:
            ctx.malformed(src, n, "neither a {\"type\": \"span\"} nor a metric line")


class OtelJsonReader:
    name = "otel-json"
    description = ("OpenTelemetry spans from the Python SDK's console exporter and from GitHub "
                   "Copilot CLI's JSON-lines file exporter")

    def sniff(self, source: Source) -> int:
        head = source.head.lstrip(b"\xef\xbb\xbf")
        m = _CONSOLE_HEAD.search(head)
        if m is not None:  # a captured console may print other lines before the first span
            return 92 if not head[: m.start()].strip() else 80
        obj = first_json_object(head)
        if obj is not None and _copilot_kind(obj) is not None:
            return 92
        return 0

    def read(self, source: Source, ctx: IngestContext) -> Iterator[dict[str, Any]]:
        yield from self.read_many([source], ctx)

    def read_many(self, sources: list[Source], ctx: IngestContext) -> Iterator[dict[str, Any]]:
        skipped: Counter[str] = Counter()

        def objects() -> Iterator[tuple[Any, Source, int]]:
            for src in sources:
                if first_json_object(src.head) is not None:
                    yield from _copilot_objects(src, ctx, skipped)
                else:
                    yield from _console_objects(src, ctx)
                ctx.advance(src.size)

        yield from rows_from_spans(objects(), ctx)
        for kind, n in sorted(skipped.items()):
            ctx.note(f"otel-json: {n} {kind} line(s) skipped (they carry no per-call usage)")


READER = OtelJsonReader()
