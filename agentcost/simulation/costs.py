"""Pricing the simulated calls (stage 8 of :func:`agentcost.simulation.engine.run`): cost per
call at the prices of (model, provider, tier, hour) — the same rates and long-context handling
as :func:`agentcost.pricing.price_frame` — the batch discount as applied, and the summarising
calls compaction adds.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from agentcost.simulation.shared import Figures, Plan
from agentcost.simulation.workload import HOUR_NS

if TYPE_CHECKING:
    import numpy as np

    from agentcost.pricing import Pricer


def _hour_iso(h: int) -> str | None:
    if h < 0:
        return None
    from datetime import UTC, datetime

    return datetime.fromtimestamp(h * HOUR_NS / 1e9, tz=UTC).isoformat()


def _str_or_none(v: Any) -> str | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def _price_groups(model: np.ndarray, provider: np.ndarray, tier: np.ndarray, hour: np.ndarray
                  ) -> tuple[np.ndarray, list[tuple[str, str | None, str | None, str | None] | None]]:
    """Each call's group of equal (model, provider, tier, hour) and per group those values as
    the pricer takes them (None: no model)."""
    import numpy as np
    import pandas as pd

    n = len(model)
    cm, um = pd.factorize(pd.Series(model, dtype=object), use_na_sentinel=False)
    cp, up = pd.factorize(pd.Series(provider, dtype=object), use_na_sentinel=False)
    ct, ut = pd.factorize(pd.Series(tier, dtype=object), use_na_sentinel=False)
    ch, uh = pd.factorize(hour)
    key = ((cm.astype("int64") * (len(up) + 1) + cp) * (len(ut) + 1) + ct) * (len(uh) + 1) + ch
    uk, inv = np.unique(key, return_inverse=True)
    inv = inv.reshape(-1)
    first = np.zeros(len(uk), dtype="int64")
    first[inv[::-1]] = np.arange(n)[::-1]
    groups: list[tuple[str, str | None, str | None, str | None] | None] = []
    for r0 in first:
        m = _str_or_none(um[cm[r0]])
        groups.append(None if m is None else
                      (m, _str_or_none(up[cp[r0]]), _str_or_none(ut[ct[r0]]),
                       _hour_iso(int(uh[ch[r0]]))))
    return inv, groups


def _group_rates(pricer: Pricer, groups: list[tuple[str, str | None, str | None, str | None] | None],
                 notes: list[str] | None) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """Per group: the rates (uncached, read, 5m write, 1h write, output; NaN: unknown), the
    long-context threshold and the rates to price over it with (None: no threshold)."""
    import numpy as np

    from agentcost.pricing import Rates

    G = len(groups)
    rates_g = np.full((5, G), np.nan)
    thr = np.full(G, np.iinfo(np.int64).max, dtype="int64")
    meta: list[Rates | None] = [None] * G
    for g, grp in enumerate(groups):
        if grp is None:
            continue
        rates = pricer.rates(*grp)
        if rates is None:
            continue
        if notes is not None and rates.tier_note and rates.tier_note not in notes:
            notes.append(rates.tier_note)
        rates_g[:, g] = (rates.uncached, rates.cache_read, rates.cache_write_5m,
                         rates.cache_write_1h, rates.output)
        if rates.tier_threshold is not None and rates.source == "genai-prices":
            thr[g] = rates.tier_threshold
            meta[g] = rates
    return rates_g, thr, meta


def price_calls(pricer: Pricer, model: np.ndarray, provider: np.ndarray, tier: np.ndarray,
                hour: np.ndarray, unc: np.ndarray, rd: np.ndarray, w5: np.ndarray,
                w1: np.ndarray, out: np.ndarray, reported: np.ndarray, usage: np.ndarray,
                notes: list[str] | None = None) -> np.ndarray:
    """Cost per call at the prices of (model, provider, tier, hour) — the same rates and
    long-context handling as :func:`agentcost.pricing.price_frame`. Unknown model: the trace's
    reported cost (scaled by the caller) or NaN. How a service tier was priced before the price
    data's tier dates is appended to ``notes``."""
    import numpy as np

    from agentcost.pricing import exact_cost

    n = len(model)
    cost = np.full(n, np.nan)
    if n == 0:
        return cost
    inv, groups = _price_groups(model, provider, tier, hour)
    rates_g, thr, meta = _group_rates(pricer, groups, notes)
    ru, rr, r5, r1, ro = rates_g
    cost = (unc * ru[inv] + rd * rr[inv] + w5 * r5[inv] + w1 * r1[inv] + out * ro[inv])
    inp = unc + rd + w5 + w1
    for r in np.flatnonzero(inp > thr[inv]):
        mt = meta[inv[r]]
        assert mt is not None
        total, _ = exact_cost(mt, {
            "input": int(inp[r]), "output": int(out[r]), "read": int(rd[r]),
            "w5": int(w5[r]), "w1": int(w1[r])})
        cost[r] = total
    unknown = np.isnan(ru[inv])
    cost = np.where(unknown, reported, cost)
    cost = np.where(usage, cost, np.nan)
    return np.asarray(cost, dtype="float64")


