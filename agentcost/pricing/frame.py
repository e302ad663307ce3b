"""Vectorised pricing of a step table (:func:`price_frame`): the llm steps grouped by model,
provider, tier and price period, each group priced from one lookup; unpriced, reported,
estimated and usage-less steps marked as such; what was used returned as
:class:`~agentcost.pricing.info.PricingInfo`."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentcost.config import Config
from agentcost.pricing.info import PricingInfo, data_fingerprint, genai_prices_version
from agentcost.pricing.periods import by_period
from agentcost.pricing.pricer import Pricer
from agentcost.pricing.rates import Rates, exact_cost

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class _Priced:
    """Per-step arrays the pricing fills, and the token columns it reads."""

    n: int
    inp: Any
    rd: Any
    w5: Any
    w1: Any
    unc: Any
    out: Any
    reported: Any
    has_tokens: Any
    cost: Any = None
    out_cost: Any = None
    read_cost: Any = None
    write_cost: Any = None
    savings: Any = None
    premium_1h: Any = None
    src: Any = None

    @classmethod
    def of(cls, df: pd.DataFrame) -> _Priced:
        import numpy as np

        inp = df["input_tokens"].fillna(0).to_numpy(dtype="int64")
        rd = df["cache_read_tokens"].fillna(0).to_numpy(dtype="int64")
        cw = df["cache_write_tokens"].fillna(0).to_numpy(dtype="int64")
        w1 = df["cache_write_1h_tokens"].fillna(0).to_numpy(dtype="int64")
        n = len(df)
        return cls(n=n, inp=inp, rd=rd, w5=np.maximum(cw - w1, 0), w1=w1,
                   unc=np.maximum(inp - rd - cw, 0),
                   out=df["output_tokens"].fillna(0).to_numpy(dtype="int64"),
                   reported=df["reported_cost_usd"].to_numpy(dtype="float64", na_value=np.nan),
                   has_tokens=(df["input_tokens"].notna() | df["output_tokens"].notna()
                               ).to_numpy(dtype=bool, na_value=False),
                   cost=np.zeros(n), out_cost=np.zeros(n), read_cost=np.zeros(n),
                   write_cost=np.zeros(n), savings=np.zeros(n),
                   premium_1h=np.zeros(n), src=np.array([None] * n, dtype=object))

    def store(self, df: pd.DataFrame) -> None:
        import pandas as pd

        df["cost_usd"] = self.cost
        df["cost_source"] = pd.Series(self.src, dtype="string")
        df["output_cost_usd"] = self.out_cost
        df["cache_read_cost_usd"] = self.read_cost
        df["cache_write_cost_usd"] = self.write_cost
        df["cache_savings_usd"] = self.savings
        df["cache_1h_premium_usd"] = self.premium_1h


def price_frame(df: pd.DataFrame, config: Config | None = None) -> PricingInfo:
    """Fill ``cost_usd`` and ``cost_source`` of ``df`` in place; return what was used."""
    import numpy as np

    from agentcost.pricing.source import active

    info = PricingInfo(version=genai_prices_version(), data_fingerprint=data_fingerprint(),
                       data=active().describe())
    pricer = Pricer(config)
    if len(df) == 0:
        _Priced.of(df).store(df)
        return info
    is_llm = (df["kind"] == "llm").to_numpy(dtype=bool, na_value=False)
    _apply_default_model(df, is_llm, pricer.config.default_model, info)
    pr = _Priced.of(df)
    model = df["model"].fillna(df["response_model"]).astype("object").where(
        df["model"].notna() | df["response_model"].notna(), None)
    unpriced: dict[str, list[int]] = {}
    for rows, m_s, p_s, t_s, h_s in _price_groups(df, np.flatnonzero(is_llm), model,
                                                       pricer):
        rates = pricer.rates(m_s, p_s, t_s, h_s) if m_s else None
        if rates is None:
            _unpriced_rows(pr, rows, unpriced.setdefault(m_s or "(no model)", [0, 0, 0]), info)
        else:
            _note_rates(info, pricer, rates, m_s)
            _priced_rows(pr, rows, rates)
    _no_usage(df, pr, is_llm, info)
    _keep_estimated(df, pr)
    pr.store(df)
    info.unpriced_models = [
        {"model": k, "steps": v[0], "input_tokens": v[1], "output_tokens": v[2]}
        for k, v in sorted(unpriced.items(), key=lambda kv: -kv[1][1]) if v[0]
    ]
    info.unpriced_steps = sum(v[0] for v in unpriced.values())
    cr_unknown = df["cache_read_tokens"].isna().to_numpy(dtype=bool) & is_llm & pr.has_tokens
    info.cache_read_unknown_steps = int(cr_unknown.sum())
    if info.cache_read_unknown_steps:
        info.cache_read_unknown_models = sorted(
            {str(x) for x in model[cr_unknown].dropna().unique()})
    info.lower_bound = bool(info.unpriced_steps or info.no_usage_steps)
    return info


def _keep_estimated(df: pd.DataFrame, pr: _Priced) -> None:
    """Steps whose tokens a reader counted from content (the source dropped the usage) stay
    ``cost_source = "estimated"`` once priced (DESIGN.md §2)."""
    import numpy as np

    if "cost_source" not in df:
        return
    est = (df["cost_source"] == "estimated").to_numpy(dtype=bool, na_value=False)
    if est.any():
        pr.src[est & (pr.src == np.array("computed", dtype=object))] = "estimated"


def _apply_default_model(df: pd.DataFrame, is_llm: Any, default: str | None,
                         info: PricingInfo) -> None:
    """Steps whose trace names no model (the Agents SDK's response spans) take the configured
    one, in the table too, so every report groups them under it."""
    if not default:
        return
    nameless = is_llm & (df["model"].isna() & df["response_model"].isna()).to_numpy(
        dtype=bool, na_value=False)
    if nameless.any():
        df.loc[nameless, "model"] = default
        info.default_model, info.default_model_steps = default, int(nameless.sum())


def _price_groups(df: pd.DataFrame, idx_llm: Any, model: pd.Series, pricer: Pricer
                  ) -> Iterator[tuple[Any, str | None, str | None, str | None, str | None]]:
    """The llm steps grouped by (model, provider, tier) through integer codes, then by the
    price period their start falls in (genai-prices' dated prices: one probe per period,
    not per hour; per hour only for a time-of-day price): (rows, model, provider, tier, an
    hour of the period as ISO, or None for steps without a start time)."""
    import numpy as np
    import pandas as pd

    started = df["started_at"]
    start_ns = started.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(
        dtype="datetime64[ns]").view("int64")
    no_start = started.isna().to_numpy(dtype=bool)
    composite = np.zeros(len(idx_llm), dtype="int64")
    for values in (model.to_numpy(dtype=object)[idx_llm],
                   df["provider"].to_numpy(dtype=object, na_value=None)[idx_llm],
                   df["service_tier"].to_numpy(dtype=object, na_value=None)[idx_llm]):
        codes, uniq = pd.factorize(values, use_na_sentinel=True)
        composite = composite * (len(uniq) + 1) + (codes + 1)
    order = np.argsort(composite, kind="stable")
    bounds = np.flatnonzero(np.diff(composite[order])) + 1
    for grp in np.split(order, bounds) if len(order) else []:
        rows = idx_llm[grp]
        first = rows[0]
        m, p, t = model.iat[first], df["provider"].iat[first], df["service_tier"].iat[first]
        m_s = None if _isna(m) else str(m)
        p_s = None if _isna(p) else str(p)
        t_s = None if _isna(t) else str(t)
        edges = pricer.periods(m_s, p_s) if m_s else ()
        for sub, hour in by_period(rows, start_ns, no_start, edges):
            yield sub, m_s, p_s, t_s, hour


def _unpriced_rows(pr: _Priced, rows: Any, tally: list[int], info: PricingInfo) -> None:
    """Steps of a model without a price: the trace's own cost if it reports one, else
    unknown (NaN, never $0)."""
    for r in rows:
        if not pr.has_tokens[r]:
            continue
        if not math.isnan(pr.reported[r]):
            pr.cost[r], pr.out_cost[r], pr.src[r] = pr.reported[r], math.nan, "reported"
            pr.read_cost[r] = pr.write_cost[r] = math.nan
            info.reported_cost_steps += 1
        else:
            pr.cost[r] = pr.out_cost[r] = pr.savings[r] = pr.premium_1h[r] = math.nan
            pr.read_cost[r] = pr.write_cost[r] = math.nan
            pr.src[r] = "unpriced"
            tally[0] += 1
            tally[1] += int(pr.inp[r])
            tally[2] += int(pr.out[r])


def _note_rates(info: PricingInfo, pricer: Pricer, rates: Rates, m_s: str | None) -> None:
    """What the report says about the rates used: overrides, aliases, tier notes."""
    if rates.source == "agentcost.yaml" and rates.model_id not in info.overrides:
        info.overrides.append(rates.model_id)
    if m_s and pricer.resolve_name(m_s) != m_s:
        info.aliases_used[m_s] = pricer.resolve_name(m_s)
    elif m_s in pricer.packaged_used:
        alias = pricer.packaged_used[m_s]
        info.aliases_used[m_s] = alias.price_as
        if alias.note() not in info.notes:
            info.notes.append(alias.note())
    if rates.tier_note and rates.tier_note not in info.notes:
        info.notes.append(rates.tier_note)


def _priced_rows(pr: _Priced, rows: Any, rates: Rates) -> None:
    """Cost, output cost, cache savings and 1h premium of steps priced at ``rates``; requests
    over a long-context threshold are priced exactly, whole request at the tier's rates."""
    unc, rd, w5, w1, out = (pr.unc[rows], pr.rd[rows], pr.w5[rows], pr.w1[rows],
                            pr.out[rows])
    pr.cost[rows] = (unc * rates.uncached + rd * rates.cache_read + w5 * rates.cache_write_5m
                     + w1 * rates.cache_write_1h + out * rates.output)
    pr.out_cost[rows] = out * rates.output
    pr.read_cost[rows] = rd * rates.cache_read
    pr.write_cost[rows] = w5 * rates.cache_write_5m + w1 * rates.cache_write_1h
    pr.savings[rows] = (rd * (rates.uncached - rates.cache_read)
                        - w5 * (rates.cache_write_5m - rates.uncached)
                        - w1 * (rates.cache_write_1h - rates.uncached))
    pr.premium_1h[rows] = w1 * (rates.cache_write_1h - rates.cache_write_5m)
    pr.src[rows] = "computed"
    if rates.tier_threshold is None or rates.source != "genai-prices":
        return
    for r in rows[pr.inp[rows] > rates.tier_threshold]:
        total, o_part = exact_cost(rates, {
            "input": int(pr.inp[r]), "output": int(pr.out[r]), "read": int(pr.rd[r]),
            "w5": int(pr.w5[r]), "w1": int(pr.w1[r])})
        scale = total / pr.cost[r] if pr.cost[r] else 1.0
        # the tier re-prices the whole prompt: each input class scales with the input part
        lin_in = pr.cost[r] - pr.out_cost[r]
        in_scale = (total - o_part) / lin_in if lin_in else 1.0
        pr.read_cost[r] *= in_scale
        pr.write_cost[r] *= in_scale
        pr.cost[r], pr.out_cost[r] = total, o_part
        pr.savings[r] *= scale
        pr.premium_1h[r] *= scale


def _no_usage(df: pd.DataFrame, pr: _Priced, is_llm: Any, info: PricingInfo) -> None:
    """An llm step without usage costs an unknown amount — unless it failed (rate limit,
    overload, server error): such a call was not billed, a known $0."""
    import numpy as np

    no_usage = is_llm & ~pr.has_tokens
    failed = no_usage & df["is_error"].to_numpy(dtype=bool, na_value=False)
    no_usage &= ~failed
    pr.cost[no_usage] = np.nan
    pr.out_cost[no_usage] = np.nan
    pr.read_cost[no_usage] = np.nan
    pr.write_cost[no_usage] = np.nan
    pr.src[no_usage] = "no-usage"
    pr.src[failed] = "failed-call"
    info.no_usage_steps = int(no_usage.sum())
    info.failed_no_usage_steps = int(failed.sum())


def _isna(v: Any) -> bool:
    if v is None:
        return True
    try:
        import pandas as pd

        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
