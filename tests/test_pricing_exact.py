"""The exact long-context price (agentcost.pricing.exact) is genai-prices' own decimal, not an
approximation of it: on every tiered price in the bundled data, at and around every tier
start and far above, with every mix of cache reads and 5m/1h writes."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

from agentcost.pricing.exact import ExactPricer, calc, tier_starts


def _tiered_prices() -> list[tuple[str, Any]]:
    from genai_prices import data
    from genai_prices.types import ModelPrice, TieredPrices

    out = []
    for prov in data.providers:
        for model in prov.models:
            prices = model.prices if isinstance(model.prices, list) else [model.prices]
            for p in prices:
                mp = getattr(p, "prices", p)
                if isinstance(mp, ModelPrice) and any(isinstance(v, TieredPrices)
                                                      for v in vars(mp).values()):
                    out.append((f"{prov.id}:{model.id}", mp))
    return out


def _rows(starts: tuple[int, ...], rnd: random.Random) -> list[dict[str, int]]:
    inputs = {s + d for s in starts for d in (-1, 0, 1, 2, 1000)}
    inputs |= {starts[-1] + rnd.randrange(1, 2_000_000) for _ in range(8)}
    rows = []
    for inp in sorted(i for i in inputs if i >= 0):
        for _ in range(4):
            read = rnd.randrange(0, inp + 1)
            w5 = rnd.randrange(0, inp - read + 1) if rnd.random() < 0.6 else 0
            w1 = rnd.randrange(0, inp - read - w5 + 1) if rnd.random() < 0.4 else 0
            rows.append({"input": inp, "output": rnd.randrange(0, 64_000), "read": read,
                         "w5": w5, "w1": w1})
        rows.append({"input": inp, "output": 0, "read": inp, "w5": 0, "w1": 0})
    return rows


def test_the_affine_form_is_genai_prices_own_decimal() -> None:
    prices = _tiered_prices()
    assert len(prices) >= 20  # the bundled data has long-context tiers for many models
    rnd = random.Random(13)
    checked = 0
    for name, mp in prices:
        pricer = ExactPricer(mp)
        for row in _rows(tier_starts(mp), rnd):
            want = calc(mp, row)
            got = pricer.cost(row)
            assert got == want, (name, row, got, want)
            assert isinstance(got[0], Decimal)
            checked += 1
    assert pricer.bands  # the affine forms were used, not only the direct path
    assert checked > 5_000


def test_rows_outside_the_affine_form_are_priced_directly() -> None:
    """A row below every tier, or one genai-prices refuses (reads above the input: the readers
    never hand such a row over), goes to genai-prices as it is."""
    _, mp = next(p for p in _tiered_prices() if p[0] == "anthropic:claude-sonnet-4-5")
    start = tier_starts(mp)[0]
    pricer = ExactPricer(mp)
    below = {"input": start, "output": 5, "read": 10, "w5": 0, "w1": 0}
    assert pricer.cost(below) == calc(mp, below) and not pricer.bands
    bad = {"input": start + 10, "output": 5, "read": start + 20, "w5": 0, "w1": 0}
    with pytest.raises(ValueError, match="cannot exceed input_tokens"):
        pricer.cost(bad)
    assert not pricer.bands
