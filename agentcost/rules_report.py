"""``agentcost rules MODEL``: a model's prompt-caching rules and its prices, in one record."""

from __future__ import annotations

import dataclasses
from typing import Any

from agentcost.config import Config
from agentcost.errors import InputError

MTOK = 1_000_000


def _per_mtok(v: float) -> float:
    return round(v * MTOK, 6)


def rules_report(model: str, *, provider: str | None = None,
                 config: Config | None = None) -> dict[str, Any]:
    from agentcost import rules
    from agentcost.pricing import Pricer, genai_prices_version, use_prices

    resolved = model
    try:
        resolved = rules.resolve_alias(model)
    except ValueError:
        resolved = model
    rule = rules.rule_for(resolved, provider)
    use_prices()
    pricer = Pricer(config)
    std = pricer.rates(resolved, provider, None, None)
    batch = pricer.rates(resolved, provider, "batch", None)
    if rule is None and std is None:
        raise InputError(f"unknown model {model!r}: not in the cache rules data nor in the "
                         "price data (add it under prices: in agentcost.yaml)")
    out: dict[str, Any] = {"model": model, "resolved_model": resolved}
    if rule is not None:
        row = rule.to_dict() if hasattr(rule, "to_dict") else dataclasses.asdict(rule)
        out["cache_rules"] = {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                              for k, v in row.items()}
    else:
        out["cache_rules"] = None
    if std is not None:
        out["prices_usd_per_mtok"] = {
            "input": _per_mtok(std.uncached), "cache_read": _per_mtok(std.cache_read),
            "cache_write_5m": _per_mtok(std.cache_write_5m),
            "cache_write_1h": _per_mtok(std.cache_write_1h), "output": _per_mtok(std.output),
            "long_context_threshold_tokens": std.tier_threshold,
            "matched": std.model_id, "source": std.source,
        }
        if std.source == "genai-prices":
            out["prices_usd_per_mtok"]["genai_prices_version"] = genai_prices_version()
        if batch is not None and batch.source == "genai-prices":
            out["batch_prices_usd_per_mtok"] = {
                "input": _per_mtok(batch.uncached), "cache_read": _per_mtok(batch.cache_read),
                "output": _per_mtok(batch.output)}
    else:
        out["prices_usd_per_mtok"] = None
    return out
