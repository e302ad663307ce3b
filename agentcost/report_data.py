"""The data payload of ``agentcost report``: every figure comes from :func:`agentcost.analyze`
(and :func:`agentcost.simulation.simulate` for ``--simulate``); nothing here prices or sums tokens.

Big inputs stay small: the cost-over-time series has one point per (hour or day, model); per-task charts are
drawn for the costliest ``task_charts`` tasks only (or ``--task``), with at most ``max_points``
llm steps (consecutive steps are averaged into bins beyond that) and ``max_bars`` timeline bars;
the first ``max_findings`` findings are listed and the rest counted.
The step table never holds prompt text (segments keep roles, token counts and hashes), so the
payload holds ids, names and numbers only. Strings are cleaned of control characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentcost.analysis import AnalyzeOptions, analyze, steps_records
from agentcost.config import Config

if TYPE_CHECKING:
    from agentcost.simulation import SimulationReport
    from agentcost.table import StepTable

PAYLOAD_VERSION = 1
WAIT_MIN_S = 1.0  # idle gaps shorter than this are not drawn as waits
_CTRL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
SUMMARY_KEYS = ("tasks", "llm_calls", "tool_calls", "cost_usd", "cost_is_lower_bound",
                "input_tokens", "uncached_input_tokens", "cache_read_tokens",
                "cache_write_tokens", "output_tokens", "cache_hit_ratio",
                "cache_net_savings_usd", "input_cost_share", "llm_time_share", "wall_time_s",
                "iterations_p50", "context_growth_p50", "llm_step_p50_ms", "llm_step_p95_ms")
TASK_KEYS = ("task_id", "cost_usd", "cost_is_lower_bound", "llm_calls", "tool_calls",
             "input_tokens", "output_tokens", "cache_hit_ratio", "context_growth",
             "wall_time_s", "models")
STEP_KEYS = ("step", "kind", "name", "model", "started_at", "ended_at", "duration_ms",
             "input_tokens", "uncached_input_tokens", "cache_read_tokens", "cache_write_tokens",
             "output_tokens", "cost_usd", "is_error")

# what a timeline bar needs (the token split is in the step series)
TIMELINE_KEYS = ("step", "kind", "name", "model", "started_at", "ended_at", "duration_ms",
                 "cost_usd", "is_error")


@dataclass
class ReportOptions:
    analyze: AnalyzeOptions
    task_charts: int = 5
    max_points: int = 300
    max_bars: int = 400
    # findings listed in the page (the costliest first, as analyze orders them); the rest counted
    max_findings: int = 200
    # --with-content: prompt and response excerpts on the charted tasks' llm steps (read back
    # from the trace files; never otherwise)
    with_content: bool = False
    content_chars: int = 400


def clean(obj: Any) -> Any:
    """``obj`` with control characters (C0, C1, line/paragraph separators) removed from every
    string, so nothing from a trace reaches the page as a control character."""
    if isinstance(obj, str):
        return _CTRL.sub("", obj)
    if isinstance(obj, dict):
        return {clean(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    return obj


def build_payload(table: StepTable, opts: ReportOptions, config: Config | None = None,
                  simulation: SimulationReport | None = None) -> dict[str, Any]:
    """The report's data: summary, daily cost per model, models, costliest tasks, per-task
    step and timeline series, findings, and (when given) the simulated scenarios."""
    cfg = config or Config()
    aopts = opts.analyze
    aopts.include_steps = True
    rep = analyze(table, aopts, cfg)
    bucket, daily = _daily(table, rep.models, cfg)
    payload: dict[str, Any] = {
        "payload_version": PAYLOAD_VERSION,
        "summary": {k: rep.totals.get(k) for k in SUMMARY_KEYS},
        "warnings": rep.warnings,
        "daily": daily,
        "daily_bucket": bucket,
        "models": [{k: m.get(k) for k in ("model", "cost_usd", "cost_is_lower_bound",
                                          "llm_calls", "uncached_input_tokens",
                                          "cache_read_tokens", "cache_write_tokens",
                                          "output_tokens", "input_cost_share",
                                          "cache_hit_ratio", "cost_by_class_usd")}
                   for m in rep.models],
        "tasks": [{k: t.get(k) for k in TASK_KEYS} for t in rep.tasks[:aopts.top]],
        "tasks_total": len(rep.tasks),
        "groups": ({"by": rep.group_by, "rows": rep.groups} if rep.groups is not None
                   else None),
        "findings": rep.findings[:opts.max_findings],
        "findings_total": len(rep.findings),
        "task_detail": [],
        "simulation": simulation.to_dict() if simulation is not None else None,
    }
    chosen = [rep.task_id] if rep.task_id else [t["task_id"] for t in
                                                rep.tasks[:opts.task_charts]]
    if rep.steps is not None:
        for tid in chosen:
            sel = rep.steps[rep.steps["task_id"] == tid]
            payload["task_detail"].append(_task_detail(tid, sel, rep.findings, opts))
    payload["with_content"] = opts.with_content
    if opts.with_content:
        _add_content(payload["task_detail"], opts.content_chars)
    return dict(clean(payload))


def _add_content(details: list[dict[str, Any]], max_chars: int) -> None:
    """Prompt/response excerpts on the timeline's llm bars (``--with-content`` only)."""
    from agentcost.content import excerpts

    bars = [b for d in details for b in d["timeline"] if b["kind"] == "llm"]
    found = excerpts(((b["_source"], b["_line"], b["_format"]) for b in bars
                      if b.get("_source") and b.get("_line")), max_chars)
    for b in bars:
        ex = found.get((b.get("_source"), b.get("_line")))
        b["prompt"] = ex.prompt if ex else None
        b["response"] = ex.response if ex else None
    for d in details:
        for b in d["timeline"]:
            for k in ("_source", "_line", "_format"):
                b.pop(k, None)


