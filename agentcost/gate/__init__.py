"""``agentcost check``: the CI gate (DESIGN.md §7). Pure functions, no typer or rich.

:func:`check` compares the current run with a baseline report (a saved
``analyze --format json --steps``) and with budgets, and returns a :class:`CheckReport` whose
``exit_code`` is 0 (every gate passed), 1 (a gate failed) or 3 (no gate failed but at least one
could not be evaluated). Input and usage errors raise (exit code 2).

**Same prices on both sides.** The baseline's steps are re-priced with the current price data and
``agentcost.yaml``, and compared with the current run priced the same way. The difference between
the baseline's recorded cost and its re-priced cost is reported as *price drift*: it is shown, and
never counted as a change of the agent. A baseline without steps is compared on cost only when its
price data is provably the same (equal data fingerprint, no ``agentcost.yaml`` overrides);
otherwise every cost gate is inconclusive and says why.

**Metrics**, per task and in total: ``cost_usd``; tokens by class (``input_tokens``,
``uncached_input_tokens``, ``cache_read_tokens``, ``cache_write_tokens``, ``output_tokens``);
``iterations`` (llm calls: of the task, or of the whole run); ``iterations_max`` (total only);
``cache_hit_ratio``; latency — a task's ``latency_s`` is its wall time (first step start to last
step end) and the run's ``latency_p50_s`` / ``latency_p95_s`` are the p50/p95 of those.

**Thresholds** (``--max-increase``, ``check.max_increase``) are per metric: a percentage of the
baseline (``10%``) or an amount in the metric's unit (``0.50`` = $0.50 for cost). For
``cache_hit_ratio`` the threshold limits the *decrease*, in ratio points (``0.05``) or percent.
A percentage threshold ignores changes smaller than the metric's noise floor (``--min-delta``).
Thresholds gate the run's totals; with ``per_task`` they also gate each matched task (without it,
tasks over a threshold are flagged ``warn``).

**Budgets** (``budgets:`` in ``agentcost.yaml``) are absolute limits on the current run:
``total_cost``, ``cost_per_task_p95``, ``iterations_max``, ``tokens_per_task_max`` (input +
output tokens of the largest task), ``latency_p95_s``, ``cache_hit_ratio_min``. Each is a
number or ``{limit: x, action: fail|warn}``.

**Inconclusive, not guessed.** A figure the traces do not fully give — cost with unpriced models
or steps without usage, cache hit ratio with unknown cache reads, latency without timestamps — is
treated as the range it could lie in. A gate whose verdict depends on where in that range the true
figure lies is *inconclusive* (exit 3) and names the cause; one that fails or passes across the
whole range is decided (a lower-bound cost already over budget fails).

**Audit gate** (``check.prompts``, ``--prompt``): each named prompt file (or folder) is audited
with :func:`agentcost.audit.run_audit` (target model ``check.model`` / ``--model``) and is one
gate: ``fail`` when it has a finding at or above ``fail_on`` (``check.fail_on`` / ``--fail-on``,
default ``warning``), ``warn`` when it has findings below it, ``pass`` otherwise.
``check.prompts`` are relative to the folder of ``agentcost.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agentcost.config import Config
from agentcost.errors import ConfigError
from agentcost.gate.baseline import (
    Baseline,
    PriceIdentity,
    TaskMatch,
    from_dict,
    load_baseline,
    match_tasks,
    reprice,
    same_price_data,
)
from agentcost.gate.figures import (
    VERDICT_ORDER,
    Figure,
    budget_figures,
    compare,
    figures_of,
    judge_budget,
    num,
    qualifier,
    row_message,
    tasks_over,
    worst,
)
from agentcost.gate.numbers import fmt_value
from agentcost.gate.report import (
    BudgetResult,
    CheckReport,
    Gate,
    MetricRow,
    PriceDrift,
    TaskResult,
    summarize,
)
from agentcost.gate.settings import (
    INF,
    METRIC_BY_KEY,
    METRICS,
    Budget,
    CheckOptions,
    Threshold,
    parse_budgets,
    parse_max_increase,
    parse_min_delta,
)

if TYPE_CHECKING:
    from agentcost.analysis import AnalyzeReport
    from agentcost.table import StepTable

__all__ = ["Baseline", "Budget", "CheckOptions", "CheckReport", "Threshold", "check",
           "load_baseline", "parse_budgets", "parse_max_increase", "parse_min_delta"]


def check(current: StepTable | AnalyzeReport, budgets: Any = None,
          baseline: Baseline | Mapping[str, Any] | str | None = None,
          options: CheckOptions | None = None) -> CheckReport:
    """Compare ``current`` with ``baseline`` and ``budgets`` and decide the gate.

    ``current`` is a priced :class:`~agentcost.table.StepTable` or its analyze report (priced
    with ``options.config``, which also re-prices the baseline). ``budgets`` is the ``budgets:``
    mapping of ``agentcost.yaml`` or a list of :class:`Budget`. ``baseline`` is a
    :class:`~agentcost.gate.baseline.Baseline`, a parsed baseline JSON object, or a path.
    """
    opts = options or CheckOptions()
    cfg = opts.config or Config()
    bl = parse_budgets(budgets)
    if isinstance(baseline, str):
        baseline = load_baseline(baseline)
    elif isinstance(baseline, Mapping):
        baseline = from_dict(dict(baseline))
    for t in opts.thresholds:
        if t.metric not in METRIC_BY_KEY:
            raise ConfigError(f"unknown metric {t.metric!r} in a threshold")
    if baseline is None and not bl and not opts.prompts:
        raise ConfigError("nothing to check: give --baseline FILE, budgets: in agentcost.yaml, "
                          "or prompts to audit")

    cur = _as_report(current, cfg)
    warnings: list[str] = []
    side = _Sides(cur, figures_of(cur.totals, total=True, tasks=cur.tasks,
                                  unpriced_models=_unpriced(cur.pricing)))
    if baseline is not None:
        _load_past(side, baseline, cfg, warnings)
    gates: list[Gate] = _input_gates(side, baseline)
    totals = _total_rows(side, opts, gates)
    tasks = _task_results(side, opts, gates)
    budget_results = _budget_results(side, bl, gates)
    audit = _audit(opts, gates)

    if baseline is None and opts.thresholds:
        warnings.append("regression thresholds need a baseline (--baseline FILE): only the "
                        "budgets were checked")
    if baseline is not None and not opts.thresholds:
        warnings.append("no regression thresholds set (--max-increase or check.max_increase): "
                        "changes against the baseline are shown, not gated")
    verdict = "fail" if any(g.verdict == "fail" for g in gates) else (
        "inconclusive" if any(g.verdict == "inconclusive" for g in gates) else "pass")
    reasons = [reason_line(g) for g in gates if g.verdict in ("fail", "inconclusive")]
    rep = CheckReport(
        verdict=verdict, summary="", reasons=reasons, gates=gates, totals=totals,
        tasks=tasks, budgets=budget_results, price_drift=side.drift,
        baseline=_baseline_info(baseline, side.past_tasks) if baseline is not None else None,
        current={"label": opts.current_label, "tasks": len(cur.tasks),
                 "pricing": PriceIdentity.of(cur.pricing).describe()},
        settings={"thresholds": [t.to_dict() for t in opts.thresholds],
                  "min_delta": opts.min_delta, "per_task": opts.per_task,
                  "budgets": [{"budget": b.key, "limit": b.limit, "action": b.action}
                              for b in bl],
                  "prompts": opts.prompts, "fail_on": opts.fail_on, "model": opts.model},
        warnings=warnings + list(cur.warnings), audit=audit)
    rep.summary = summarize(rep)
    return rep


class _Sides:
    """The current run and (when given) the baseline, as figures and task lists."""

    def __init__(self, cur: AnalyzeReport, cur_figs: dict[str, Figure]) -> None:
        self.cur = cur
        self.cur_figs = cur_figs
        self.past_figs: dict[str, Figure] | None = None
        self.past_tasks: list[dict[str, Any]] = []
        self.drift: PriceDrift | None = None
        self.task_drift: dict[str, float] = {}
        self.matches: list[TaskMatch] = []

    def cost_unknown(self) -> bool:
        """The baseline's cost cannot be put on the current prices."""
        return self.drift is not None and self.drift.method == "unknown"

    def unknown_cost(self, f: Figure) -> Figure:
        assert self.drift is not None
        return Figure(f.value, 0.0, INF, self.drift.note)


