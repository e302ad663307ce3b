"""Langfuse trace exports: ``{"trace": {...}, "observations": [...]}`` (the UI's trace download
merged with its observations), a trace object with an embedded ``observations`` list (public
API ``GET /traces/{id}``), a JSON array of such traces, or a bare array of observations.

Every observation is ``{id, traceId, parentObservationId, type, name, startTime, endTime,
completionStartTime, model, usageDetails, costDetails, level, metadata, input, output, …}``.
The task is the trace (``task_id`` = trace id, ``session_id`` = the trace's ``sessionId``).

Kinds
-----
* ``GENERATION`` → **llm**; ``TOOL`` → **tool**; ``SPAN`` / ``AGENT`` / ``CHAIN`` / other types
  → **agent** (structure and timing, no tokens). A ``SPAN`` whose raw attributes say it is a tool
  (OpenInference ``openinference.span.kind = TOOL``, GenAI ``gen_ai.operation.name =
  execute_tool`` or a ``gen_ai.tool.name``) is a tool: older Langfuse versions stored such spans
  as ``SPAN``. ``EVENT`` observations are not steps.
* **Roll-ups are counted once.** Usage on a span/agent observation (e.g. an ``invoke_agent`` span
  summing its calls, pydantic-ai's ``agent run`` span) is dropped — its children carry the calls
  (counted). A ``GENERATION`` that contains other ``GENERATION`` observations (two
  instrumentations wrapping one call, e.g. an agno ``OpenAIChat.invoke`` span around the langfuse
  OpenAI wrapper's generation, or a generation summing several calls) becomes an agent step and
  its descendants are kept — unless only the outer one has reported usage, then the outer one is
  the llm step and the inner ones become agent steps.
* BeeAI's OpenInference instrumentation emits one observation per emitter event
  (``….start-N``, ``….success-N``, ``….finish-N``, ``….error-N``) and ends them all when the
  process exits. The ``start`` one is the step; the others are dropped (counted) and give its end
  time (their start); without them the end is unknown.

Tokens
------
``metadata`` holds the span's original OTel ``attributes`` (a dict, JSON, or a Python ``repr``
read with ``ast.literal_eval``). The raw attributes win over ``usageDetails`` because
``usageDetails`` follows the instrumentation's convention:

1. OpenInference ``llm.token_count.prompt`` (total prompt incl. cache reads/writes),
   ``…prompt_details.cache_read`` / ``.cache_write``, ``llm.token_count.completion`` (incl.
   reasoning), ``…completion_details.reasoning``;
2. GenAI ``gen_ai.usage.input_tokens`` (incl. cache) / legacy ``prompt_tokens``,
   ``gen_ai.usage.cache_read.input_tokens`` (or ``cache_read_input_tokens``),
   ``gen_ai.usage.cache_creation.input_tokens``, ``gen_ai.usage.output_tokens``,
   ``gen_ai.usage.reasoning.output_tokens`` / ``reasoning_tokens``;
3. ``usageDetails``: the Langfuse SDK integrations (LangChain, OpenAI) *subtract* every
   ``input_*`` detail (``input_cache_read``, ``input_audio``, …) from ``input`` and every
   ``output_*`` detail from ``output``; Anthropic-style ``cache_read_input_tokens`` /
   ``cache_creation_input_tokens`` keys are also outside ``input``; OpenInference-named keys
   (``prompt_details.cache_read``) come from spans whose ``input`` is the full prompt. When
   ``total`` is present it decides (``input + output == total`` → inclusive, details added back
   only if that makes the sum match), otherwise the key family does.

In every case, reads + writes above the prompt count mean the instrumentation reported an
exclusive count (Anthropic's raw ``input_tokens``); they are added to it (noted). Likewise
reasoning above the completion count is taken as reported outside it and added.

Usage Langfuse *inferred* is not used: when an observation's raw attributes are present
(ingested over OTel, not from a Langfuse SDK) but carry no token counts, Langfuse filled
``usageDetails`` by running a tokenizer over the logged input/output — an estimate of the visible
text, not the provider's count. Such steps get unknown tokens and no reported cost (noted).

Costs: ``costDetails.total`` → ``reported_cost_usd`` (``calculatedTotalCost`` / ``totalCost`` in
older exports); a zero cost next to non-zero tokens means Langfuse had no price and is ignored.
Times: ``startTime`` / ``endTime`` (``latency`` in ms when the end is missing);
``completionStartTime`` → ``ttft_ms``. ``level == "ERROR"`` → ``is_error``.

Pieces: tokens and cost in :mod:`~agentcost.ingest.langfuse_usage`, one observation's row in
:mod:`~agentcost.ingest.langfuse_obs`; the export shapes and each trace's tree (event
markers, wrapping generations, spans that ran a requested tool) here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from agentcost.ingest.base import IngestContext, Source
from agentcost.ingest.common import args_hash
from agentcost.ingest.langfuse_obs import DROP_ROLLUP as DROP_ROLLUP
from agentcost.ingest.langfuse_obs import EVENT_MARKER, observation_row
from agentcost.ingest.langfuse_usage import usage_info
from agentcost.steps import to_utc_ns

DROP_WRAPPER = "langfuse: generation wrapping another generation (one call counted once)"
DROP_EVENT_MARKER = "langfuse: BeeAI event-marker observation (success/finish of a step)"
_END_EVENTS = {"success", "finish", "error"}


# ---------------------------------------------------------------------------- one trace's tree


def _typed_observations(source: Source, observations: list[Any], ctx: IngestContext,
                        rec: int) -> tuple[list[tuple[int, dict[str, Any]]], int]:
    """(record number, observation) for each observation with a type; others are malformed."""
    obs_list: list[tuple[int, dict[str, Any]]] = []
    for o in observations:
        rec += 1
        ctx.report.lines_read += 1
        if not isinstance(o, dict) or not isinstance(o.get("type"), str):
            ctx.malformed(source, rec, "observation without a type")
            continue
        obs_list.append((rec, o))
    return obs_list, rec


def _trace_ids(source: Source, trace: dict[str, Any],
               obs_list: list[tuple[int, dict[str, Any]]]) -> tuple[str, str | None]:
    """The task id (trace id, else an observation's traceId, else the file) and session id."""
    tid = trace.get("id")
    if not isinstance(tid, str) or not tid:
        tid = next((o.get("traceId") for _, o in obs_list
                    if isinstance(o.get("traceId"), str)), None) or source.name
    session = trace.get("sessionId") if isinstance(trace.get("sessionId"), str) else None
    return tid, session


@dataclass
class _Tree:
    """A trace's observations by id, their children, and the ids dropped as event markers."""

    by_id: dict[str, dict[str, Any]]
    children: dict[str, list[str]]
    dropped: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, obs_list: list[tuple[int, dict[str, Any]]]) -> _Tree:
        by_id: dict[str, dict[str, Any]] = {}
        children: dict[str, list[str]] = {}
        for _, o in obs_list:
            oid = o.get("id")
            if isinstance(oid, str):
                by_id[oid] = o
                parent = o.get("parentObservationId")
                if isinstance(parent, str):
                    children.setdefault(parent, []).append(oid)
        return cls(by_id, children)

    def gen_descendants(self, oid: str) -> list[str]:
        """The GENERATION observations below ``oid`` (dropped markers left out)."""
        out: list[str] = []
        stack = list(self.children.get(oid, []))
        while stack:
            c = stack.pop()
            if c in self.dropped:
                continue
            if self.by_id.get(c, {}).get("type") == "GENERATION":
                out.append(c)
            stack.extend(self.children.get(c, []))
        return out


