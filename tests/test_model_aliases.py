"""Packaged model aliases: Gemini CLI's ``gemini-3-pro`` is billed as ``gemini-3-pro-preview``."""

from __future__ import annotations

from pathlib import Path

import pytest

import agentcost
from agentcost.config import Config
from agentcost.pricing import Pricer
from agentcost.pricing.aliases import packaged_aliases

SESSION = "gemini-cli-codemie/session-2026-01-16T11-01-file-ops-37b7abef.json"


def _llm_costs(path: Path, config: Config | None = None) -> tuple[list[float], agentcost.Report]:
    table = agentcost.load([str(path)], config=config)
    rep = agentcost.analyze(table, config=config)
    llm = table.frame[(table.frame["kind"] == "llm") & (table.frame["input_tokens"].fillna(0) > 0)]
    return [float(c) for c in llm["cost_usd"]], rep


def test_gemini_cli_short_name_prices_as_the_preview_model(real: Path, tmp_path: Path) -> None:
    src = real / SESSION
    text = src.read_text(encoding="utf-8")
    assert '"model": "gemini-3-pro"' in text
    named = tmp_path / "named.json"
    named.write_text(text.replace('"model": "gemini-3-pro"', '"model": "gemini-3-pro-preview"'),
                     encoding="utf-8")
    costs, rep = _llm_costs(src)
    ref, _ = _llm_costs(named)
    assert len(costs) == 9 and all(c > 0 for c in costs)  # were NaN (unpriced) before the table
    assert costs == pytest.approx(ref, rel=1e-12)
    assert rep.pricing["aliases_used"] == {"gemini-3-pro": "gemini-3-pro-preview"}
    assert not any("no price for model gemini-3-pro" in w for w in rep.warnings)
    note = [w for w in rep.warnings if "packaged alias" in w]
    assert len(note) == 1 and "gemini-3-pro is priced as gemini-3-pro-preview" in note[0]


def test_the_users_alias_wins_over_the_packaged_one(real: Path) -> None:
    cfg = Config(aliases={"gemini-3-pro": "gemini-2.5-pro"})
    costs, rep = _llm_costs(real / SESSION, cfg)
    assert rep.pricing["aliases_used"] == {"gemini-3-pro": "gemini-2.5-pro"}
    assert not any("packaged alias" in w for w in rep.warnings)
    plain, _ = _llm_costs(real / SESSION)
    assert sum(costs) < sum(plain)  # 2.5 Pro is cheaper than 3 Pro Preview


@pytest.mark.parametrize("alias", sorted(packaged_aliases().values(), key=lambda a: a.name),
                         ids=lambda a: a.name)
def test_every_packaged_alias_is_still_needed_and_resolves(alias) -> None:  # type: ignore[no-untyped-def]
    """The table only fills gaps: when the price data learns a name, its alias must go."""
    from genai_prices import Usage, calc_price

    with pytest.raises(LookupError):  # the price data itself does not know the name
        calc_price(Usage(input_tokens=1000), alias.name, provider_id=alias.provider)
    assert Pricer().rates(alias.name, alias.provider, None, None) is not None
    assert alias.source and alias.why
