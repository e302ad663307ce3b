"""What pricing used and left out (:class:`PricingInfo`, reported with every analysis), and
which price data it was: the genai-prices version and the data's fingerprint."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