def call_costs(p: Plan) -> Figures:
    """8. pricing."""
    import numpy as np

    w, sc, ctx = p.ctx.w, p.sc, p.ctx
    T, det, notes = p.ctx.w.n_tasks, p.det, p.notes
    warns = p.warns
    tier = w.l_tier[p.c_step].copy()
    if sc.batch:
        tier = np.where(p.c_batch, "batch", tier).astype(object)
    if p.passthrough:
        scale = np.ones(p.N)
    else:
        o_tot = (w.l_inp + w.l_out)[p.c_step].astype("float64")
        scale = np.where(o_tot > 0, (p.c_inp + p.c_out) / np.maximum(o_tot, 1), 1.0)
    reported = np.where(p.c_esc, np.nan, w.l_reported[p.c_step] * scale)
    tier_notes: list[str] = []
    c_cost = price_calls(ctx.pricer, p.c_model, p.c_provider, tier, w.l_hour[p.c_step], p.c_unc, p.c_rd, p.c_w5,
                         p.c_w1, p.c_out, reported, w.l_usage[p.c_step], tier_notes)
    if sc.batch and "batch" in det:
        _batch_prices(ctx.pricer, det["batch"], p.c_batch, c_cost, p.c_model, p.c_provider,
                      w.l_tier[p.c_step], w.l_hour[p.c_step], (p.c_unc, p.c_rd, p.c_w5, p.c_w1, p.c_out),
                      reported, w.l_usage[p.c_step])
    notes.extend(n for n in tier_notes if n not in notes)
    priced = ~np.isnan(c_cost)
    unpriced = int((~priced & w.l_usage[p.c_step]).sum())
    no_usage = int((~w.l_usage[p.c_step]).sum())
    partial = int(w.l_partial[p.c_step].sum())
    task_cost = np.bincount(p.c_task[priced], weights=c_cost[priced], minlength=T).astype("float64")
    total = float(c_cost[priced].sum())
    extra_in = extra_out = extra_calls = 0
    if p.summaries:
        extra_in, extra_out, extra_calls, unpriced_s, extra_cost = _summary_costs(p, task_cost)
        unpriced += unpriced_s
        total += extra_cost
    cut_n = int(p.cut.sum())
    if sc.max_iterations is not None or sc.token_budget is not None:
        cut_ids = [w.task_ids[t] for t in np.flatnonzero(p.cut)]
        det["loop_caps"] = {
            "tasks_cut": cut_n, "cut_tasks_cost_usd": round(float(task_cost[p.cut].sum()), 8),
            "llm_calls_dropped": int((~p.keep).sum()), "cut_task_ids": cut_ids[:10],
        }
    return Figures(
        cost_usd=total, cost_is_lower_bound=bool(unpriced or no_usage or partial),
        unpriced_calls=unpriced, partial_usage_calls=partial, no_usage_calls=no_usage,
        cache_unknown_calls=int((p.c_unknown & w.l_usage[p.c_step]).sum()),
        input_tokens=int(p.c_inp.sum()) + extra_in, cache_read_tokens=int(p.c_rd.sum()),
        cache_write_tokens=int((p.c_w5 + p.c_w1).sum()), cache_write_1h_tokens=int(p.c_w1.sum()),
        output_tokens=int(p.c_out.sum()) + extra_out, llm_calls=p.N + extra_calls, tasks=T,
        task_cost=task_cost,
        task_latency_s=p.lat, tasks_cut=cut_n, cut_cost_usd=float(task_cost[p.cut].sum()),
        replayed=not p.passthrough, details=det, assumptions=notes, warnings=warns,
    )


