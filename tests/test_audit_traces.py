"""Trace audit: why each call missed the cache, on traces whose misses have known causes —
built from the authentic Anthropic wire capture (request bodies: text, offsets, excerpts) and
from agentcost JSONL with ``segments`` (hashes only)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from agentcost.audit import explain_misses
from agentcost.table import load
from tests.conftest import AUTHENTIC, FIXTURES

WIRE = AUTHENTIC / "stand-in-wire-capture" / "anthropic.wire.jsonl"


def wire_calls() -> list[dict]:
    return [json.loads(line) for line in WIRE.read_text().splitlines() if line.strip()]


def set_usage(call: dict, read: int, write: int) -> None:
    u = call["response_body"]["usage"]
    total = u["input_tokens"] + u["cache_read_input_tokens"] + u["cache_creation_input_tokens"]
    u.update(cache_read_input_tokens=read, cache_creation_input_tokens=write,
             input_tokens=total - read - write,
             cache_creation={"ephemeral_5m_input_tokens": write, "ephemeral_1h_input_tokens": 0})


def miss_all(call: dict) -> None:
    u = call["response_body"]["usage"]
    total = u["input_tokens"] + u["cache_read_input_tokens"] + u["cache_creation_input_tokens"]
    set_usage(call, 0, total - 8)


def system_text(call: dict) -> str:
    return call["request_body"]["system"][0]["text"]


def set_system(call: dict, text: str) -> None:
    call["request_body"]["system"][0]["text"] = text


def run(tmp_path: Path, calls: list[dict]):
    p = tmp_path / "wire.jsonl"
    with p.open("w") as fh:
        for c in calls:
            c = dict(c, task_id="trip")  # one task, whatever the prefix does
            fh.write(json.dumps(c) + "\n")
    return explain_misses(load([str(p)]))


def only(rep, **expect):
    assert len(rep.findings) == 1, [f.to_dict() for f in rep.findings]
    f = rep.findings[0]
    for k, v in expect.items():
        assert getattr(f, k) == v, (k, f.to_dict())
    return f


def test_authentic_capture_has_no_miss(tmp_path):
    rep = run(tmp_path, wire_calls())
    assert rep.findings == []
    s = rep.summary
    assert s["calls_with_segments"] == 4 and s["calls_with_text"] == 4 and s["misses"] == 0
    assert s["cache_write_tokens"] == 3383  # the ground truth's cache_creation total


def _prefixed(calls: list[dict], lines: list[str]) -> list[dict]:
    out = copy.deepcopy(calls)
    for c, line in zip(out, lines, strict=True):
        set_system(c, line + "\n" + system_text(c))
    return out


@pytest.mark.parametrize("old,new,cause,needle", [
    ("Today is 2026-11-21.", "Today is 2026-11-22.", "timestamp", "2026-11-2"),
    ("Request ID: 4bf92f3577b34da6a3ce", "Request ID: 9c1e7a2b55d04f6e8a11", "volatile-id",
     "Request ID"),
    ("The customer's name is Maria Lopez.", "The customer's name is John Smith.", "user-content",
     "name is"),
    ("Be concise.", "Be concise. ", "whitespace-drift", "Be concise"),
    ("Be concise.", "Be brief.", "system-edit", "Be "),
])
def test_system_change_causes_with_text(tmp_path, old, new, cause, needle):
    calls = _prefixed(wire_calls(), [old, old, new, new])
    miss_all(calls[2])
    rep = run(tmp_path, calls)
    f = only(rep, rule=cause, task_id="trip", step=3, line=3)
    m = f.miss
    assert m["block"] == 4 and m["role"] == "system"  # 3 tools, then the system prompt
    assert m["reference"] == {"task_id": "trip", "step": 2, "scope": "task"}
    assert needle in m["before"] and needle in m["after"] and m["before"] != m["after"]
    assert m["offset"] == next(i for i, (a, b) in enumerate(zip(old, new, strict=False))
                               if a != b) if old[:len(new)] != new[:len(old)] else len(old)
    assert m["lost_tokens"] > 2800 and m["lost_usd"] > 0
    assert m["cache_read_tokens"] == 0
    assert f.excerpt and "→" in f.excerpt


def test_dollars_lost_use_the_step_prices(tmp_path):
    calls = _prefixed(wire_calls(), ["A."] * 2 + ["B."] * 2)
    miss_all(calls[2])
    f = run(tmp_path, calls).findings[0]
    # claude-sonnet-4-6: 5m write $3.75/MTok paid instead of a $0.30/MTok read
    assert f.miss["lost_usd"] == pytest.approx(f.miss["lost_tokens"] * (3.75 - 0.30) / 1e6)


def test_history_edit(tmp_path):
    calls = wire_calls()
    msg = calls[2]["request_body"]["messages"][0]["content"][0]
    msg["text"] = msg["text"].replace("Lisbon", "Porto")
    set_usage(calls[2], 2748, 3235 - 2748 - 2)  # reads tools + system only
    f = only(run(tmp_path, calls), rule="history-edit", step=3)
    assert f.miss["block"] == 5 and f.miss["role"] == "user"
    assert "Lisbon" in f.miss["before"] and "Porto" in f.miss["after"]


def test_tools_change_and_unstable_order(tmp_path):
    calls = wire_calls()
    extra = copy.deepcopy(calls[2]["request_body"]["tools"][0])
    extra["name"] = "get_visa_rules"
    calls[2]["request_body"]["tools"].append(extra)
    miss_all(calls[2])
    f = only(run(tmp_path, calls), rule="tools-change", step=3)
    assert f.miss["block"] == 4 and "added" in f.message

    calls = wire_calls()
    calls[2]["request_body"]["tools"].reverse()
    miss_all(calls[2])
    f = only(run(tmp_path, calls), rule="unstable-order", step=3)
    assert f.miss["block"] == 1 and "another order" in f.message

    calls = wire_calls()  # same tool, keys serialised in another order
    t0 = calls[2]["request_body"]["tools"][0]
    calls[2]["request_body"]["tools"][0] = dict(reversed(list(t0.items())))
    miss_all(calls[2])
    f = only(run(tmp_path, calls), rule="unstable-order", step=3)
    assert f.miss["block"] == 1 and f.miss["before"] != f.miss["after"]


def test_model_change(tmp_path):
    calls = wire_calls()
    calls[2]["request_body"]["model"] = "claude-opus-4-6"
    calls[2]["response_body"]["model"] = "claude-opus-4-6"
    miss_all(calls[2])
    f = only(run(tmp_path, calls), rule="model-change", step=3)
    assert "claude-sonnet-4-6 to claude-opus-4-6" in f.message


def test_ttl_expired_and_concurrent(tmp_path):
    calls = wire_calls()
    for c in calls[2:]:
        c["started_unix"] += 600
        c["ended_unix"] += 600
    miss_all(calls[2])
    f = only(run(tmp_path, calls), rule="ttl-expired", step=3)
    assert "5m TTL (300s)" in f.message

    calls = wire_calls()
    calls[2]["started_unix"] = calls[1]["started_unix"] + 0.05  # before call 2 ended
    miss_all(calls[2])
    f = only(run(tmp_path, calls), rule="concurrent", step=3)
    assert "no TTFT" in f.message


def test_below_minimum(tmp_path):
    calls = wire_calls()
    for i, c in enumerate(calls):
        set_system(c, "You are Atlas, a trip planner.")
        c["request_body"]["tools"] = c["request_body"]["tools"][:1]
        u = c["response_body"]["usage"]
        u.update(input_tokens=300 + 100 * i, cache_read_input_tokens=0,
                 cache_creation_input_tokens=0)
        u.pop("cache_creation", None)
    rep = run(tmp_path, calls)
    assert [f.rule for f in rep.findings] == ["below-minimum"] * 3
    assert "minimum cacheable length of claude-sonnet-4-6 (1,024)" in rep.findings[0].message


# ------------------------------------------------------------ segments only (no text)


def seg_line(task: str, t: str, segs: list[dict], read: int, write: int,
             model: str = "claude-sonnet-4-6", ttft: float | None = 400) -> str:
    return json.dumps({
        "task_id": task, "kind": "llm", "provider": "anthropic", "model": model,
        "started_at": t, "duration_ms": 2000, "ttft_ms": ttft,
        "input_tokens": sum(s["tokens"] for s in segs), "cache_read_tokens": read,
        "cache_write_tokens": write, "output_tokens": 50, "segments": segs})


def test_fixture_trace_causes():
    rep = explain_misses(load([str(FIXTURES / "traces" / "cache_misses.jsonl")]))
    got = [(f.task_id, f.step, f.rule, f.miss["reference"]["scope"]) for f in rep.findings]
    assert got == [
        ("t-edit", 1, "ttl-expired", "shared-prefix"),  # same prefix across tasks, 10 min later
        ("t-edit", 2, "system-edit", "task"),
        ("t-ttl", 1, "ttl-expired", "shared-prefix"),
        ("t-ttl", 2, "ttl-expired", "task"),
        ("t-model", 1, "ttl-expired", "shared-prefix"),
        ("t-model", 2, "model-change", "task"),
        ("t-conc", 1, "ttl-expired", "shared-prefix"),
        ("t-conc", 2, "concurrent", "task"),
        ("t-short", 2, "below-minimum", "task"),
    ]
    s = rep.summary
    assert s["calls_with_text"] == 0 and s["misses"] == 9
    assert [c["cause"] for c in s["causes"]] == ["ttl-expired", "concurrent", "model-change",
                                                 "system-edit", "below-minimum"]
    assert s["sentence"].startswith("89% of the tokens written to cache were never read; 9 call")
    assert "5 causes account for it" in s["sentence"]
    assert s["lost_tokens"] == sum(c["lost_tokens"] for c in s["causes"]) == 31_600
    edit = rep.findings[1].miss
    assert edit["block"] == 2 and edit["before"] is None  # hashes only: no excerpt


def test_breakpoint_moved_and_unexplained(tmp_path):
    tools = {"role": "tools", "tokens": 1500, "hash": "t"}
    system = {"role": "system", "tokens": 1500, "hash": "s", "breakpoint": True}
    first = [tools, system, {"role": "user", "tokens": 100, "hash": "u0", "breakpoint": True}]
    hist = [{"role": "user", "tokens": 100, "hash": "u0"}] + [
        {"role": "assistant" if i % 2 else "tool", "tokens": 40, "hash": f"m{i}"}
        for i in range(25)]
    hist[-1]["breakpoint"] = True
    second = [tools, dict(system, breakpoint=False)] + hist
    p = tmp_path / "bp.jsonl"
    p.write_text(seg_line("a", "2026-11-02T09:00:00Z", first, 0, 3100) + "\n"
                 + seg_line("a", "2026-11-02T09:00:05Z", second, 0, 4100) + "\n")
    f = only(explain_misses(load([str(p)])), rule="breakpoint-moved", step=2)
    assert "block 3 to block 28" in f.message and "20-block lookback" in f.message

    second[1]["breakpoint"] = True  # an intermediate breakpoint: the lookback reaches it ...
    p.write_text(seg_line("a", "2026-11-02T09:00:00Z", first, 0, 3100) + "\n"
                 + seg_line("a", "2026-11-02T09:00:05Z", second, 0, 4100) + "\n")
    f = only(explain_misses(load([str(p)])), rule="unexplained", severity="info")
    assert "not served from the cache" in f.message  # ... so the miss is the provider's


def test_calls_without_segments_that_never_cached_have_nothing_to_explain():
    rep = explain_misses(load([str(Path(__file__).parents[1] / "sample_traces"
                                   / "research_agent.jsonl")]))
    assert rep.findings == []
    assert rep.summary["calls_with_segments"] == 0 and rep.summary["llm_calls"] == 4
    assert rep.summary["calls_judged_from_usage"] == 0  # no call left a cache entry
    assert rep.summary["cache_write_tokens"] == 0
    assert "no cache miss to explain" in rep.summary["sentence"]


def test_openai_implicit_caching(tmp_path):
    """OpenAI: implicit caching, 128-token reporting granularity, no breakpoints needed."""
    segs1 = [{"role": "system", "tokens": 3000, "hash": "s"},
             {"role": "user", "tokens": 200, "hash": "u"}]
    segs2 = segs1 + [{"role": "assistant", "tokens": 100, "hash": "a"},
                     {"role": "user", "tokens": 50, "hash": "u2"}]
    line = json.loads(seg_line("o", "2026-11-02T09:00:00Z", segs1, 0, 0, model="gpt-4.1"))
    line2 = json.loads(seg_line("o", "2026-11-02T09:00:04Z", segs2, 3072, 0, model="gpt-4.1"))
    line["provider"] = line2["provider"] = "openai"
    p = tmp_path / "o.jsonl"
    p.write_text(json.dumps(line) + "\n" + json.dumps(line2) + "\n")
    assert explain_misses(load([str(p)])).findings == []  # 3,072 of 3,200: within 128
    line2["cache_read_tokens"] = 0
    p.write_text(json.dumps(line) + "\n" + json.dumps(line2) + "\n")
    f = only(explain_misses(load([str(p)])), rule="unexplained")
    assert f.miss["expected_read_tokens"] == 3200