def reason_line(g: Gate) -> str:
    """A failed gate is named by its kind (``regression total cost_usd: …``); an inconclusive one
    says it could not be decided, never that it regressed (``inconclusive total cost_usd: …``)."""
    label = g.kind if g.verdict == "fail" else "inconclusive"
    return f"{label} {g.name}: {g.message}"


def _input_gates(side: _Sides, baseline: Baseline | None) -> list[Gate]:
    """What the current run could not be compared on is inconclusive, never a pass: traces from
    which no llm call was read (every line rejected, or nothing recognised), and a baseline none
    of whose tasks is in the current run (a −100 % that only says the tasks were not found)."""
    cur = side.cur
    ing = cur.ingest
    out: list[Gate] = []
    if not cur.totals.get("llm_calls"):
        why = (f"{ing.get('malformed_lines', 0):,} of {ing.get('lines_read', 0):,} lines were "
               "rejected as malformed" if ing.get("malformed_lines") else
               f"{ing.get('files', 0):,} files, {ing.get('lines_read', 0):,} lines read")
        out.append(Gate("input", "current traces", "inconclusive",
                        f"no llm call was read from the current traces ({why}): nothing to "
                        "compare or to hold to a budget"))
    elif baseline is not None and side.past_tasks and side.matches and \
            not any(m.status == "matched" for m in side.matches):
        n = len(side.past_tasks)
        out.append(Gate("input", "baseline tasks", "inconclusive",
                        f"none of the baseline's {n:,} task{'s' if n != 1 else ''} is in the "
                        "current run (matched by id or name): the runs cannot be compared"))
    return out


