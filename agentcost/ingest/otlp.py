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

Attribute mapping, kinds and per-library corrections: :mod:`agentcost.ingest.otel_attrs`.

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
  :data:`OUTPUT_SLACK`, equal cache figures where both state them and compatible models
  (siblings in one trace, or separate root spans in separate traces as with plain OpenLLMetry
  instrumentors). The row with more information (5m/1h split, TTFT, cache figures, tool calls,
  segments…) is kept, its gaps filled from the other; the outer span's ids, name and times are
  used so the tree stays intact. Where the two disagree on tokens, the provider SDK's own span
  wins (a note names the library). Counted as ``otlp: same call from two instrumentations``.
  Matching buckets rows by input tokens and compares each with at most :data:`MATCH_WINDOW`
  later-starting rows: linear even for huge files of identical calls.
* **Re-exported spans.** A span whose trace and span id were already read (a file concatenated
  twice, an exporter retry) is dropped: ``otlp: span exported twice (same trace and span id)``.

Spans that are not model calls, tools or agents (openlit's child HTTP ``POST`` spans, framework
internals) are not steps; their number is noted. Spans of one trace may be spread over several
files: the reader implements ``read_many`` and resolves duplicates across all of them.
No prompt or completion text is kept in the rows.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson

from agentcost.ingest.base import IngestContext, Source, first_json_line
from agentcost.ingest.common import as_list, as_str
from agentcost.ingest.otel_attrs import (
    Span,
    attr_dict,
    classify,
    info_score,
    norm_id,
    resource_labels,
    span_to_row,
)
from agentcost.steps import MAX_NS, int_text, to_utc_ns

DUP_REASON = "otlp: same call from two instrumentations"
ROLLUP_REASON = "otlp: roll-up span tokens ignored"
# Two spans of one call may disagree on output tokens by this much (OpenLLMetry's Anthropic
# streaming spans count message_start's output token again).
OUTPUT_SLACK = 2
# Spans emitted by a provider SDK itself: their token counts are the response's own.
WIRE_SCOPES = frozenset({"com.anthropic.sdk.python"})
MATCH_WINDOW = 64
SAME_SPAN_REASON = "otlp: span exported twice (same trace and span id)"

_RE_TRACES = re.compile(rb'\[?\s*\{\s*"(?:resourceSpans|resource_spans)"\s*:')
_RE_LOGS = re.compile(rb'\[?\s*\{\s*"(?:resourceLogs|resource_logs)"\s*:')
_RE_AGENT_TRACE = re.compile(rb'\{\s*"spans"\s*:\s*\[')
_WS = re.compile(r"\s*")
_RE_INT_ID = re.compile(rb'"trace_id"\s*:\s*\d')

_TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
                 "cache_write_5m_tokens", "cache_write_1h_tokens", "reasoning_tokens")
_PRIVATE = ("_scope", "_ver", "_usage", "_split", "_vop", "_vfn")
_LLM_ONLY = ("provider", "model", "response_model", "ttft_ms", "stop_reason", "tool_calls",
             "service_tier", "reported_cost_usd", "segments")
_IDENTITY = ("task_id", "span_id", "parent_id", "name", "started_at", "ended_at", "line",
             "source", "session_id")


# ---------------------------------------------------------------------------------------------
# low-level decoding


