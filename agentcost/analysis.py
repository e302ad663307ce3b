"""``agentcost analyze``: where the money and the seconds went (DESIGN.md §4).

Pure functions over a priced :class:`~agentcost.table.StepTable`. Metric definitions:

* ``cost_usd`` — Σ step costs (prices in force at each step's time). Steps of unpriced models
  are left out and the total is flagged ``cost_is_lower_bound``.
* ``cache_hit_ratio`` — Σ cache_read / Σ input; ``io_ratio`` — Σ input / Σ output.
* ``input_cost_share`` — cost of all prompt tokens (uncached + reads + writes) / total cost.
* ``llm_time_share`` — Σ llm duration / (Σ llm duration + Σ tool duration); tool steps that
  wait for the user (``USER_WAIT_TOOLS``) count as ``user_wait_time_s``, not as tool time.
* ``iterations`` — llm steps of a task; ``context_growth`` — input of its last llm step / first.
* ``cache_net_savings_usd`` — read discounts minus write premiums vs. the same calls uncached.
* ``wall_time_s`` — first start to last end; p50/p95 of step durations by kind; TTFT p50/p95.

Findings, each with the money or time at stake: caching that lost money (writes never read;
1h writes whose reuse gaps were all under 5 minutes), sequential tool calls of one turn that could
have run in parallel, identical tool calls repeated within a task, runaway loops (tasks far above
the median iteration count, or over a configured iteration/token budget).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentcost.analysis_group_keys import GROUP_BY, LABEL_PREFIX, group_key, label_values
from agentcost.analysis_warnings import report_warnings
from agentcost.config import Config
from agentcost.errors import InputError
from agentcost.frames import by_task_step as _by_task_step
from agentcost.frames import json_float as _f
from agentcost.frames import records as _records
from agentcost.perf import no_gc
from agentcost.task_findings import find_findings

if TYPE_CHECKING:
    import pandas as pd

    from agentcost.table import StepTable

__all__ = ["CACHE_SUMS", "COST_CLASSES", "GROUP_BY", "LABEL_PREFIX", "SCHEMA_VERSION", "SUMS",
           "TOKEN_SUMS", "USER_WAIT_TOOLS", "AnalyzeOptions", "AnalyzeReport", "analyze",
           "cost_by_class_row", "label_values", "metrics_row", "report_warnings",
           "resolve_options", "steps_records", "task_totals"]

SCHEMA_VERSION = 1

TOKEN_SUMS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_5m_tokens",
              "cache_write_1h_tokens", "uncached_input_tokens", "output_tokens",
              "reasoning_tokens")
CACHE_SUMS = frozenset({"cache_read_tokens", "cache_write_tokens", "cache_write_5m_tokens",
                        "cache_write_1h_tokens", "uncached_input_tokens"})


@dataclass
class AnalyzeOptions:
    group_by: str = "task"
    top: int = 10
    task: str | None = None
    include_steps: bool = False
    max_iterations: int | None = None
    token_budget: int | None = None
    runaway_factor: float = 3.0
    timezone: str | None = None  # IANA zone for --group-by day/week/month (default UTC)


@dataclass
class AnalyzeReport:
    totals: dict[str, Any]
    tasks: list[dict[str, Any]]
    models: list[dict[str, Any]]
    groups: list[dict[str, Any]] | None
    group_by: str
    findings: list[dict[str, Any]]
    warnings: list[str]
    ingest: dict[str, Any]
    pricing: dict[str, Any]
    top: int
    task_steps: pd.DataFrame | None = None  # --task: the one task's step table
    steps: pd.DataFrame | None = None  # --steps: the whole table
    task_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "totals": self.totals,
            "tasks": self.tasks,
            "models": self.models,
            "findings": self.findings,
            "warnings": self.warnings,
            "ingest": self.ingest,
            "pricing": self.pricing,
        }
        if self.groups is not None:
            out["group_by"] = self.group_by
            out["groups"] = self.groups
        if self.task_steps is not None:
            out["task"] = self.task_id
            out["task_steps"] = steps_records(self.task_steps)
        if self.steps is not None:
            out["steps"] = steps_records(self.steps)
        return out


# ----------------------------------------------------------------------------- helpers


def _i(v: Any) -> int | None:
    try:
        import pandas as pd

        if v is None or pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return int(v)


def _iso(ts: Any) -> str | None:
    import pandas as pd

    if ts is None or pd.isna(ts):
        return None
    return str(ts.isoformat()).replace("+00:00", "Z")


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def _quantiles(s: pd.Series) -> tuple[float | None, float | None]:
    s = s.dropna().astype("float64")
    if s.empty:
        return None, None
    return float(s.quantile(0.5)), float(s.quantile(0.95))


# Tool steps that wait for a person, not for a tool: Claude Code's question and plan-approval
# prompts. Their duration is the user's reply time; it is reported as waiting-for-user time and
# kept out of tool time and the llm/tool split.
USER_WAIT_TOOLS = ("AskUserQuestion", "ExitPlanMode")


def _work(df: pd.DataFrame) -> pd.DataFrame:
    """Helper columns for vectorised aggregation."""
    import numpy as np

    keep = ["task_id", "kind", "name", "model", "response_model", "provider", "started_at",
            "ended_at", "duration_ms", "ttft_ms", *TOKEN_SUMS, "cost_usd", "output_cost_usd",
            "cache_read_cost_usd", "cache_write_cost_usd",
            "cache_savings_usd", "cost_source"]
    w = df[keep].copy()
    is_llm = (w["kind"] == "llm").fillna(False).astype(bool)
    is_tool = (w["kind"] == "tool").fillna(False).astype(bool)
    dur = w["duration_ms"].astype("float64")
    w["_llm"] = is_llm.astype("int64")
    w["_tool"] = is_tool.astype("int64")
    w["_llm_ms"] = np.where(is_llm, dur, np.nan)
    waits = is_tool & w["name"].isin(USER_WAIT_TOOLS).fillna(False).astype(bool)
    w["_tool_ms"] = np.where(is_tool & ~waits, dur, np.nan)
    w["_wait_ms"] = np.where(waits, dur, np.nan)
    # steps whose duration is known: with none, a time sum is unknown, not 0
    w["_llm_timed"] = (is_llm & dur.notna()).astype("int64")
    w["_tool_n"] = (is_tool & ~waits).astype("int64")
    w["_tool_timed"] = (is_tool & ~waits & dur.notna()).astype("int64")
    cost = w["cost_usd"].astype("float64")
    w["_priced"] = (is_llm & cost.notna()).astype("int64")
    w["_unpriced"] = (is_llm & cost.isna() & (w["input_tokens"].notna()
                                               | w["output_tokens"].notna())).astype("int64")
    # usage with one side missing (input or output tokens): priced on the part reported
    w["_partial"] = (is_llm & (w["input_tokens"].isna() ^ w["output_tokens"].isna())
                     ).astype("int64")
    w["_no_usage"] = (is_llm & w["input_tokens"].isna() & w["output_tokens"].isna()
                      & (w["cost_source"] != "failed-call").fillna(True)).astype("int64")
    est = (is_llm & (w["cost_source"] == "estimated").fillna(False)).astype(bool)
    w["_est"] = est.astype("int64")
    w["_est_cost"] = np.where(est, cost, np.nan)
    w["_est_in"] = np.where(est, w["input_tokens"].astype("float64"), np.nan)
    w["_est_out"] = np.where(est, w["output_tokens"].astype("float64"), np.nan)
    w["_cr_unknown"] = (is_llm & w["cache_read_tokens"].isna()
                        & w["input_tokens"].notna()).astype("int64")
    # input cost counts only steps whose output share is known (computed prices)
    oc = w["output_cost_usd"].astype("float64")
    w["_in_cost"] = np.where(oc.notna() & cost.notna(), cost - oc, np.nan)
    w["_split_cost"] = np.where(oc.notna() & cost.notna(), cost, np.nan)
    return w


# aggregate name -> helper column of :func:`_work` summed into it (in the order of the row)
SUMS: dict[str, str] = {
    "llm_calls": "_llm", "tool_calls": "_tool", **{c: c for c in TOKEN_SUMS},
    "cost_usd": "cost_usd", "_in_cost": "_in_cost", "_split_cost": "_split_cost",
    "cache_net_savings_usd": "cache_savings_usd", "_llm_ms": "_llm_ms", "_tool_ms": "_tool_ms",
    "_wait_ms": "_wait_ms", "_llm_timed": "_llm_timed", "_tool_n": "_tool_n",
    "_tool_timed": "_tool_timed", "unpriced_steps": "_unpriced", "_priced": "_priced",
    "no_usage_steps": "_no_usage", "partial_usage_steps": "_partial",
    "cache_read_unknown_steps": "_cr_unknown", "_est": "_est", "_est_cost": "_est_cost",
    "_est_in": "_est_in", "_est_out": "_est_out",
}


def _aggregate(w: pd.DataFrame, key: pd.Series | str) -> pd.DataFrame:
    """Per group: the :data:`SUMS`, first start and last end. One grouped sum over all the
    summed columns (a named aggregation per column costs a pass of pandas overhead each)."""
    g = w.groupby(key, sort=False, dropna=False)
    agg = g[list(SUMS.values())].sum()
    agg.columns = list(SUMS)
    agg["_start"] = g["started_at"].min()
    agg["_end"] = g["ended_at"].max()
    return agg


def _time_sums(r: Any) -> tuple[float | None, float | None]:
    """Σ llm and Σ tool duration (ms) of a row of sums; ``None`` (unknown) when the row has
    such steps but none of them states a duration (a sum of nothing known is not 0 s)."""
    llm = None if r["llm_calls"] and not r["_llm_timed"] else float(r["_llm_ms"])
    tool = None if r["_tool_n"] and not r["_tool_timed"] else float(r["_tool_ms"])
    return llm, tool


def _metrics_row(r: Any) -> dict[str, Any]:
    import pandas as pd

    inp = float(r["input_tokens"])
    out = float(r["output_tokens"])
    llm_ms, tool_ms = _time_sums(r)
    wall = None
    if not pd.isna(r["_start"]) and not pd.isna(r["_end"]):
        wall = (r["_end"] - r["_start"]).total_seconds()
    # no llm step reports its cache reads: the cache figures are unknown, not 0
    no_cache = bool(r["llm_calls"]) and r["cache_read_unknown_steps"] >= r["llm_calls"]
    d: dict[str, Any] = {
        "llm_calls": int(r["llm_calls"]),
        "tool_calls": int(r["tool_calls"]),
        **{c: None if no_cache and c in CACHE_SUMS else int(r[c]) for c in TOKEN_SUMS},
        "cost_usd": _f(r["cost_usd"], 8) if (r["_priced"] or not r["unpriced_steps"]) else None,
        "cost_is_lower_bound": bool(r["unpriced_steps"] or r["no_usage_steps"]
                                    or r["partial_usage_steps"]),
        "partial_usage_steps": int(r["partial_usage_steps"]),
        "unpriced_steps": int(r["unpriced_steps"]),
        "no_usage_steps": int(r["no_usage_steps"]),
        "cache_read_unknown_steps": int(r["cache_read_unknown_steps"]),
        "cache_hit_ratio": None if no_cache else _f(_ratio(float(r["cache_read_tokens"]), inp),
                                                    4),
        "io_ratio": _f(_ratio(inp, out), 2),
        "input_cost_share": _f(_ratio(float(r["_in_cost"]), float(r["_split_cost"])), 4),
        "llm_time_share": None if llm_ms is None or tool_ms is None
        else _f(_ratio(llm_ms, llm_ms + tool_ms), 4),
        "cache_net_savings_usd": None if no_cache else _f(r["cache_net_savings_usd"], 8),
        "llm_time_s": None if llm_ms is None else _f(llm_ms / 1000.0, 3),
        "tool_time_s": None if tool_ms is None else _f(tool_ms / 1000.0, 3),
        "user_wait_time_s": _f(float(r["_wait_ms"]) / 1000.0, 3),
        "wall_time_s": _f(wall, 3),
        "started_at": _iso(r["_start"]),
    }
    if r.get("_est"):
        # tokens counted from content where the source dropped the usage: part of the
        # figures above, and kept apart here so a reader can tell measured from estimated
        d["estimated"] = {"llm_calls": int(r["_est"]), "cost_usd": _f(r["_est_cost"], 8),
                          "input_tokens": int(r["_est_in"]),
                          "output_tokens": int(r["_est_out"])}
    return d


def _latency(w: pd.DataFrame) -> dict[str, Any]:
    # the rows with only the columns needed (taking every column of the table costs more)
    llm = w.loc[w["_llm"] == 1, ["duration_ms", "ttft_ms"]]
    tool = w.loc[w["_tool"] == 1, ["duration_ms"]]
    l50, l95 = _quantiles(llm["duration_ms"])
    t50, t95 = _quantiles(tool["duration_ms"])
    f50, f95 = _quantiles(llm["ttft_ms"])
    return {
        "llm_step_p50_ms": _f(l50, 1), "llm_step_p95_ms": _f(l95, 1),
        "tool_step_p50_ms": _f(t50, 1), "tool_step_p95_ms": _f(t95, 1),
        "ttft_p50_ms": _f(f50, 1), "ttft_p95_ms": _f(f95, 1),
    }


# ----------------------------------------------------------------------------- findings


# ----------------------------------------------------------------------------- main


def analyze(table: StepTable, options: AnalyzeOptions | None = None,
            config: Config | None = None) -> AnalyzeReport:
    with no_gc():
        return _analyze(table, options, config)


def _analyze(table: StepTable, options: AnalyzeOptions | None = None,
             config: Config | None = None) -> AnalyzeReport:
    opts = _options(options, config)
    df = _by_task_step(table.frame)  # first/last per task rely on step order
    w = _work(df)
    if len(w):
        totals = _metrics_row(_aggregate(w.assign(_all=0), "_all").iloc[0])
    else:
        totals = _metrics_row(_empty_row())
    totals = {"tasks": int(df["task_id"].nunique()), **totals, **_latency(w)}
    tasks = _task_rows(df, w) if len(w) else []
    totals.update(_task_totals(tasks))
    report = AnalyzeReport(
        totals=totals, tasks=tasks, models=_model_rows(w),
        groups=_group_rows(df, w, opts.group_by, opts.timezone)
        if opts.group_by != "task" and len(w)
        else None, group_by=opts.group_by,
        findings=find_findings(df, opts.runaway_factor, opts.max_iterations, opts.token_budget),
        warnings=report_warnings(table, totals), ingest=table.ingest.to_dict(),
        pricing=table.pricing.to_dict(), top=opts.top,
    )
    if opts.task is not None:
        report.task_id, report.task_steps = _one_task(df, tasks, opts.task)
    if opts.include_steps:
        report.steps = df
    return report


def _options(options: AnalyzeOptions | None, config: Config | None) -> AnalyzeOptions:
    """The options, with the caps and factor of ``agentcost.yaml`` where none was given."""
    opts = options or AnalyzeOptions()
    cfg = config or Config()
    if opts.max_iterations is None:
        opts.max_iterations = cfg.max_iterations
    if opts.token_budget is None:
        opts.token_budget = cfg.token_budget
    if cfg.runaway_factor and opts.runaway_factor == 3.0:
        opts.runaway_factor = cfg.runaway_factor
    if opts.group_by not in GROUP_BY and not (
            opts.group_by.startswith(LABEL_PREFIX) and len(opts.group_by) > len(LABEL_PREFIX)):
        raise InputError(f"--group-by must be one of {', '.join(GROUP_BY)}, or "
                         f"{LABEL_PREFIX}KEY for a label the traces carry (e.g. "
                         f"{LABEL_PREFIX}git_branch, {LABEL_PREFIX}service.name)")
    if opts.timezone:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(opts.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InputError(f"--timezone: unknown time zone {opts.timezone!r} (an IANA name "
                             "such as Europe/Berlin)") from None
    return opts


def _task_rows(df: pd.DataFrame, w: pd.DataFrame) -> list[dict[str, Any]]:
    """One metrics row per task, costliest first."""
    import pandas as pd

    per = _aggregate(w, "task_id")
    llm = w.loc[w["_llm"] == 1, ["task_id", "input_tokens", "model"]]
    first_in = llm.groupby("task_id", sort=False)["input_tokens"].first().to_dict()
    last_in = llm.groupby("task_id", sort=False)["input_tokens"].last().to_dict()
    meta_rows = df.groupby("task_id", sort=False).agg(
        session_id=("session_id", "first"), parent_task_id=("parent_task_id", "first"),
        source=("source", "first"), format=("format", "first")).to_dict("index")
    mp: dict[Any, set[str]] = {}
    for tid_, m_ in zip(llm["task_id"].tolist(), llm["model"].tolist(), strict=True):
        if m_ is not None and not pd.isna(m_):
            mp.setdefault(tid_, set()).add(str(m_))
    tasks: list[dict[str, Any]] = []
    for tid, r in _records(per):
        d = {"task_id": str(tid), **_metrics_row(r)}
        d["iterations"] = d["llm_calls"]
        fi, la = first_in.get(tid), last_in.get(tid)
        d["context_growth"] = _f(_ratio(float(la), float(fi)), 2) if (
            fi is not None and la is not None and not pd.isna(fi) and not pd.isna(la)
        ) else None
        m = meta_rows[tid]
        d["models"] = sorted(mp.get(tid, ()))
        d["session_id"] = None if pd.isna(m["session_id"]) else str(m["session_id"])
        d["parent_task_id"] = None if pd.isna(m["parent_task_id"]) else str(
            m["parent_task_id"])
        d["source"] = str(m["source"])
        d["format"] = str(m["format"])
        tasks.append(d)
    tasks.sort(key=lambda t: (-(t["cost_usd"] or 0.0), t["task_id"]))
    return tasks


def _task_totals(tasks: list[dict[str, Any]]) -> dict[str, Any]:
    """Iterations and context growth over tasks (none without tasks)."""
    import pandas as pd

    if not tasks:
        return {}
    iters = pd.Series([t["iterations"] for t in tasks], dtype="float64")
    growth = [t["context_growth"] for t in tasks if t["context_growth"] is not None]
    return {"iterations_p50": _f(iters.median(), 1), "iterations_max": int(iters.max()),
            "context_growth_p50": _f(pd.Series(growth).median(), 2) if growth else None}


def _model_rows(w: pd.DataFrame) -> list[dict[str, Any]]:
    """One metrics row per model (llm steps only), costliest first."""
    models: list[dict[str, Any]] = []
    llm_w = w[w["_llm"] == 1]
    if not len(llm_w):
        return models
    key = llm_w["model"].fillna(llm_w["response_model"]).fillna("(unknown)")
    per_m = _aggregate(llm_w, key)
    lat = {k: v for k, v in llm_w["duration_ms"].groupby(key, sort=False)}
    by_class = _cost_by_class(llm_w, key)
    for name, r in _records(per_m):
        d = {"model": str(name), **_metrics_row(r)}
        for k in ("tool_calls", "llm_time_share", "tool_time_s", "wall_time_s", "started_at"):
            d.pop(k, None)
        p50, p95 = _quantiles(lat[name])
        d["duration_p50_ms"], d["duration_p95_ms"] = _f(p50, 1), _f(p95, 1)
        prov = llm_w.loc[key == name, "provider"].dropna()
        d["provider"] = str(prov.iloc[0]) if len(prov) else None
        d["cost_by_class_usd"] = by_class.get(name)
        models.append(d)
    models.sort(key=lambda m: (-(m["cost_usd"] or 0.0), m["model"]))
    return models


COST_CLASSES = ("uncached_input", "cache_read", "cache_write", "output")


def _cost_by_class(llm_w: pd.DataFrame, key: pd.Series) -> dict[Any, dict[str, Any]]:
    """Per model, the dollars paid for each token class, from the steps pricing split
    (computed prices; a trace's reported cost has no split and is left out, and
    ``priced_usd`` says how much of the model's cost the split covers)."""
    cost = llm_w["cost_usd"].astype("float64")
    out = llm_w["output_cost_usd"].astype("float64")
    split = (cost.notna() & out.notna()).to_numpy()
    if not split.any():
        return {}
    s = llm_w[split]
    g = s.groupby(key[split], sort=False)
    sums = {c: g[c].sum() for c in ("cost_usd", "output_cost_usd", "cache_read_cost_usd",
                                    "cache_write_cost_usd")}
    return {name: cost_by_class_row(float(sums["cost_usd"][name]),
                                    float(sums["output_cost_usd"][name]),
                                    float(sums["cache_read_cost_usd"][name]),
                                    float(sums["cache_write_cost_usd"][name]))
            for name in sums["cost_usd"].index}


def cost_by_class_row(total: float, output: float, read: float, write: float
                      ) -> dict[str, Any]:
    """``models[].cost_by_class_usd`` from the sums over the steps pricing split (the
    uncached input part is the rest of their cost)."""
    return {"uncached_input": _f(max(total - output - read - write, 0.0), 8),
            "cache_read": _f(read, 8), "cache_write": _f(write, 8), "output": _f(output, 8),
            "priced_usd": _f(total, 8)}


def _group_rows(df: pd.DataFrame, w: pd.DataFrame, by: str, timezone: str | None = None
                ) -> list[dict[str, Any]]:
    """One metrics row per ``--group-by`` key (by model: llm steps only)."""
    import pandas as pd

    gdf = df[df["kind"] == "llm"] if by == "model" else df
    gkey = group_key(gdf, by, timezone)
    groups = []
    for name, r in _records(_aggregate(w.loc[gdf.index], gkey)):
        d = {by: None if pd.isna(name) else str(name), **_metrics_row(r)}
        d["tasks"] = int(gdf.loc[gkey == name, "task_id"].nunique()) if not pd.isna(
            name) else int(gdf.loc[gkey.isna(), "task_id"].nunique())
        groups.append(d)
    if by in ("hour", "day", "week", "month"):
        groups.sort(key=lambda g: g[by] or "")
    else:
        groups.sort(key=lambda g: -(g["cost_usd"] or 0.0))
    return groups


def _one_task(df: pd.DataFrame, tasks: list[dict[str, Any]], task: str
              ) -> tuple[str, pd.DataFrame]:
    """``--task``: the task's id (a unique substring is enough) and its steps."""
    sel = df[df["task_id"] == task]
    if sel.empty:
        cands = [t["task_id"] for t in tasks if task in t["task_id"]]
        if len(cands) != 1:
            hint = f" (did you mean: {', '.join(cands[:5])})" if cands else ""
            raise InputError(f"no task with id {task!r}{hint}")
        task = cands[0]
        sel = df[df["task_id"] == task]
    return task, sel.reset_index(drop=True)


def _empty_row() -> Any:
    import pandas as pd

    d: dict[str, Any] = {c: 0 for c in TOKEN_SUMS}
    d.update(llm_calls=0, tool_calls=0, cost_usd=0.0, _in_cost=0.0, _split_cost=0.0,
             cache_net_savings_usd=0.0, _llm_ms=0.0, _tool_ms=0.0, _wait_ms=0.0,
             _llm_timed=0, _tool_n=0, _tool_timed=0, unpriced_steps=0, _priced=0, no_usage_steps=0,
             partial_usage_steps=0,
             cache_read_unknown_steps=0, _est=0, _est_cost=0.0, _est_in=0.0, _est_out=0.0,
             _start=pd.NaT, _end=pd.NaT)
    return pd.Series(d)


def steps_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Step rows as JSON-safe dicts (segments summarised, never any text)."""
    import pandas as pd

    recs: list[dict[str, Any]] = []
    cols = [c for c in df.columns if not c.startswith("_")]
    for row in df[cols].itertuples(index=False, name=None):
        d: dict[str, Any] = {}
        for c, v in zip(cols, row, strict=True):
            if c == "segments":
                d[c] = v if isinstance(v, list) else None
            elif c == "tool_calls":
                d[c] = list(v) if isinstance(v, (list, tuple)) else None
            elif isinstance(v, pd.Timestamp):
                d[c] = v.isoformat().replace("+00:00", "Z")
            elif v is None or (not isinstance(v, (list, tuple, dict)) and pd.isna(v)):
                d[c] = None
            elif isinstance(v, float):
                d[c] = _f(v, 8)
            elif hasattr(v, "item"):
                d[c] = v.item()
            else:
                d[c] = v
        recs.append(d)
    return recs


# The pieces the SQL engines (agentcost.columnar.engine) share with the in-memory path: one
# metrics row from a row of sums, the task-level totals, the options (the warnings are
# :func:`agentcost.analysis_warnings.report_warnings`).
metrics_row = _metrics_row
task_totals = _task_totals
resolve_options = _options
