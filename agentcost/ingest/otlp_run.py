"""The state of one OTLP read: spans → rows, and what crosses files (the rules:
:mod:`agentcost.ingest.otlp`).

:class:`SpanRun` takes decoded JSON values (export requests, AgentTrace spans, OTel-JS spans),
turns each span into a row (or counts it when it is no step), drops re-exported spans, and in
:meth:`SpanRun.finish` attaches Vercel spans, resolves roll-ups and duplicates
(:mod:`agentcost.ingest.otlp_dedupe`) and spreads sessions over their traces. A file read in a
worker process (:mod:`agentcost.ingest.otlp_pool`) comes back as events that
:meth:`SpanRun.replay` applies as if the run had read the file itself.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterator
from typing import Any

from agentcost.ingest.base import IngestContext, Source
from agentcost.ingest.common import as_list, as_str
from agentcost.ingest.otel_attrs import classify, span_to_row
from agentcost.ingest.otel_span import Span, attr_dict, norm_id, resource_labels
from agentcost.ingest.otlp_decode import (
    LineRange,
    count_log_records,
    json_values,
    span_ns,
    status_error,
)
from agentcost.ingest.otlp_dedupe import MATCH_WINDOW, ROLLUP_REASON, dedupe

SAME_SPAN_REASON = "otlp: span exported twice (same trace and span id)"
_PRIVATE = ("_scope", "_ver", "_usage", "_split", "_vop", "_vfn")

Event = tuple[Any, ...]
FileResult = tuple[list[Event], int, int]  # (events, lines read, lines in the piece)



class SpanRun:
    """State of one ``read_many`` call: rows so far plus counters for the notes."""

    def __init__(self, ctx: IngestContext) -> None:
        self.ctx = ctx
        self.rows: list[dict[str, Any]] = []
        self.notes: set[str] = set()
        self.log_records: Counter[str] = Counter()
        self.other_spans = 0
        self.vercel = False
        self.seen: set[tuple[str | None, str | None]] = set()
        self.estimated = 0
        self.est_low = [0, 0]  # estimates whose input / output is a lower bound

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.add(text)
            self.ctx.note(text)

    # --- dispatch -----------------------------------------------------------------------------

    def take(self, obj: Any, src: Source, line: int) -> None:
        if isinstance(obj, list):
            for el in obj:
                self.take(el, src, line)
            return
        if not isinstance(obj, dict):
            self.ctx.malformed(src, line, f"expected a JSON object, got {type(obj).__name__}")
            return
        rs = obj.get("resourceSpans", obj.get("resource_spans"))
        if rs is not None:
            self._request(rs, src, line)
            return
        rl = obj.get("resourceLogs", obj.get("resource_logs"))
        if rl is not None:
            self.add_log_records(src, count_log_records(rl))
            return
        if "resourceMetrics" in obj or "resource_metrics" in obj:
            self.note(f"otlp: metrics in {src.name} skipped (spans only)")
            return
        spans = obj.get("spans")
        if isinstance(spans, list):
            for sp in spans:
                self._flat(sp, src, line)
            return
        if "spanContext" in obj or "context" in obj or "traceId" in obj or "trace_id" in obj:
            self._flat(obj, src, line)
            return
        self.ctx.malformed(src, line, "not an OTLP export request, AgentTrace or span object")

    def add_log_records(self, src: Source, n: int) -> None:
        self.log_records[src.name] += n

    def _request(self, resource_spans: Any, src: Source, line: int) -> None:
        if not isinstance(resource_spans, list):
            self.ctx.malformed(src, line, "resourceSpans is not a list")
            return
        for rs in resource_spans:
            if not isinstance(rs, dict):
                continue
            labels = resource_labels(rs.get("resource"))
            scopes = rs.get("scopeSpans", rs.get("scope_spans",
                                                 rs.get("instrumentationLibrarySpans")))
            if not isinstance(scopes, list):
                continue
            for ss in scopes:
                if not isinstance(ss, dict):
                    continue
                sc = ss.get("scope", ss.get("instrumentationLibrary")) or {}
                sname = as_str(sc.get("name")) if isinstance(sc, dict) else None
                sver = as_str(sc.get("version")) if isinstance(sc, dict) else None
                for sp in as_list(ss.get("spans")):
                    if not isinstance(sp, dict):
                        self.ctx.malformed(src, line, "span is not an object")
                        continue
                    tid = norm_id(sp.get("traceId") or sp.get("trace_id"), 16)
                    sid = norm_id(sp.get("spanId") or sp.get("span_id"), 8)
                    if tid is None or sid is None:
                        self.ctx.malformed(src, line, f"span {str(sp.get('name'))[:40]!r} has "
                                                      "no traceId/spanId")
                        continue
                    span = Span(
                        trace_id=tid, span_id=sid,
                        parent_id=norm_id(sp.get("parentSpanId") or sp.get("parent_span_id"), 8),
                        name=str(sp.get("name") or ""),
                        start_ns=span_ns(sp.get("startTimeUnixNano")
                                         or sp.get("start_time_unix_nano")),
                        end_ns=span_ns(sp.get("endTimeUnixNano")
                                       or sp.get("end_time_unix_nano")),
                        error=status_error(sp.get("status")),
                        attrs=attr_dict(sp.get("attributes")),
                        scope=sname if isinstance(sname, str) else None,
                        scope_version=str(sver) if sver not in (None, "") else None,
                        line=line, source=src.name, labels=labels)
                    self.take_span(span, src)

    def _flat(self, sp: Any, src: Source, line: int) -> None:
        """One span in any-agent, OTel-JS (Vercel) or flat OTLP shape."""
        if not isinstance(sp, dict):
            self.ctx.malformed(src, line, "span is not an object")
            return
        ctxt = sp.get("spanContext") or sp.get("context") or {}
        if not isinstance(ctxt, dict):
            ctxt = {}
        tid = norm_id(ctxt.get("traceId", ctxt.get("trace_id",
                                                   sp.get("traceId", sp.get("trace_id")))), 16)
        sid = norm_id(ctxt.get("spanId", ctxt.get("span_id",
                                                  sp.get("spanId", sp.get("span_id")))), 8)
        if tid is None or sid is None:
            self.ctx.malformed(src, line, f"span {str(sp.get('name'))[:40]!r} has no trace/span id")
            return
        parent = sp.get("parent")
        pctx = sp.get("parentSpanContext")
        pid_raw = (parent.get("span_id", parent.get("spanId")) if isinstance(parent, dict)
                   else pctx.get("spanId") if isinstance(pctx, dict)
                   else sp.get("parentSpanId", sp.get("parent_span_id", sp.get("parent_id"))))
        scope = sp.get("instrumentationScope") or sp.get("instrumentationLibrary") \
            or sp.get("scope") or {}
        attrs = attr_dict(sp.get("attributes"))
        ttft_ev = None
        for ev in as_list(sp.get("events")):
            if isinstance(ev, dict) and ev.get("name") == "ai.stream.firstChunk":
                ttft_ev = span_ns(ev.get("time", ev.get("timestamp")))
        span = Span(
            trace_id=tid, span_id=sid, parent_id=norm_id(pid_raw, 8),
            name=str(sp.get("name") or ""),
            start_ns=span_ns(sp.get("startTime", sp.get("start_time",
                                                        sp.get("startTimeUnixNano")))),
            end_ns=span_ns(sp.get("endTime", sp.get("end_time", sp.get("endTimeUnixNano")))),
            error=status_error(sp.get("status")),
            attrs=attrs,
            scope=scope.get("name") if isinstance(scope, dict) else None,
            scope_version=scope.get("version") if isinstance(scope, dict) else None,
            line=line, source=src.name, ttft_event_ns=ttft_ev,
            labels=resource_labels(sp.get("resource")))
        self.take_span(span, src)

    def take_span(self, span: Span, src: Source) -> None:
        key = (span.trace_id, span.span_id)
        if key in self.seen:
            self.ctx.dropped(SAME_SPAN_REASON)
            return
        self.seen.add(key)
        self.map_span(span, src)

    def map_span(self, span: Span, src: Source) -> None:
        """One span read for the first time: a row, or a count of the spans that are none."""
        kind = classify(span)
        if kind is None:
            self.other_spans += 1
            return
        try:
            row = span_to_row(span, kind, self.note, segments=self.ctx.segments)
        except ValueError as exc:
            self.ctx.malformed(src, span.line, f"span {span.name[:40]!r}: {exc}")
            return
        unread = row.pop("_unread", None)
        if unread:
            self.ctx.unread_usage(src, unread)
        vop = span.attrs.get("ai.operationId")
        if isinstance(vop, str):
            row["_vop"] = vop
            fn = span.attrs.get("ai.telemetry.functionId", span.attrs.get("resource.name"))
            row["_vfn"] = fn if isinstance(fn, str) else ""
            self.vercel = True
        if kind == "agent" and row.get("_usage"):
            self.ctx.dropped(ROLLUP_REASON)
        if kind == "llm" and not row.get("input_tokens") and not row.get("output_tokens") \
                and not row.get("is_error") and not row.get("reported_cost_usd"):
            self._estimate(span, row)
        self.rows.append(row)

    def read_file(self, src: Source) -> None:
        for obj, line in json_values(src, self.ctx):
            self.take(obj, src, line)

    def read_lines(self, src: Source, lines: LineRange) -> None:
        """The compact JSON lines of one byte range of ``src``."""
        for obj, line in lines.values(src, self.ctx):
            self.take(obj, src, line)

    def replay(self, src: Source, result: FileResult, line_base: int = 0) -> None:
        """What a worker recorded reading ``src`` or a range of its lines
        (:mod:`agentcost.ingest.otlp_pool`), applied as if this run had read them itself:
        spans whose ids an earlier file or range held are dropped here. ``line_base``: the
        lines of the file before the range (the worker counted from 1)."""
        events, lines, _ = result
        self.ctx.report.lines_read += lines
        for ev in events:
            self._apply(ev, src.name, line_base)

    def _apply(self, ev: Event, name: str, base: int) -> None:
        tag = ev[0]
        if tag == "s":
            _, key, inner, rows, other, est, low_in, low_out = ev
            if key in self.seen:
                self.ctx.dropped(SAME_SPAN_REASON)
                return
            self.seen.add(key)
            for e in inner:
                self._apply(e, name, base)
            for row in rows:
                self.vercel = self.vercel or "_vop" in row
                if base and row.get("line") is not None:
                    row["line"] += base
            self.rows.extend(rows)
            self.other_spans += other
            self.estimated += est
            self.est_low[0] += low_in
            self.est_low[1] += low_out
        elif tag == "m":
            self.ctx.malformed(name, ev[1] + base if ev[1] is not None else None, ev[2])
        elif tag == "n":
            self.note(ev[1])
        elif tag == "d":
            self.ctx.dropped(ev[1], ev[2])
        elif tag == "u":
            self.ctx.unread_usage(name, ev[1], ev[2])
        elif tag == "l":
            self.log_records[name] += ev[1]

    def _estimate(self, span: Span, row: dict[str, Any]) -> None:
        """A model call that states no usage (or zeros, a placeholder) but recorded its
        messages: tokens counted from them (:mod:`agentcost.ingest.estimate`)."""
        from agentcost.ingest.estimate import estimate_from_span

        try:
            est = estimate_from_span(span.attrs, row.get("model"), row.get("provider"))
        except (TypeError, ValueError):
            est = None
        if est is None:
            return
        row.update(input_tokens=est.input_tokens, output_tokens=est.output_tokens,
                   cost_source="estimated", _usage=True)
        self.estimated += 1
        self.est_low[0] += est.input_lower_bound
        self.est_low[1] += est.output_lower_bound

    def _estimate_note(self) -> None:
        from agentcost.ingest.estimate import lower_bound_clause

        self.ctx.note(f"otlp: {self.estimated} model call span(s) stated no usage but "
                      "recorded their messages; their tokens were estimated from them as the "
                      "provider counts them (cost_source estimated"
                      + lower_bound_clause(
                          self.est_low[0], self.est_low[1],
                          "their spans show tool use but hold no tool definitions") + ")")

    # --- post-processing ------------------------------------------------------------------

    def finish(self) -> Iterator[dict[str, Any]]:
        for name, n in self.log_records.items():
            self.note(f"otlp: {name} holds {n} OTLP log record(s) (GenAI events); they carry "
                      "no usage and were skipped")
        if self.other_spans:
            self.ctx.note(f"otlp: {self.other_spans} span(s) that are not model calls, tools or "
                          "agents (e.g. HTTP client spans) were not made steps")
        if self.estimated:
            self._estimate_note()
        if self.vercel:
            self._attach_vercel()
        keep = dedupe(self.rows, self.ctx, self.note)
        sessions: dict[Any, str] = {}
        for row in self.rows:  # a session stated on some span of a trace applies to all of it
            if row.get("session_id") and row.get("task_id") not in sessions:
                sessions[row.get("task_id")] = row["session_id"]
        for i, row in enumerate(self.rows):
            if not keep[i]:
                continue
            if not self.ctx.in_window(row.get("started_at")):
                continue
            if not row.get("session_id") and row.get("task_id") in sessions:
                row["session_id"] = sessions[row["task_id"]]
            for k in _PRIVATE:
                row.pop(k, None)
            yield row

    def _attach_vercel(self) -> None:
        """Vercel captures without parent links: attach each inner ``ai.*.do*`` / toolCall span
        to the tightest enclosing ``ai.*`` span of the same functionId."""
        outers: dict[str, list[tuple[int, int, int]]] = {}
        for i, r in enumerate(self.rows):
            vop = r.get("_vop")
            if vop and r["kind"] == "agent" and r.get("started_at") is not None \
                    and r.get("ended_at") is not None:
                outers.setdefault(r["_vfn"], []).append((r["started_at"], r["ended_at"], i))
        starts: dict[str, list[int]] = {}
        for fn, lst in outers.items():
            lst.sort()
            starts[fn] = [t[0] for t in lst]
        attached = 0
        for r in self.rows:
            vop = r.get("_vop")
            if not vop or r["kind"] == "agent" or r.get("parent_id") \
                    or r.get("started_at") is None or r.get("ended_at") is None:
                continue
            cands = outers.get(r["_vfn"])
            if not cands:
                continue
            s, e = r["started_at"], r["ended_at"]
            j = bisect.bisect_right(starts[r["_vfn"]], s)
            best = None
            for k in range(j - 1, max(-1, j - 1 - MATCH_WINDOW), -1):
                _, oe, oi = cands[k]
                o = self.rows[oi]
                if o is r or oe < e:
                    continue
                if r["kind"] != "tool" and not vop.startswith(o["_vop"] + "."):
                    continue
                best = o
                break
            if best is not None:
                r["parent_id"] = best["span_id"]
                r["task_id"] = best["task_id"]
                attached += 1
        if attached:
            self.note("otlp: Vercel AI SDK spans without parent links were attached to the "
                      "enclosing ai.* span of the same functionId (by time)")


