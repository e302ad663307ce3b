"""Price periods: the instants at which a model's genai-prices price may change, and a
step table's rows split by the period their start falls in, so that each period is priced
from one rate lookup instead of one per hour."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from agentcost.pricing.rates import PROBE, PROVIDER_IDS, candidate_ids, providers_to_try

HOUR_NS = 3_600_000_000_000


@lru_cache(maxsize=1024)
def genai_periods(model: str, provider: str | None) -> tuple[int, ...] | None:
    """UTC-midnight instants (ns) at which the genai-prices price of ``model`` may change —
    the start dates of its dated prices and dated tier variants — found as
    :func:`agentcost.pricing.rates.genai_rates` finds the model. ``()`` when its price never changes or the model is unknown; ``None``
    when a price depends on the time of day (then every hour is priced on its own)."""
    from genai_prices import Usage, calc_price
    from genai_prices.types import StartDateConstraint, TimeOfDateConstraint

    pid = PROVIDER_IDS.get((provider or "").lower())
    for cand in candidate_ids(model):
        for prov in providers_to_try(cand, pid):
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


def by_period(rows: Any, start_ns: Any, no_start: Any, edges: tuple[int, ...] | None
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
    key = ns // HOUR_NS if edges is None else np.searchsorted(
        np.asarray(edges, dtype="int64"), ns, side="right")
    order = np.argsort(key, kind="stable")
    cuts = np.flatnonzero(np.diff(key[order])) + 1
    for part in np.split(order, cuts):
        h = int(ns[part[0]] // HOUR_NS)
        yield timed[part], datetime.fromtimestamp(h * 3600, UTC).isoformat()