def _ns(v: Any) -> int | None:
    """Span time → UTC ns: OTLP ``*UnixNano`` (int or string), OTel-JS hrtime ``[s, ns]``,
    or anything :func:`to_utc_ns` accepts."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int):
        # ns as given (exact); anything else, or past what a time column holds, via to_utc_ns
        return v if 10**17 < v <= MAX_NS else to_utc_ns(v)
    if isinstance(v, str):
        s = v.strip()
        if s.isascii() and s.isdigit():
            return _ns(int_text(s))
        return to_utc_ns(s)
    if isinstance(v, (list, tuple)) and len(v) == 2 and all(
            isinstance(x, int) and not isinstance(x, bool)
            or isinstance(x, float) and math.isfinite(x) for x in v):
        return _ns(int(v[0]) * 1_000_000_000 + int(v[1]))
    if isinstance(v, float):
        return to_utc_ns(v)
    return None


def _is_error(status: Any) -> bool | None:
    if not isinstance(status, dict):
        return None
    code = status.get("code", status.get("status_code"))
    if code is None:
        return None
    if isinstance(code, int):
        return code == 2
    if isinstance(code, str):
        return code.strip().upper() in ("2", "ERROR", "STATUS_CODE_ERROR")
    return None


def _loads(data: bytes, careful: bool = True) -> Any:
    """orjson, except where decimal integer ids (any-agent) exceed 64 bits: orjson would turn
    them into floats, so the standard library parses those exactly. ``careful=False`` skips
    the search for such ids (a file whose head has no ``"trace_id"`` key: OTLP proper)."""
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    if careful and b'"trace_id"' in data and _RE_INT_ID.search(data):
        try:
            return json.loads(data)
        except RecursionError:  # orjson says so for depth > 1024; the standard library raises
            raise ValueError("nested too deeply") from None
    return orjson.loads(data)


def _objects(src: Source, ctx: IngestContext) -> Iterator[tuple[Any, int]]:
    """Top-level JSON values of ``src`` with the line each starts on.

    Compact JSON (the first line holds more than an opening bracket) is read line by line;
    anything else (pretty-printed objects back to back, a pretty-printed array) is decoded
    from the whole text.
    """
    first = first_json_line(src.head)
    if first.startswith(b"{") and len(first) > 1:
        # the search for 64-bit-overflowing ids costs as much as a third of decoding a line:
        # done only in files that use snake_case trace_id keys at all
        careful = b'"trace_id"' in src.head
        for n, raw in src.lines():
            ctx.report.lines_read += 1
            try:
                obj = _loads(raw, careful)
            except ValueError as exc:
                ctx.malformed(src, n, f"invalid JSON ({str(exc).split(':')[0]})")
                continue
            yield obj, n
        return
    data = src.read_bytes()
    ctx.report.lines_read += data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    try:
        whole = _loads(data)
    except ValueError:
        pass
    else:
        yield whole, 1
        return
    text = data.decode("utf-8-sig", errors="replace")
    del data
    dec = json.JSONDecoder()
    pos, n, line, counted = 0, len(text), 1, 0
    resyncing = False
    while True:
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if pos >= n:
            break
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            obj, end = dec.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError) as exc:
            # one report per broken region, then resume at the next line opening an object
            if not resyncing:
                why = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
                ctx.malformed(src, line, f"invalid JSON ({why})")
                resyncing = True
            nxt = text.find("\n{", pos + 1)
            if nxt < 0:
                break
            pos = nxt + 1
            continue
        resyncing = False
        yield obj, line
        pos = end


# ---------------------------------------------------------------------------------------------
# the reader


class _Run:
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
            self.log_records[src.name] += _count_logs(rl)
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
                        start_ns=_ns(sp.get("startTimeUnixNano")
                                     or sp.get("start_time_unix_nano")),
                        end_ns=_ns(sp.get("endTimeUnixNano") or sp.get("end_time_unix_nano")),
                        error=_is_error(sp.get("status")),
                        attrs=attr_dict(sp.get("attributes")),
                        scope=sname if isinstance(sname, str) else None,
                        scope_version=str(sver) if sver not in (None, "") else None,
                        line=line, source=src.name, labels=labels)
                    self._span(span, src)

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
                ttft_ev = _ns(ev.get("time", ev.get("timestamp")))
        span = Span(
            trace_id=tid, span_id=sid, parent_id=norm_id(pid_raw, 8),
            name=str(sp.get("name") or ""),
            start_ns=_ns(sp.get("startTime", sp.get("start_time",
                                                    sp.get("startTimeUnixNano")))),
            end_ns=_ns(sp.get("endTime", sp.get("end_time", sp.get("endTimeUnixNano")))),
            error=_is_error(sp.get("status")),
            attrs=attrs,
            scope=scope.get("name") if isinstance(scope, dict) else None,
            scope_version=scope.get("version") if isinstance(scope, dict) else None,
            line=line, source=src.name, ttft_event_ns=ttft_ev,
            labels=resource_labels(sp.get("resource")))
        self._span(span, src)

    def _span(self, span: Span, src: Source) -> None:
        key = (span.trace_id, span.span_id)
        if key in self.seen:
            self.ctx.dropped(SAME_SPAN_REASON)
            return
        self.seen.add(key)
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

    # --- post-processing ------------------------------------------------------------------

    def finish(self) -> Iterator[dict[str, Any]]:
        for name, n in self.log_records.items():
            self.note(f"otlp: {name} holds {n} OTLP log record(s) (GenAI events); they carry "
                      "no usage and were skipped")
        if self.other_spans:
            self.ctx.note(f"otlp: {self.other_spans} span(s) that are not model calls, tools or "
                          "agents (e.g. HTTP client spans) were not made steps")
        if self.estimated:
            self.ctx.note(f"otlp: {self.estimated} model call span(s) stated no usage but "
                          "recorded their messages; their tokens were estimated from them "
                          "(cost_source estimated; tool definitions not counted)")
        if self.vercel:
            self._attach_vercel()
        keep = self._dedupe()
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

    def _dedupe(self) -> list[bool]:  # noqa: C901 (split pending)
        rows = self.rows
        keep = [True] * len(rows)
        llm = [i for i, r in enumerate(rows) if r["kind"] == "llm"]
        if len(llm) < 2:
            return keep
        parent = {i: i for i in llm}
        scopes: dict[int, set[str]] = {i: {rows[i]["_scope"]} for i in llm}

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        def union(a: int, b: int) -> bool:
            ra, rb = find(a), find(b)
            if ra == rb or scopes[ra] & scopes[rb]:
                return False
            parent[rb] = ra
            scopes[ra] |= scopes[rb]
            return True

        # 1. an llm span whose parent is an llm span of another instrumentation. A parent with
        #    several llm children is a framework-level roll-up of them, not a duplicate.
        by_id = {(rows[i]["task_id"], rows[i]["span_id"]): i for i in llm}
        children: dict[int, list[int]] = {}
        for i in llm:
            r = rows[i]
            p = r.get("parent_id")
            if p is None:
                continue
            j = by_id.get((r["task_id"], p))
            if j is not None and rows[j]["_scope"] != r["_scope"]:
                children.setdefault(j, []).append(i)
        rollups: set[int] = set()
        for j, kids in children.items():
            if len(kids) == 1:
                union(j, kids[0])
                continue
            pr = rows[j]
            if pr.get("input_tokens") is not None or pr.get("output_tokens") is not None:
                self.ctx.dropped(ROLLUP_REASON)
            for k in (*_TOKEN_FIELDS, *_LLM_ONLY):
                pr.pop(k, None)
            pr["kind"] = "agent"
            pr["_usage"] = False
            rollups.add(j)
            self.note("otlp: llm spans wrapping several model calls of another "
                      "instrumentation were kept as agent spans (roll-ups)")
        if rollups:
            llm = [i for i in llm if i not in rollups]
        # 2. same input tokens (output within OUTPUT_SLACK), overlapping in time, compatible
        #    models and cache figures
        buckets: dict[int, list[int]] = {}
        for i in llm:
            r = rows[i]
            if r.get("input_tokens") is None or r.get("output_tokens") is None \
                    or r.get("started_at") is None or r.get("ended_at") is None:
                continue
            buckets.setdefault(r["input_tokens"], []).append(i)
        for idx in buckets.values():
            if len(idx) < 2 or len({rows[i]["_scope"] for i in idx}) < 2:
                continue
            idx.sort(key=lambda i: rows[i]["started_at"])
            for a_pos, i in enumerate(idx):
                ri = rows[i]
                # at most MATCH_WINDOW candidates per row: bounded work even when thousands of
                # calls with equal token counts run at the same time
                for j in idx[a_pos + 1:a_pos + 1 + MATCH_WINDOW]:
                    rj = rows[j]
                    if rj["started_at"] > ri["ended_at"]:
                        break
                    if ri["_scope"] == rj["_scope"] or ri["_scope"] in scopes[find(j)] \
                            or not _overlap(ri, rj) \
                            or abs(ri["output_tokens"] - rj["output_tokens"]) > OUTPUT_SLACK \
                            or not _same_if_known(ri, rj, "cache_read_tokens") \
                            or not _same_if_known(ri, rj, "cache_write_tokens") \
                            or not _models_compatible(ri, rj):
                        continue
                    union(i, j)
        groups: dict[int, list[int]] = {}
        for i in llm:
            groups.setdefault(find(i), []).append(i)
        for members in groups.values():
            if len(members) < 2:
                continue
            merged = _merge([rows[i] for i in members], self.note)
            first = min(members)
            rows[first] = merged
            for i in members:
                if i != first:
                    keep[i] = False
            self.ctx.dropped(DUP_REASON, len(members) - 1)
        return keep


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    s = max(a["started_at"], b["started_at"])
    e = min(a["ended_at"], b["ended_at"])
    shorter = min(a["ended_at"] - a["started_at"], b["ended_at"] - b["started_at"])
    return bool(e - s >= 0.5 * max(shorter, 0))


def _models(r: dict[str, Any]) -> set[str]:
    return {m.lower() for m in (r.get("model"), r.get("response_model")) if isinstance(m, str)}


def _models_compatible(a: dict[str, Any], b: dict[str, Any]) -> bool:
    ma, mb = _models(a), _models(b)
    if not ma or not mb or ma & mb:
        return True
    return any(x.startswith(y) or y.startswith(x) for x in ma for y in mb)


def _same_if_known(a: dict[str, Any], b: dict[str, Any], key: str) -> bool:
    va, vb = a.get(key), b.get(key)
    return va is None or vb is None or va == vb


def _merge(group: list[dict[str, Any]], note: Callable[[str], None]) -> dict[str, Any]:  # noqa: C901 (split pending)
    """One row from the rows of one call: the most informative one, its gaps filled from the
    others; ids and times from the outermost span. Where the token counts disagree, those of
    a provider SDK's own span (closest to the wire) win."""
    ranked = sorted(group, key=lambda r: (info_score(r), r["_scope"] in WIRE_SCOPES),
                    reverse=True)
    primary = ranked[0]
    out = dict(primary)
    with_tokens = [r for r in ranked if r.get("input_tokens") is not None]
    # reported counts win over counts estimated from content (stable: ranking kept otherwise)
    with_tokens.sort(key=lambda r: r.get("cost_source") == "estimated")
    tok_src = with_tokens[0] if with_tokens else primary
    if len({(r.get("input_tokens"), r.get("output_tokens")) for r in with_tokens}) > 1:
        wire = next((r for r in with_tokens if r["_scope"] in WIRE_SCOPES), None)
        if wire is not None:
            tok_src = wire
        for r in with_tokens:
            if r is not tok_src and r.get("output_tokens") != tok_src.get("output_tokens"):
                d = (r.get("output_tokens") or 0) - (tok_src.get("output_tokens") or 0)
                note(f"otlp: {r['_scope'] or 'a span'}{' ' + r['_ver'] if r.get('_ver') else ''}"
                     f" reported {d:+d} output token(s) against {tok_src['_scope']} for the "
                     f"same call; {tok_src['_scope']}'s counts were kept")
    for k in _TOKEN_FIELDS:
        out[k] = tok_src.get(k)
    out["cost_source"] = tok_src.get("cost_source")
    out["_split"] = tok_src.get("_split", False)
    for r in ranked:
        if r is tok_src or r.get("input_tokens") != tok_src.get("input_tokens"):
            continue
        for k in ("cache_read_tokens", "cache_write_tokens", "reasoning_tokens"):
            if out.get(k) is None and r.get(k) is not None:
                out[k] = r[k]
        if not out["_split"] and r.get("_split") and r.get("cache_write_tokens") == \
                out.get("cache_write_tokens"):
            out["cache_write_5m_tokens"] = r["cache_write_5m_tokens"]
            out["cache_write_1h_tokens"] = r["cache_write_1h_tokens"]
            out["_split"] = True
    for r in ranked[1:]:
        for k, v in r.items():
            if k in _TOKEN_FIELDS or k.startswith("_") or k in _IDENTITY or k == "cost_source":
                continue
            if out.get(k) is None and v is not None:
                out[k] = v
    # identity from the outermost span (a member that is not the child of another member)
    ids = {r["span_id"] for r in group}
    outer = next((r for r in group if r.get("parent_id") not in ids and any(
        m.get("parent_id") == r["span_id"] for m in group)), primary)
    for k in _IDENTITY:
        if outer.get(k) is not None or k != "session_id":
            out[k] = outer.get(k)
    if out.get("session_id") is None:
        out["session_id"] = next((r["session_id"] for r in group if r.get("session_id")), None)
    out["is_error"] = any(bool(r.get("is_error")) for r in group)
    return out


def _count_logs(resource_logs: Any) -> int:
    n = 0
    if not isinstance(resource_logs, list):
        return 0
    for rl in resource_logs:
        if not isinstance(rl, dict):
            continue
        for sl in as_list(rl.get("scopeLogs", rl.get("scope_logs"))):
            if isinstance(sl, dict):
                recs = sl.get("logRecords", sl.get("log_records", []))
                n += len(recs) if isinstance(recs, list) else 0
    return n


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
        run = _Run(ctx)
        for src in sources:
            for obj, line in _objects(src, ctx):
                run.take(obj, src, line)
            ctx.advance(src.size)
        yield from run.finish()


READER = OtlpReader()


def rows_from_spans(items: Iterable[tuple[Any, Source, int]],
                    ctx: IngestContext) -> Iterator[dict[str, Any]]:
    """Step rows of span objects other readers decoded, given as ``(object, source, line)``:
    each object in any shape :meth:`_Run.take` accepts (an OTLP export request, a flat span
    as OTel-JS, any-agent or the Python SDK's ``to_json()`` write it). Classification,
    roll-ups and duplicate handling are those of this reader."""
    run = _Run(ctx)
    for obj, src, line in items:
        run.take(obj, src, line)
    yield from run.finish()
