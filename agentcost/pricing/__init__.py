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

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from agentcost.pricing.frame import price_frame
from agentcost.pricing.info import PricingInfo, data_fingerprint, genai_prices_version
from agentcost.pricing.periods import genai_periods
from agentcost.pricing.pricer import Pricer
from agentcost.pricing.rates import (
    MTOK,
    PROBE,
    PROVIDER_IDS,
    Rates,
    call_cost,
    clear_rate_cache,
    exact_cost,
)

if TYPE_CHECKING:
    from agentcost.pricing.source import PriceSource

__all__ = ["MTOK", "PROBE", "PROVIDER_IDS", "Pricer", "PricingInfo", "Rates", "call_cost",
           "data_fingerprint", "exact_cost", "genai_prices_version", "now_utc", "price_frame",
           "price_table", "use_prices"]


def use_prices(path: str | Path | None = None) -> PriceSource:
    """Price with the data of ``path`` (else ``AGENTCOST_PRICES``, else what ``agentcost prices
    update`` fetched, else the bundled data); see :mod:`agentcost.pricing.source`."""
    from agentcost.pricing.source import activate, active

    before = active()
    now = activate(path)
    if now != before:  # rates and the dates prices change at both come from the data
        clear_rate_cache()
        genai_periods.cache_clear()
    return now


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

