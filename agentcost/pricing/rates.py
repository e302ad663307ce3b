"""Per-token :class:`Rates` of a model, found in genai-prices (model id candidates, the host's
price list, service tier, date; tier back-dating from :mod:`agentcost.pricing.tiers`) or
given by an ``agentcost.yaml`` override, and the cost of one call at those rates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from agentcost.pricing.exact import ExactPricer

if TYPE_CHECKING:
    from agentcost.config import PriceOverride

MTOK = 1_000_000
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


def candidate_ids(model: str) -> list[str]:
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


def providers_to_try(cand: str, pid: str | None) -> list[str | None]:
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
def genai_rates(model: str, provider: str | None, tier: str | None,
                 hour_iso: str | None) -> Rates | None:
    from genai_prices import Usage, calc_price

    from agentcost.pricing.tiers import backdated_price

    when = datetime.fromisoformat(hour_iso) if hour_iso else None
    ctx = _ctx_for_tier(tier)
    pid = PROVIDER_IDS.get((provider or "").lower())
    for cand in candidate_ids(model):
        for prov in providers_to_try(cand, pid):
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


def override_rates(name: str, o: PriceOverride) -> Rates:
    inp = o.input_mtok / MTOK
    w5 = (o.cache_write_mtok if o.cache_write_mtok is not None else o.input_mtok) / MTOK
    w1 = (o.cache_write_1h_mtok / MTOK) if o.cache_write_1h_mtok is not None else w5
    rd = (o.cache_read_mtok if o.cache_read_mtok is not None else o.input_mtok) / MTOK
    return Rates(inp, rd, w5, w1, o.output_mtok / MTOK, None, name, "agentcost.yaml")


# id of a genai-prices price object -> (that object, its exact pricer)
_EXACT: dict[int, tuple[Any, ExactPricer]] = {}


def exact_cost(rates: Rates, row: dict[str, int]) -> tuple[float, float]:
    """``(total, output part)`` of one step priced exactly with the genai-prices price behind
    ``rates`` (for steps above a long-context threshold, which re-prices the whole request):
    the decimal genai-prices computes, through :class:`~agentcost.pricing.exact.ExactPricer`."""
    held = _EXACT.get(id(rates.price))
    if held is None or held[0] is not rates.price:
        held = _EXACT[id(rates.price)] = (rates.price, ExactPricer(rates.price))
    total, out = held[1].cost(row)
    return float(total), float(out)


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


def clear_rate_cache() -> None:
    """Forget the rates found so far (the price data changed)."""
    genai_rates.cache_clear()
    _RATES_BY_PRICE.clear()
    _EXACT.clear()