def _unpriced(pricing: dict[str, Any]) -> list[str]:
    return [m["model"] for m in pricing.get("unpriced_models", [])]


def _load_past(side: _Sides, baseline: Baseline, cfg: Config, warnings: list[str]) -> None:
    """Re-price the baseline (when it has steps) and match its tasks to the current ones."""
    repriced = None
    if baseline.has_steps:
        repriced = reprice(baseline, cfg)
        side.past_tasks = repriced.tasks
        _consistency(baseline, repriced, warnings)
        side.past_figs = figures_of(repriced.totals, total=True, tasks=side.past_tasks,
                                    unpriced_models=_unpriced(repriced.pricing))
        side.task_drift = _task_drift(baseline, repriced)
    else:
        side.past_tasks = baseline.tasks
        side.past_figs = figures_of(baseline.totals, total=True, tasks=side.past_tasks,
                                    unpriced_models=_unpriced(baseline.pricing))
        warnings.append(f"{baseline.label} has no steps (saved without --steps): it cannot "
                        "be re-priced with the current price data")
    side.drift = _price_drift(baseline, repriced, side.cur.pricing)
    if side.cost_unknown():
        side.past_figs["cost_usd"] = side.unknown_cost(side.past_figs["cost_usd"])
    side.matches = match_tasks(side.cur.tasks, side.past_tasks)


def _thresholds(opts: CheckOptions) -> dict[str, list[Threshold]]:
    by: dict[str, list[Threshold]] = {}
    for t in opts.thresholds:
        by.setdefault(t.metric, []).append(t)
    return by


def _total_rows(side: _Sides, opts: CheckOptions, gates: list[Gate]) -> list[MetricRow]:
    ths = _thresholds(opts)
    rows: list[MetricRow] = []
    for m in METRICS:
        if m.scope == "task":
            continue
        past = side.past_figs[m.key] if side.past_figs is not None else None
        row = compare(m, side.cur_figs[m.key], past, ths.get(m.key, []),
                      opts.min_delta.get(m.key, 0.0), True)
        rows.append(row)
        if row.gated and row.verdict is not None:
            gates.append(Gate("regression", f"total {m.key}", row.verdict, row_message(row)))
    return rows


