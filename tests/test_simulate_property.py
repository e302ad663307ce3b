"""Property tests: a scenario that changes nothing reproduces the baseline exactly, over random
traces (models with and without caching rules or prices, with and without segments and times,
observed cache reads and writes, batch-tier steps, tool calls)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentcost.ingest.base import IngestReport
from agentcost.pricing import price_frame
from agentcost.simulation import Scenario, Settings, simulate
from agentcost.steps import StepBuilder, build_frame, check_tokens
from agentcost.table import StepTable

T0 = 1_793_700_000_000_000_000
MODELS = [("claude-sonnet-4-6", "anthropic"), ("claude-haiku-5-5", "anthropic"),
          ("gpt-4.1-mini", "openai"), ("gpt-5.6-sol", "openai"), ("acme-llama", "acme"),
          (None, None)]
FIELDS = ("cost_usd", "input_tokens", "cache_read_tokens", "cache_write_tokens",
          "output_tokens", "cache_hit_ratio", "latency_p50_s", "latency_p95_s", "tasks",
          "cost_is_lower_bound", "llm_calls", "tasks_cut", "cost_per_task_usd")


@st.composite
def traces(draw: Any) -> StepTable:
    b = StepBuilder()
    n_tasks = draw(st.integers(1, 4))
    for t in range(n_tasks):
        model, provider = draw(st.sampled_from(MODELS))
        timed = draw(st.booleans())
        with_segs = draw(st.booleans())
        tier = draw(st.sampled_from([None, "standard", "batch"]))
        now = T0 + draw(st.integers(0, 3_600)) * 1_000_000_000
        history = [{"role": "system", "tokens": draw(st.integers(0, 3000)),
                    "hash": draw(st.sampled_from(["sys-a", "sys-b"]))},
                   {"role": "user", "tokens": draw(st.integers(1, 500)), "hash": f"u{t}"}]
        n = draw(st.integers(1, 5))
        for k in range(n):
            segs = list(history)
            inp = sum(s["tokens"] for s in segs)
            read = draw(st.integers(0, inp))
            write = draw(st.integers(0, inp - read))
            w1 = draw(st.integers(0, write))
            out = draw(st.integers(0, 2000))
            ntools = 0 if k == n - 1 else draw(st.integers(0, 2))
            dur = float(draw(st.integers(1, 60_000)))
            row: dict[str, Any] = {
                "task_id": f"task-{t}", "kind": "llm", "name": draw(st.sampled_from(
                    ["agent", "plan"])), "model": model, "provider": provider,
                "started_at": now if timed else None, "duration_ms": dur,
                "ttft_ms": draw(st.one_of(st.none(), st.floats(1, dur))),
                "input_tokens": inp, "cache_read_tokens": read, "cache_write_tokens": write,
                "cache_write_5m_tokens": write - w1, "cache_write_1h_tokens": w1,
                "output_tokens": out, "stop_reason": "tool_use" if ntools else "end_turn",
                "tool_calls": [f"tool{j}" for j in range(ntools)], "service_tier": tier,
                "segments": segs if with_segs else None, "source": "prop", "format": "agentcost"}
            assert check_tokens(row, "prop") is None
            b.add(row)
            now += int(dur * 1e6) + 1_000_000
            history = history + [{"role": "assistant", "tokens": out, "hash": f"a{t}-{k}"}]
            for j in range(ntools):
                tdur = float(draw(st.integers(1, 5000)))
                b.add({"task_id": f"task-{t}", "kind": "tool", "name": f"tool{j}",
                       "started_at": now if timed else None, "duration_ms": tdur,
                       "tool_input_hash": f"{t}-{k}-{j}", "source": "prop",
                       "format": "agentcost"})
                now += int(tdur * 1e6)
                history = history + [{"role": "tool", "tokens": draw(st.integers(0, 800)),
                                      "hash": f"r{t}-{k}-{j}"}]
    df = build_frame(b)
    return StepTable(frame=df, ingest=IngestReport(), pricing=price_frame(df))


NOOPS = [
    Scenario(name="noop"),
    Scenario(name="observed", cache="observed"),
    Scenario(name="huge caps", max_iterations=10_000, token_budget=10**12,
             max_output_tokens=10**9),
    Scenario(name="long history", trim_history=1_000),
    Scenario(name="no repeats", tool_cache=True),
]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traces())
def test_a_scenario_that_changes_nothing_reproduces_the_baseline(table):
    doc = simulate(table, NOOPS).to_dict()
    base = doc["baseline"]
    priced = table.frame["cost_usd"].dropna()
    # the report rounds dollars to 8 decimals, as analyze does
    assert base["cost_usd"] == pytest.approx(float(priced.sum()), rel=1e-12, abs=1e-8)
    assert base["tasks"] == table.frame["task_id"].nunique()
    for s in doc["scenarios"]:
        for k in FIELDS:
            assert _same(s[k], base[k]), (s["name"], k, s[k], base[k])
        assert s["delta_usd"] == 0.0
        assert s["delta_pct"] in (0.0, None)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traces(), st.sampled_from(["off", "auto", "stable", "stable+last", "observed"]),
       st.booleans())
def test_replays_keep_token_invariants(table, cache, calibrate):
    doc = simulate(table, [Scenario(name="s", cache=cache, trim_history=2,
                                    max_output_tokens=300)],
                   Settings(calibrate=calibrate)).to_dict()
    s = doc["scenarios"][0]
    assert 0 <= s["cache_read_tokens"] + s["cache_write_tokens"] <= s["input_tokens"]
    assert s["input_tokens"] <= doc["baseline"]["input_tokens"]
    assert s["output_tokens"] <= doc["baseline"]["output_tokens"]
    assert math.isfinite(s["cost_usd"])
    if cache == "off":
        assert s["cache_read_tokens"] == 0


def test_parallel_workers_give_the_same_report(monkeypatch):
    """The pool used for large traces returns exactly what the in-process runs return."""
    import agentcost
    import agentcost.simulation.jobs as sim
    from tests.test_simulate import cascade

    table = agentcost.load(["sample_traces"])
    scs = [Scenario(name="auto", cache="auto", trim_history=3), cascade(escalation_rate=0.2),
           Scenario(name="batch", batch=True, max_iterations=5)]
    monkeypatch.setenv("AGENTCOST_JOBS", "1")
    one = simulate(table, scs, Settings(with_range=True)).to_dict()
    monkeypatch.setenv("AGENTCOST_JOBS", "2")
    monkeypatch.setattr(sim, "PARALLEL_MIN_CALLS", 0)
    two = simulate(table, scs, Settings(with_range=True)).to_dict()
    assert one == two
