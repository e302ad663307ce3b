"""The gate's result: :class:`CheckReport` (``to_dict()`` is the ``--format json`` contract)
and its one-sentence :func:`summarize`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from agentcost.errors import EXIT_GATE_FAILED, EXIT_INCONCLUSIVE, EXIT_OK
from agentcost.gate.numbers import fmt_pct, fmt_value
from agentcost.gate.settings import EPS, SCHEMA_VERSION, Budget


@dataclass
class MetricRow:
    metric: str
    label: str
    unit: str
    past: float | None
    current: float | None
    diff: float | None
    diff_pct: float | None
    verdict: str | None  # pass | fail | warn | inconclusive | None (not gated)
    gated: bool
    limits: list[str]
    note: str | None = None
    past_qualifier: str = ""  # "≥" lower bound, "≤" upper bound, "~" a range, "" exact
    current_qualifier: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "past": _r(self.past), "current": _r(self.current),
                "diff": _r(self.diff), "diff_pct": _r(self.diff_pct, 4),
                "past_qualifier": self.past_qualifier or None,
                "current_qualifier": self.current_qualifier or None,
                "verdict": self.verdict, "gated": self.gated, "limits": self.limits,
                "note": self.note}


@dataclass
class TaskResult:
    task_id: str
    baseline_task_id: str | None
    name: str | None
    match: str | None  # id | name | None
    status: str  # matched | new | missing
    rows: list[MetricRow]
    verdict: str | None
    price_drift_usd: float | None = None

    def row(self, metric: str) -> MetricRow | None:
        return next((r for r in self.rows if r.metric == metric), None)

    def to_dict(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "baseline_task_id": self.baseline_task_id,
                "name": self.name, "match": self.match, "status": self.status,
                "verdict": self.verdict, "price_drift_usd": _r(self.price_drift_usd),
                "metrics": {r.metric: r.to_dict() for r in self.rows}}


@dataclass
class BudgetResult:
    budget: Budget
    past: float | None
    current: float | None
    verdict: str
    note: str | None = None
    tasks_over: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"budget": self.budget.key, "limit": self.budget.limit,
                "action": self.budget.action, "past": _r(self.past),
                "current": _r(self.current), "verdict": self.verdict, "note": self.note,
                "tasks_over": self.tasks_over}


@dataclass
class Gate:
    """One pass/fail decision (one JUnit test case)."""

    kind: str  # regression | budget | audit
    name: str
    verdict: str  # pass | fail | warn | inconclusive
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "verdict": self.verdict,
                "message": self.message}


@dataclass
class PriceDrift:
    """The baseline's recorded cost against the same steps at the current prices."""

    method: str  # repriced | same-price-data | unknown
    recorded_usd: float | None
    repriced_usd: float | None
    baseline_prices: str
    current_prices: str
    note: str

    @property
    def drift_usd(self) -> float | None:
        if self.recorded_usd is None or self.repriced_usd is None:
            return None
        return self.repriced_usd - self.recorded_usd

    @property
    def drift_pct(self) -> float | None:
        d = self.drift_usd
        return d / self.recorded_usd if d is not None and self.recorded_usd else None

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "baseline_recorded_usd": _r(self.recorded_usd),
                "baseline_repriced_usd": _r(self.repriced_usd), "drift_usd": _r(self.drift_usd),
                "drift_pct": _r(self.drift_pct, 4), "baseline_prices": self.baseline_prices,
                "current_prices": self.current_prices, "note": self.note}


