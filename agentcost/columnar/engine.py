"""``analyze`` over SQL: the same :class:`~agentcost.analysis.AnalyzeReport`, computed by an
engine that runs the definitions of ``agentcost/data/sql`` (DuckDB, Spark).

The engine returns sums, percentiles and candidate rows; turning a row of sums into the
report's metrics, and a finding's figures into its message, is done by the same functions the
in-memory path uses (:func:`agentcost.analysis.metrics_row`, the item builders of
:mod:`agentcost.task_findings` and :mod:`agentcost.loops`). What stays in Python is one row per
task, model or group, never one per step: the runaway-loop finding reads the llm calls of only
the tasks it may name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from agentcost.columnar.metrics import bucket, render
from agentcost.errors import InputError
from agentcost.frames import json_float

if TYPE_CHECKING:
    import pandas as pd

    from agentcost.analysis import AnalyzeOptions, AnalyzeReport
    from agentcost.config import Config
    from agentcost.ingest.base import IngestReport
    from agentcost.pricing import PricingInfo

WORK = "agentcost_w"  # the work view every query reads (work.sql over the step table)
STEPS = "agentcost_steps"  # the step table under it


class Runner(Protocol):
    """An engine: runs one query of its dialect and hands the result back as a DataFrame."""

    dialect: str

    def query(self, sql: str) -> pd.DataFrame: ...


def arrow_frame(table: Any) -> pd.DataFrame:
    """An Arrow result as pandas with whole numbers kept whole: a nullable integer column
    (a first start, a sum over no rows) must not pass through float64, which rounds
    nanosecond times to 256 ns."""
    import pandas as pd
    import pyarrow as pa

    ints = {t: pd.Int64Dtype() for t in (pa.int8(), pa.int16(), pa.int32(), pa.int64(),
                                          pa.uint8(), pa.uint16(), pa.uint32())}
    return table.to_pandas(types_mapper=ints.get)


def q(runner: Runner, name: str, **params: str) -> pd.DataFrame:
    """Query ``name`` over the work view (or ``w=`` another relation)."""
    return runner.query(render(name, runner.dialect, **{"w": WORK, **params}))


def analyze_sql(runner: Runner, ingest: IngestReport, pricing: PricingInfo,
                options: AnalyzeOptions | None = None, config: Config | None = None,
                summary: bool = False) -> AnalyzeReport:
    """The analyze report of the step table behind ``runner`` (its work view must exist).
    ``summary``: what the console table shows, in memory bounded by ``top`` (the costliest
    tasks and the first findings of each kind, with the counts of all), not every task."""
    from agentcost.analysis import (
        AnalyzeReport,
        metrics_row,
        report_warnings,
        resolve_options,
        task_totals,
    )
    from agentcost.columnar.sql_findings import findings
    from agentcost.steps import empty_frame
    from agentcost.table import StepTable

    opts = resolve_options(options, config)
    if opts.task is not None or opts.include_steps:
        raise InputError("--task and --steps list steps: use the in-memory engine "
                         "(--engine pandas)")
    whole = q(runner, "aggregate", key="'all'", where="1 = 1")
    totals = {"tasks": int(q(runner, "task_count")["tasks"].iloc[0]),
              **metrics_row(_times(whole.iloc[0]) if len(whole) else _empty()),
              **_latency(runner)}
    tasks = task_rows(runner, opts.top if summary else None)
    totals.update(task_totals_sql(runner) if summary else task_totals(tasks))
    groups = group_rows(runner, opts.group_by, opts.timezone) if (
        opts.group_by != "task" and totals["tasks"]) else None
    table = StepTable(frame=empty_frame(), ingest=ingest, pricing=pricing)
    found, n_found = findings(runner, opts.runaway_factor, opts.max_iterations,
                              opts.token_budget, max(opts.top, 10) if summary else None)
    report = AnalyzeReport(
        totals=totals, tasks=tasks, models=model_rows(runner), groups=groups,
        group_by=opts.group_by,
        findings=found,
        warnings=report_warnings(table, totals), ingest=ingest.to_dict(),
        pricing=pricing.to_dict(), top=opts.top)
    if summary:
        report.extra["findings_total"] = n_found
    return report


def _times(r: Any) -> dict[str, Any]:
    """A row of sums with its first start and last end as timestamps (NaT when unknown)."""
    import pandas as pd

    d: dict[str, Any] = dict(r)
    for c in ("_start", "_end"):
        v = d.get(c)
        d[c] = pd.NaT if v is None or pd.isna(v) else pd.Timestamp(int(v), unit="ns", tz="UTC")
    return d


def _empty() -> Any:
    import pandas as pd

    from agentcost.analysis import TOKEN_SUMS

    d: dict[str, Any] = dict.fromkeys(TOKEN_SUMS, 0)
    d.update(llm_calls=0, tool_calls=0, cost_usd=0.0, _in_cost=0.0, _split_cost=0.0,
             cache_net_savings_usd=0.0, _llm_ms=0.0, _tool_ms=0.0, _wait_ms=0.0,
             _llm_timed=0, _tool_n=0, _tool_timed=0,
             unpriced_steps=0, _priced=0, no_usage_steps=0, partial_usage_steps=0,
             cache_read_unknown_steps=0, _start=pd.NaT, _end=pd.NaT)
    return d


def _num(v: Any) -> float | None:
    import pandas as pd

    return None if v is None or pd.isna(v) else float(v)


def text_or_none(v: Any) -> str | None:
    """A text cell as str, or None when missing (pandas may hand NaN, None or NA)."""
    import pandas as pd

    return None if v is None or pd.isna(v) else str(v)


def _latency(runner: Runner) -> dict[str, Any]:
    """Step duration and TTFT percentiles by kind (analysis._latency), exact, streaming."""
    from agentcost.columnar.quantiles import quantiles

    out: dict[str, Any] = {}
    for key, column, kind in (("llm_step", "duration_ms", "llm"),
                              ("tool_step", "duration_ms", "tool"), ("ttft", "ttft_ms", "llm")):
        rel = f"(SELECT {column} FROM {WORK} WHERE kind = '{kind}')"
        pair = quantiles(runner, rel, column, (0.5, 0.95)).get("all", [None, None])
        out[f"{key}_p50_ms"] = json_float(_num(pair[0]), 1)
        out[f"{key}_p95_ms"] = json_float(_num(pair[1]), 1)
    return out


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [_times(r) for r in frame.to_dict("records")] if len(frame) else []


def task_totals_sql(runner: Runner) -> dict[str, Any]:
    """analysis._task_totals computed by the engine (none without tasks): the per-task
    figures are kept by the engine (where it can), their median taken in two passes."""
    from agentcost.columnar.quantiles import quantiles

    meta = render("task_meta", runner.dialect, w=WORK)
    per = render("task_totals", runner.dialect, w=WORK, task_meta=meta)
    keep = getattr(runner, "keep", None)
    rel = f"({per})"
    if keep is not None:
        keep("agentcost_t_tasks", per)
        rel = "agentcost_t_tasks"
    r = runner.query(f"SELECT COUNT(*) AS tasks, MAX(llm_calls) AS iterations_max "
                     f"FROM {rel} AS t").iloc[0]
    if not int(r["tasks"]) or text_or_none(r["iterations_max"]) is None:
        return {}
    it = quantiles(runner, rel, "llm_calls", (0.5,)).get("all", [None])
    growth = quantiles(runner, rel, "growth", (0.5,)).get("all", [None])
    return {"iterations_p50": json_float(_num(it[0]), 1),
            "iterations_max": int(r["iterations_max"]),
            "context_growth_p50": json_float(_num(growth[0]), 2)}


def task_rows(runner: Runner, top: int | None = None) -> list[dict[str, Any]]:
    """One metrics row per task, costliest first (analysis._task_rows); with ``top``, only the
    ``top`` costliest (ordered and cut by the engine)."""
    from agentcost.analysis import metrics_row

    sums = render("aggregate", runner.dialect, w=WORK, key="task_id", where="1 = 1")
    w = WORK
    if top is not None:
        cost = "CASE WHEN _priced > 0 OR unpriced_steps = 0 THEN cost_usd ELSE 0 END"
        per = runner.query(f"SELECT * FROM ({sums}) AS s ORDER BY {cost} DESC, group_key "
                           f"LIMIT {int(top)}")
        ids = ", ".join("'" + str(t).replace("'", "''") + "'" for t in per["group_key"])
        w = f"(SELECT * FROM {WORK} WHERE task_id IN ({ids or 'NULL'})) AS wf"
    else:
        per = runner.query(sums)
    meta = {r["task_id"]: r for r in q(runner, "task_meta", w=w).to_dict("records")}
    models: dict[str, set[str]] = {}
    for tid, m in q(runner, "task_models", w=w).itertuples(index=False, name=None):
        models.setdefault(tid, set()).add(str(m))
    tasks: list[dict[str, Any]] = []
    for r in _rows(per):
        tid = r["group_key"]
        d = {"task_id": str(tid), **metrics_row(r)}
        d["iterations"] = d["llm_calls"]
        m = meta[tid]
        fi, la = _num(m["first_in"]), _num(m["last_in"])
        d["context_growth"] = json_float(la / fi if fi else None, 2) if (
            fi is not None and la is not None) else None
        d["models"] = sorted(models.get(tid, ()))
        for c in ("session_id", "parent_task_id"):
            d[c] = text_or_none(m[c])
        d["source"] = str(m["source"])
        d["format"] = str(m["format"])
        tasks.append(d)
    tasks.sort(key=lambda t: (-(t["cost_usd"] or 0.0), t["task_id"]))
    return tasks


def model_rows(runner: Runner) -> list[dict[str, Any]]:
    """One metrics row per model, llm steps only, costliest first (analysis._model_rows)."""
    from agentcost.analysis import cost_by_class_row, metrics_row
    from agentcost.columnar.quantiles import quantiles

    extra = {r["group_key"]: r for r in q(runner, "model_extra").to_dict("records")}
    out: list[dict[str, Any]] = []
    key = "COALESCE(model, response_model, '(unknown)')"
    llm = f"(SELECT {key} AS mk, duration_ms FROM {WORK} WHERE kind = 'llm')"
    pcts = quantiles(runner, llm, "duration_ms", (0.5, 0.95), group="mk")
    for r in _rows(q(runner, "aggregate", key=key, where="kind = 'llm'")):
        name = str(r["group_key"])
        d = {"model": name, **metrics_row(r)}
        for k in ("tool_calls", "llm_time_share", "tool_time_s", "wall_time_s", "started_at"):
            d.pop(k, None)
        e = extra[r["group_key"]]
        p50, p95 = pcts.get(r["group_key"], [None, None])
        d["duration_p50_ms"] = json_float(_num(p50), 1)
        d["duration_p95_ms"] = json_float(_num(p95), 1)
        d["provider"] = text_or_none(e["provider"])
        d["cost_by_class_usd"] = (cost_by_class_row(
            *(float(_num(e[k]) or 0.0) for k in ("split_total", "split_output", "split_read",
                                                 "split_write")))
            if int(_num(e["split_steps"]) or 0) and not int(_num(e["split_unknown"]) or 0)
            else None)  # an older export has no cost by class: unknown, not 0
        out.append(d)
    out.sort(key=lambda m: (-(m["cost_usd"] or 0.0), m["model"]))
    return out


def group_rows(runner: Runner, by: str, timezone: str | None) -> list[dict[str, Any]]:
    """One metrics row per ``--group-by`` key (analysis._group_rows)."""
    import pandas as pd

    from agentcost.analysis import metrics_row

    where = "kind = 'llm'" if by == "model" else "1 = 1"
    rows = _rows(q(runner, "aggregate", key=bucket(by, runner.dialect, timezone), where=where,
                   tasks="COUNT(DISTINCT task_id)", first="MIN(order_key)"))
    rows.sort(key=lambda r: str(r["_first"]))  # first appearance, as pandas groups them
    groups = []
    for r in rows:
        name = r["group_key"]
        d = {by: None if name is None or pd.isna(name) else str(name), **metrics_row(r)}
        d["tasks"] = int(r["_tasks"])
        groups.append(d)
    if by in ("hour", "day", "week", "month"):
        groups.sort(key=lambda g: g[by] or "")
    else:
        groups.sort(key=lambda g: -(g["cost_usd"] or 0.0))
    return groups


def pricing_of(runner: Any, manifests: list[dict[str, Any]]) -> PricingInfo:
    """The pricing record of a priced step table: counts from the table, the price data's
    fingerprint from its rows, overrides, aliases and notes from the export manifests."""
    from agentcost.pricing import PricingInfo

    fps = runner.query(f"SELECT DISTINCT price_data_fingerprint AS fp FROM {STEPS}")["fp"]
    fps = sorted(str(f) for f in fps.tolist() if f is not None)
    runs = [r.get("pricing") or {} for m in manifests for r in m.get("runs", [])]
    info = PricingInfo(version=", ".join(sorted({str(r.get("version")) for r in runs
                                                 if r.get("version")})) or "unknown",
                       data_fingerprint=", ".join(fps) or None,
                       data="as exported: " + (", ".join(sorted({str(r["data"]) for r in runs
                                                                  if r.get("data")}))
                                               or "the costs stored in the step table"))
    for r in runs:
        info.overrides += [o for o in r.get("overrides", []) if o not in info.overrides]
        info.aliases_used.update(r.get("aliases_used") or {})
        info.notes += [n for n in r.get("notes", []) if n not in info.notes]
    _counts(info, q(runner, "pricing"))
    return info


def _counts(info: PricingInfo, rows: pd.DataFrame) -> None:
    unpriced = rows[rows["cost_source"] == "unpriced"].sort_values(
        ["input_tokens", "model"], ascending=[False, True])
    info.unpriced_models = [{"model": str(r["model"]), "steps": int(r["steps"]),
                             "input_tokens": int(r["input_tokens"]),
                             "output_tokens": int(r["output_tokens"])}
                            for r in unpriced.to_dict("records")]
    info.unpriced_steps = int(unpriced["steps"].sum())
    by = rows.groupby("cost_source")["steps"].sum()
    info.no_usage_steps = int(by.get("no-usage", 0))
    info.failed_no_usage_steps = int(by.get("failed-call", 0))
    info.reported_cost_steps = int(by.get("reported", 0))
    info.cache_read_unknown_steps = int(rows["cr_unknown"].sum())
    info.cache_read_unknown_models = sorted(
        str(m) for m in rows.loc[rows["cr_unknown"] > 0, "model"].unique()
        if m != "(no model)")
    info.lower_bound = bool(info.unpriced_steps or info.no_usage_steps)
