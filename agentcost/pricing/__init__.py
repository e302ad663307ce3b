"""Prices every llm step with genai-prices (or an ``agentcost.yaml`` override).

* Date-effective: prices in force at each step's start (hour resolution; steps without a time
  use today's prices).
* Service tier: ``batch`` → ``price_context={"processing": "batch"}``, ``flex``/``priority`` →
  ``{"service_tier": ...}`` where genai-prices models it.
* Long-context tiers: a model with tiered prices has every step above its lowest threshold priced
  individually (the tier re-prices the whole request); other steps use per-token rates computed
  once per (model, provider, tier, hour) — exact, because below the threshold price is linear.
* Cache writes are priced at the 5m or 1h rate by their split.
* An unknown model is never $0: its steps get ``cost_usd = NaN`` and ``cost_source = "unpriced"``,
  unless the source itself stated a cost (then ``"reported"``). Totals that leave them out are
  lower bounds; :class:`PricingInfo` lists the unpriced models and their token volume.
* A step whose cache reads are unknown (the format does not carry them) is priced as if none
  were cached — an upper bound for that step; the count is reported.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentcost.config import Config, PriceOverride
from agentcost.pricing.aliases import PackagedAlias, packaged_alias

if TYPE_CHECKING:
    import pandas as pd

    from agentcost.pricing.source import PriceSource

MTOK = 1_000_000
_HOUR_NS = 3_600_000_000_000
PROBE = 1_000  # tokens per class used to derive linear rates (below every tier threshold)

# trace provider names -> genai-prices provider ids
PROVIDER_IDS = {
    "anthropic": "anthropic", "claude": "anthropic",
    "openai": "openai", "azure.ai.openai": "azure", "azure": "azure",
    "aws.bedrock": "aws", "bedrock": "aws", "aws": "aws",
    "gcp.gemini": "google", "gcp.vertex_ai": "google", "gcp.gen_ai": "google", "google": "google",
    "gemini": "google", "vertex_ai": "google",
    "deepseek": "deepseek", "mistral_ai": "mistral", "mistral": "mistral", "x_ai": "x-ai",
    "xai": "x-ai", "groq": "groq", "openrouter": "openrouter",
}


@dataclass(frozen=True)
class Rates:
    """USD per token for each token class."""

    uncached: float
    cache_read: float
    cache_write_5m: float
    cache_write_1h: float
    output: float
    tier_threshold: int | None  # total input above which the step must be priced exactly
    model_id: str  # what the price data matched
    source: str  # "genai-prices" or "agentcost.yaml"
    tier_note: str | None = None  # how a tier was priced before the data's tier dates
    price: Any = field(default=None, compare=False, repr=False)  # the genai-prices ModelPrice


@dataclass
class PricingInfo:
    source: str = "genai-prices"
    version: str = ""
    data_fingerprint: str | None = None  # sha256 prefix of the price data used
    data: str = "bundled snapshot (no network updates)"  # which price data (source.describe)
    overrides: list[str] = field(default_factory=list)
    aliases_used: dict[str, str] = field(default_factory=dict)
    unpriced_models: list[dict[str, Any]] = field(default_factory=list)
    unpriced_steps: int = 0
    reported_cost_steps: int = 0
    cache_read_unknown_steps: int = 0
    cache_read_unknown_models: list[str] = field(default_factory=list)
    no_usage_steps: int = 0
    failed_no_usage_steps: int = 0  # failed calls (is_error) without usage: $0, not unknown
    default_model: str | None = None  # config default_model, when it priced any step
    default_model_steps: int = 0  # llm steps that named no model and were priced as it
    lower_bound: bool = False
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "version": self.version,
            "data": self.data,
            "data_fingerprint": self.data_fingerprint,
            "overrides": self.overrides,
            "aliases_used": self.aliases_used,
            "unpriced_models": self.unpriced_models,
            "unpriced_steps": self.unpriced_steps,
            "reported_cost_steps": self.reported_cost_steps,
            "cache_read_unknown_steps": self.cache_read_unknown_steps,
            "cache_read_unknown_models": self.cache_read_unknown_models,
            "no_usage_steps": self.no_usage_steps,
            "failed_calls_without_usage": self.failed_no_usage_steps,
            "default_model": ({"model": self.default_model, "steps": self.default_model_steps}
                              if self.default_model_steps else None),
            "total_is_lower_bound": self.lower_bound,
            "notes": self.notes,
        }


def genai_prices_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("genai-prices")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


def data_fingerprint() -> str | None:
    """Identifies the exact price data used, so a price change shows up in reports."""
    from agentcost.pricing.source import active

    return active().fingerprint


def use_prices(path: str | Path | None = None) -> PriceSource:
    """Price with the data of ``path`` (else ``AGENTCOST_PRICES``, else what ``agentcost prices
    update`` fetched, else the bundled data); see :mod:`agentcost.pricing.source`."""
    from agentcost.pricing.source import activate, active

    before = active()
    now = activate(path)
    if now != before:
        _genai_rates.cache_clear()
        _RATES_BY_PRICE.clear()
    return now


def _candidates(model: str) -> list[str]:
    """Model ids to try against the price data, most specific first."""
    out = [model]
    m = model
    for prefix in ("converse/", "bedrock/", "vertex_ai/", "azure/"):
        if m.lower().startswith(prefix):
            m = m[len(prefix):]
            out.append(m)
    if "/" in m:
        out.append(m.rsplit("/", 1)[1])
    if "@" in m:  # Vertex snapshot form claude-sonnet-4-5@20250929
        out.append(m.split("@", 1)[0])
    return list(dict.fromkeys(out))


def _ctx_for_tier(tier: str | None) -> dict[str, str] | None:
    if tier == "batch":
        return {"processing": "batch"}
    if tier in ("flex", "priority"):
        return {"service_tier": tier}
    return None


def _min_tier_start(mp: Any) -> int | None:
    starts: list[int] = []
    for name in ("input_mtok", "cache_read_mtok", "cache_write_mtok", "cache_write_1h_mtok",
                 "output_mtok"):
        v = getattr(mp, name, None)
        tiers = getattr(v, "tiers", None)
        if tiers:
            starts.extend(int(t.start) for t in tiers)
    return min(starts) if starts else None


# (model id tried, provider id, tier, id of the genai-prices price object) -> (that object,
# its rates): the price in force changes rarely, so the per-class probes run once per price,
# not once per hour of trace
_RATES_BY_PRICE: dict[tuple[str, str | None, str | None, int], tuple[Any, Rates]] = {}


# A Bedrock model id: an optional cross-region prefix, a vendor, and a -vN:M version suffix
# (us.amazon.nova-lite-v1:0, global.anthropic.claude-sonnet-4-5-20250929-v1:0)
_BEDROCK_ID = re.compile(r"^(?:[a-z]{2,6}(?:-gov)?\.)?[a-z0-9-]+\.[a-z0-9.-]+-v\d+(?::\d+)?$")


def _providers_to_try(cand: str, pid: str | None) -> list[str | None]:
    # The model id decides the price list; the trace's provider only picks a host's list
    # (Bedrock, Azure, Vertex). An OpenAI-compatible proxy serving Claude still pays Claude.
    if "anthropic." in cand.lower() and "." in cand.split("anthropic.")[0] + ".":
        return ["aws", None]
    if pid is None and _BEDROCK_ID.match(cand.lower()):
        return ["aws", None]
    if pid in ("aws", "azure", "google"):
        return [pid, None]
    return [None, pid] if pid else [None]


def _probe_rates(mp: Any, model_id: str, note: str | None) -> Rates:
    """Per-token rates of one genai-prices ``ModelPrice`` (below its tier thresholds)."""
    from genai_prices import Usage

    def cost(**kw: int) -> float:
        return float(mp.calc_price(Usage(**kw))["total_price"]) / PROBE

    return Rates(
        uncached=cost(input_tokens=PROBE),
        cache_read=cost(input_tokens=PROBE, cache_read_tokens=PROBE),
        cache_write_5m=cost(input_tokens=PROBE, cache_write_tokens=PROBE,
                            cache_write_5m_tokens=PROBE),
        cache_write_1h=cost(input_tokens=PROBE, cache_write_tokens=PROBE,
                            cache_write_1h_tokens=PROBE),
        output=cost(input_tokens=0, output_tokens=PROBE),
        tier_threshold=_min_tier_start(mp),
        model_id=model_id,
        source="genai-prices",
        tier_note=note,
        price=mp,
    )


@lru_cache(maxsize=4096)
def _genai_rates(model: str, provider: str | None, tier: str | None,
                 hour_iso: str | None) -> Rates | None:
    from genai_prices import Usage, calc_price

    from agentcost.pricing.tiers import backdated_price

    when = datetime.fromisoformat(hour_iso) if hour_iso else None
    ctx = _ctx_for_tier(tier)
    pid = PROVIDER_IDS.get((provider or "").lower())
    for cand in _candidates(model):
        for prov in _providers_to_try(cand, pid):
            try:
                r = calc_price(Usage(input_tokens=PROBE), cand, provider_id=prov,
                               genai_request_timestamp=when, price_context=ctx)
            except (LookupError, ValueError, TypeError):
                continue
            model_id = f"{r.provider.id}:{r.model.id}"
            mp, note = r.model_price, None
            back = backdated_price(r.model, when, ctx, str(tier)) if when and tier else None
            if back is not None:
                mp, applied = back
                note = applied.describe(model_id)
            memo_key = (cand, prov, tier, id(r.model_price))
            memo = _RATES_BY_PRICE.get(memo_key)
            if back is None and memo is not None and memo[0] is r.model_price:
                return memo[1]
            try:
                rates = _probe_rates(mp, model_id, note)
            except (LookupError, ValueError, TypeError):
                continue
            if back is None:
                _RATES_BY_PRICE[memo_key] = (r.model_price, rates)
            return rates
    return None


@lru_cache(maxsize=1024)
def _genai_periods(model: str, provider: str | None) -> tuple[int, ...] | None:
    """UTC-midnight instants (ns) at which the genai-prices price of ``model`` may change —
    the start dates of its dated prices and dated tier variants — found as :func:`_genai_rates`
    finds the model. ``()`` when its price never changes or the model is unknown; ``None``
    when a price depends on the time of day (then every hour is priced on its own)."""
    from genai_prices import Usage, calc_price
    from genai_prices.types import StartDateConstraint, TimeOfDateConstraint

    pid = PROVIDER_IDS.get((provider or "").lower())
    for cand in _candidates(model):
        for prov in _providers_to_try(cand, pid):
            try:
                r = calc_price(Usage(input_tokens=PROBE), cand, provider_id=prov)
            except (LookupError, ValueError, TypeError):
                continue
            prices = r.model.prices if isinstance(r.model.prices, list) else []
            constraints = [c.constraint for c in prices]
            constraints += [getattr(v, "constraint", None) for v in r.model.price_variants or ()]
            if any(isinstance(c, TimeOfDateConstraint) for c in constraints):
                return None
            days = sorted({c.start_date for c in constraints
                           if isinstance(c, StartDateConstraint)})
            return tuple(int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())
                         * 1_000_000_000 for d in days)
    return ()


def _override_rates(name: str, o: PriceOverride) -> Rates:
    inp = o.input_mtok / MTOK
    w5 = (o.cache_write_mtok if o.cache_write_mtok is not None else o.input_mtok) / MTOK
    w1 = (o.cache_write_1h_mtok / MTOK) if o.cache_write_1h_mtok is not None else w5
    rd = (o.cache_read_mtok if o.cache_read_mtok is not None else o.input_mtok) / MTOK
    return Rates(inp, rd, w5, w1, o.output_mtok / MTOK, None, name, "agentcost.yaml")


def exact_cost(rates: Rates, row: dict[str, int]) -> tuple[float, float]:
    """``(total, output part)`` of one step priced exactly with the genai-prices price behind
    ``rates`` (for steps above a long-context threshold, which re-prices the whole request)."""
    from genai_prices import Usage

    kw: dict[str, int] = {"input_tokens": row["input"], "output_tokens": row["output"],
                          "cache_read_tokens": row["read"]}
    if row["w5"] or row["w1"]:
        kw.update(cache_write_tokens=row["w5"] + row["w1"], cache_write_5m_tokens=row["w5"],
                  cache_write_1h_tokens=row["w1"])
    r = rates.price.calc_price(Usage(**kw))
    return float(r["total_price"]), float(r["output_price"])


def call_cost(rates: Rates, tokens: dict[str, int]) -> float:
    """USD of one call: ``tokens`` in the canonical meaning (``input`` total, ``read``, ``w5``,
    ``w1``, ``output``), as :func:`price_frame` prices a step (exactly, whole request at the
    tier's rates, above a long-context threshold)."""
    unc = max(0, tokens["input"] - tokens["read"] - tokens["w5"] - tokens["w1"])
    cost = (unc * rates.uncached + tokens["read"] * rates.cache_read
            + tokens["w5"] * rates.cache_write_5m + tokens["w1"] * rates.cache_write_1h
            + tokens["output"] * rates.output)
    if rates.tier_threshold is not None and rates.source == "genai-prices" \
            and tokens["input"] > rates.tier_threshold:
        cost = exact_cost(rates, tokens)[0]
    return float(cost)


class Pricer:
    """Resolves a (model, provider, tier, hour) to :class:`Rates` with config aliases/overrides."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config()
        self.packaged_used: dict[str, PackagedAlias] = {}  # trace name -> packaged alias applied

    def resolve_name(self, model: str) -> str:
        return self.config.aliases.get(model.lower(), model)

    def rates(self, model: str, provider: str | None, tier: str | None,
              hour_iso: str | None) -> Rates | None:
        name = self.resolve_name(model)
        o = self.config.prices.get(name.lower())
        if o is not None:
            return _override_rates(name, o)
        if tier not in (None, "standard", "default", "auto", "batch", "flex", "priority"):
            tier = None
        tier = tier if tier not in ("standard", "default", "auto") else None
        found = _genai_rates(name, provider, tier, hour_iso)
        alias = packaged_alias(name) if found is None and name == model else None
        if alias is not None:
            found = _genai_rates(alias.price_as, provider or alias.provider, tier, hour_iso)
            if found is not None:
                self.packaged_used[model] = alias
        return found

    def periods(self, model: str, provider: str | None) -> tuple[int, ...] | None:
        """Instants (ns) where the price :meth:`rates` finds for ``model`` may change (see
        :func:`_genai_periods`); ``()`` for a configured price, which has no date."""
        name = self.resolve_name(model)
        if self.config.prices.get(name.lower()) is not None:
            return ()
        found = _genai_periods(name, provider)
        alias = packaged_alias(name) if name == model else None
        if alias is not None:
            other = _genai_periods(alias.price_as, provider or alias.provider)
            if found is None or other is None:
                return None
            found = tuple(sorted({*found, *other}))
        return found


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
        for sub, hour in _by_period(rows, start_ns, no_start, edges):
            yield sub, m_s, p_s, t_s, hour


def _by_period(rows: Any, start_ns: Any, no_start: Any, edges: tuple[int, ...] | None
               ) -> Iterator[tuple[Any, str | None]]:
    """``rows`` split by the price period of their start (``edges``: where prices change;
    ``None``: every hour on its own), each with an hour inside it (its first step's), and
    the steps without a start time apart (priced at today's prices)."""
    import numpy as np

    timeless = rows[no_start[rows]]
    if len(timeless):
        yield timeless, None
    timed = rows[~no_start[rows]]
    if not len(timed):
        return
    ns = start_ns[timed]
    key = ns // _HOUR_NS if edges is None else np.searchsorted(
        np.asarray(edges, dtype="int64"), ns, side="right")
    order = np.argsort(key, kind="stable")
    cuts = np.flatnonzero(np.diff(key[order])) + 1
    for part in np.split(order, cuts):
        h = int(ns[part[0]] // _HOUR_NS)
        yield timed[part], datetime.fromtimestamp(h * 3600, UTC).isoformat()


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


def now_utc() -> datetime:
    return datetime.now(UTC)


def price_table(model: str, provider: str | None = None, at: str | None = None,
                prices: str | Path | None = None) -> str:
    """``agentcost prices show``: a model's rates per million tokens at ``at`` (an ISO date or
    time, default now), with the price data they come from."""
    from agentcost.errors import InputError

    src = use_prices(prices)
    try:
        when = datetime.fromisoformat(at) if at else now_utc()
    except ValueError:
        raise InputError(f"--at: not an ISO date or time: {at!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    hour = when.replace(minute=0, second=0, microsecond=0).isoformat()
    rates = Pricer().rates(model, provider, None, hour)
    head = (f"price data: genai-prices {genai_prices_version()}, {src.describe()}, "
            f"fingerprint {src.fingerprint}\n")
    if rates is None:
        raise InputError(f"no price for {model} at {hour[:10]} in this price data; if the model "
                         "is newer, run `agentcost prices update`, or add it under prices: in "
                         "agentcost.yaml")
    rows = [("input (uncached)", rates.uncached), ("cache read", rates.cache_read),
            ("cache write 5m", rates.cache_write_5m), ("cache write 1h", rates.cache_write_1h),
            ("output", rates.output)]
    body = "".join(f"  {name:<17} ${v * 1e6:,.4f}\n" for name, v in rows)
    return (head + f"{rates.model_id} at {hour} (USD per million tokens)\n" + body
            + (f"note: {rates.tier_note}\n" if rates.tier_note else ""))