@dataclass
class CheckReport:
    verdict: str  # pass | fail | inconclusive
    summary: str
    reasons: list[str]
    gates: list[Gate]
    totals: list[MetricRow]
    tasks: list[TaskResult]
    budgets: list[BudgetResult]
    price_drift: PriceDrift | None
    baseline: dict[str, Any] | None
    current: dict[str, Any]
    settings: dict[str, Any]
    warnings: list[str]
    audit: dict[str, Any] | None = None

    @property
    def exit_code(self) -> int:
        return {"fail": EXIT_GATE_FAILED, "inconclusive": EXIT_INCONCLUSIVE}.get(self.verdict,
                                                                                 EXIT_OK)

    @property
    def matched(self) -> list[TaskResult]:
        return [t for t in self.tasks if t.status == "matched"]

    @property
    def new_tasks(self) -> list[TaskResult]:
        return [t for t in self.tasks if t.status == "new"]

    @property
    def missing_tasks(self) -> list[TaskResult]:
        return [t for t in self.tasks if t.status == "missing"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "summary": self.summary,
            "reasons": self.reasons,
            "gates": [g.to_dict() for g in self.gates],
            "totals": {r.metric: r.to_dict() for r in self.totals},
            "price_drift": self.price_drift.to_dict() if self.price_drift else None,
            "tasks": [t.to_dict() for t in self.tasks if t.status == "matched"],
            "new_tasks": [_brief(t) for t in self.new_tasks],
            "missing_tasks": [_brief(t) for t in self.missing_tasks],
            "budgets": [b.to_dict() for b in self.budgets],
            "audit": self.audit,
            "baseline": self.baseline,
            "current": self.current,
            "settings": self.settings,
            "warnings": self.warnings,
        }


def _brief(t: TaskResult) -> dict[str, Any]:
    side = "current" if t.status == "new" else "past"
    d: dict[str, Any] = {"task_id": t.task_id if t.status == "new" else t.baseline_task_id,
                         "name": t.name}
    for r in t.rows:
        d[r.metric] = _r(getattr(r, side))
    return d


def _r(v: float | None, nd: int = 8) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return round(v, nd)


def summarize(r: CheckReport) -> str:
    """The one-sentence summary that opens every rendering."""
    word = {"pass": "PASS", "fail": "FAIL", "inconclusive": "INCONCLUSIVE"}[r.verdict]
    n = len(r.gates)
    fails = [g for g in r.gates if g.verdict == "fail"]
    incon = [g for g in r.gates if g.verdict == "inconclusive"]
    warns = [g for g in r.gates if g.verdict == "warn"]
    if fails:
        head = (f"{len(fails)} of {n} gates failed — {fails[0].name}: {fails[0].message}"
                + (f" (and {len(fails) - 1} more)" if len(fails) > 1 else ""))
    elif incon:
        head = (f"{len(incon)} of {n} gates could not be evaluated — {incon[0].name}: "
                f"{incon[0].message}" + (f" (and {len(incon) - 1} more)" if len(incon) > 1
                                         else ""))
    elif n:
        head = f"all {n} gates passed" if n > 1 else "the gate passed"
    else:
        head = "nothing gated (set --max-increase or budgets:)"
    extra = []
    cost = next(row for row in r.totals if row.metric == "cost_usd")
    if not fails and not incon:
        if cost.past is not None:
            extra.append(f"total cost {fmt_value('usd', cost.past)} → "
                         f"{fmt_value('usd', cost.current)}"
                         + (f" ({fmt_pct(cost.diff_pct)})" if cost.diff_pct is not None else ""))
        elif cost.current is not None:
            extra.append(f"total cost {fmt_value('usd', cost.current)}")
    if warns:
        extra.append(f"{len(warns)} warning{'s' if len(warns) > 1 else ''}")
    d = r.price_drift
    if d is not None and d.drift_usd is not None and abs(d.drift_usd) > EPS:
        extra.append(f"price drift {fmt_value('usd', d.drift_usd, signed=True)} (the baseline "
                     "at the current prices; not counted as a change of the agent)")
    if r.tasks:
        nn, nm = len(r.new_tasks), len(r.missing_tasks)
        if nn or nm:
            extra.append(f"{nn} new and {nm} missing tasks")
    return f"{word}: {head}" + (f"; {'; '.join(extra)}" if extra else "") + "."
