"""``agentcost.simulate``: every lever against hand-computed expectations.

Prices used below (genai-prices bundled data, USD per million tokens, November 2026):

* claude-sonnet-4-6: input 3, cache read 0.30, 5m write 3.75, 1h write 6, output 15
* claude-sonnet-5-5: input 2, read 0.10, 5m write 2.50, output 10
* claude-haiku-5-5:  input 0.10, read 0.01, 5m write 0.125, output 0.50
* claude-haiku-4-5:  input 1, output 5
* gpt-4.1-mini: input 0.40, cached 0.10, output 1.60 (no write charge; reads in 128-token steps)
* gpt-5.6-sol: input 4, cached 0.40, write 5 (1.25x), output 20
* gpt-4.1: input 2, output 8

Costs in the comments are written in "micro-dollars per token × tokens", i.e. dollars × 1e6.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import agentcost
from agentcost.simulation import Scenario, Settings, simulate
from agentcost.simulation.scenario import parse_cascade

T0 = datetime(2026, 11, 3, 14, 0, 0, tzinfo=UTC)


# ----------------------------------------------------------------------------- helpers


def iso(s: float) -> str:
    return (T0 + timedelta(seconds=s)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def seg(role: str, tokens: int, h: str) -> dict[str, Any]:
    return {"role": role, "tokens": tokens, "hash": h}


def llm(task: str, at: float, segs: list[dict[str, Any]] | None = None, *, inp: int | None = None,
        out: int = 100, model: str = "claude-sonnet-4-6", provider: str = "anthropic",
        read: int = 0, write: int = 0, w1: int = 0, dur: float = 2000, ttft: float | None = 500,
        stop: str = "tool_use", tools: tuple[str, ...] = (), name: str = "agent"
        ) -> dict[str, Any]:
    row: dict[str, Any] = {
        "task_id": task, "kind": "llm", "name": name, "provider": provider, "model": model,
        "started_at": iso(at), "duration_ms": dur, "input_tokens": inp if inp is not None
        else sum(s["tokens"] for s in segs or []),
        "cache_read_tokens": read, "cache_write_tokens": write,
        "cache_write_5m_tokens": write - w1, "cache_write_1h_tokens": w1,
        "output_tokens": out, "stop_reason": stop, "tool_calls": list(tools)}
    if ttft is not None:
        row["ttft_ms"] = ttft
    if segs is not None:
        row["segments"] = segs
    return row


def tool(task: str, at: float, dur: float, name: str, args: str | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"task_id": task, "kind": "tool", "name": name, "started_at": iso(at),
                           "duration_ms": dur}
    if args is not None:
        row["tool_input_hash"] = args
    return row


def load(tmp_path: Path, rows: list[dict[str, Any]], name: str = "trace.jsonl") -> Any:
    p = tmp_path / name
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return agentcost.load([str(p)])


def run(table: Any, *scenarios: Scenario, **settings: Any) -> dict[str, Any]:
    return simulate(table, list(scenarios), Settings(**settings)).to_dict()


def fig(doc: dict[str, Any], name: str) -> dict[str, Any]:
    if name == "baseline":
        return doc["baseline"]
    return next(s for s in doc["scenarios"] if s["name"] == name)


def usd(micro: float) -> float:
    return pytest.approx(micro / 1e6, rel=1e-9, abs=1e-12)


TS, SS, U0 = seg("tools", 1200, "tools-v1"), seg("system", 2600, "sys-v1"), seg("user", 200, "u0")
A0, R0 = seg("assistant", 100, "a0"), seg("tool", 500, "r0")
A1, R1 = seg("assistant", 100, "a1"), seg("tool", 300, "r1")
C1 = [TS, SS, U0]  # 4,000 tokens
C2 = C1 + [A0, R0]  # 4,600
C3 = C2 + [A1, R1]  # 5,000


def three_calls(task: str = "t1", at: float = 0.0, gaps: tuple[float, float] = (10, 10),
                model: str = "claude-sonnet-4-6") -> list[dict[str, Any]]:
    return [llm(task, at, C1, out=100, model=model),
            llm(task, at + gaps[0], C2, out=100, model=model),
            llm(task, at + gaps[0] + gaps[1], C3, out=200, stop="end_turn", model=model)]


# ------------------------------------------------------------------------ baseline / no-op


def test_baseline_is_the_trace_repriced(tmp_path):
    tab = load(tmp_path, three_calls())
    doc = run(tab, Scenario(name="noop"), Scenario(name="observed", cache="observed"))
    base = doc["baseline"]
    # (4000 + 4600 + 5000) * 3 + (100 + 100 + 200) * 15 = 40,800 + 6,000
    assert base["cost_usd"] == usd(46_800)
    assert base["cost_usd"] == pytest.approx(float(tab.frame["cost_usd"].sum()), rel=1e-12)
    assert base["delta_usd"] == 0 and base["delta_pct"] == 0
    for name in ("noop", "observed"):
        s = fig(doc, name)
        for k in ("cost_usd", "input_tokens", "cache_read_tokens", "cache_write_tokens",
                  "output_tokens", "cache_hit_ratio", "latency_p50_s", "latency_p95_s",
                  "tasks"):
            assert s[k] == base[k], (name, k)
        assert s["delta_usd"] == 0.0


def test_json_shape_is_design_section_6(tmp_path):
    doc = run(load(tmp_path, three_calls()), Scenario(name="auto", cache="auto"))
    assert list(doc) == ["schema_version", "baseline", "scenarios"]
    assert doc["schema_version"] == 1
    required = ["name", "cost_usd", "delta_usd", "delta_pct", "input_tokens",
                "cache_read_tokens", "cache_write_tokens", "output_tokens", "cache_hit_ratio",
                "latency_p50_s", "latency_p95_s", "tasks", "assumptions"]
    for d in (doc["baseline"], *doc["scenarios"]):
        assert list(d)[: len(required)] == required
        assert isinstance(d["assumptions"], list) and all(isinstance(a, str)
                                                          for a in d["assumptions"])
        assert d["assumptions"]


# ------------------------------------------------------------------------ 1. prompt caching


def test_cache_auto_within_a_task(tmp_path):
    doc = run(load(tmp_path, three_calls()), Scenario(name="auto", cache="auto"))
    s = fig(doc, "auto")
    # one breakpoint on the last block:
    # call 1 writes 4,000 (5m): 4000 * 3.75 = 15,000
    # call 2 walks back from block 4 and hits the entry at block 2: read 4,000 (1,200),
    #        write 600 (2,250)
    # call 3 hits block 4: read 4,600 (1,380), write 400 (1,500)
    # output 400 * 15 = 6,000
    assert s["cache_read_tokens"] == 8_600
    assert s["cache_write_tokens"] == 5_000
    assert s["cost_usd"] == usd(15_000 + 1_200 + 2_250 + 1_380 + 1_500 + 6_000)
    assert s["cache_hit_ratio"] == pytest.approx(8_600 / 13_600, abs=1e-4)
    assert s["delta_usd"] == usd(27_330 - 46_800)
    assert any("Anthropic caching" in a for a in s["assumptions"])


def test_cache_stable_breakpoint(tmp_path):
    doc = run(load(tmp_path, three_calls()), Scenario(name="stable", cache="stable"))
    s = fig(doc, "stable")
    # breakpoint after tools + system (3,800 tokens):
    # call 1: write 3,800 (14,250) + 200 uncached (600)
    # call 2: read 3,800 (1,140) + 800 uncached (2,400)
    # call 3: read 3,800 (1,140) + 1,200 uncached (3,600); output 6,000
    assert (s["cache_read_tokens"], s["cache_write_tokens"]) == (7_600, 3_800)
    assert s["cost_usd"] == usd(14_250 + 600 + 1_140 + 2_400 + 1_140 + 3_600 + 6_000)


def test_cache_shared_across_tasks_of_a_workspace(tmp_path):
    other = [llm("t2", 30, [TS, SS, seg("user", 200, "other-u0")], out=100, stop="end_turn")]
    tab = load(tmp_path, three_calls() + other)
    doc = run(tab, Scenario(name="auto", cache="auto"),
              Scenario(name="stacked", cache="stable+last"))
    # task t2 under auto: its only breakpoint is on its own user message; no earlier request
    # wrote an entry at tools+system, so it misses: write 4,000 (15,000) + output 1,500.
    # under stable+last task t1 wrote (and refreshed, last at t=20s) an entry at tools+system,
    # so t2 reads 3,800 (1,140) and writes its 200-token user message (750) + output 1,500.
    auto, stacked = fig(doc, "auto"), fig(doc, "stacked")
    assert auto["cost_usd"] == usd(27_330 + 15_000 + 1_500)
    assert stacked["cost_usd"] == usd(27_330 + 1_140 + 750 + 1_500)
    assert stacked["cache_read_tokens"] - auto["cache_read_tokens"] == 3_800
    # workspace: task gives every task its own cache: t2 misses again
    iso_doc = run(tab, Scenario(name="stacked", cache="stable+last"), workspace="task")
    assert fig(iso_doc, "stacked")["cost_usd"] == usd(27_330 + 15_000 + 1_500)


def test_workspace_session_with_and_without_session_ids(tmp_path):
    """``workspace: session``: tasks of one session share caches; a task with no session id
    (missing in the trace) is a workspace of its own. It used to raise on the missing id."""
    other = [llm("t2", 30, [TS, SS, seg("user", 200, "other-u0")], out=100, stop="end_turn")]
    sc = Scenario(name="stacked", cache="stable+last")
    none = run(load(tmp_path, three_calls() + other), sc, workspace="session")
    assert fig(none, "stacked")["cost_usd"] == usd(27_330 + 15_000 + 1_500)  # as workspace: task
    rows = [dict(r, session_id="s1") for r in three_calls() + other]
    same = run(load(tmp_path, rows, "same.jsonl"), sc, workspace="session")
    assert fig(same, "stacked")["cost_usd"] == usd(27_330 + 1_140 + 750 + 1_500)  # shared


def test_cache_ttl_expiry_and_1h(tmp_path):
    rows = [llm("t1", 0, C1, out=100), llm("t1", 400, C2, out=200, stop="end_turn")]
    doc = run(load(tmp_path, rows), Scenario(name="5m", cache="auto"),
              Scenario(name="1h", cache="auto", ttl="1h"))
    # 400 s between calls: the 5m entry written at t=0 expired at t=300:
    # 5m: call 1 writes 4,000 (15,000), call 2 misses and writes 4,600 (17,250); output 4,500
    # 1h: call 1 writes 4,000 at 6 (24,000); call 2 reads 4,000 (1,200), writes 600 at 6 (3,600)
    assert fig(doc, "5m")["cost_usd"] == usd(15_000 + 17_250 + 4_500)
    assert fig(doc, "5m")["cache_read_tokens"] == 0
    assert fig(doc, "1h")["cost_usd"] == usd(24_000 + 1_200 + 3_600 + 4_500)
    # the reuse gap (400 s) fits the 1h TTL, and the report says so
    assert fig(doc, "5m")["details"]["cache"]["reuse_gaps"]["ttl_fit"] == "1h"
    assert any("the 1h TTL fits" in a for a in fig(doc, "5m")["assumptions"])


def test_cache_lifetime_refreshed_on_hit(tmp_path):
    rows = [llm("t1", 0, C1), llm("t1", 200, C2), llm("t1", 450, C3, stop="end_turn")]
    doc = run(load(tmp_path, rows), Scenario(name="stable", cache="stable"))
    # the tools+system entry is written at t=0 (expires 300), read at t=200 (refreshed: 500),
    # read again at t=450 — without the refresh the third call would miss
    s = fig(doc, "stable")
    assert (s["cache_read_tokens"], s["cache_write_tokens"]) == (7_600, 3_800)


def test_cache_entry_visible_only_after_writer_response_began(tmp_path):
    rows = [llm("a", 0.0, [TS, SS, seg("user", 200, "ua")], stop="end_turn", ttft=500),
            llm("b", 0.2, [TS, SS, seg("user", 200, "ub")], stop="end_turn", ttft=500),
            llm("c", 0.6, [TS, SS, seg("user", 200, "uc")], stop="end_turn", ttft=500)]
    doc = run(load(tmp_path, rows), Scenario(name="stable", cache="stable"))
    s = fig(doc, "stable")
    # a writes tools+system at t=0; its response begins at 0.5 s. b starts at 0.2 s: miss,
    # writes again; c starts at 0.6 s: reads 3,800
    assert (s["cache_read_tokens"], s["cache_write_tokens"]) == (3_800, 7_600)


def test_cache_nothing_below_the_minimum(tmp_path):
    small = [seg("system", 800, "s"), seg("user", 100, "u")]
    rows = [llm("t", 0, small), llm("t", 10, small + [seg("assistant", 50, "a"),
                                                      seg("tool", 50, "r")], stop="end_turn")]
    doc = run(load(tmp_path, rows), Scenario(name="auto", cache="auto"))
    # 900 and 1,000 tokens: under Sonnet 4.6's 1,024-token minimum, never cached
    s = fig(doc, "auto")
    assert (s["cache_read_tokens"], s["cache_write_tokens"]) == (0, 0)
    assert s["cost_usd"] == fig(doc, "baseline")["cost_usd"]


def test_cache_lookback_is_20_blocks(tmp_path):
    many = [seg("user", 40, f"x{i}") for i in range(25)]
    rows = [llm("t", 0, C1), llm("t", 10, C1 + many, stop="end_turn")]
    doc = run(load(tmp_path, rows), Scenario(name="auto", cache="auto"),
              Scenario(name="stacked", cache="stable+last"))
    # call 2 has 28 blocks; its breakpoint (block 27) looks back to block 8 only, so the entry
    # call 1 wrote at block 2 is not found: full write of 5,000. With a second breakpoint at
    # tools+system (block 1) the lookup from there hits: read 3,800, write 1,200.
    auto, st = fig(doc, "auto"), fig(doc, "stacked")
    assert (auto["cache_read_tokens"], auto["cache_write_tokens"]) == (0, 9_000)
    assert (st["cache_read_tokens"], st["cache_write_tokens"]) == (3_800, 5_200)


def test_cache_off(tmp_path):
    rows = [llm("t1", 0, C1, read=0, write=4000), llm("t1", 10, C2, read=4000, write=600),
            llm("t1", 20, C3, read=4600, write=400, stop="end_turn", out=200)]
    doc = run(load(tmp_path, rows), Scenario(name="off", cache="off"))
    s = fig(doc, "off")
    # everything uncached: 13,600 * 3 + 400 * 15
    assert (s["cache_read_tokens"], s["cache_write_tokens"]) == (0, 0)
    assert s["cost_usd"] == usd(40_800 + 6_000)
    # the baseline keeps the trace's own figures: 8,600 read, 5,000 written
    assert fig(doc, "baseline")["cache_read_tokens"] == 8_600


def test_openai_implicit_caching_128_token_steps(tmp_path):
    c1 = [seg("system", 1500, "s"), seg("user", 500, "u")]
    c2 = c1 + [seg("assistant", 100, "a"), seg("tool", 400, "r")]
    rows = [llm("t", 0, c1, model="gpt-4.1-mini", provider="openai"),
            llm("t", 10, c2, model="gpt-4.1-mini", provider="openai", stop="stop", out=200)]
    # OpenAI caching is always on, so "auto" equals the observed placement; the trace here
    # reports no cache reads, so the pure simulation (calibrate=False) is what is checked
    doc = run(load(tmp_path, rows), Scenario(name="auto", cache="auto"),
              Scenario(name="stable", cache="stable"), calibrate=False)
    # call 2 shares 2,000 tokens with call 1; reported in 128-token steps: 1,920; no writes.
    # cost: call 1 2,000 * 0.4 = 800; call 2 580 * 0.4 + 1,920 * 0.1 = 232 + 192;
    # output 300 * 1.6 = 480
    s = fig(doc, "auto")
    assert (s["cache_read_tokens"], s["cache_write_tokens"]) == (1_920, 0)
    assert s["cost_usd"] == usd(800 + 232 + 192 + 480)
    # explicit placement does not exist before GPT-5.6: stable means implicit
    assert fig(doc, "stable")["cost_usd"] == s["cost_usd"]
    # calibrated (the default): calls whose simulated caching the scenario does not change keep
    # the trace's own figures — here the trace's (zero) reads
    cal = run(load(tmp_path, rows), Scenario(name="auto", cache="auto"))
    assert fig(cal, "auto")["cost_usd"] == cal["baseline"]["cost_usd"]


def test_openai_56_writes_are_charged(tmp_path):
    c1 = [seg("system", 1500, "s"), seg("user", 500, "u")]
    c2 = c1 + [seg("assistant", 100, "a"), seg("tool", 400, "r")]
    rows = [llm("t", 0, c1, model="gpt-5.6-sol", provider="openai"),
            llm("t", 10, c2, model="gpt-5.6-sol", provider="openai", stop="stop", out=200)]
    doc = run(load(tmp_path, rows), Scenario(name="auto", cache="auto"), calibrate=False)
    # implicit breakpoint at the latest eligible message (the user message, then the tool result)
    # call 1 writes 2,000 at 5 = 10,000; call 2 reads 2,000 (800) and writes 500 (2,500);
    # output 300 * 20 = 6,000
    s = fig(doc, "auto")
    assert (s["cache_read_tokens"], s["cache_write_tokens"]) == (2_000, 2_500)
    assert s["cost_usd"] == usd(10_000 + 800 + 2_500 + 6_000)


# ------------------------------------------------------------------------------- 2. cascade

def cascade(spec: str = "haiku,sonnet", **kw: Any) -> Scenario:
    ids, given = parse_cascade(spec, "test")
    return Scenario(name=kw.pop("name", "cascade"), cascade=ids, cascade_given=given, **kw)


def test_cascade_roles_and_escalation(tmp_path):
    rows = three_calls(model="claude-sonnet-5-5")
    rows[0]["output_tokens"] = rows[1]["output_tokens"] = 50
    doc = run(load(tmp_path, rows), cascade(cache="off"),
              cascade(name="esc", cache="off", escalation_rate=0.5))
    # aliases resolve to concrete current models (haiku 5.5 / sonnet 5.5: same tokenizer as the
    # traced Sonnet 5.5, so counts carry over). Calls 1 and 2 end in tool calls -> cheap; call 3
    # is the final answer -> strong.
    # cheap: (4,000 + 4,600) * 0.1 + 100 * 0.5 = 860 + 50; strong: 5,000 * 2 + 300 * 10 = 13,000
    s = fig(doc, "cascade")
    assert s["cost_usd"] == usd(910 + 12_000)
    c = s["details"]["cascade"]
    assert (c["cheap"], c["strong"]) == ("claude-haiku-5-5", "claude-sonnet-5-5")
    assert c["aliases"] == {"haiku": "claude-haiku-5-5", "sonnet": "claude-sonnet-5-5"}
    assert (c["cheap_steps"], c["strong_steps"], c["escalated_steps"]) == (2, 1, 0)
    # escalation 0.5 of 2 cheap steps: one re-runs on the strong model, paying both; the
    # seeded ranking picks call 1: 4,000 * 2 + 50 * 10 = 8,500 more
    e = fig(doc, "esc")
    assert e["details"]["cascade"]["escalated_steps"] == 1
    assert e["cost_usd"] == usd(910 + 12_000 + 8_500)
    assert e["llm_calls"] == 4
    assert any("Escalation rate 0.5" in a for a in e["assumptions"])
    assert any("Escalation rate 0 (default" in a for a in s["assumptions"])


def test_cascade_restarts_the_cache_per_model(tmp_path):
    rows = three_calls(model="claude-sonnet-5-5")
    doc = run(load(tmp_path, rows), Scenario(name="auto", cache="auto"),
              cascade(name="cascade", cache="auto"))
    # without the cascade (Sonnet 5.5): write 4,000 (10,000); read 4,000 (400) + write 600
    # (1,500); read 4,600 (460) + write 400 (1,000); output 400 * 10
    auto = fig(doc, "auto")
    assert auto["cache_read_tokens"] == 8_600
    assert auto["cost_usd"] == usd(10_000 + 400 + 1_500 + 460 + 1_000 + 4_000)
    # with it: calls 1-2 on Haiku 5.5 build Haiku's cache (write 4,000 at 0.125 = 500; read
    # 4,000 at 0.01 = 40, write 600 = 75); call 3 runs on Sonnet 5.5, whose cache is empty:
    # write 5,000 at 2.5 = 12,500. Output: 200 * 0.5 + 200 * 10.
    c = fig(doc, "cascade")
    assert c["cache_read_tokens"] == 4_000
    assert c["cost_usd"] == usd(500 + 40 + 75 + 12_500 + 100 + 2_000)


def test_cascade_tokenizer_ratio_across_families(tmp_path):
    rows = [llm("t", 0, None, inp=1000, out=50, model="gpt-4.1", provider="openai", ttft=None),
            llm("t", 10, None, inp=2000, out=100, model="gpt-4.1", provider="openai",
                stop="stop", ttft=None)]
    doc = run(load(tmp_path, rows), cascade("claude-haiku-4-5,claude-sonnet-4-6", cache="off"))
    # o200k -> Claude (pre-4.7 tokenizer): x1.16. Call 1 (tool decision) on Haiku 4.5:
    # 1,160 * 1 + 58 * 5 = 1,160 + 290; call 2 on Sonnet 4.6: 2,320 * 3 + 116 * 15 = 6,960 + 1,740
    s = fig(doc, "cascade")
    assert (s["input_tokens"], s["output_tokens"]) == (3_480, 174)
    assert s["cost_usd"] == usd(1_160 + 290 + 6_960 + 1_740)
    assert s["details"]["cascade"]["tokenizer_ratios"] == {
        "gpt-4.1 → claude-haiku-4-5": 1.16, "gpt-4.1 → claude-sonnet-4-6": 1.16}
    assert s["details"]["cascade"]["aliases"] == {}


def test_cascade_role_override_by_step_name(tmp_path):
    rows = three_calls(model="claude-sonnet-5-5")
    rows[2]["name"] = "summarise"
    doc = run(load(tmp_path, rows), cascade(cache="off", roles=(("summarise", "cheap"),)))
    # every step on Haiku 5.5: 13,600 * 0.1 + 400 * 0.5
    assert fig(doc, "cascade")["cost_usd"] == usd(1_360 + 200)


# ---------------------------------------------------------------------------------- 3. batch


def test_batch_halves_every_token_class_and_waits_for_the_window(tmp_path):
    rows = [llm("night-1", 0, C1, write=4000), tool("night-1", 2.0, 1000, "fetch"),
            llm("night-1", 3.0, C2, read=4000, write=600, out=200, stop="end_turn"),
            llm("chat-1", 0, C1, write=4000, out=100, stop="end_turn")]
    tab = load(tmp_path, rows)
    doc = run(tab, Scenario(name="batch", batch=True),
              Scenario(name="nightly", batch=True, batch_tasks="night-*"))
    base, b = doc["baseline"], fig(doc, "batch")
    # Anthropic batch: 50 % off input, output, cache writes and cache reads alike
    assert b["cost_usd"] == pytest.approx(base["cost_usd"] / 2, rel=1e-12)
    assert b["cache_read_tokens"] == base["cache_read_tokens"]
    # latency: each batched call takes the batch window (1 h) instead of its 2 s
    # night-1: wall 5 s + 2 * (3600 - 2) = 7,201 s; chat-1: 2 s + 3,598 = 3,600 s
    assert b["latency_p95_s"] == pytest.approx(3_600 + 0.95 * (7_201 - 3_600))
    assert any("interactive" in w for w in b["warnings"])
    # only the nightly task: chat-1 keeps its price; night-1 costs half
    t = tab.frame.groupby("task_id")["cost_usd"].sum()
    assert fig(doc, "nightly")["cost_usd"] == pytest.approx(
        t["night-1"] / 2 + t["chat-1"], rel=1e-12)


# ------------------------------------------------------------------------ 4. trimming


def test_trim_history_keeps_stable_prefix_and_last_turns(tmp_path):
    t_, s_, u = seg("tools", 1000, "T"), seg("system", 2000, "S"), seg("user", 100, "U")
    turns = [[seg("assistant", 50, f"a{i}"), seg("tool", 400, f"r{i}")] for i in range(3)]
    p = [[t_, s_, u]]
    for tr in turns:
        p.append(p[-1] + tr)
    rows = [llm("t", 10 * i, p[i], out=50, stop="tool_use" if i < 3 else "end_turn")
            for i in range(4)]
    doc = run(load(tmp_path, rows), Scenario(name="trim", trim_history=1, cache="off"),
              Scenario(name="auto", cache="auto"),
              Scenario(name="trim+auto", trim_history=1, cache="auto"))
    # prompts 3,100 / 3,550 / 4,000 / 4,450. Keeping 1 turn: call 3 drops turn 1 (450 tokens),
    # call 4 drops turns 1 and 2 (900): 3,100 + 3,550 + 3,550 + 3,550 = 13,750 (1,350 saved)
    tr = fig(doc, "trim")
    assert tr["input_tokens"] == 13_750
    assert tr["details"]["prompt_tokens_removed"] == 1_350
    assert tr["details"]["trim_history"]["steps_trimmed"] == 2
    assert tr["cost_usd"] == usd(13_750 * 3 + 200 * 15)
    # the cache it breaks: with auto caching, calls 3 and 4 no longer extend call 2's prefix;
    # they read only the stable part + first message (3,100) instead of 3,550 and 4,000
    assert fig(doc, "auto")["cache_read_tokens"] == 3_100 + 3_550 + 4_000
    ta = fig(doc, "trim+auto")
    assert ta["cache_read_tokens"] == 3_100 * 3
    assert ta["contributions"][1]["lever"] == "trim_history"
    assert ta["contributions"][1]["cache_read_tokens_delta"] == 9_300 - 10_650


# ------------------------------------------------------------------------ 5. output caps


def test_max_output_tokens(tmp_path):
    rows = [llm("t", 0, C1, out=500, dur=2000, ttft=500),
            llm("t", 10, C1 + [seg("assistant", 500, "a0"), seg("tool", 400, "r0")], out=800,
                stop="end_turn", dur=3000, ttft=500)]
    doc = run(load(tmp_path, rows), Scenario(name="cap", max_output_tokens=200, cache="off"))
    s = fig(doc, "cap")
    # outputs 500 -> 200 and 800 -> 200; call 2's prompt carries the shorter answer: 4,900 - 300
    assert (s["output_tokens"], s["input_tokens"]) == (400, 4_000 + 4_600)
    assert s["cost_usd"] == usd(8_600 * 3 + 400 * 15)
    # latency: generation scales with output — call 1: 1,500 ms * (200/500 - 1) = -900 ms;
    # call 2: 2,500 ms * (200/800 - 1) = -1,875 ms, prefill 500 ms * (4,600/4,900 - 1)
    wall = 10 + 3.0
    d = -0.9 - 1.875 + 0.5 * (4_600 / 4_900 - 1)
    assert s["latency_p50_s"] == pytest.approx(wall + d, abs=1e-3)
    assert s["details"]["max_output_tokens"] == {"steps_capped": 2, "output_tokens_saved": 900}


# ------------------------------------------------------------------------ 6. parallel tools


def test_parallel_tools(tmp_path):
    rows = [llm("t", 0, None, inp=2000, dur=1000, tools=("a", "b")),
            tool("t", 1.0, 400, "a"), tool("t", 1.4, 600, "b"),
            llm("t", 2.0, None, inp=2500, dur=1000, stop="end_turn")]
    tab = load(tmp_path, rows)
    doc = run(tab, Scenario(name="par", parallel_tools=True),
              Scenario(name="par-sc", parallel_tools=True, state_changing_tools=("b",)))
    # wall 3.0 s; the turn's tools ran 1.0 s one after another: in parallel they take 0.6 s
    assert doc["baseline"]["latency_p50_s"] == pytest.approx(3.0)
    assert fig(doc, "par")["latency_p50_s"] == pytest.approx(2.6)
    assert fig(doc, "par")["cost_usd"] == doc["baseline"]["cost_usd"]
    # with b state-changing: 0.6 s (b, sequential) + 0.4 s (a) — no gain
    assert fig(doc, "par-sc")["latency_p50_s"] == pytest.approx(3.0)


# ------------------------------------------------------------------------ 7. loop caps


def test_max_iterations_and_token_budget(tmp_path):
    rows = []
    for i, inp in enumerate((1000, 2000, 3000, 4000)):
        rows.append(llm("long", 10 * i, None, inp=inp, out=100, ttft=None,
                        stop="end_turn" if i == 3 else "tool_use"))
    rows.append(llm("short", 0, None, inp=1000, out=100, stop="end_turn", ttft=None))
    doc = run(load(tmp_path, rows), Scenario(name="iter", max_iterations=2),
              Scenario(name="budget", token_budget=3_500))
    it = fig(doc, "iter")
    # the long task keeps calls 1-2: 3,000 * 3 + 200 * 15 = 12,000; short: 3,000 + 1,500
    assert it["cost_usd"] == usd(12_000 + 4_500)
    assert it["tasks_cut"] == 1 and it["tasks"] == 2
    lc = it["details"]["loop_caps"]
    assert lc["cut_task_ids"] == ["long"] and lc["cut_tasks_cost_usd"] == pytest.approx(0.012)
    assert any("needing escalation" in a for a in it["assumptions"])
    # latency of the cut task: start of call 1 to end of call 2 = 12 s (was 32 s)
    assert it["latency_p95_s"] == pytest.approx(2 + 0.95 * 10)
    # budget 3,500: tokens before calls 1..4 = 0, 1,100, 3,200, 6,300 -> calls 1-3 run
    bu = fig(doc, "budget")
    assert bu["cost_usd"] == usd(6_000 * 3 + 300 * 15 + 4_500)


# ------------------------------------------------------------------------ 8. tool-result cache


def test_tool_result_caching(tmp_path):
    c2 = C1 + [seg("assistant", 50, "a0"), seg("tool", 300, "r0")]
    c3 = c2 + [seg("assistant", 50, "a1"), seg("tool", 300, "r1")]
    rows = [llm("t", 0, C1, tools=("lookup",), dur=1000), tool("t", 1.0, 400, "lookup", "x"),
            llm("t", 1.5, c2, tools=("lookup",), dur=1000), tool("t", 2.5, 400, "lookup", "x"),
            llm("t", 3.0, c3, stop="end_turn", dur=1000)]
    doc = run(load(tmp_path, rows), Scenario(name="tc", tool_cache=True, cache="off"))
    s = fig(doc, "tc")
    # the second lookup(x) returns the first result at once (400 ms saved) and its 300-token
    # result is not sent again: call 3's prompt is 4,700 - 300
    assert s["input_tokens"] == 4_000 + 4_350 + 4_400
    assert s["cost_usd"] == usd(12_750 * 3 + 300 * 15)
    assert s["details"]["prompt_tokens_removed"] == 300
    # latency: -0.4 s for the tool, and call 3's prefill (TTFT 0.5 s) shrinks with its prompt
    assert s["latency_p50_s"] == pytest.approx(doc["baseline"]["latency_p50_s"] - 0.4
                                               + 0.5 * (4_400 / 4_700 - 1), abs=1e-3)
    tc = s["details"]["tool_cache"]
    assert (tc["repeated_in_task"], tc["seconds_saved"]) == (1, 0.4)


def test_tool_result_caching_across_tasks_with_ttl(tmp_path):
    rows = [llm("a", 0, None, inp=2000, tools=("kb",), dur=1000), tool("a", 1, 500, "kb", "q"),
            llm("a", 2, None, inp=2500, stop="end_turn", dur=1000),
            llm("b", 60, None, inp=2000, tools=("kb",), dur=1000), tool("b", 61, 500, "kb", "q"),
            llm("b", 62, None, inp=2500, stop="end_turn", dur=1000)]
    doc = run(load(tmp_path, rows), Scenario(name="ttl", tool_cache=True, tool_cache_ttl_s=600))
    s = fig(doc, "ttl")
    # task b's kb(q) within 10 minutes of a's: 0.5 s saved, tokens unchanged
    assert s["details"]["tool_cache"]["reused_across_tasks"] == 1
    assert s["cost_usd"] == doc["baseline"]["cost_usd"]
    assert s["latency_p95_s"] == pytest.approx(3.0 - 0.05 * 0.5)


# ------------------------------------------------------------------------ reports


def test_contributions_add_up_and_scenarios_best_first(tmp_path):
    rows = three_calls() + [llm("t1", 30, C3 + [seg("user", 100, "x")], stop="end_turn")]
    doc = run(load(tmp_path, rows), Scenario(name="combo", cache="auto", max_iterations=2),
              Scenario(name="auto", cache="auto"), Scenario(name="noop"))
    combo = fig(doc, "combo")
    assert [c["lever"] for c in combo["contributions"]] == ["cache", "loop_caps"]
    assert sum(c["delta_usd"] for c in combo["contributions"]) == pytest.approx(
        combo["delta_usd"], abs=1e-9)
    costs = [s["cost_usd"] for s in doc["scenarios"]]
    assert costs == sorted(costs)


def test_range_brackets_the_estimate(tmp_path):
    rows = three_calls(model="claude-sonnet-4-6") + three_calls("t2", 40)
    doc = run(load(tmp_path, rows), cascade(escalation_rate=0.25), with_range=True)
    s = fig(doc, "cascade")
    lo, hi = s["range"]["optimistic"]["cost_usd"], s["range"]["pessimistic"]["cost_usd"]
    assert lo <= s["cost_usd"] <= hi
    assert any(a.startswith("Range (optimistic / pessimistic): escalation rate 0.125 / 0.5")
               for a in s["assumptions"])


def test_append_only_assumption_is_stated(tmp_path):
    rows = [llm("t", 0, None, inp=4000), llm("t", 10, None, inp=4600, stop="end_turn")]
    doc = run(load(tmp_path, rows), Scenario(name="auto", cache="auto"))
    s = fig(doc, "auto")
    # without segments: call 2 = call 1's prompt + 600 new tokens -> reads 4,000, writes 600
    assert (s["cache_read_tokens"], s["cache_write_tokens"]) == (4_000, 4_600)
    assert any("append-only agent loop is assumed" in a for a in s["assumptions"])


def test_unpriced_model_is_a_lower_bound(tmp_path):
    rows = [llm("t", 0, None, inp=1000, model="acme-llama-70b", provider="acme",
                stop="end_turn"),
            llm("u", 0, None, inp=1000, stop="end_turn")]
    doc = run(load(tmp_path, rows), Scenario(name="batch", batch=True))
    assert doc["baseline"]["cost_is_lower_bound"] is True
    assert doc["baseline"]["warnings"]
    assert fig(doc, "batch")["cost_is_lower_bound"] is True
    assert fig(doc, "batch")["cost_usd"] == pytest.approx(doc["baseline"]["cost_usd"] / 2)


def test_library_entry_point_is_lazy():
    import subprocess
    import sys

    code = ("import sys, agentcost; assert callable(agentcost.simulate); "
            "assert 'pandas' not in sys.modules; "
            "from agentcost.simulation import simulate as s; assert agentcost.simulate is s")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_traces_without_llm_calls_or_times(tmp_path):
    rows = [tool("a", 0, 5, "x", "h"), tool("a", 1, 5, "x", "h")]
    doc = run(load(tmp_path, rows), Scenario(name="all", trim_history=1, max_iterations=1,
                                             batch=True, tool_cache=True, parallel_tools=True,
                                             cache="auto"))
    assert fig(doc, "all")["cost_usd"] == 0.0 and fig(doc, "all")["tasks"] == 1
    untimed = [{"task_id": "u", "kind": "llm", "model": "claude-sonnet-4-6",
                "input_tokens": 5000, "output_tokens": 10},
               {"task_id": "u", "kind": "llm", "model": "claude-sonnet-4-6",
                "input_tokens": 5600, "output_tokens": 10}]
    doc = run(load(tmp_path, untimed, "u.jsonl"), Scenario(name="auto", cache="auto"))
    # no times: calls back to back, append-only loop: write 5,000, then read 5,000 + write 600
    s = fig(doc, "auto")
    assert (s["cache_read_tokens"], s["cache_write_tokens"]) == (5_000, 5_600)
    assert any("no start time" in a for a in doc["baseline"]["assumptions"])