def _task_results(side: _Sides, opts: CheckOptions, gates: list[Gate]) -> list[TaskResult]:
    ths = _thresholds(opts)
    out: list[TaskResult] = []
    for mt in side.matches:
        c, b = mt.current, mt.baseline
        cf = figures_of(c, total=False) if c is not None else None
        bf = figures_of(b, total=False) if b is not None else None
        if bf is not None and side.cost_unknown():
            bf["cost_usd"] = side.unknown_cost(bf["cost_usd"])
        rows: list[MetricRow] = []
        for m in METRICS:
            if m.scope == "total":
                continue
            if cf is not None and bf is not None and c is not None:
                row = compare(m, cf[m.key], bf[m.key], ths.get(m.key, []),
                              opts.min_delta.get(m.key, 0.0), opts.per_task)
                if row.gated and row.verdict is not None:
                    gates.append(Gate("regression", f"task {c['task_id']} {m.key}",
                                      row.verdict, row_message(row)))
            else:  # a new or a missing task: one side only
                f = (cf or bf or {})[m.key]
                q = qualifier(f)
                row = MetricRow(m.key, m.label, m.unit, f.value if cf is None else None,
                                f.value if cf is not None else None, None, None, None, False, [],
                                past_qualifier=q if cf is None else "",
                                current_qualifier=q if cf is not None else "")
            rows.append(row)
        one = c if c is not None else b
        assert one is not None
        out.append(TaskResult(
            task_id=one["task_id"], baseline_task_id=b["task_id"] if b is not None else None,
            name=mt.name, match=mt.match, status=mt.status, rows=rows,
            verdict=worst([r.verdict for r in rows]),
            price_drift_usd=side.task_drift.get(b["task_id"]) if b is not None else None))

    def order(t: TaskResult) -> tuple[bool, int, float, str]:
        cost = t.row("cost_usd")
        return (t.status != "matched", -VERDICT_ORDER[t.verdict],
                -abs(cost.diff or 0.0) if cost is not None else 0.0, t.task_id)

    return sorted(out, key=order)


def _budget_results(side: _Sides, budgets: list[Budget],
                    gates: list[Gate]) -> list[BudgetResult]:
    if not budgets:
        return []
    figs = budget_figures(side.cur_figs, side.cur.tasks)
    past = budget_figures(side.past_figs, side.past_tasks) if side.past_figs is not None \
        else None
    out: list[BudgetResult] = []
    for b in budgets:
        res = judge_budget(b, figs[b.key], past[b.key] if past else None,
                           tasks_over(b, side.cur.tasks))
        out.append(res)
        msg = (f"{b.label} {qualifier(figs[b.key])}{fmt_value(b.unit, res.current)} "
               f"(budget {b.describe()})" + (f": {res.note}" if res.note else ""))
        if res.tasks_over:
            msg += f"; tasks over: {', '.join(res.tasks_over[:10])}" + (
                f" and {len(res.tasks_over) - 10} more" if len(res.tasks_over) > 10 else "")
        gates.append(Gate("budget", b.key, res.verdict, msg))
    return out


def _as_report(current: StepTable | AnalyzeReport, config: Config | None) -> AnalyzeReport:
    from agentcost.analysis import AnalyzeOptions, AnalyzeReport, analyze

    if isinstance(current, AnalyzeReport):
        return current
    return analyze(current, AnalyzeOptions(), config)


def _price_drift(baseline: Baseline, repriced: AnalyzeReport | None,
                 current_pricing: dict[str, Any]) -> PriceDrift:
    b_id, c_id = PriceIdentity.of(baseline.pricing), PriceIdentity.of(current_pricing)
    recorded = num(baseline.totals.get("cost_usd"))
    if repriced is not None:
        new = num(repriced.totals.get("cost_usd"))
        return PriceDrift("repriced", recorded, new, b_id.describe(), c_id.describe(),
                          "the baseline's steps re-priced with the current price data; the "
                          "difference is price drift, not a change of the agent")
    same, why = same_price_data(b_id, c_id)
    if same:
        return PriceDrift("same-price-data", recorded, recorded, b_id.describe(),
                          c_id.describe(), "the baseline was priced with the same price data")
    return PriceDrift("unknown", recorded, None, b_id.describe(), c_id.describe(),
                      f"{why}, and the baseline has no steps to re-price: cost cannot be "
                      "compared (save the baseline with analyze --format json --steps)")



