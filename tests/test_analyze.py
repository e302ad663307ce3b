"""analyze metrics and findings on the bundled samples (numbers checked by hand)."""

from __future__ import annotations

import json

import pytest

import agentcost
from agentcost.analysis import AnalyzeOptions
from agentcost.errors import InputError
from tests.conftest import REPO

SAMPLES = REPO / "sample_traces"


@pytest.fixture(scope="module")
def research():
    return agentcost.analyze(agentcost.load([str(SAMPLES / "research_agent.jsonl")]))


@pytest.fixture(scope="module")
def support():
    return agentcost.analyze(agentcost.load([str(SAMPLES / "support_agent.jsonl")]))


def test_research_agent_worked_example(research):
    # The worked example: 4 model calls, 3 tool calls, 24,600 in vs 930 out (26:1),
    # input 84% of the bill, model calls 88% of the wall time, the prompt tripling.
    t = research.totals
    assert (t["tasks"], t["llm_calls"], t["tool_calls"]) == (1, 4, 3)
    assert (t["input_tokens"], t["output_tokens"]) == (24_600, 930)
    assert t["io_ratio"] == pytest.approx(24_600 / 930, abs=0.01)
    assert t["input_cost_share"] == pytest.approx(0.0738 / (0.0738 + 0.01395), abs=1e-4)
    assert t["llm_time_share"] == pytest.approx(15.0 / 17.05, abs=1e-4)
    assert t["cost_usd"] == pytest.approx(0.0738 + 0.01395)
    task = research.tasks[0]
    assert task["iterations"] == 4
    assert task["context_growth"] == pytest.approx(9_200 / 3_100, abs=0.01)
    assert task["wall_time_s"] == pytest.approx(17.35)
    assert t["ttft_p50_ms"] == pytest.approx(760.0)
    assert research.findings == []


def test_support_findings(support):
    by_type = {f["type"]: f for f in support.findings}
    assert set(by_type) == {"cache-lost-money", "runaway-loop", "sequential-tools",
                            "repeated-tool-call"}
    assert by_type["runaway-loop"]["task_id"] == "ticket-4713"
    assert by_type["sequential-tools"]["task_id"] == "ticket-4711"
    # get_shipping_status 650 ms then get_refund_policy 380 ms: parallel saves the shorter one
    assert by_type["sequential-tools"]["seconds_at_stake"] == pytest.approx(0.38)
    assert by_type["repeated-tool-call"]["task_id"] == "ticket-4712"
    # the volatile system prompt made every call re-write the cache: caching lost money
    lost = by_type["cache-lost-money"]
    assert lost["task_id"] == "ticket-4714" and lost["usd_at_stake"] > 0
    # ticket-4715 ran its tools in parallel: no sequential finding for it
    assert not any(f["task_id"] == "ticket-4715" and f["type"] == "sequential-tools"
                   for f in support.findings)


def test_cache_metrics_consistent(support):
    t = support.totals
    assert t["cache_hit_ratio"] == pytest.approx(t["cache_read_tokens"] / t["input_tokens"],
                                                 abs=1e-4)
    assert t["uncached_input_tokens"] == (t["input_tokens"] - t["cache_read_tokens"]
                                          - t["cache_write_tokens"])
    assert sum(x["cost_usd"] for x in support.tasks) == pytest.approx(t["cost_usd"])
    assert sum(m["llm_calls"] for m in support.models) == t["llm_calls"]


def test_cap_and_budget_findings():
    table = agentcost.load([str(SAMPLES / "support_agent.jsonl")])
    rep = agentcost.analyze(table, AnalyzeOptions(max_iterations=2, token_budget=20_000))
    runaway = {f["task_id"] for f in rep.findings if f["type"] == "runaway-loop"}
    assert runaway == {"ticket-4711", "ticket-4712", "ticket-4713", "ticket-4715"}


def test_group_by_and_task_view():
    table = agentcost.load([str(SAMPLES)])
    rep = agentcost.analyze(table, AnalyzeOptions(group_by="model"))
    assert {g["model"] for g in rep.groups} == {"claude-sonnet-4-6", "claude-sonnet-4-5"}
    rep = agentcost.analyze(table, AnalyzeOptions(group_by="day"))
    assert [g["day"] for g in rep.groups] == ["2026-11-02", "2026-11-03"]
    rep = agentcost.analyze(table, AnalyzeOptions(task="ticket-4711"))
    assert rep.task_steps is not None and list(rep.task_steps["step"]) == list(range(1, 7))
    with pytest.raises(InputError, match="no task"):
        agentcost.analyze(table, AnalyzeOptions(task="nope"))