def _event_markers(obs_list: list[tuple[int, dict[str, Any]]], tree: _Tree,
                   ctx: IngestContext) -> dict[str, int | None]:
    """BeeAI event markers: keep `start-N`, end it at the first success/finish/error marker.

    The end markers are added to ``tree.dropped`` (counted); returns start id -> end time."""
    marker_end: dict[str, int | None] = {}
    starts: dict[tuple[str, str], str] = {}
    for _, o in obs_list:
        m = EVENT_MARKER.match(str(o.get("name") or ""))
        if m and m.group("ev") == "start" and isinstance(o.get("id"), str):
            starts[(m.group("base"), m.group("n"))] = o["id"]
            marker_end.setdefault(o["id"], None)
    for _, o in obs_list:
        m = EVENT_MARKER.match(str(o.get("name") or ""))
        if not m or m.group("ev") == "start" or not isinstance(o.get("id"), str):
            continue
        sid = starts.get((m.group("base"), m.group("n")))
        if sid is None:
            continue
        if m.group("ev") in _END_EVENTS and o.get("type") == tree.by_id[sid].get("type"):
            tree.dropped.add(o["id"])
            ctx.dropped(DROP_EVENT_MARKER)
            t = to_utc_ns(o.get("startTime"))
            cur = marker_end.get(sid)
            if t is not None and (cur is None or t < cur):
                marker_end[sid] = t
    return marker_end


def _wrappers(tree: _Tree, parsed: dict[str, dict[str, Any]], ctx: IngestContext) -> set[str]:
    """Generations that wrap other generations (counted): agent steps, not llm steps."""
    wrappers: set[str] = set()
    for oid, o in tree.by_id.items():
        if o.get("type") != "GENERATION" or oid in tree.dropped or oid in wrappers:
            continue
        desc = tree.gen_descendants(oid)
        if not desc:
            continue
        if parsed[oid]["reported"] and not any(parsed[d]["reported"] for d in desc):
            wrappers.update(desc)
        else:
            wrappers.add(oid)
    for _ in wrappers:
        ctx.dropped(DROP_WRAPPER)
    return wrappers


