"""Service-tier prices for dates before the price data's tier variants start.

genai-prices dates its batch, flex and priority variants from the day its data was verified
(batch 2026-10-14, flex/priority 2026-10-12 in 0.2.3), not from when the tiers began: Anthropic's
Message Batches and OpenAI's Batch API were 50 % off long before. Asked for a batch price in
April 2026, genai-prices answers with the standard price. Pricing that step at standard would
overstate a real bill, and ``simulate --batch`` on such a trace would project no saving at all.

The rule applied instead (provider-rules §D, §E): when no variant for the requested tier is in
force at the step's date but a dated one starts later, each price column of the step's standard
price is scaled by that column's ratio of variant to standard on the earliest variant's start
date. Batch and flex come out at 50 % of every column they override; priority at its per-model
factor; a column the variant leaves alone (gpt-4o's batch cache reads) keeps the standard
price, as the data has it from the start date on. The caller states this in a note.
"""

from __future__ import annotations

from copy import copy
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class BackdatedTier:
    """What was applied to price a tier before its variant's start date."""

    tier: str
    variant_start: date  # start date of the earliest variant the ratios come from
    ratios: dict[str, Decimal]  # price key -> variant / standard on that date
    unchanged: tuple[str, ...] = ()  # token price keys the variant leaves at standard

    def describe(self, model_id: str) -> str:
        distinct = sorted(set(self.ratios.values()))
        if len(distinct) == 1 and not self.unchanged:
            share = f"{_pct(distinct[0])} of the standard price"
        else:
            share = "standard prices scaled per token class (" + ", ".join(
                [f"{_key_name(k)} {_pct(v)}" for k, v in sorted(self.ratios.items())]
                + [f"{_key_name(k)} 100%" for k in self.unchanged]) + ")"
        return (f"{self.tier} tier of {model_id} before {self.variant_start.isoformat()} "
                f"(the first date genai-prices has {self.tier} prices for it): priced at "
                f"{share}, the ratio its {self.tier} prices have to standard from that date")


def _pct(r: Decimal) -> str:
    return f"{float(r) * 100:g}%"


def _key_name(k: str) -> str:
    return k.removesuffix("_mtok").replace("_", " ")


def _base(v: Any) -> Decimal | None:
    if v is None:
        return None
    b = getattr(v, "base", v)
    return b if isinstance(b, Decimal) else Decimal(str(b))


def _scaled(v: Any, r: Decimal) -> Any:
    """A price value (plain or tiered) times ``r``."""
    if hasattr(v, "tiers"):
        from genai_prices.types import Tier, TieredPrices

        return TieredPrices(base=v.base * r, tiers=[Tier(start=t.start, price=t.price * r)
                                                    for t in v.tiers])
    return v * r


def _matching_variants(model: Any, ctx: dict[str, str]) -> list[Any]:
    return [v for v in (getattr(model, "price_variants", None) or ())
            if all(ctx.get(k) == val for k, val in v.when.items())
            and any(p is not None for p in v.prices.__dict__.values())]


def backdated_price(model: Any, when: datetime, ctx: dict[str, str] | None, tier: str
                    ) -> tuple[Any, BackdatedTier] | None:
    """``(ModelPrice, what was applied)`` for ``tier`` at ``when`` when genai-prices has that
    tier only from a later date; ``None`` when its own answer stands (a variant is in force,
    or the model has no variant for the tier at all)."""
    from genai_prices.types import StartDateConstraint

    if not ctx:
        return None
    variants = _matching_variants(model, ctx)
    if not variants:
        return None
    if any(v.constraint is None or v.constraint.active(when) for v in variants):
        return None
    starts = [v.constraint.start_date for v in variants
              if isinstance(v.constraint, StartDateConstraint)]
    if not starts:
        return None
    first = min(starts)
    ref = datetime(first.year, first.month, first.day, tzinfo=UTC)
    std_ref = model.get_prices(ref)
    var_ref = model.get_prices(ref, ctx)
    ratios: dict[str, Decimal] = {}
    for key, val in var_ref.__dict__.items():
        if key.startswith("_") or val is None:
            continue
        s, v = _base(getattr(std_ref, key, None)), _base(val)
        if s is None or v is None or s == 0 or s == v:
            continue
        ratios[key] = v / s
    if not ratios:
        return None
    priced = copy(model.get_prices(when))
    for key, r in ratios.items():
        cur = getattr(priced, key, None)
        if cur is not None:
            priced.__dict__[key] = _scaled(cur, r)
    unchanged = tuple(sorted(k for k, v in std_ref.__dict__.items()
                             if k in _TOKEN_KEYS and v is not None and k not in ratios))
    return priced, BackdatedTier(tier=tier, variant_start=first, ratios=ratios,
                                 unchanged=unchanged)


_TOKEN_KEYS = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok",
               "cache_write_1h_mtok")