def test_json_contract(support):
    d = json.loads(json.dumps(support.to_dict()))
    assert d["schema_version"] == 1
    assert set(d) >= {"totals", "tasks", "models", "warnings", "ingest", "pricing", "findings"}
    for key in ("cost_usd", "cache_hit_ratio", "io_ratio", "input_cost_share", "llm_time_share",
                "cache_net_savings_usd", "tasks", "llm_calls", "tool_calls", "input_tokens",
                "cache_read_tokens", "cache_write_tokens", "output_tokens"):
        assert key in d["totals"]
    for key in ("iterations", "context_growth", "cost_usd", "task_id"):
        assert key in d["tasks"][0]
    assert d["pricing"]["source"] == "genai-prices"


def test_steps_without_usage_make_totals_lower_bounds(tmp_path):
    p = tmp_path / "t.jsonl"
    p.write_text(
        '{"task_id": "a", "kind": "llm", "model": "claude-sonnet-4-5", "input_tokens": 1000,'
        ' "output_tokens": 10}\n'
        '{"task_id": "a", "kind": "llm", "model": "claude-sonnet-4-5"}\n')
    rep = agentcost.analyze(agentcost.load([str(p)]))
    assert rep.totals["cost_is_lower_bound"] and rep.totals["no_usage_steps"] == 1
    assert rep.totals["cost_usd"] == pytest.approx(1000 * 3e-6 + 10 * 15e-6)
    assert any("no token usage" in w for w in rep.warnings)


def test_report_does_not_depend_on_row_order():
    """analyze orders steps itself: a shuffled table (not from finalize) gives the same report."""
    import numpy as np

    from agentcost.table import StepTable

    table = agentcost.load([str(SAMPLES / "support_agent.jsonl")])
    ref = agentcost.analyze(table).to_dict()
    perm = np.random.default_rng(7).permutation(len(table.frame))
    shuffled = StepTable(frame=table.frame.iloc[perm].reset_index(drop=True),
                         ingest=table.ingest, pricing=table.pricing)
    got = agentcost.analyze(shuffled).to_dict()
    assert got["findings"] == ref["findings"]
    assert got["totals"] == ref["totals"]
    assert sorted(got["tasks"], key=lambda t: t["task_id"]) == sorted(
        ref["tasks"], key=lambda t: t["task_id"])
    assert len(ref["findings"]) > 0


def test_failed_calls_without_usage_cost_nothing_but_unknown_usage_stays_unknown(tmp_path):
    """A call that failed (429/529) and reported no usage was not billed: $0, not a lower
    bound. A call without usage that did not fail stays unknown."""
    p = tmp_path / "t.jsonl"
    p.write_text(
        '{"task_id": "a", "kind": "llm", "model": "claude-sonnet-4-5", "input_tokens": 1000,'
        ' "output_tokens": 10}\n'
        '{"task_id": "a", "kind": "llm", "model": "claude-sonnet-4-5", "is_error": true}\n'
        '{"task_id": "b", "kind": "llm", "model": "claude-sonnet-4-5", "input_tokens": 500,'
        ' "output_tokens": 5}\n')
    table = agentcost.load([str(p)])
    failed = table.frame[table.frame["cost_source"] == "failed-call"]
    assert len(failed) == 1 and float(failed["cost_usd"].iloc[0]) == 0.0
    assert table.pricing.failed_no_usage_steps == 1 and not table.pricing.lower_bound
    rep = agentcost.analyze(table)
    assert not rep.totals["cost_is_lower_bound"] and rep.totals["no_usage_steps"] == 0
    assert rep.totals["cost_usd"] == pytest.approx(1500 * 3e-6 + 15 * 15e-6)
    assert any("failed llm calls carry no token usage" in w for w in rep.warnings)
    sim = agentcost.simulate(table, [])
    assert sim.baseline.cost_usd == pytest.approx(rep.totals["cost_usd"])
    assert not sim.baseline.cost_is_lower_bound
    # the same line without is_error: unknown, and the total a lower bound
    p.write_text(p.read_text().replace(', "is_error": true', ""))
    rep2 = agentcost.analyze(agentcost.load([str(p)]))
    assert rep2.totals["cost_is_lower_bound"] and rep2.totals["no_usage_steps"] == 1
