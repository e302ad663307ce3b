"""Prices: genai-prices per step, date-effective, tiers, service tiers, overrides, unknown models."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from genai_prices import Usage, calc_price

from agentcost.config import ConfigError, parse
from agentcost.ingest import read_sources
from agentcost.pricing import price_frame


def _frame(tmp_path, lines: list[str]):
    p = tmp_path / "t.jsonl"
    p.write_text("\n".join(lines) + "\n")
    return read_sources([str(p)]).frame


def _llm(model: str, ts: str, **tok: int) -> str:
    import json

    return json.dumps({"task_id": "t", "kind": "llm", "provider": "anthropic"
                       if "claude" in model else "openai", "model": model, "started_at": ts,
                       **tok})


def test_provider_rules_spot_check_sonnet_45(tmp_path):
    # provider-rules §E3: 102,050 in (100k read, 2k 5m write) + 500 out = $0.04515
    df = _frame(tmp_path, [_llm("claude-sonnet-4-5", "2026-06-01T00:00:00Z", input_tokens=102_050,
                                cache_read_tokens=100_000, cache_write_tokens=2_000,
                                cache_write_5m_tokens=2_000, cache_write_1h_tokens=0,
                                output_tokens=500)])
    info = price_frame(df)
    assert df.loc[0, "cost_usd"] == pytest.approx(0.04515, abs=1e-12)
    assert df.loc[0, "cost_source"] == "computed"
    assert info.version and info.data_fingerprint
    # output part and cache savings: reads save 0.9 x $3/MTok, 5m writes cost 0.25 x extra
    assert df.loc[0, "output_cost_usd"] == pytest.approx(500 * 15e-6)
    assert df.loc[0, "cache_savings_usd"] == pytest.approx(100_000 * 2.7e-6 - 2_000 * 0.75e-6)


def test_1h_writes_priced_at_2x(tmp_path):
    df = _frame(tmp_path, [_llm("claude-opus-4-6", "2026-06-01T00:00:00Z", input_tokens=10_000,
                                cache_read_tokens=0, cache_write_tokens=10_000,
                                cache_write_5m_tokens=0, cache_write_1h_tokens=10_000,
                                output_tokens=0)])
    price_frame(df)
    assert df.loc[0, "cost_usd"] == pytest.approx(10_000 * 10e-6)  # Opus 4.6 1h write $10/MTok
    assert df.loc[0, "cache_1h_premium_usd"] == pytest.approx(10_000 * (10 - 6.25) * 1e-6)


@pytest.mark.parametrize("model,ts,tok", [
    ("gpt-5.6-sol", "2026-07-01T10:00:00Z", dict(input_tokens=5_000, cache_read_tokens=3_000,
                                                  cache_write_tokens=1_000, output_tokens=10)),
    ("gpt-5.6-sol", "2026-09-01T10:00:00Z", dict(input_tokens=5_000, cache_read_tokens=3_000,
                                                  cache_write_tokens=1_000, output_tokens=10)),
    ("gpt-5.5", "2026-09-01T10:00:00Z", dict(input_tokens=300_000, cache_read_tokens=100_000,
                                             output_tokens=1_000)),  # >272k long-context tier
    ("claude-haiku-5-5", "2026-11-01T10:00:00Z", dict(input_tokens=150_000,
                                                      cache_read_tokens=20_000,
                                                      output_tokens=900)),  # >100k tier
    ("claude-sonnet-5-5", "2026-10-01T10:00:00Z", dict(input_tokens=50_000,
                                                       cache_read_tokens=40_000,
                                                       output_tokens=100)),
    ("gpt-4.1-mini", "2026-03-01T10:00:00Z", dict(input_tokens=3_000, cache_read_tokens=2_048,
                                                  output_tokens=120)),
])
def test_matches_genai_prices_exactly(tmp_path, model, ts, tok):
    df = _frame(tmp_path, [_llm(model, ts, **tok)])
    price_frame(df)
    when = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    expected = calc_price(Usage(**tok), model, genai_request_timestamp=when).total_price
    assert Decimal(str(df.loc[0, "cost_usd"])).quantize(Decimal("1e-9")) == \
        expected.quantize(Decimal("1e-9"))


def test_price_is_date_effective(tmp_path):
    tok = dict(input_tokens=1_000_000, output_tokens=0)
    df = _frame(tmp_path, [_llm("gpt-5.6-sol", "2026-07-01T00:00:00Z", **tok),
                           _llm("gpt-5.6-sol", "2026-09-01T00:00:00Z", **tok)])
    price_frame(df)
    assert df.loc[0, "cost_usd"] != df.loc[1, "cost_usd"]


def test_batch_tier_halves_the_price(tmp_path):
    import json

    base = {"task_id": "t", "kind": "llm", "provider": "anthropic", "model": "claude-sonnet-4-5",
            "started_at": "2026-11-01T00:00:00Z", "input_tokens": 10_000, "output_tokens": 1_000}
    df = _frame(tmp_path, [json.dumps(base), json.dumps({**base, "service_tier": "batch"})])
    price_frame(df)
    assert df.loc[1, "cost_usd"] == pytest.approx(df.loc[0, "cost_usd"] / 2)


def test_unknown_model_is_nan_never_zero(tmp_path):
    df = _frame(tmp_path, [_llm("acme-llama-70b", "2026-11-01T00:00:00Z", input_tokens=1_000,
                                output_tokens=10),
                           _llm("claude-sonnet-4-5", "2026-11-01T00:00:00Z", input_tokens=1_000,
                                output_tokens=10)])
    info = price_frame(df)
    assert math.isnan(df.loc[0, "cost_usd"])
    assert df.loc[0, "cost_source"] == "unpriced"
    assert info.unpriced_models == [{"model": "acme-llama-70b", "steps": 1, "input_tokens": 1000,
                                     "output_tokens": 10}]
    assert info.lower_bound


def test_reported_cost_used_when_model_unknown(tmp_path):
    import json

    line = {"task_id": "t", "kind": "llm", "model": "acme-llama-70b", "input_tokens": 100,
            "output_tokens": 5, "reported_cost_usd": 0.0123}
    df = _frame(tmp_path, [json.dumps(line)])
    info = price_frame(df)
    assert df.loc[0, "cost_usd"] == pytest.approx(0.0123)
    assert df.loc[0, "cost_source"] == "reported"
    assert info.unpriced_steps == 0


def test_override_and_alias_from_config(tmp_path):
    cfg = parse({"prices": {"acme-llama-70b": {"input_mtok": 0.6, "output_mtok": 0.8,
                                               "cache_read_mtok": 0.06}},
                 "aliases": {"my-proxy/sonnet": "claude-sonnet-4-5"}})
    df = _frame(tmp_path, [_llm("acme-llama-70b", "2026-11-01T00:00:00Z", input_tokens=1_000_000,
                                cache_read_tokens=500_000, output_tokens=1_000_000),
                           _llm("my-proxy/sonnet", "2026-11-01T00:00:00Z", input_tokens=100_000,
                                output_tokens=0)])
    info = price_frame(df, cfg)
    assert df.loc[0, "cost_usd"] == pytest.approx(0.5 * 0.6 + 0.5 * 0.06 + 0.8)
    assert df.loc[1, "cost_usd"] == pytest.approx(0.3)  # below the 200k tier
    assert info.overrides == ["acme-llama-70b"]
    assert info.aliases_used == {"my-proxy/sonnet": "claude-sonnet-4-5"}


@pytest.mark.parametrize("data,path", [
    ({"prices": {"m": {"input_mtok": 1, "output_mtok": 2, "inptu_mtok": 3}}},
     "prices.m.inptu_mtok"),
    ({"prices": {"m": {"input_mtok": 1}}}, "prices.m.output_mtok"),
    ({"prices": {"m": {"input_mtok": "cheap", "output_mtok": 1}}}, "prices.m.input_mtok"),
    ({"pricez": {}}, "pricez"),
    ({"analyze": {"max_iteration": 3}}, "analyze.max_iteration"),
    ({"aliases": {"x": 3}}, "aliases.x"),
])
def test_config_errors_name_the_key_path(data, path):
    with pytest.raises(ConfigError, match=path.replace(".", r"\.")):
        parse(data)


def test_bedrock_and_vertex_ids_priced(tmp_path):
    df = _frame(tmp_path, [
        _llm("converse/jp.anthropic.claude-haiku-4-5-20251001-v1:0", "2026-01-01T00:00:00Z",
             input_tokens=16_878, output_tokens=237),
        _llm("claude-sonnet-4-5-20250929", "2026-01-01T00:00:00Z", input_tokens=1_000,
             output_tokens=0),
    ])
    price_frame(df)
    assert df["cost_source"].tolist() == ["computed", "computed"]
    assert df.loc[1, "cost_usd"] == pytest.approx(0.003)
    assert datetime(2026, 1, 1, tzinfo=UTC)  # timestamps are tz-aware throughout


CLASS_CASES = [  # (model, time, tokens, below every long-context threshold)
    ("gpt-5.6-sol", "2026-07-01T10:00:00Z", dict(input_tokens=5_000, cache_read_tokens=3_000,
                                                  cache_write_tokens=1_000, output_tokens=10),
     True),
    ("gpt-5.6-sol", "2026-09-01T10:00:00Z", dict(input_tokens=5_000, cache_read_tokens=3_000,
                                                  cache_write_tokens=1_000, output_tokens=10),
     True),
    ("claude-sonnet-4-5", "2025-10-01T10:00:00Z", dict(input_tokens=50_000,
                                                       cache_read_tokens=40_000,
                                                       cache_write_tokens=6_000,
                                                       output_tokens=100), True),
    ("gpt-5.5", "2026-09-01T10:00:00Z", dict(input_tokens=300_000, cache_read_tokens=100_000,
                                             output_tokens=1_000), False),
    ("claude-haiku-5-5", "2026-11-01T10:00:00Z", dict(input_tokens=150_000,
                                                      cache_read_tokens=20_000,
                                                      cache_write_tokens=5_000,
                                                      output_tokens=900), False),
]


@pytest.mark.parametrize("model,ts,tok,linear", CLASS_CASES)
def test_cost_by_token_class_adds_up_and_matches_genai_prices(tmp_path, model, ts, tok, linear):
    df = _frame(tmp_path, [_llm(model, ts, **tok)])
    price_frame(df)
    row = df.loc[0]
    when = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    total = calc_price(Usage(**tok), model, genai_request_timestamp=when)
    rd, wr, out = (row["cache_read_cost_usd"], row["cache_write_cost_usd"],
                   row["output_cost_usd"])
    unc = row["cost_usd"] - rd - wr - out
    assert unc >= 0 and rd >= 0 and wr >= 0
    assert float(total.output_price) == pytest.approx(out, rel=1e-9, abs=1e-12)
    assert float(total.input_price) == pytest.approx(unc + rd + wr, rel=1e-9, abs=1e-12)
    if linear:  # each class at its own rate in force at the step's time
        def part(**u: int) -> float:
            return float(calc_price(Usage(**u), model, genai_request_timestamp=when).input_price)

        r = tok["cache_read_tokens"]
        assert rd == pytest.approx(part(input_tokens=r, cache_read_tokens=r), rel=1e-9)
        w = tok.get("cache_write_tokens", 0)
        assert wr == pytest.approx(part(input_tokens=w, cache_write_tokens=w), rel=1e-9,
                                   abs=1e-12)


def test_priced_once_per_price_period_with_the_same_figures(tmp_path, monkeypatch):
    """Steps are priced once per (model, provider, tier, genai-prices price period), not per
    hour: gpt-5.6-sol's price changes on 2026-08-21, so steps in 40 different hours on either
    side cost what calc_price says at each step's own time, from two rate lookups."""
    import agentcost.pricing as P

    hours = [f"2026-08-{d:02d}T{h:02d}:30:00Z" for d in (19, 20, 21, 22) for h in range(0, 24, 2)]
    tok = dict(input_tokens=4_000, cache_read_tokens=1_000, output_tokens=50)
    df = _frame(tmp_path, [_llm("gpt-5.6-sol", ts, **tok) for ts in hours])
    calls: list[str | None] = []
    real = P.Pricer.rates

    def counting(self, model, provider, tier, hour_iso):  # type: ignore[no-untyped-def]
        calls.append(hour_iso)
        return real(self, model, provider, tier, hour_iso)

    monkeypatch.setattr(P.Pricer, "rates", counting)
    price_frame(df)
    assert len(calls) == 2  # before and from 2026-08-21 (UTC midnight)
    for i, ts in enumerate(hours):
        when = datetime.fromisoformat(ts.replace("Z", "+00:00"))
        want = calc_price(Usage(**tok), "gpt-5.6-sol", genai_request_timestamp=when).total_price
        assert df.loc[i, "cost_usd"] == pytest.approx(float(want), rel=1e-12)
    assert df.loc[0, "cost_usd"] != df.loc[len(hours) - 1, "cost_usd"]


def test_time_of_day_prices_stay_hourly():
    from agentcost.pricing import Pricer

    # DeepSeek's off-peak discount depends on the hour: no period shortcut
    assert Pricer().periods("deepseek-chat", "deepseek") is None
    assert Pricer().periods("acme-unknown-model", None) == ()
