"""OpenTelemetry spans → steps: OTLP/JSON, any-agent ``AgentTrace`` JSON, Vercel AI SDK captures.

Accepted shapes (detected from content):

* **OTLP/JSON** ``ExportTraceServiceRequest`` objects (``resourceSpans[].scopeSpans[].spans[]``,
  or the snake_case protobuf JSON mapping ``resource_spans``/``scope_spans``, or the pre-1.0
  ``instrumentationLibrarySpans``): one per line as the OpenTelemetry Collector's file exporter
  writes them, back-to-back pretty-printed objects in one file, or a JSON array of them.
  64-bit integers may be strings or numbers; ids hex (base64 from a raw protobuf JSON dump is
  accepted too). ``ExportLogsServiceRequest`` files (GenAI log events) carry no usage: they
  are recognised, nothing is read from them, and an ingest note says so.
* **any-agent** ``AgentTrace`` JSON: ``{"spans": [{name, kind, parent, start_time, end_time,
  status, context: {trace_id, span_id}, attributes}], "final_output"}`` with decimal integer ids.
* **Vercel AI SDK** span captures: a JSON array of OTel-JS ``ReadableSpan``-like objects
  (``spanContext``, ``startTime: [s, ns]``, ``attributes`` as a plain object). When the capture
  lost the parent links, each ``ai.*.doGenerate|doStream|doEmbed`` / ``ai.toolCall`` span is
  attached to the ``ai.*`` span of the same ``ai.telemetry.functionId`` that encloses it in time
  (a note says so), so the call and its roll-up belong to one task.

Attribute mapping, kinds and per-library corrections: :mod:`agentcost.ingest.otel_attrs`; file
decoding: :mod:`agentcost.ingest.otlp_decode`; duplicate handling:
:mod:`agentcost.ingest.otlp_dedupe`; the state of one read: :mod:`agentcost.ingest.otlp_run`.
Inputs of 48 MiB or more are decoded and mapped in worker processes, per file or per range of
lines of a big file (:mod:`agentcost.ingest.otlp_pool`; ``AGENTCOST_JOBS`` sets their number),
with the same result.

Tasks: ``task_id`` is the trace id; ``session.id`` / ``gen_ai.conversation.id`` /
``traceloop.association.properties.session_id`` become ``session_id``.

Each model call is counted once:

* **Roll-ups.** Agent / chain / workflow spans never carry tokens; when one stated usage
  (``invoke_agent`` sums, Vercel's ``ai.generateText``), the drop is counted as
  ``otlp: roll-up span tokens ignored``. An LLM span with *several* LLM children of another
  instrumentation (a framework span around a loop of SDK calls) is such a roll-up too and is
  kept as an ``agent`` step.
* **Two instrumentations, one call.** LLM spans from different instrumentation scopes are the
  same call when one is the only LLM child of the other (the anthropic SDK's own
  ``anthropic.messages.create`` span under an OpenInference span), or when they overlap in time
  (at least half of the shorter span) with equal input tokens, output tokens within
  :data:`~agentcost.ingest.otlp_dedupe.OUTPUT_SLACK`, equal cache figures where both state
  them and compatible models (siblings in one trace, or separate root spans in separate traces as with plain OpenLLMetry
  instrumentors). The row with more information (5m/1h split, TTFT, cache figures, tool calls,
  segments…) is kept, its gaps filled from the other; the outer span's ids, name and times are
  used so the tree stays intact. Where the two disagree on tokens, the provider SDK's own span
  wins (a note names the library). Counted as ``otlp: same call from two instrumentations``.
  Matching buckets rows by input tokens and compares each with at most
  :data:`~agentcost.ingest.otlp_dedupe.MATCH_WINDOW` later-starting rows: linear even for
  huge files of identical calls.
* **Re-exported spans.** A span whose trace and span id were already read (a file concatenated
  twice, an exporter retry) is dropped: ``otlp: span exported twice (same trace and span id)``.

Spans that are not model calls, tools or agents (openlit's child HTTP ``POST`` spans, framework
internals) are not steps; their number is noted. Spans of one trace may be spread over several
files: the reader implements ``read_many`` and resolves duplicates across all of them.
No prompt or completion text is kept in the rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from agentcost.ingest.base import IngestContext, Source, first_json_line
from agentcost.ingest.otlp_dedupe import DUP_REASON as DUP_REASON
from agentcost.ingest.otlp_dedupe import ROLLUP_REASON as ROLLUP_REASON
from agentcost.ingest.otlp_pool import pool_jobs, read_pooled
from agentcost.ingest.otlp_run import SAME_SPAN_REASON as SAME_SPAN_REASON
from agentcost.ingest.otlp_run import SpanRun

_RE_TRACES = re.compile(rb'\[?\s*\{\s*"(?:resourceSpans|resource_spans)"\s*:')
_RE_LOGS = re.compile(rb'\[?\s*\{\s*"(?:resourceLogs|resource_logs)"\s*:')
_RE_AGENT_TRACE = re.compile(rb'\{\s*"spans"\s*:\s*\[')


class OtlpReader:
    name = "otlp"
    description = ("OpenTelemetry spans: OTLP/JSON (Collector file exporter; OTel GenAI, "
                   "OpenInference, OpenLLMetry, openlit, anthropic SDK), any-agent AgentTrace "
                   "JSON, Vercel AI SDK span captures")

    def sniff(self, source: Source) -> int:
        head = source.head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if _RE_TRACES.match(head):
            return 95
        if _RE_LOGS.match(head):
            return 90
        if _RE_AGENT_TRACE.match(head) and b'"context"' in head and b'"trace_id"' in head:
            return 90
        if head.startswith(b"[") and b'"spanContext"' in head and b'"traceId"' in head:
            return 85
        line = first_json_line(head)
        if line.startswith(b"{"):
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                return 0
            if isinstance(obj, dict) and ("traceId" in obj or "spanContext" in obj) \
                    and "attributes" in obj and "name" in obj:
                return 70
        return 0

    def read(self, source: Source, ctx: IngestContext) -> Iterator[dict[str, Any]]:
        yield from self.read_many([source], ctx)

    def read_many(self, sources: list[Source], ctx: IngestContext) -> Iterator[dict[str, Any]]:
        run = SpanRun(ctx)
        n_jobs = pool_jobs(sources)
        # decoding and mapping in workers when the input is large (otlp_pool); what crosses
        # files (re-exported spans, roll-ups, duplicates, sessions) here either way
        if not (n_jobs and read_pooled(run, sources, n_jobs)):
            for src in sources:
                run.read_file(src)
                ctx.advance(src.size)
        yield from run.finish()


READER = OtlpReader()


def rows_from_spans(items: Iterable[tuple[Any, Source, int]],
                    ctx: IngestContext) -> Iterator[dict[str, Any]]:
    """Step rows of span objects other readers decoded, given as ``(object, source, line)``:
    each object in any shape :meth:`SpanRun.take` accepts (an OTLP export request, a flat span
    as OTel-JS, any-agent or the Python SDK's ``to_json()`` write it). Classification,
    roll-ups and duplicate handling are those of this reader."""
    run = SpanRun(ctx)
    for obj, src, line in items:
        run.take(obj, src, line)
    yield from run.finish()

