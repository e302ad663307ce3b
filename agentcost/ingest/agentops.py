"""AgentOps backend trace export of an OpenAI Agents SDK run (``{"trace_id", "spans": [...]}``).

The AgentOps API returns one JSON document per trace: ``{"trace_id", "spans": [{span_id,
parent_span_id, span_name, span_kind, start_time, duration (ns), status_code, span_attributes
(nested), span_type, ...}]}``. A file may hold one document, a JSON list of them, or one per line.

What the export carries for the Agents SDK instrumentation (``agentops.agents``):

* ``agents.run.<agent>`` — the whole run: its duration is real; its ``gen_ai.usage`` (token
  counts as *strings*) is the roll-up of the run's model calls, so it becomes a token-less
  ``agent`` step and the repeated usage is counted in ``duplicates_dropped`` — unless the trace
  holds no model-call record with usage, in which case the run usage is kept as one ``llm`` step.
* ``agents.response`` / ``agents.generation`` — the model calls. AgentOps records each SDK span
  twice (at its start and at its end, same ``span.id``); the record whose
  ``gen_ai.completion[0]["0"].content`` holds the raw Responses/Chat JSON gives the ``llm``
  step (usage with ``cached_tokens``, served model, output tool calls); the other record is
  counted as a duplicate.
* ``agents.function`` — tool steps (name, argument fingerprint) where present.
* ``agents.agent`` / ``agents.trace.*`` records are structure only and are skipped.

There are no absolute timestamps (``start_time`` is empty), so steps have no start time. The
per-call records are created at SDK events and last microseconds: their ``duration`` is not a
call latency and is left unknown; only the run's duration is kept. ``line`` is the span's
1-based position in its document, and ``lines_read`` counts span records.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from agentcost.ingest import usage as U
from agentcost.ingest.base import IngestContext, Source
from agentcost.ingest.common import args_hash, as_list
from agentcost.ingest.openai_agents import provider_for_model
from agentcost.ingest.raw_provider import responses_tool_names
from agentcost.steps import to_utc_ns

_DUP_REASON = "agentops: start/end records of the same SDK span"
_ROLLUP_REASON = "agentops: agents.run usage (roll-up of its model calls)"


def _attr(d: Any, path: str) -> Any:
    """A nested (``a: {b: ...}``) or flat dotted (``"a.b"``) attribute."""
    if not isinstance(d, dict):
        return None
    if path in d:
        return d[path]
    cur: Any = d
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v and v != "null" else None


def _completion_json(sa: dict[str, Any]) -> dict[str, Any] | None:
    """The raw API response AgentOps embeds as the completion's content, if any."""
    comp = _attr(sa, "gen_ai.completion")
    cands: list[Any] = []
    if isinstance(comp, list):
        for c in comp:
            if isinstance(c, dict):
                cands += [v.get("content") for v in c.values() if isinstance(v, dict)]
                cands.append(c.get("content"))
    cands.append(_attr(sa, "workflow.final_output"))
    for v in cands:
        if isinstance(v, str) and v.lstrip().startswith("{"):
            try:
                obj = orjson.loads(v)
            except orjson.JSONDecodeError:
                continue
            if isinstance(obj, dict) and isinstance(obj.get("usage"), dict):
                return obj
    return None