SHORT_SPAN_S = 48 * 3600  # up to two days of traces: cost per hour instead of per day


def _daily(table: StepTable, models: list[dict[str, Any]], cfg: Config
           ) -> tuple[str, list[dict[str, Any]]]:
    """(bucket, cost per bucket and model): ``analyze --group-by hour|day`` over each model's
    llm steps — per hour when the traces span at most two days, else per day."""
    from agentcost.table import StepTable as Table

    df = table.frame
    llm = df["kind"] == "llm"
    starts = df.loc[llm, "started_at"].dropna()
    span = (starts.max() - starts.min()).total_seconds() if len(starts) else 0.0
    bucket = "hour" if span <= SHORT_SPAN_S else "day"
    key = df["model"].fillna(df["response_model"]).fillna("(unknown)")
    out: list[dict[str, Any]] = []
    for m in models:
        sub = Table(frame=df[(key == m["model"]) & llm], ingest=table.ingest,
                    pricing=table.pricing)
        if not len(sub):
            continue
        r = analyze(sub, AnalyzeOptions(group_by=bucket), cfg)
        for g in r.groups or []:
            out.append({"day": g[bucket], "model": m["model"], "cost_usd": g["cost_usd"],
                        "llm_calls": g["llm_calls"]})
    out.sort(key=lambda d: (d["day"] or "", d["model"]))
    return bucket, out


def _task_detail(tid: str, sel: Any, findings: list[dict[str, Any]],
                 opts: ReportOptions) -> dict[str, Any]:
    recs = [{k: r.get(k) for k in (*STEP_KEYS, "source", "line", "format")}
            for r in steps_records(sel)]
    llm = [r for r in recs if r["kind"] == "llm"]
    timed = [r for r in recs if r["kind"] in ("llm", "tool") and r["started_at"]
             and r["ended_at"]]
    seq = {f["details"].get("step") for f in findings
           if f["task_id"] == tid and f["type"] == "sequential-tools"}
    return {
        "task_id": tid,
        "llm_steps": len(llm),
        "input_series": _bin(llm, opts.max_points),
        "timeline": [_bar(r, opts.with_content) for r in timed[:opts.max_bars]],
        "timeline_truncated": max(0, len(timed) - opts.max_bars),
        "waits": _waits(timed),
        "sequential_tool_steps": sorted(s for s in seq if s is not None),
    }


def _bar(r: dict[str, Any], with_content: bool) -> dict[str, Any]:
    bar = {k: r[k] for k in TIMELINE_KEYS}
    if with_content:  # where to read the excerpt from; dropped once it is read
        bar.update(_source=r.get("source"), _line=r.get("line"), _format=r.get("format"))
    return bar


def _bin(llm: list[dict[str, Any]], cap: int) -> dict[str, Any]:
    """Per llm step token split; beyond ``cap`` steps, means over equal bins of steps."""
    cols = ("uncached_input_tokens", "cache_read_tokens", "cache_write_tokens", "input_tokens")
    size = max(1, -(-len(llm) // cap))
    series: dict[str, Any] = {"bin_size": size, "step": [], **{c: [] for c in cols}}
    for i in range(0, len(llm), size):
        chunk = llm[i:i + size]
        series["step"].append(chunk[0]["step"])
        for c in cols:
            vals = [r[c] for r in chunk if r[c] is not None]
            series[c].append(round(sum(vals) / len(vals)) if vals else None)
    return series


def _waits(timed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Idle gaps between the end of every earlier step and the next start (a human or an
    external wait: nothing of the agent was running)."""
    import pandas as pd

    out: list[dict[str, Any]] = []
    latest = None
    for r in sorted(timed, key=lambda r: r["started_at"]):
        start, end = pd.Timestamp(r["started_at"]), pd.Timestamp(r["ended_at"])
        if latest is not None and (start - latest).total_seconds() >= WAIT_MIN_S:
            out.append({"from": latest.isoformat().replace("+00:00", "Z"),
                        "to": r["started_at"], "seconds": (start - latest).total_seconds(),
                        "before_step": r["step"]})
        latest = end if latest is None or end > latest else latest
    return out