def _audit(opts: CheckOptions, gates: list[Gate]) -> dict[str, Any] | None:
    """The prompt-audit gate: one gate per configured prompt file (or folder)."""
    if not opts.prompts:
        return None
    from agentcost.audit import AuditOptions, run_audit
    from agentcost.audit.findings import SEVERITY_RANK

    results: list[dict[str, Any]] = []
    notes: list[str] = []
    for path in opts.prompts:
        rep = run_audit([path], AuditOptions(model=opts.model, config=opts.config))
        notes += [n for n in rep.notes if n not in notes]
        found = sorted(rep.findings, key=lambda f: (-SEVERITY_RANK[f.severity], f.file or "",
                                                    f.line or 0, f.column or 0, f.rule))
        fails = rep.fails(opts.fail_on)
        verdict = "fail" if fails else "warn" if found else "pass"
        counts = {k: v for k, v in rep.counts().items() if v}
        if found:
            msg = (f"{len(found)} finding{'s' if len(found) > 1 else ''} ("
                   + ", ".join(f"{v} {k}" for k, v in counts.items())
                   + f"; fails on {opts.fail_on}): "
                   + "; ".join(_finding_text(f, path) for f in found[:AUDIT_TOP])
                   + (f" and {len(found) - AUDIT_TOP} more" if len(found) > AUDIT_TOP else ""))
        else:
            msg = "no findings"
        gates.append(Gate("audit", path, verdict, msg))
        results.append({"path": path, "verdict": verdict, "findings": len(found),
                        "by_severity": rep.counts(), "message": msg,
                        "top": [f.to_dict() for f in found[:AUDIT_TOP]]})
    n_found = sum(r["findings"] for r in results)
    n_fail = sum(1 for r in results if r["verdict"] == "fail")
    summary = (f"{len(results)} prompt file{'s' if len(results) > 1 else ''} audited, "
               f"{n_found} finding{'' if n_found == 1 else 's'}, {n_fail} failing "
               f"(fail on {opts.fail_on})")
    return {"fail_on": opts.fail_on, "model": opts.model, "findings": n_found,
            "summary": summary, "prompts": results, "notes": notes}


AUDIT_TOP = 3  # findings named per prompt file in the gate message


def _finding_text(f: Any, path: str) -> str:
    file = "" if f.file == path else (f.file or "")  # a folder: name the file
    where = f"{file}:{f.line}" if file and f.line else f"line {f.line}" if f.line else file
    return f"{f.severity} {f.rule}" + (f" at {where}" if where else "") + f" — {f.message}"


def _consistency(baseline: Baseline, repriced: AnalyzeReport, warnings: list[str]) -> None:
    rec, new = baseline.totals, repriced.totals
    diffs = [k for k in ("llm_calls", "input_tokens", "output_tokens")
             if rec.get(k) is not None and rec.get(k) != new.get(k)]
    if diffs:
        warnings.append(f"{baseline.label}: its steps do not add up to its recorded totals "
                        f"({', '.join(diffs)}); the steps are used")


def _task_drift(baseline: Baseline | None, repriced: AnalyzeReport | None) -> dict[str, float]:
    if baseline is None or repriced is None:
        return {}
    rec = {t["task_id"]: num(t.get("cost_usd")) for t in baseline.tasks}
    out: dict[str, float] = {}
    for t in repriced.tasks:
        a, b = rec.get(t["task_id"]), num(t.get("cost_usd"))
        if a is not None and b is not None:
            out[t["task_id"]] = b - a
    return out


def _baseline_info(baseline: Baseline, tasks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"label": baseline.label, "tasks": len(tasks), "has_steps": baseline.has_steps,
            "pricing": PriceIdentity.of(baseline.pricing).describe()}
