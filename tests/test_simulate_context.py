"""``simulate``'s context levers (issue 17): tool-result caps and pruning, compaction, the
response cache — every one replayed through the prompt-cache simulation.

Expected dollars come from the price data (:class:`agentcost.pricing.Pricer`) at the traces'
own dates, never from prices written down here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import agentcost
from agentcost import schemas
from agentcost.pricing import Pricer
from agentcost.simulation import Scenario, Settings, simulate
from tests.conftest import AUTHENTIC, FIXTURES, REAL

ONE_BIG = FIXTURES / "anatomy" / "one_big_result.jsonl"
HOUR = "2026-11-02T10:00:00+00:00"
NOOP = Scenario(
    name="no-op",
    cap_tool_results=10_000_000,
    prune_tool_results_after=1_000_000,
    compact_at=1_000_000_000,
    response_cache=True,
)


def rates(model: str = "claude-sonnet-4-5", hour: str = HOUR) -> Any:
    r = Pricer().rates(model, "anthropic", None, hour)
    assert r is not None
    return r


def sim(table: Any, *scs: Scenario) -> dict[str, Any]:
    return simulate(table, list(scs), Settings()).to_dict()


def write(tmp_path: Path, rows: list[dict[str, Any]], name: str = "t.jsonl") -> Any:
    p = tmp_path / name
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return agentcost.load([str(p)])


def test_cap_tool_results_1000_saves_exactly_16000_input_tokens() -> None:
    doc = sim(agentcost.load([str(ONE_BIG)]), Scenario(name="cap", cap_tool_results=1000))
    base, sc = doc["baseline"], doc["scenarios"][0]
    assert base["input_tokens"] - sc["input_tokens"] == 16_000
    assert sc["details"]["context"]["tool_results_capped"] == 1
    assert sc["details"]["context_saved"]["input_tokens"] == 16_000
    # no caching in this trace: every saved token is an uncached input token
    assert base["cost_usd"] - sc["cost_usd"] == pytest.approx(16_000 * rates().uncached, rel=1e-9)
    assert any("capped at 1,000 tokens" in s for s in sc["assumptions"])


@pytest.mark.parametrize(
    "trace",
    [
        str(ONE_BIG),
        "sample_traces",
        str(AUTHENTIC / "stand-in-wire-capture" / "anthropic.wire.jsonl"),
        str(AUTHENTIC / "stand-in-wire-capture" / "openai_responses.wire.jsonl"),
    ],
)
def test_no_op_settings_reproduce_the_baseline_exactly(trace: str) -> None:
    doc = sim(agentcost.load([trace]), NOOP)
    base, sc = doc["baseline"], doc["scenarios"][0]
    for k in (
        "cost_usd",
        "input_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "output_tokens",
        "cache_hit_ratio",
        "latency_p50_s",
        "latency_p95_s",
        "llm_calls",
    ):
        assert sc[k] == base[k], k
    assert sc["delta_usd"] == 0 and sc["details"]["response_cache"]["calls_served"] == 0


def _cached_loop(big_first: int = 300, turns: int = 10) -> list[dict[str, Any]]:
    """An Anthropic agent loop that caches its whole prompt on every call (a breakpoint on
    the last block): each call reads the previous prompt and writes what is new."""
    head = [
        {"role": "tools", "tokens": 2000, "hash": "tools"},
        {"role": "system", "tokens": 3000, "hash": "sys"},
        {"role": "user", "tokens": 200, "hash": "u0"},
    ]
    rows, segs, prev = [], list(head), 0
    for k in range(turns):
        s = [dict(x) for x in segs]
        s[-1]["breakpoint"] = True
        inp = sum(x["tokens"] for x in s)
        rows.append(
            {
                "task_id": "loop",
                "kind": "llm",
                "provider": "anthropic",
                "model": "claude-sonnet-4-6",
                "started_at": f"2026-11-03T14:00:{k * 5:02d}Z",
                "duration_ms": 2000,
                "ttft_ms": 400,
                "input_tokens": inp,
                "cache_read_tokens": prev,
                "cache_write_tokens": inp - prev,
                "output_tokens": 100,
                "stop_reason": "tool_use",
                "segments": s,
            }
        )
        prev = inp
        segs += [
            {"role": "assistant", "tokens": 100, "hash": f"a{k}"},
            {
                "role": "tool",
                "tokens": big_first if k == 0 else 150,
                "hash": f"r{k}",
                "name": "grep",
                "call_id": f"c{k}",
            },
        ]
    return rows


def test_a_prune_that_breaks_the_cached_prefix_pays_for_it(tmp_path: Path) -> None:
    table = write(tmp_path, _cached_loop())
    doc = sim(table, Scenario(name="prune", prune_tool_results_after=1, stub_tokens=20))
    base, sc = doc["baseline"], doc["scenarios"][0]
    assert sc["input_tokens"] < base["input_tokens"]  # tokens saved ...
    assert sc["cost_usd"] > base["cost_usd"]  # ... dollars lost: the prefix changes each time
    assert sc["cache_write_tokens"] > base["cache_write_tokens"]
    assert sc["cache_read_tokens"] < base["cache_read_tokens"]
    assert any(s.startswith("Tokens and dollars disagree") for s in sc["assumptions"])
    # capping from the first send keeps the prefix stable: tokens and dollars both saved
    cap = sim(table, Scenario(name="cap", cap_tool_results=100))["scenarios"][0]
    assert cap["input_tokens"] < base["input_tokens"] and cap["cost_usd"] < base["cost_usd"]
    assert not any(s.startswith("Tokens and dollars") for s in cap["assumptions"])


def test_compaction_adds_priced_summarising_calls() -> None:
    sc = Scenario(
        name="compact", compact_at=8000, summary_tokens=500, summary_model="claude-haiku-4-5"
    )
    doc = sim(agentcost.load([str(ONE_BIG)]), sc)
    base, s = doc["baseline"], doc["scenarios"][0]
    c = s["details"]["context"]
    assert c["compactions"] == c["summary_calls"] >= 1
    assert s["llm_calls"] == base["llm_calls"] + c["summary_calls"]
    r = rates("claude-haiku-4-5")
    assert c["summary_cost_usd"] == pytest.approx(
        c["summary_input_tokens"] * r.uncached + 500 * c["summary_calls"] * r.output, rel=1e-9
    )
    assert c["summary_models"] == ["claude-haiku-4-5"]
    assert any("summarising call" in a and "claude-haiku-4-5" in a for a in s["assumptions"])


def test_compaction_keeps_prompts_under_the_limit_plus_the_last_turn() -> None:
    from agentcost.simulation.context import ContextEditor
    from agentcost.simulation.workload import prepare

    table = agentcost.load([str(ONE_BIG)])
    w = prepare(table)
    ed = ContextEditor(w, Scenario(compact_at=8000, summary_tokens=500))
    sizes = []
    for i in range(w.n_llm):
        ch, n, cum = w.prompt(i)
        toks = [cum[0]] + [cum[j] - cum[j - 1] for j in range(1, n)]
        out = ed.edit(i, (ch.h[:n], toks, ch.role[:n], ch.turn[:n]))
        sizes.append(sum(out[1]))
    assert sizes[0] == 2300 and max(sizes[1:]) < 8000 + 5000  # summary + the last turn


def _pair(second_text: str) -> list[dict[str, Any]]:
    system = "You are a support agent for a bicycle shop. Answer briefly and politely."
    first = (
        "Hello, I bought a red city bike from your shop last month and the rear brake "
        "squeaks loudly whenever I ride downhill in the rain. What should I do about it?"
    )
    rows = []
    for k, text in enumerate((first, second_text)):
        body = {
            "model": "claude-sonnet-4-6",
            "system": system,
            "messages": [{"role": "user", "content": text}],
        }
        rows.append(
            {
                "task_id": f"ticket-{k}",
                "kind": "llm",
                "provider": "anthropic",
                "model": "claude-sonnet-4-6",
                "started_at": f"2026-11-03T14:0{k}:00Z",
                "duration_ms": 3000,
                "input_tokens": 1200,
                "cache_read_tokens": 0,
                "cache_write_tokens": 0,
                "output_tokens": 300,
                "stop_reason": "end_turn",
                "request": body,
            }
        )
    return rows


def test_response_cache_exact_serves_identical_requests_only(tmp_path: Path) -> None:
    first = _pair("x")[0]["request"]["messages"][0]["content"]
    same = write(tmp_path, _pair(first), "same.jsonl")
    doc = sim(same, Scenario(name="rc", response_cache=True))
    base, s = doc["baseline"], doc["scenarios"][0]
    rc = s["details"]["response_cache"]
    assert rc["calls_served"] == 1 and rc["input_tokens_not_sent"] == 1200
    r = rates("claude-sonnet-4-6", "2026-11-03T14:00:00+00:00")
    assert base["cost_usd"] - s["cost_usd"] == pytest.approx(
        1200 * r.uncached + 300 * r.output, rel=1e-9
    )
    other = write(tmp_path, _pair(first.replace("squeaks", "squeals")), "near.jsonl")
    assert (
        sim(other, Scenario(name="rc", response_cache=True))["scenarios"][0]["details"][
            "response_cache"
        ]["calls_served"]
        == 0
    )


def test_response_cache_near_is_lexical(tmp_path: Path) -> None:
    first = _pair("x")[0]["request"]["messages"][0]["content"]
    near = write(tmp_path, _pair(first.replace("squeaks", "squeals").upper()), "near.jsonl")
    sc = Scenario(name="rc", response_cache=True, similarity="near", near_threshold=0.7)
    s = sim(near, sc)["scenarios"][0]
    assert s["details"]["response_cache"]["calls_served"] == 1
    assert s["details"]["response_cache_near"]["calls_compared"] == 2
    assert any("lexical, not semantic" in a for a in s["assumptions"])
    # the same question in other words is not lexically near
    para = write(
        tmp_path,
        _pair(
            "My new crimson commuter bicycle makes a noise when braking "
            "on wet descents; any advice?"
        ),
        "para.jsonl",
    )
    assert sim(para, sc)["scenarios"][0]["details"]["response_cache"]["calls_served"] == 0


def test_cli_levers_and_their_companions(run: Any) -> None:
    res = run("simulate", str(ONE_BIG), "--cap-tool-results", "1000", "--format", "json")
    doc = json.loads(res.stdout)
    assert doc["baseline"]["input_tokens"] - doc["scenarios"][0]["input_tokens"] == 16_000
    assert schemas.errors("simulate", doc) == []
    table = run("simulate", str(ONE_BIG), "--cap-tool-results", "1000").stdout
    assert "saved    input tokens +16,000" in table and "1 result capped" in table
    bad = run("simulate", str(ONE_BIG), "--stub-tokens", "5")
    assert bad.exit_code == 2
    assert "--stub-tokens: only meaningful with --prune-tool-results-after" in bad.stderr
    bad = run("simulate", str(ONE_BIG), "--response-cache", "--similarity", "fuzzy")
    assert bad.exit_code == 2 and "--similarity: must be one of exact, near" in bad.stderr


def test_scenario_file_keys(tmp_path: Path) -> None:
    from agentcost.errors import ConfigError
    from agentcost.simulation.scenario import load_scenarios_doc

    scs, _ = load_scenarios_doc(
        {
            "scenarios": [
                {
                    "name": "lean",
                    "cap_tool_results": 2000,
                    "prune-tool-results-after": 4,
                    "stub_tokens": 30,
                    "compact_at": 100000,
                    "summary_tokens": 1500,
                    "response_cache": {"similarity": "near", "threshold": 0.8},
                }
            ]
        },
        "s.yaml",
    )
    sc = scs[0]
    assert (
        sc.cap_tool_results,
        sc.prune_tool_results_after,
        sc.stub_tokens,
        sc.compact_at,
        sc.summary_tokens,
        sc.similarity,
        sc.near_threshold,
    ) == (2000, 4, 30, 100000, 1500, "near", 0.8)
    assert sc.levers() == ["tool_results", "compaction", "response_cache"]
    with pytest.raises(ConfigError, match=r"scenarios\[0\].summary_tokens: only meaningful"):
        load_scenarios_doc({"scenarios": [{"name": "x", "summary_tokens": 10}]}, "s.yaml")
    with pytest.raises(ConfigError, match="threshold: expected a Jaccard"):
        load_scenarios_doc(
            {"scenarios": [{"name": "x", "response_cache": {"threshold": 2}}]}, "s.yaml"
        )


def test_claude_code_logs_get_the_levers(run: Any) -> None:
    path = REAL / "claude-code-spotter" / "4d5611e5-241a-462a-8d15-5122611a9569.jsonl"
    res = run("simulate", str(path), "--cap-tool-results", "2000", "--format", "json")
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)["scenarios"][0]
    assert s["details"]["context"]["tool_results_capped"] > 0
    assert s["details"]["context_saved"]["input_tokens"] > 0
    assert s["details"]["context"]["calls_without_segments"] < s["llm_calls"] * 0.1


def test_rebuilt_claude_code_segments_replay_the_reported_cache_reads() -> None:
    """The prompt-cache replay over the segments rebuilt from a real Claude Code session
    reproduces the cache reads the API reported to within 2 %: the rebuilt prefixes are the
    ones the server cached."""
    import re

    path = REAL / "claude-code-spotter" / "4d5611e5-241a-462a-8d15-5122611a9569.jsonl"
    table = agentcost.load([str(path)], conversations=True)
    s = sim(table, Scenario(name="cap", cap_tool_results=2000))["scenarios"][0]
    line = next(a for a in s["assumptions"] if a.startswith("Calibration"))
    m = re.search(r"gives ([\d,]+) cache-read tokens against ([\d,]+) reported", line)
    assert m is not None, line
    got, reported = (int(x.replace(",", "")) for x in m.groups())
    assert reported > 10_000_000
    assert abs(got - reported) / reported < 0.02


def test_a_prompt_without_history_is_not_compacted() -> None:
    """The first call holds only tools, system and the first user message: nothing before its
    last turn to summarise, however large; each later call over the limit compacts once."""
    s = sim(agentcost.load([str(ONE_BIG)]), Scenario(name="c", compact_at=100))["scenarios"][0]
    assert s["details"]["context"]["compactions"] == 4  # calls 2-5, not call 1


def test_summaries_default_to_the_traces_cheap_model() -> None:
    """No --summary-model, no cascade: the haiku of the trace's sonnet generation writes the
    summaries, resolved against the trace as a cascade's cheap alias is."""
    doc = sim(agentcost.load([str(ONE_BIG)]), Scenario(name="c", compact_at=8000))
    c = doc["scenarios"][0]["details"]["context"]
    assert c["summary_models"] == ["claude-haiku-4-5"]  # the trace runs claude-sonnet-4-5
    r = rates("claude-haiku-4-5")
    assert c["summary_cost_usd"] == pytest.approx(
        c["summary_input_tokens"] * r.uncached + 2000 * c["summary_calls"] * r.output, rel=1e-9
    )