class AgentOpsReader:
    name = "agentops"
    description = "AgentOps trace export (OpenAI Agents SDK runs; durations only)"

    def sniff(self, source: Source) -> int:
        head = source.head.lstrip()
        if not head.startswith((b"{", b"[")):
            return 0
        if b'"spans"' in head and b'"span_attributes"' in head and b'"span_name"' in head:
            return 80 if b"agentops" in head or b'"agents.' in head else 60
        return 0

    def read(self, source: Source, ctx: IngestContext) -> Iterator[dict[str, Any]]:
        data = source.read_bytes()
        docs: list[tuple[int | None, Any]] = []
        n: int | None
        try:
            whole = orjson.loads(data)
            items = whole if isinstance(whole, list) else [whole]
            docs = [(None, d) for d in items]
        except orjson.JSONDecodeError:
            for n, raw in enumerate(data.splitlines(), 1):
                if not raw.strip():
                    continue
                try:
                    docs.append((n, orjson.loads(raw)))
                except orjson.JSONDecodeError as exc:
                    ctx.report.lines_read += 1
                    ctx.malformed(source, n, f"invalid JSON ({exc.args[0].split(':')[0]})")
        for n, doc in docs:
            if not isinstance(doc, dict) or not isinstance(doc.get("spans"), list):
                ctx.report.lines_read += 1
                ctx.malformed(source, n, "expected an object with a 'spans' list")
                continue
            yield from self._trace(source, ctx, doc)

    def _trace(self, source: Source, ctx: IngestContext,
               doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
        trace_id = _str(doc.get("trace_id"))
        runs: list[dict[str, Any]] = []
        calls: dict[str, dict[str, Any]] = {}  # SDK span id -> best llm row so far
        rows: list[dict[str, Any]] = []
        for i, sp in enumerate(doc["spans"], 1):
            ctx.report.lines_read += 1
            base = _span_base(source, ctx, sp, i, trace_id)
            if base is None:
                continue
            name: str = sp["span_name"]
            sa = _dict(sp.get("span_attributes"))
            if name.startswith("agents.run"):
                rows.append(_run_span(runs, name, sa, base, sp.get("duration")))
            elif name in ("agents.response", "agents.generation"):
                _call_span(source, ctx, calls, name, sa, base, i)
            elif name.startswith("agents.function") or sp.get("span_type") == "tool":
                rows.append(_tool_row(name, sa, base))
            # agents.agent / agents.trace.* and others: structure only
        llm_rows = _settle_usage(source, ctx, runs, list(calls.values()))
        _finish_llm_rows(llm_rows, runs)
        for r in rows + llm_rows:
            if ctx.in_window(r.get("started_at")):
                yield r


def _span_base(source: Source, ctx: IngestContext, sp: Any, i: int,
               trace_id: str | None) -> dict[str, Any] | None:
    """The fields every step of a span shares, or None (counted malformed) for a bad span."""
    if not isinstance(sp, dict) or not isinstance(sp.get("span_name"), str):
        ctx.malformed(source, i, "span without 'span_name'")
        return None
    sa = _dict(sp.get("span_attributes"))
    tid = trace_id or _str(_attr(sa, "trace.id"))
    dur = sp.get("duration")
    if dur is not None and (isinstance(dur, bool) or not isinstance(dur, (int, float))
                            or dur < 0):
        ctx.malformed(source, i, "duration must be a non-negative number (ns)")
        return None
    start = to_utc_ns(sp.get("start_time"))
    return {
        "task_id": tid, "span_id": _str(sp.get("span_id")),
        "parent_id": _str(sp.get("parent_span_id")), "started_at": start,
        "is_error": str(sp.get("status_code", "")).lower() == "error", "line": i,
    }


def _run_span(runs: list[dict[str, Any]], name: str, sa: dict[str, Any],
              base: dict[str, Any], dur: float | None) -> dict[str, Any]:
    """An ``agents.run.<agent>`` span: a token-less agent row; its usage is kept aside."""
    row = dict(base, kind="agent",
               name=_str(_attr(sa, "agent.name")) or name[len("agents.run."):] or "run",
               duration_ms=dur / 1e6 if dur is not None else None)
    runs.append({"row": row, "usage": _attr(sa, "gen_ai.usage"),
                 "model": _str(_attr(sa, "gen_ai.request.model")),
                 "system": _str(_attr(sa, "gen_ai.system"))})
    return row


def _call_span(source: Source, ctx: IngestContext, calls: dict[str, dict[str, Any]],
               name: str, sa: dict[str, Any], base: dict[str, Any], i: int) -> None:
    """An ``agents.response`` / ``agents.generation`` record: the llm row of its SDK span."""
    key = _str(_attr(sa, "span.id")) or base["span_id"] or f"#{i}"
    resp = _completion_json(sa)
    if resp is None:
        if key in calls:
            ctx.dropped(_DUP_REASON)
        else:
            calls[key] = dict(base, kind="llm", name=name, _usage=False)
        return
    try:
        norm = U.detect_and_normalize(resp["usage"], "openai")
    except ValueError as exc:
        ctx.malformed(source, i, str(exc))
        return
    ctx.unread_usage(source, U.unread_fields(resp["usage"]))
    if key in calls:
        ctx.dropped(_DUP_REASON)
    calls[key] = dict(
        base, kind="llm", name=_str(_attr(sa, "agent.name")) or name,
        model=_str(_attr(sa, "gen_ai.request.model")),
        response_model=_str(resp.get("model")),
        provider=_str(_attr(sa, "gen_ai.system")),
        stop_reason=_str(resp.get("status")) or None, tool_calls=_response_tools(resp),
        is_error=base["is_error"] or bool(resp.get("error")), _usage=True,
        span_id=key, parent_id=_str(_attr(sa, "parent.id")) or base["parent_id"],
        **norm)


def _response_tools(resp: dict[str, Any]) -> list[str] | None:
    """Tool names called in a raw Responses (``output``) or Chat (``choices``) response."""
    output = resp.get("output")
    tools = responses_tool_names(output) if isinstance(output, list) else None
    if tools is None and isinstance(resp.get("choices"), list):
        tools = [tc["function"]["name"] for ch in resp["choices"]
                 if isinstance(ch, dict) and isinstance(ch.get("message"), dict)
                 for tc in as_list(ch["message"].get("tool_calls"))
                 if isinstance(tc, dict) and isinstance(tc.get("function"), dict)
                 and isinstance(tc["function"].get("name"), str)]
    return tools


def _tool_row(name: str, sa: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """An ``agents.function`` (or tool-typed) span: a tool row with its argument fingerprint."""
    fname = (_str(_attr(sa, "function.name")) or _str(_attr(sa, "tool.name"))
             or _str(_attr(sa, "gen_ai.tool.name")) or name)
    args = _attr(sa, "function.input")
    if args is None:
        args = _attr(sa, "tool.input")
    return dict(base, kind="tool", name=fname,
                tool_input_hash=args_hash(args) if args is not None else None)


def _settle_usage(source: Source, ctx: IngestContext, runs: list[dict[str, Any]],
                  llm_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-call usage wins and run usage is a counted roll-up; else the runs' usage is kept."""
    if any(r["_usage"] for r in llm_rows):
        for r in runs:
            if isinstance(r["usage"], dict) and r["usage"]:
                ctx.dropped(_ROLLUP_REASON)
        return llm_rows
    from_runs = _runs_as_llm(source, ctx, runs)
    if not from_runs:
        return llm_rows
    ctx.note("agentops: a run without per-call usage was counted from its "
             "agents.run usage (one step for the whole run)")
    if llm_rows:
        ctx.dropped("agentops: per-call records without usage (run usage kept)",
                    len(llm_rows))
    return from_runs


def _runs_as_llm(source: Source, ctx: IngestContext,
                 runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One llm row per run whose ``agents.run`` span carries usage."""
    from_runs: list[dict[str, Any]] = []
    for r in runs:
        u = r["usage"]
        if not isinstance(u, dict) or not u:
            continue
        try:
            norm = U.detect_and_normalize(u, r["system"] or "openai")
        except ValueError as exc:
            ctx.malformed(source, r["row"]["line"], str(exc))
            continue
        ctx.unread_usage(source, U.unread_fields(u))
        from_runs.append(dict(r["row"], kind="llm", duration_ms=None, model=r["model"],
                              provider=r["system"], **norm))
    return from_runs


def _finish_llm_rows(llm_rows: list[dict[str, Any]], runs: list[dict[str, Any]]) -> None:
    """Fill model/provider from the run, and name SDK-named calls after the run's agent."""
    run_model: str | None = None
    for r in runs:  # the last run span naming a model
        run_model = r["model"] or run_model
    run_agent = next((r["row"]["name"] for r in runs), None)
    for r in llm_rows:
        r.pop("_usage", None)
        r["model"] = r.get("model") or run_model
        r["provider"] = r.get("provider") or provider_for_model(
            r.get("response_model") or r["model"])
        if str(r.get("name", "")).startswith("agents.") and run_agent:
            r["name"] = run_agent


READER = AgentOpsReader()