def _spans_as_requested_tools(rows: list[dict[str, Any]], tree: _Tree) -> None:
    """A plain SPAN named like a tool an llm step of this trace requested is that tool's run
    (the LangChain callback of older Langfuse SDKs records tools as spans)."""
    requested = {t for r in rows if r["kind"] == "llm" for t in (r.get("tool_calls") or ())}
    for row in rows:
        o = tree.by_id.get(row.get("span_id") or "")
        if (row["kind"] == "agent" and o is not None and o.get("type") == "SPAN"
                and row.get("name") in requested and not tree.gen_descendants(row["span_id"])):
            row["kind"] = "tool"
            row["tool_input_hash"] = args_hash(o.get("input"))


# ---------------------------------------------------------------------------- one observation


# ---------------------------------------------------------------------------- reader


class LangfuseReader:
    name = "langfuse"
    description = "Langfuse trace export ({trace, observations}) with usageDetails/costDetails"

    def sniff(self, source: Source) -> int:
        head = source.head.lstrip()
        if not head.startswith((b"{", b"[")):
            return 0
        if b'"parentObservationId"' in head and (b'"usageDetails"' in head
                                                 or b'"observations"' in head
                                                 or b'"traceId"' in head):
            return 90
        start = head[:2048]
        if start.startswith(b"{") and b'"trace"' in start[:64] and b'"projectId"' in start:
            return 70
        return 0

    def read(self, source: Source, ctx: IngestContext) -> Iterator[dict[str, Any]]:
        try:
            doc = orjson.loads(source.read_bytes())
        except orjson.JSONDecodeError as exc:
            ctx.report.lines_read += 1
            ctx.malformed(source, None, f"invalid JSON ({exc.args[0].split(':')[0]})")
            return
        traces = self._traces(doc)
        if traces is None:
            ctx.report.lines_read += 1
            ctx.malformed(source, None, "not a Langfuse export (no observations)")
            return
        stats = {"inferred": 0, "fixed": 0}
        rec = 0
        for trace, observations in traces:
            rows, rec = self._trace_steps(source, trace, observations, ctx, stats, rec)
            for row in rows:
                if ctx.in_window(row.get("started_at")):
                    yield row
        if stats["inferred"]:
            ctx.note(f"{source.name}: {stats['inferred']} generation(s) carry only usage that "
                     "Langfuse inferred with a tokenizer (the instrumentation reported none): "
                     "tokens left unknown")
        if stats["fixed"]:
            ctx.note(f"{source.name}: {stats['fixed']} generation(s) reported cache tokens "
                     "outside the prompt count; added to input_tokens")

    def _traces(self, doc: Any) -> list[tuple[dict[str, Any], list[Any]]] | None:
        if isinstance(doc, dict):
            if isinstance(doc.get("observations"), list):
                tr = doc.get("trace")
                trace: dict[str, Any] = tr if isinstance(tr, dict) else {
                    k: v for k, v in doc.items() if k != "observations"}
                return [(trace, doc["observations"])]
            return None
        if isinstance(doc, list):
            if doc and all(isinstance(x, dict) and isinstance(x.get("observations"), list)
                           for x in doc):
                out = []
                for x in doc:
                    tr = x.get("trace") if isinstance(x.get("trace"), dict) else {
                        k: v for k, v in x.items() if k != "observations"}
                    out.append((tr, x["observations"]))
                return out
            if doc and all(isinstance(x, dict) and "type" in x and "id" in x for x in doc):
                by_trace: dict[str, list[Any]] = {}
                for x in doc:
                    by_trace.setdefault(str(x.get("traceId")), []).append(x)
                return [({"id": t}, obs) for t, obs in by_trace.items()]
        return None

    # ------------------------------------------------------------------ one trace

    def _trace_steps(self, source: Source, trace: dict[str, Any], observations: list[Any],
                     ctx: IngestContext, stats: dict[str, int], rec: int
                     ) -> tuple[list[dict[str, Any]], int]:
        obs_list, rec = _typed_observations(source, observations, ctx, rec)
        tid, session = _trace_ids(source, trace, obs_list)
        tree = _Tree.build(obs_list)
        marker_end = _event_markers(obs_list, tree, ctx)
        parsed = {o["id"]: usage_info(o) for _, o in obs_list
                  if isinstance(o.get("id"), str)}
        wrappers = _wrappers(tree, parsed, ctx)
        rows: list[dict[str, Any]] = []
        for n, o in obs_list:
            oid = o.get("id") if isinstance(o.get("id"), str) else None
            if oid in tree.dropped:
                continue
            info = parsed.get(oid) if oid else None
            row = observation_row(source, o, n, tid, session,
                                  info if info is not None else usage_info(o),
                                  wrapper=oid in wrappers, stats=stats, ctx=ctx)
            if row is None:
                continue
            if oid in marker_end:
                row["ended_at"] = marker_end[oid]
                row["duration_ms"] = None
            rows.append(row)
        _spans_as_requested_tools(rows, tree)
        return rows, rec

READER = LangfuseReader()
