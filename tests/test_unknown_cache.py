"""Traces that report no cache figures (tau2-bench keeps only prompt and completion tokens):
``analyze`` says "unknown", never 0, and ``simulate --cache auto`` simulates OpenAI's automatic
prefix caching on those calls instead of keeping the trace's unknown as 0 reads, and says that
the provider applies it by itself (issue 9, item 4)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import agentcost
from agentcost.analysis import analyze
from agentcost.gate.figures import figures_of
from agentcost.simulation import Scenario, simulate
from tests.conftest import REAL

TAU2 = REAL / "tau2-bench" / "2025-08-10T02-44-06_telecom_llm_agent_gpt-4o_user_simulator_gpt-4o.json"


@pytest.fixture(scope="module")
def tau2() -> Any:
    return agentcost.load([str(TAU2)])


def test_analyze_says_unknown_not_zero(tau2: Any) -> None:
    rep = analyze(tau2)
    t = rep.totals
    assert t["cache_read_unknown_steps"] == t["llm_calls"] == 217
    for k in ("cache_read_tokens", "cache_write_tokens", "uncached_input_tokens",
              "cache_hit_ratio", "cache_net_savings_usd"):
        assert t[k] is None, k
    assert t["input_tokens"] == 1_547_053
    assert rep.models[0]["cache_hit_ratio"] is None
    warn = next(x for x in rep.warnings if "do not report cache reads" in x
                or "does not report cache reads" in x)
    assert "gpt-4o caches prompts automatically, so their cost is an upper bound" in warn


def test_analyze_text_prints_unknown(run: Any) -> None:
    out = run("analyze", str(TAU2)).stdout
    assert "cache hit ratio       unknown" in out
    assert "cache net savings     unknown" in out
    head = out.split("Costliest")[0]
    assert "cache read 0" not in head and " 0.0%" not in head


def test_check_gate_keeps_unknown_cache_figures_inexact(tau2: Any) -> None:
    figs = figures_of(analyze(tau2).totals, total=False)
    assert not figs["uncached_input_tokens"].is_exact
    assert figs["uncached_input_tokens"].hi == 1_547_053
    assert not figs["cache_hit_ratio"].is_exact
    assert "cache reads unknown" in (figs["cache_hit_ratio"].why or "")


def test_simulate_cache_auto_simulates_openai_implicit_caching(tau2: Any) -> None:
    rep = simulate(tau2, Scenario(name="auto", cache="auto")).to_dict()
    base, sc = rep["baseline"], rep["scenarios"][0]
    # the baseline does not know the cache figures: unknown, priced as uncached
    assert base["cache_read_tokens"] is None and base["cache_hit_ratio"] is None
    assert base["cache_unknown_calls"] == 217
    assert any("217 of 217 llm calls report no cache fields" in a and "upper bound" in a
               for a in base["assumptions"])
    # every call is simulated (none kept "as observed": there is nothing observed to keep)
    cache = sc["details"]["cache"]
    assert cache["calls_simulated"] == 217 and cache["calls_as_observed"] == 0
    assert sc["cache_unknown_calls"] == 0
    reads = sc["cache_read_tokens"]
    assert 0 < reads < sc["input_tokens"]
    assert reads % 128 == 0  # OpenAI counts cached tokens in 128-token steps
    assert sc["cache_write_tokens"] == 0  # no write charge before GPT-5.6
    assert sc["delta_usd"] < 0
    # gpt-4o in August 2025: $2.50 input, $1.25 cached per million -> the saving is exactly
    # half the input price on the tokens read
    assert sc["delta_usd"] == pytest.approx(-reads * 1.25e-6, rel=1e-6)
    note = next(a for a in sc["assumptions"] if a.startswith("Caching simulated for 217 calls"))
    assert f"({reads:,} of their 1,547,053 input tokens read from the cache)" in note
    assert f"Δ (−${-sc['delta_usd']:,.2f})" in note
    assert "openai gpt-4o caches prompts automatically" in note


def test_simulate_text_shows_unknown_baseline_hit(run: Any) -> None:
    out = run("simulate", str(TAU2), "--cache", "auto").stdout
    base_row = next(line for line in out.splitlines() if line.strip().startswith("baseline"))
    assert "unknown" in base_row
    assert "217 calls simulated, 0 as observed" in out


T0 = datetime(2025, 8, 10, 2, 0, tzinfo=UTC)


def _row(task: str, k: int, inp: int) -> dict[str, Any]:
    return {"task_id": task, "kind": "llm", "name": "agent", "provider": "openai",
            "model": "gpt-4o", "started_at": (T0 + timedelta(seconds=10 * k)).isoformat(),
            "duration_ms": 2000, "input_tokens": inp, "output_tokens": 50}


def test_short_prompts_below_the_minimum_are_not_cached(tmp_path: Path) -> None:
    """Prompts under gpt-4o's 1,024-token minimum read nothing; above it, reads come in whole
    128-token steps of the previous prompt."""
    rows = [_row("short", k, 300 + 100 * k) for k in range(5)]  # 300..700 tokens
    rows += [_row("long", k, 2000 + 500 * k) for k in range(4)]  # 2,000..3,500 tokens
    p = tmp_path / "run.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    table = agentcost.load([str(p)])
    sc = simulate(table, Scenario(name="auto", cache="auto"))
    fig = sc.results[0].figures
    per_task = dict(zip(table.frame["task_id"].unique(), fig.task_cost, strict=False))
    base = sc.baseline
    assert fig.cost_usd < base.cost_usd
    # the short task costs what it cost: nothing of it can be cached
    short_i = list(table.frame["task_id"].unique()).index("short")
    assert per_task["short"] == pytest.approx(base.task_cost[short_i], rel=1e-12)
    # long task: each later prompt reads the previous one, floored to 128-token steps
    expected_reads = sum((2000 + 500 * k) // 128 * 128 for k in range(3))
    assert fig.cache_read_tokens == expected_reads
