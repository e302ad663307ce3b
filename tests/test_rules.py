"""Packaged cache-rules data (agentcost/data/cache_rules.yaml) and its lookup module.

Expected values are those of provider-rules.md (compiled 2026-11-21): §A3 minimums, §A4 / §B2
multipliers, §B1 OpenAI mechanics, §C Gemini / DeepSeek, §E prices. The genai-prices tests
check that the data agrees with the price data agentcost bills with.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from genai_prices import Usage, calc_price

from agentcost import rules
from agentcost.rules import all_rules, data_info, normalize_model_id, resolve_alias, rule_for

# provider-rules.md §S tags
KNOWN_SOURCES = {
    "A-PC", "A-PC-APR", "A-PC-Q", "A-PR", "A-BP", "A-CD", "A-RN", "A-TC", "A-MIG", "A-MOD-Q",
    "A-WS", "A-SDK", "A-SKILL", "O-PC", "O-PC-OLD", "O-SDK", "GP", "REL-3P", "G-C", "G-V", "DS",
    "DS-3P", "OTEL", "OTEL-A", "OTEL-DEP", "OTEL-PY", "OTEL-AG-3P", "OI", "OI-A", "TL", "AG", "TK",
    "TOK-3P",
}
COMPILED = date(2026, 11, 21)
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # off-peak for DeepSeek


def _rule(model: str, **kw: Any) -> rules.CacheRule:
    r = rule_for(model, **kw)
    assert r is not None, model
    return r


# ------------------------------------------------------------------------------ data sanity

def test_every_row_has_source_checked_date_and_sane_values():
    rows = all_rules()
    assert len(rows) >= 55
    assert len({r.model for r in rows}) == len(rows), "duplicate model rows"
    for r in rows:
        assert r.provider in {"anthropic", "openai", "google", "deepseek"}, r.model
        assert r.sources and set(r.sources) <= KNOWN_SOURCES, (r.model, r.source)
        assert r.checked == COMPILED, r.model  # every row is from provider-rules.md
        assert r.tier in {"cheap", "mid", "strong", None}
        assert 0 < r.read_multiplier <= 1.0
        assert r.ttl_options and sum(o.default for o in r.ttl_options) == 1, r.model
        assert all(o.write_multiplier >= 1.0 for o in r.ttl_options), r.model
        assert r.min_cacheable_tokens is None or r.min_cacheable_tokens in {512, 1024, 2048, 4096}
        assert r.match, r.model
        assert r.released is None or r.released <= COMPILED


def test_data_info_reports_rows_and_checked_range():
    info = data_info()
    assert info["rows"] == len(all_rules())
    assert info["checked_min"] == info["checked_max"] == "2026-11-21"
    assert info["compiled"] == "2026-11-21"
    assert info["providers"]["anthropic"] >= 20 and info["providers"]["openai"] >= 25
    assert "A-PC" in info["sources"] and "GP" in info["sources"]
    assert re.fullmatch(r"[0-9a-f]{16}", info["sha256"])


def test_rule_is_frozen_and_serialisable():
    r = _rule("claude-sonnet-5-5")
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.read_multiplier = 1.0  # type: ignore[misc]
    d = r.to_dict()
    json.dumps(d)
    assert d["changes"] == [{"start": "2026-10-07", "read_multiplier": 0.05,
                             "min_cacheable_tokens": None, "note": None}]
    assert d["ttl_options"][0]["ttl"] == "5m"


# ------------------------------------------------------------------------------- Anthropic

@pytest.mark.parametrize(("model", "minimum"), [
    # §A3, page text 2026-07-28 … 2026-08-22 plus the 512 models added by 2026-10-08
    ("claude-opus-5", 512), ("claude-fable-5", 512), ("claude-mythos-5", 512),
    ("claude-fable-5-1", 512), ("claude-mythos-5-1", 512), ("claude-opus-5-5", 512),
    ("claude-sonnet-5-5", 512), ("claude-haiku-5-5", 512),
    ("claude-opus-4-8", 1024), ("claude-sonnet-5", 1024), ("claude-sonnet-4-6", 1024),
    ("claude-sonnet-4-5", 1024), ("claude-opus-4-1", 1024), ("claude-opus-4", 1024),
    ("claude-sonnet-4", 1024),
    ("claude-mythos-preview", 2048), ("claude-opus-4-7", 2048), ("claude-3-5-haiku", 2048),
    ("claude-opus-4-6", 4096), ("claude-opus-4-5", 4096), ("claude-haiku-4-5", 4096),
    # §U1: not found -> None (512 likely, unconfirmed)
    ("claude-fable-5-2", None), ("claude-mythos-5-2", None),
])
def test_anthropic_minimum_cacheable_tokens(model, minimum):
    assert _rule(model).min_cacheable_tokens == minimum


def test_anthropic_brief_examples():
    assert _rule("claude-opus-4-6").min_cacheable_tokens == 4096
    assert _rule("claude-sonnet-4-5-20250929").min_cacheable_tokens == 1024
    assert _rule("claude-haiku-4-5").min_cacheable_tokens == 4096
    assert _rule("claude-opus-5").min_cacheable_tokens == 512


@pytest.mark.parametrize(("model", "read"), [
    ("claude-fable-5-2", 0.025), ("claude-mythos-5-2", 0.025), ("claude-fable-5-1", 0.025),
    ("claude-mythos-5-1", 0.025), ("claude-opus-5-5", 0.05), ("claude-sonnet-5-5", 0.05),
    ("claude-fable-5", 0.1), ("claude-opus-5", 0.1), ("claude-opus-4-8", 0.1),
    ("claude-sonnet-5", 0.1), ("claude-haiku-5-5", 0.1), ("claude-haiku-4-5", 0.1),
    ("claude-3-5-haiku-latest", 0.1),
])
def test_anthropic_read_multipliers(model, read):
    assert _rule(model).read_multiplier == read


def test_sonnet_5_5_read_multiplier_changes_on_2026_10_07():
    assert _rule("claude-sonnet-5-5", at=datetime(2026, 10, 6, 23, 59, tzinfo=UTC)).read_multiplier == 0.1
    assert _rule("claude-sonnet-5-5", at=datetime(2026, 10, 7, 0, 0, tzinfo=UTC)).read_multiplier == 0.05
    assert _rule("claude-sonnet-5-5", at=date(2026, 10, 1)).read_multiplier == 0.1
    assert _rule("claude-sonnet-5-5", at=datetime(2026, 11, 1)).read_multiplier == 0.05  # naive
    # 01:00 at UTC+2 is still 2026-10-06 in UTC
    cest = timezone(timedelta(hours=2))
    assert _rule("claude-sonnet-5-5", at=datetime(2026, 10, 7, 1, 0, tzinfo=cest)).read_multiplier == 0.1
    assert _rule("claude-sonnet-5-5").read_multiplier == 0.05  # no date: latest
    assert [r.read_multiplier for r in all_rules(at=date(2026, 9, 1))
            if r.model == "claude-sonnet-5-5"] == [0.1]
    # history is kept on the resolved rule
    assert _rule("claude-sonnet-5-5", at=date(2026, 9, 1)).changes[0].start == date(2026, 10, 7)
    # rows without changes are unaffected by the date
    assert _rule("claude-opus-5-5", at=date(2026, 9, 1)).read_multiplier == 0.05


def test_anthropic_mechanics_on_every_row():
    for r in all_rules():
        if r.provider != "anthropic":
            continue
        assert r.write_multiplier("5m") == 1.25 and r.write_multiplier("1h") == 2.0, r.model
        assert r.default_ttl is not None and r.default_ttl.ttl == "5m"
        assert r.ttl_option("1h").seconds == 3600  # type: ignore[union-attr]
        assert r.max_breakpoints == 4 and r.lookback_blocks == 20
        assert set(r.modes) == {"explicit", "automatic"}
        assert r.tokenizer in {"claude-pre-4.7", "claude-4.7+"}
        assert r.family in {"opus", "sonnet", "haiku", "fable", "mythos"}
    with pytest.raises(KeyError):
        _rule("claude-opus-5").write_multiplier("30m")


@pytest.mark.parametrize(("model", "tokenizer"), [
    ("claude-opus-4-6", "claude-pre-4.7"), ("claude-sonnet-4-6", "claude-pre-4.7"),
    ("claude-haiku-4-5", "claude-pre-4.7"), ("claude-opus-4-7", "claude-4.7+"),
    ("claude-opus-5", "claude-4.7+"), ("claude-haiku-5-5", "claude-4.7+"),
    ("claude-mythos-preview", "claude-4.7+"), ("claude-fable-5", "claude-4.7+"),
])
def test_claude_tokenizer_boundary(model, tokenizer):
    assert _rule(model).tokenizer == tokenizer


@pytest.mark.parametrize(("model_id", "expected"), [
    ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
    ("anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
    ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
    ("global.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5"),
    ("converse/us.anthropic.claude-opus-4-1-20250805-v1:0", "claude-opus-4-1"),
    ("bedrock/anthropic.claude-3-5-haiku-20241022-v1:0", "claude-3-5-haiku-latest"),
    ("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-opus-4-20250514-v1:0",
     "claude-opus-4-0"),
    ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
    ("publishers/anthropic/models/claude-opus-4-5@20251101", "claude-opus-4-5"),
    ("anthropic/claude-sonnet-4.5", "claude-sonnet-4-5"),
    ("anthropic/claude-opus-4.6:beta", "claude-opus-4-6"),
    ("claude-4-5-haiku", "claude-haiku-4-5"),
    ("CLAUDE-OPUS-4-6", "claude-opus-4-6"),
    ("  claude-opus-5-latest ", "claude-opus-5"),
    ("claude-sonnet-4-20250514", "claude-sonnet-4-0"),
    ("claude-haiku-5-5-20261007", "claude-haiku-5-5"),
    ("us.anthropic.claude-sonnet-5-5", "claude-sonnet-5-5"),
    ("openai/gpt-4o-2024-08-06", "gpt-4o"),
    ("gpt-5-2025-08-07", "gpt-5"),
    ("gpt-5-1-codex-max", "gpt-5.1"),
    ("gpt-5.6", "gpt-5.6-sol"),
    ("gpt-6.1-sol-2026-09-29", "gpt-6.1-sol"),
    ("ft:gpt-4o-mini-2024-07-18:acme:support:abc123", "gpt-4o-mini"),
    ("O3-MINI-2025-01-31", "o3-mini"),
    ("models/gemini-2.5-pro", "gemini-2.5-pro"),
    ("gemini-2.5-pro-preview-06-05", "gemini-2.5-pro"),
    ("gemini-3.5-flash", "gemini-3.x"),
    ("deepseek/deepseek-flash", "deepseek-flash"),
])
def test_id_forms_resolve(model_id, expected):
    assert _rule(model_id).model == expected


@pytest.mark.parametrize("model_id", [
    "gpt-9-ultra", "claude-opus-9", "claude-sonnet-4-7", "gpt-4o-2024-05-13", "gpt-4o-mini-tts",
    "gemini-2.5-flash-lite", "deepseek-chat", "llama-3.1-70b", "", "   ",
])
def test_unknown_models_give_none(model_id):
    assert rule_for(model_id) is None


def test_every_literal_match_entry_resolves_to_its_own_row():
    for r in all_rules():
        for pat in (r.model, *r.match):
            if pat.startswith("re:") or pat.endswith("*"):
                continue
            got = rule_for(pat)
            assert got is not None and got.model == r.model, (pat, r.model, got and got.model)
            assert _rule(pat, provider=r.provider).model == r.model


def test_provider_is_a_hint_not_a_filter():
    assert _rule("anthropic.claude-sonnet-4-5-20250929-v1:0", provider="aws.bedrock").model \
        == "claude-sonnet-4-5"
    assert _rule("claude-sonnet-4-5@20250929", provider="gcp.vertex_ai").model == "claude-sonnet-4-5"
    # an OpenAI-compatible gateway reporting provider "openai" still gets the Claude rule
    assert _rule("claude-opus-5", provider="openai").provider == "anthropic"


def test_normalize_model_id():
    assert normalize_model_id("US.Anthropic.claude-sonnet-4-5-20250929-v1:0") == "claude-sonnet-4-5"
    assert normalize_model_id("claude-4.5-sonnet") == "claude-sonnet-4-5"
    assert normalize_model_id("gpt-5-4-mini-2026-03-17") == "gpt-5.4-mini"
    assert normalize_model_id("gpt-4-0613") == "gpt-4-0613"  # not a version dash
    assert normalize_model_id("gpt-5-mini") == "gpt-5-mini"


# ---------------------------------------------------------------------------------- OpenAI

def test_gpt_5_6_sol_writes_and_ttl():
    r = _rule("gpt-5.6-sol")
    assert r.write_multiplier() == 1.25 and r.write_multiplier("30m") == 1.25
    assert r.default_ttl is not None and r.default_ttl.ttl == "30m" and r.default_ttl.seconds == 1800
    assert [o.ttl for o in r.ttl_options] == ["30m"]
    assert r.read_multiplier == 0.1
    assert r.min_cacheable_tokens == 1024 and r.granularity == 1 and r.max_breakpoints == 4
    assert set(r.modes) == {"implicit", "explicit"}
    assert r.tokenizer == "o200k_base"


@pytest.mark.parametrize(("model", "read"), [
    ("gpt-4o", 0.5), ("gpt-4o-mini", 0.5), ("gpt-4.1", 0.25), ("gpt-4.1-mini", 0.25),
    ("gpt-4.1-nano", 0.25), ("o1", 0.5), ("o1-mini", 0.5), ("o3-mini", 0.5), ("o3", 0.25),
    ("o4-mini", 0.25), ("gpt-5", 0.1), ("gpt-5.1", 0.1), ("gpt-5.2", 0.1), ("gpt-5.4", 0.1),
    ("gpt-5.4-mini", 0.1), ("gpt-5.4-nano", 0.1), ("gpt-5.5", 0.1), ("gpt-5-mini", 0.1),
    ("gpt-5-nano", 0.1), ("gpt-5.6-sol", 0.1), ("gpt-5.6-terra", 0.1), ("gpt-5.6-luna", 0.1),
    ("gpt-6-astra", 0.1), ("gpt-6-sol", 0.1), ("gpt-6-luna", 0.1), ("gpt-6.1-sol", 0.05),
    ("gpt-6.1-terra", 0.05), ("gpt-5-pro", 1.0), ("gpt-5.5-pro", 1.0), ("o1-pro", 1.0),
    ("o3-pro", 1.0),
])
def test_openai_read_multipliers_per_family(model, read):
    assert _rule(model).read_multiplier == read


def test_openai_generations():
    new = {"gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna", "gpt-6-astra", "gpt-6-sol",
           "gpt-6-luna", "gpt-6.1-sol", "gpt-6.1-terra"}
    with_24h = set()
    for r in all_rules():
        if r.provider != "openai":
            continue
        if r.model in new:
            assert r.write_multiplier() == 1.25 and r.default_ttl.ttl == "30m"  # type: ignore[union-attr]
            assert r.granularity == 1 and r.max_breakpoints == 4
        else:  # gpt-4o … GPT-5.5: implicit only, free writes, 128-token floor
            assert r.mode == "implicit" and r.granularity == 128 and r.max_breakpoints is None
            assert all(o.write_multiplier == 1.0 for o in r.ttl_options)
            assert {o.ttl for o in r.ttl_options} <= {"in_memory", "24h"}
            assert r.min_cacheable_tokens == 1024 and "varies" in (r.notes or "")
            if r.ttl_option("24h"):
                with_24h.add(r.model)
    # §B1 extended-retention list (codex / chat variants are matched into gpt-5 / gpt-5.1)
    assert with_24h == {"gpt-5.5", "gpt-5.5-pro", "gpt-5.4", "gpt-5.2", "gpt-5.1",
                        "gpt-5.1-codex-mini", "gpt-5", "gpt-4.1"}
    assert [o.ttl for o in _rule("gpt-5.5").ttl_options] == ["24h"]
    assert [o.ttl for o in _rule("gpt-5.5-pro").ttl_options] == ["24h"]


def test_openai_tokenizer_agrees_with_tiktoken():
    tiktoken_model = pytest.importorskip("tiktoken.model")
    for r in all_rules():
        if r.provider != "openai":
            continue
        if r.tokenizer is None:
            assert r.model.startswith("gpt-6"), r.model
            with pytest.raises(KeyError):
                tiktoken_model.encoding_name_for_model(r.model)
        else:
            assert tiktoken_model.encoding_name_for_model(r.model) == r.tokenizer, r.model


# ---------------------------------------------------------------------------- Gemini, DeepSeek

def test_gemini_and_deepseek_rows():
    assert _rule("gemini-2.5-pro").min_cacheable_tokens == 4096
    assert _rule("gemini-2.5-flash").min_cacheable_tokens == 1024
    assert _rule("gemini-3-pro-preview").min_cacheable_tokens == 4096
    assert _rule("gemini-3-flash-preview").min_cacheable_tokens == 1024
    fam = _rule("gemini-3.1-pro-preview")
    assert fam.model == "gemini-3.x" and fam.min_cacheable_tokens is None
    for r in all_rules():
        if r.provider == "google":
            assert r.read_multiplier == 0.1 and r.tokenizer == "gemini"
            assert set(r.modes) == {"implicit", "explicit"}
            assert r.write_multiplier() == 1.0 and r.default_ttl.seconds == 3600  # type: ignore[union-attr]
    ds = _rule("deepseek-flash")
    assert ds.read_multiplier == 0.02 and ds.write_multiplier() == 1.0
    assert ds.min_cacheable_tokens is None and ds.mode == "implicit"


# ---------------------------------------------------------------------------------- aliases

@pytest.mark.parametrize(("alias", "model"), [
    ("haiku", "claude-haiku-5-5"), ("sonnet", "claude-sonnet-5-5"), ("opus", "claude-opus-5-5"),
    ("fable", "claude-fable-5-2"), ("mythos", "claude-mythos-5-2"), ("Haiku", "claude-haiku-5-5"),
    ("claude-sonnet", "claude-sonnet-5-5"), ("sol", "gpt-6.1-sol"), ("terra", "gpt-6.1-terra"),
    ("luna", "gpt-6-luna"), ("astra", "gpt-6-astra"), ("mini", "gpt-5.4-mini"),
    ("nano", "gpt-5.4-nano"), ("sonnet-4.5", "claude-sonnet-4-5"), ("opus-4-6", "claude-opus-4-6"),
    ("haiku 4.5", "claude-haiku-4-5"), ("opus-4", "claude-opus-4-0"),
])
def test_aliases_resolve(alias, model):
    assert resolve_alias(alias) == model
    assert _rule(model).model == model


def _claude_version(model: str) -> tuple[int, ...] | None:
    m = re.fullmatch(r"claude-[a-z]+-(\d+)(?:-(\d+))?", model)
    if m:
        return (int(m.group(1)), int(m.group(2) or 0))
    m = re.fullmatch(r"claude-(\d+)-(\d+)-[a-z]+-latest", model)
    return (int(m.group(1)), int(m.group(2))) if m else None


def test_anthropic_family_aliases_point_to_newest_model_of_family():
    for family in ("haiku", "sonnet", "opus", "fable", "mythos"):
        target = _rule(resolve_alias(family))
        assert target.family == family
        versions = [v for r in all_rules() if r.family == family
                    if (v := _claude_version(r.model)) is not None]
        assert _claude_version(target.model) == max(versions), family


def test_every_alias_targets_a_rule_and_tier_aliases_need_a_provider():
    for alias, model in rules.aliases().items():
        assert _rule(model).model == model, alias
    assert resolve_alias("cheap", provider="anthropic") == "claude-haiku-5-5"
    assert resolve_alias("strong", provider="anthropic") == "claude-opus-5-5"
    assert resolve_alias("cheap", provider="openai") == "gpt-6-luna"
    assert _rule(resolve_alias("mid", provider="openai")).tier == "mid"
    with pytest.raises(ValueError, match="needs provider"):
        resolve_alias("cheap")


def test_full_ids_pass_through_unchanged():
    for name in ("claude-sonnet-4-5-20250929", "gpt-5-mini", "gpt-4.1",
                 "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4.5"):
        assert resolve_alias(name) == name
    assert resolve_alias("gpt-4-turbo") == "gpt-4-turbo"  # no cache rule, but genai-prices knows it


def test_unknown_alias_lists_known_aliases():
    with pytest.raises(ValueError) as exc:
        resolve_alias("gpt-9-ultra")
    msg = str(exc.value)
    assert "haiku -> claude-haiku-5-5" in msg and "sol -> gpt-6.1-sol" in msg
    with pytest.raises(ValueError):
        resolve_alias("")


# ------------------------------------------------------------ consistency with genai-prices

GP_UNKNOWN = {  # rows genai-prices 0.2.3 has no entry for
    "claude-mythos-5", "claude-mythos-5-1", "claude-mythos-preview", "gemini-3.x",
}


def _base(v: Any) -> Decimal | None:
    if v is None:
        return None
    return Decimal(v.base) if hasattr(v, "base") else Decimal(v)


def _tiers(v: Any) -> list[tuple[int, Decimal]]:
    return [(t.start, Decimal(t.price)) for t in getattr(v, "tiers", None) or []]


def _gp(model: str, provider: str, at: datetime = NOW) -> Any:
    return calc_price(Usage(input_tokens=1000), model, provider_id=provider,
                      genai_request_timestamp=at)


def _gp_ratio(price: Any, key: str) -> float:
    mp = price.model_price
    num = _base(getattr(mp, key))
    return 1.0 if num is None else float(num / _base(mp.input_mtok))


@pytest.mark.parametrize("row", all_rules(at=NOW), ids=lambda r: r.model)
def test_rules_agree_with_genai_prices(row):
    if row.model in GP_UNKNOWN:
        with pytest.raises(LookupError):
            _gp(row.model, row.provider)
        return
    price = _gp(row.model, row.provider)
    assert price.model.id == row.model, "model should carry genai-prices' canonical id"
    mp = price.model_price
    # cache reads (a missing cached-input price means no discount: read at the input rate)
    assert _gp_ratio(price, "cache_read_mtok") == pytest.approx(row.read_multiplier, rel=1e-9)
    for (start, inp), (start2, read) in zip(_tiers(mp.input_mtok), _tiers(mp.cache_read_mtok),
                                            strict=False):
        assert start == start2 and float(read / inp) == pytest.approx(row.read_multiplier)
    # cache writes
    if row.provider == "anthropic":
        assert _gp_ratio(price, "cache_write_mtok") == pytest.approx(row.write_multiplier("5m"))
        assert _gp_ratio(price, "cache_write_1h_mtok") == pytest.approx(row.write_multiplier("1h"))
    elif mp.cache_write_mtok is not None:  # OpenAI 5.6+
        assert _gp_ratio(price, "cache_write_mtok") == pytest.approx(row.write_multiplier())
    else:  # no write price: written tokens billed as plain input
        assert row.write_multiplier() == 1.0


@pytest.mark.parametrize("model", [
    "gemini-3.1-pro-preview", "gemini-3.1-flash-lite", "gemini-3.5-flash", "gemini-3.5-flash-lite",
    "gemini-3.6-flash", "gemini-3.7-flash", "gemini-3.8-flash",
])
def test_gemini_family_row_agrees_with_genai_prices(model):
    row = _rule(model)
    assert row.model == "gemini-3.x"
    assert _gp_ratio(_gp(model, "google"), "cache_read_mtok") == pytest.approx(row.read_multiplier)


def test_known_conflict_sonnet_5_5_history_in_genai_prices():
    """provider-rules §A4/§E1: Sonnet 5.5 reads were 0.1x before 2026-10-07. genai-prices 0.2.3
    has one flat $0.10 (0.05x) price for every date. If this fails, genai-prices changed its
    Sonnet 5.5 history: re-check the `changes` entry in cache_rules.yaml."""
    before = datetime(2026, 10, 1, 12, tzinfo=UTC)
    assert _rule("claude-sonnet-5-5", at=before).read_multiplier == 0.1
    assert _gp_ratio(_gp("claude-sonnet-5-5", "anthropic", before), "cache_read_mtok") == \
        pytest.approx(0.05)
