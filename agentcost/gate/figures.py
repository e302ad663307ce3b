"""What each side's figures are, and how a figure is judged against a threshold or a budget.

A :class:`Figure` is a metric's value as reported plus the range the true value lies in: a cost
that leaves out unpriced steps is a lower bound (``hi = inf``), a cache hit ratio with unknown
cache reads lies between the reported value and 1, a latency without timestamps is unknown.
A threshold or budget is *exceeded* (``yes``), *not exceeded* (``no``), or ``maybe`` — when the
answer differs between the ends of those ranges; ``maybe`` on a failing gate is inconclusive.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agentcost.gate.numbers import fmt_pct, fmt_value
from agentcost.gate.report import BudgetResult, MetricRow
from agentcost.gate.settings import (
    EPS,
    INF,
    METRIC_BY_KEY,
    TOKEN_METRICS,
    Budget,
    MetricDef,
    Threshold,
)


@dataclass(frozen=True)
class Figure:
    """A metric's value on one side: what the report says (``value``), the range the true value
    lies in (``lo``..``hi``; equal when exact), and why it is not exact."""

    value: float | None
    lo: float
    hi: float
    why: str | None = None

    @classmethod
    def exact(cls, v: float) -> Figure:
        return cls(v, v, v)

    @classmethod
    def unknown(cls, why: str, value: float | None = None, hi: float = INF) -> Figure:
        return cls(value, 0.0, hi, why)

    @property
    def is_exact(self) -> bool:
        return self.lo == self.hi


def num(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _cost_why(d: Mapping[str, Any], unpriced_models: list[str] | None = None) -> str:
    parts = []
    if d.get("unpriced_steps"):
        names = f" ({', '.join(unpriced_models)})" if unpriced_models else ""
        parts.append(f"{d['unpriced_steps']} steps of unpriced models{names}")
    if d.get("no_usage_steps"):
        parts.append(f"{d['no_usage_steps']} llm steps without token usage")
    return " and ".join(parts) or "cost unknown"


def figures_of(d: Mapping[str, Any], *, total: bool, tasks: list[dict[str, Any]] | None = None,
             unpriced_models: list[str] | None = None) -> dict[str, Figure]:
    """Every metric of one side (a task dict, or the totals with the task list)."""
    out: dict[str, Figure] = {}
    cost = num(d.get("cost_usd"))
    if cost is None:
        out["cost_usd"] = Figure.unknown(_cost_why(d, unpriced_models))
    elif d.get("cost_is_lower_bound"):
        out["cost_usd"] = Figure(cost, cost, INF, _cost_why(d, unpriced_models))
    else:
        out["cost_usd"] = Figure.exact(cost)
    no_usage = int(d.get("no_usage_steps") or 0)
    cr_unknown = int(d.get("cache_read_unknown_steps") or 0)
    inp = num(d.get("input_tokens")) or 0.0
    for k in TOKEN_METRICS:
        raw = num(d.get(k))
        v = raw or 0.0
        if no_usage:
            out[k] = Figure(v, v, INF, f"{no_usage} llm steps without token usage")
        elif raw is None and k in ("cache_read_tokens", "cache_write_tokens",
                                   "uncached_input_tokens"):
            # no step reports cache figures: each lies between 0 and the input
            out[k] = Figure.unknown(f"cache figures unknown on {cr_unknown} steps", hi=inp)
        elif cr_unknown and k == "cache_read_tokens":
            out[k] = Figure(v, v, INF, f"cache reads unknown on {cr_unknown} steps")
        elif cr_unknown and k == "uncached_input_tokens":
            out[k] = Figure(v, 0.0, v, f"cache reads unknown on {cr_unknown} steps")
        else:
            out[k] = Figure.exact(v)
    out["iterations"] = Figure.exact(float(d.get("llm_calls") or 0))
    ratio = num(d.get("cache_hit_ratio"))
    if ratio is None and cr_unknown:
        out["cache_hit_ratio"] = Figure.unknown(f"cache reads unknown on {cr_unknown} steps",
                                                hi=1.0)
    elif ratio is None:
        out["cache_hit_ratio"] = Figure.unknown("no input tokens", hi=1.0)
    elif cr_unknown:
        out["cache_hit_ratio"] = Figure(ratio, ratio, 1.0,
                                        f"cache reads unknown on {cr_unknown} steps")
    else:
        out["cache_hit_ratio"] = Figure.exact(ratio)
    if not total:
        wall = num(d.get("wall_time_s"))
        out["latency_s"] = Figure.exact(wall) if wall is not None else Figure.unknown(
            "no step timestamps")
        return out
    tl = tasks or []
    out["iterations_max"] = Figure.exact(max((float(t.get("llm_calls") or 0) for t in tl),
                                             default=0.0))
    walls = [num(t.get("wall_time_s")) for t in tl]
    for key, q in (("latency_p50_s", 0.5), ("latency_p95_s", 0.95)):
        out[key] = _quantile_figure(walls, q, "tasks without step timestamps")
    return out


def _quantile(vals: list[float], q: float) -> float | None:
    """Linear-interpolated quantile (numpy's default); ``inf`` propagates."""
    if not vals:
        return None
    s = sorted(vals)
    pos = q * (len(s) - 1)
    i = int(math.floor(pos))
    frac = pos - i
    if frac == 0 or i + 1 >= len(s):
        return s[i]
    if math.isinf(s[i + 1]):
        return INF
    return s[i] + (s[i + 1] - s[i]) * frac


def _quantile_figure(vals: list[float | None], q: float, why: str) -> Figure:
    known = [v for v in vals if v is not None]
    n_missing = len(vals) - len(known)
    if not vals or not known:
        return Figure.unknown(why if vals else "no tasks")
    v = _quantile(known, q)
    if not n_missing:
        return Figure.exact(v) if v is not None else Figure.unknown(why)
    lo = _quantile(known + [0.0] * n_missing, q)
    hi = _quantile(known + [INF] * n_missing, q)
    return Figure(v, lo or 0.0, INF if hi is None else hi, f"{n_missing} {why}")


def cost_quantile(tasks: list[dict[str, Any]], q: float) -> Figure:
    figs = [figures_of(t, total=False)["cost_usd"] for t in tasks]
    if not figs:
        return Figure.unknown("no tasks")
    lo = _quantile([f.lo for f in figs], q) or 0.0
    hi = _quantile([f.hi for f in figs], q)
    val = _quantile([f.value if f.value is not None else f.lo for f in figs], q)
    n = sum(1 for f in figs if not f.is_exact)
    return Figure(val, lo, INF if hi is None else hi,
                  f"{n} tasks with unpriced or usage-less steps" if n else None)


# ----------------------------------------------------------------------------- verdicts

VERDICT_ORDER = {"fail": 4, "inconclusive": 3, "warn": 2, "pass": 1, None: 0}


def worst(verdicts: Sequence[str | None]) -> str | None:
    return max(verdicts, key=lambda v: VERDICT_ORDER[v], default=None)


def _exceeds(th: Threshold, c: float, p: float, min_delta: float, lower_is_worse: bool) -> bool:
    w = (p - c) if lower_is_worse else (c - p)
    if not w > EPS:  # also false for -inf / nan
        return False
    if th.kind == "abs":
        return w > th.value + EPS
    if w < min_delta - EPS:
        return False
    if p <= 0:
        return True
    if math.isinf(p):
        return False
    return w > th.value * p + EPS


def _status(th: Threshold, cur: Figure, past: Figure, min_delta: float,
            lower_is_worse: bool) -> str:
    """``yes`` (exceeded whatever the unknown part), ``no`` (not exceeded whatever), ``maybe``."""
    if lower_is_worse:
        worst, best = (cur.lo, past.hi), (cur.hi, past.lo)
    else:
        worst, best = (cur.hi, past.lo), (cur.lo, past.hi)
    if _exceeds(th, best[0], best[1], min_delta, lower_is_worse):
        return "yes"
    if not _exceeds(th, worst[0], worst[1], min_delta, lower_is_worse):
        return "no"
    return "maybe"


def _combine(statuses: list[tuple[str, str]], gated: bool) -> str | None:
    """(status, action) pairs → a verdict."""
    if not statuses:
        return None
    if not gated:
        return "warn" if any(s == "yes" for s, _ in statuses) else None
    if any(s == "yes" and a == "fail" for s, a in statuses):
        return "fail"
    if any(s == "maybe" and a == "fail" for s, a in statuses):
        return "inconclusive"
    if any(s != "no" for s, _ in statuses):
        return "warn"
    return "pass"


def _uncertainty(cur: Figure, past: Figure | None) -> str:
    parts = []
    if past is not None and not past.is_exact and past.why:
        parts.append(f"baseline: {past.why}")
    if not cur.is_exact and cur.why:
        parts.append(f"current: {cur.why}")
    return "; ".join(parts) or "value unknown"


# ----------------------------------------------------------------------------- judging


def compare(m: MetricDef, cur: Figure, past: Figure | None, ths: list[Threshold],
             min_delta: float, gated: bool) -> MetricRow:
    diff = diff_pct = None
    pv = past.value if past is not None else None
    if cur.value is not None and pv is not None:
        diff = cur.value - pv
        diff_pct = diff / pv if pv else None
    statuses = [(_status(t, cur, past, min_delta, m.lower_is_worse), t.action)
                for t in ths] if past is not None else []
    verdict = _combine(statuses, gated)
    note = None
    if verdict == "inconclusive":
        note = _uncertainty(cur, past)
    elif verdict in ("fail", "warn"):
        over = [t.describe() for t, (s, _) in zip(ths, statuses, strict=True) if s != "no"]
        note = f"over {', '.join(over)}" + ("" if gated else " (not gated: use --per-task)")
        if any(s == "maybe" for s, _ in statuses):
            note += f"; may be over: {_uncertainty(cur, past)}"
    return MetricRow(m.key, m.label, m.unit, pv, cur.value, diff, diff_pct, verdict,
                     gated and bool(ths), [t.describe() for t in ths], note,
                     qualifier(past) if past is not None else "", qualifier(cur))


def qualifier(f: Figure) -> str:
    if f.is_exact or f.value is None:
        return ""
    if f.value == f.lo and f.hi > f.value:
        return "≥"
    if f.value == f.hi and f.lo < f.value:
        return "≤"
    return "~"


def row_message(r: MetricRow) -> str:
    m = METRIC_BY_KEY[r.metric]
    label = m.label.strip()
    if r.current is None or r.past is None:
        change = f"{label} {fmt_value(r.unit, r.past)} → {fmt_value(r.unit, r.current)}"
    else:
        pct = f"{fmt_pct(r.diff_pct)}, " if r.diff_pct is not None else ""
        change = (f"{label} {fmt_value(r.unit, r.past)} → {fmt_value(r.unit, r.current)} "
                  f"({pct}{fmt_value(r.unit, r.diff, signed=True)})")
    if r.verdict == "inconclusive":
        return f"{change}: cannot tell whether it is within {', '.join(r.limits)} — {r.note}"
    if r.verdict in ("fail", "warn"):
        return f"{change}, {r.note}"
    return f"{change}, within {', '.join(r.limits)}"


def judge_budget(b: Budget, fig: Figure, past: Figure | None,
            tasks_over: list[str]) -> BudgetResult:
    def over(v: float) -> bool:
        return v > b.limit + EPS if b.direction == "max" else v < b.limit - EPS

    best, worst = (fig.lo, fig.hi) if b.direction == "max" else (fig.hi, fig.lo)
    note = None
    if over(best):
        verdict = b.action
        note = "over the budget" if b.direction == "max" else "under the minimum"
        if not fig.is_exact:
            note += f" even at its lowest possible value ({fig.why})"
    elif not over(worst):
        verdict = "pass"
    else:
        verdict = "inconclusive" if b.action == "fail" else "warn"
        note = f"cannot tell whether it is within the budget: {fig.why or 'value unknown'}"
    return BudgetResult(b, past.value if past else None, fig.value, verdict, note,
                        tasks_over if verdict != "pass" else [])


def budget_figures(figs: dict[str, Figure], tasks: list[dict[str, Any]]) -> dict[str, Figure]:
    """The figure every budget key limits, for one side."""
    per_task_tokens = []
    for t in tasks:
        f = figures_of(t, total=False)
        lo = f["input_tokens"].lo + f["output_tokens"].lo
        hi = f["input_tokens"].hi + f["output_tokens"].hi
        v = (f["input_tokens"].value or 0.0) + (f["output_tokens"].value or 0.0)
        per_task_tokens.append((t["task_id"], Figure(v, lo, hi, f["input_tokens"].why)))
    tok_fig = Figure(max((f.value or 0.0 for _, f in per_task_tokens), default=0.0),
                     max((f.lo for _, f in per_task_tokens), default=0.0),
                     max((f.hi for _, f in per_task_tokens), default=0.0),
                     next((f.why for _, f in per_task_tokens if f.why), None))
    return {
        "total_cost": figs["cost_usd"],
        "cost_per_task_p95": cost_quantile(tasks, 0.95),
        "iterations_max": figs["iterations_max"],
        "tokens_per_task_max": tok_fig,
        "latency_p95_s": figs["latency_p95_s"],
        "cache_hit_ratio_min": figs["cache_hit_ratio"],
    }


def tasks_over(b: Budget, tasks: list[dict[str, Any]]) -> list[str]:
    if b.key == "iterations_max":
        return [t["task_id"] for t in tasks if (t.get("llm_calls") or 0) > b.limit]
    if b.key == "tokens_per_task_max":
        return [t["task_id"] for t in tasks
                if (t.get("input_tokens") or 0) + (t.get("output_tokens") or 0) > b.limit]
    return []