def _summary_costs(p: Plan, task_cost: np.ndarray) -> tuple[int, int, int, int, float]:
    """Price the summarising calls of compaction (uncached input, the summary as output) at
    the summary model — the scenario's, else the cascade's cheap model, else the call's own —
    at the compacted call's hour; add them to ``task_cost``. Returns (input tokens, output
    tokens, calls, unpriced calls, cost)."""
    import numpy as np

    w, sc = p.ctx.w, p.sc
    steps = np.array([s.step for s in p.summaries], dtype="int64")
    inp = np.array([s.input_tokens for s in p.summaries], dtype="int64")
    out = np.array([s.output_tokens for s in p.summaries], dtype="int64")
    fixed = sc.summary_model or (sc.cascade[0] if sc.cascade else None)
    model = np.array([fixed or w.l_model[i] for i in steps.tolist()], dtype=object)
    rule = p.ctx.rule(fixed) if fixed else None
    provider = np.array([rule.provider if rule is not None else w.l_provider[i]
                         for i in steps.tolist()], dtype=object)
    n = len(steps)
    zero = np.zeros(n, dtype="int64")
    cost = price_calls(p.ctx.pricer, model, provider, np.full(n, None, dtype=object),
                       w.l_hour[steps], inp, zero, zero, zero, out, np.full(n, np.nan),
                       np.ones(n, dtype=bool))
    ok = ~np.isnan(cost)
    task_cost += np.bincount(w.l_task[steps][ok], weights=cost[ok], minlength=len(task_cost))
    c = p.det.setdefault("context", {})
    c["summary_calls"] = n
    c["summary_models"] = sorted({str(m) for m in model if m is not None})
    c["summary_cost_usd"] = round(float(cost[ok].sum()), 8) if ok.any() else None
    c["summary_input_tokens"] = int(inp.sum())
    return int(inp.sum()), int(out.sum()), n, int((~ok).sum()), float(cost[ok].sum())


def _batch_prices(pricer: Pricer, det: dict[str, Any], c_batch: np.ndarray, c_cost: np.ndarray,
                  c_model: np.ndarray, c_provider: np.ndarray, std_tier: np.ndarray,
                  hour: np.ndarray, tokens: tuple[np.ndarray, ...], reported: np.ndarray,
                  usage: np.ndarray) -> None:
    """What the batched calls cost at the batch prices applied and at their own tier, so the
    batch sentence states the discount that was applied rather than one assumed."""
    import numpy as np

    sel = np.flatnonzero(c_batch)
    unc, rd, w5, w1, out = (t[sel] for t in tokens)
    own = price_calls(pricer, c_model[sel], c_provider[sel], std_tier[sel], hour[sel], unc, rd, w5,
                      w1, out, reported[sel], usage[sel])
    batched = c_cost[sel]
    ok = ~np.isnan(own) & ~np.isnan(batched)
    det["priced_calls"] = int(ok.sum())
    det["batch_cost_usd"] = round(float(batched[ok].sum()), 8)
    det["own_tier_cost_usd"] = round(float(own[ok].sum()), 8)
