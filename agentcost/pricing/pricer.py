"""The :class:`Pricer`: a trace's model name resolved through ``agentcost.yaml`` aliases and
overrides and the packaged aliases, to its :class:`~agentcost.pricing.rates.Rates` and its
price periods."""

from __future__ import annotations

from agentcost.config import Config
from agentcost.pricing.aliases import PackagedAlias, packaged_alias
from agentcost.pricing.periods import genai_periods
from agentcost.pricing.rates import Rates, genai_rates, override_rates


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
            return override_rates(name, o)
        if tier not in (None, "standard", "default", "auto", "batch", "flex", "priority"):
            tier = None
        tier = tier if tier not in ("standard", "default", "auto") else None
        found = genai_rates(name, provider, tier, hour_iso)
        alias = packaged_alias(name) if found is None and name == model else None
        if alias is not None:
            found = genai_rates(alias.price_as, provider or alias.provider, tier, hour_iso)
            if found is not None:
                self.packaged_used[model] = alias
        return found

    def periods(self, model: str, provider: str | None) -> tuple[int, ...] | None:
        """Instants (ns) where the price :meth:`rates` finds for ``model`` may change (see
        :func:`genai_periods`); ``()`` for a configured price, which has no date."""
        name = self.resolve_name(model)
        if self.config.prices.get(name.lower()) is not None:
            return ()
        found = genai_periods(name, provider)
        alias = packaged_alias(name) if name == model else None
        if alias is not None:
            other = genai_periods(alias.price_as, provider or alias.provider)
            if found is None or other is None:
                return None
            found = tuple(sorted({*found, *other}))
        return found
