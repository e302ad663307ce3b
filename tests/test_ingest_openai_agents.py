"""OpenAI Agents SDK native trace export (``agentcost.ingest.openai_agents``)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from agentcost.errors import InputError
from agentcost.ingest.base import Source
from agentcost.ingest.openai_agents import READER, args_hash
from tests.conftest import AUTHENTIC, assert_invariants, canonical, ground_truth, load_frame

AGENT_FILES = sorted(
    [*AUTHENTIC.glob("openai-agents-sdk/*.agents.jsonl"),
     *AUTHENTIC.glob("openinference-openai-agents/*.agents.jsonl"),
     *AUTHENTIC.glob("openllmetry-openai-agents/*.agents.jsonl")])
TOKENS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")


def _val(v):  # type: ignore[no-untyped-def]
    return None if pd.isna(v) else int(v)


def _carries_usage(gt: list[dict]) -> bool:
    """The SDK (0.24) asks Chat Completions streams for no usage (``include_usage`` unset), so
    its generation spans of those runs hold all-zero usage: the trace carries no token figures."""
    return not (gt[0]["endpoint"] == "chat.completions" and gt[0]["stream"])


@pytest.mark.parametrize("path", AGENT_FILES,
                         ids=[f"{p.parent.name}/{p.name}" for p in AGENT_FILES])
def test_authentic_runs_match_ground_truth(path: Path, authentic: Path) -> None:
    df, rep = load_frame(path)  # format detected from content
    assert set(df["format"]) == {"openai-agents"}
    assert_invariants(df)
    gt = ground_truth(path)
    assert df["task_id"].nunique() == 1 and df["task_id"].iloc[0].startswith("trace_")
    llm = df[df["kind"] == "llm"].sort_values("started_at").reset_index(drop=True)
    assert len(llm) == 4 == len(gt)
    assert rep.malformed_count == 0 and rep.lines_read == len(path.read_text().splitlines())

    if _carries_usage(gt):
        for col in TOKENS:
            want = [canonical(c)[col] for c in gt]
            assert [_val(v) for v in llm[col]] == want, col
            if all(w is not None for w in want):
                assert int(llm[col].sum()) == sum(want)
            else:
                assert llm[col].isna().all()  # Chat Completions reports no cache writes
        # turn and task spans repeat the usage: counted once, the repeats reported
        assert sum(rep.duplicates.values()) == 5
        assert not (df[df["kind"] != "llm"][list(TOKENS)].notna().any().any())
    else:
        # the all-zero usage is never taken as 0: the tokens are estimated from the recorded
        # messages (issue 11.5, tests/test_estimated_tokens.py); the cache figures stay unknown
        assert (llm["cost_source"] == "estimated").all()
        assert (llm["input_tokens"] > 1000).all() and (llm["output_tokens"] > 0).all()
        for col in ("cache_read_tokens", "cache_write_tokens", "reasoning_tokens"):
            assert llm[col].isna().all(), col  # unknown, never 0
        assert any("recorded no usage" in n and "estimated" in n for n in rep.notes)

    # tool calls: per model call, and one tool step per function span
    for i, call in enumerate(gt):
        assert list(llm.loc[i, "tool_calls"]) == call["tool_calls"]
    tools = df[df["kind"] == "tool"].sort_values("started_at")
    assert list(tools["name"]) == [t for c in gt for t in c["tool_calls"]]
    assert tools["tool_input_hash"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert tools["duration_ms"].notna().all()
    assert tools["tool_input_hash"].nunique() == 4  # four different argument sets

    if gt[0]["endpoint"] == "responses":
        assert llm["model"].isna().all()  # the Responses span names no model
        assert any("name no model" in n for n in rep.notes)
    else:
        assert (llm["model"] == gt[0]["model"]).all()
        assert tools["tool_call_id"].str.startswith("call_").all()
    assert (llm["provider"] == "openai").all()
    assert set(df[df["kind"] == "agent"]["name"]) >= {"Agent workflow", "travel-planner",
                                                      "turn 1", "turn 4"}
    blob = df.drop(columns=["segments"]).astype(str).to_string()
    assert "Atlas" not in blob and "Lisbon" not in blob  # no prompt or tool text


def test_totals_of_the_readme(authentic: Path) -> None:
    df, _ = load_frame(authentic / "openai-agents-sdk" / "responses.agents.jsonl")
    assert [int(df[c].sum()) for c in TOKENS] == [13090, 9344, 3456, 472]
    df, _ = load_frame(authentic / "openai-agents-sdk" / "chatcmpl.agents.jsonl")
    assert [int(df[c].sum()) for c in ("input_tokens", "cache_read_tokens", "output_tokens")] \
        == [13166, 9344, 472]


def _span(sid: str, parent: str | None, t0: float, t1: float, data: dict,
          error: dict | None = None, trace: str = "trace_x") -> dict:
    def iso(t: float) -> str:
        return f"2026-05-01T10:00:{t:09.6f}+00:00"
    return {"object": "trace.span", "id": sid, "trace_id": trace, "parent_id": parent,
            "started_at": iso(t0), "ended_at": iso(t1), "span_data": data, "error": error}


def _usage(i: int, o: int, cr: int, cw: int) -> dict:
    return {"requests": 1, "input_tokens": i, "output_tokens": o, "total_tokens": i + o,
            "input_tokens_details": {"cached_tokens": cr, "cache_write_tokens": cw},
            "output_tokens_details": {"reasoning_tokens": 0}}


def test_hand_made_trace(tmp_path: Path) -> None:
    trace = {"object": "trace", "id": "trace_x", "workflow_name": "wf", "group_id": "conv-1",
             "metadata": {"model": "gpt-5-mini"}}
    spans = [
        _span("s_resp1", "s_turn1", 1, 2, {"type": "response", "response_id": "r1",
                                           "usage": _usage(2000, 10, 1024, 0)}),
        _span("s_fn1", "s_turn1", 2.1, 2.2, {"type": "function", "name": "lookup",
                                             "input": '{"b": 2, "a": 1}', "output": "secret"},
              error={"message": "tool failed", "data": None}),
        _span("s_turn1", "s_agent", 0.9, 2.3, {"type": "custom", "name": "turn", "data": {
            "sdk_span_type": "turn", "turn": 1, "agent_name": "helper",
            "usage": {"input_tokens": 2000, "output_tokens": 10, "cached_input_tokens": 1024,
                      "cache_write_input_tokens": 0}}}),
        # a turn whose model span was not exported: its usage is the only record
        _span("s_turn2", "s_agent", 2.4, 3.0, {"type": "custom", "name": "turn", "data": {
            "sdk_span_type": "turn", "turn": 2, "agent_name": "helper",
            "usage": {"input_tokens": 2100, "output_tokens": 5, "cached_input_tokens": 1920,
                      "cache_write_input_tokens": 128}}}),
        _span("s_agent", "s_task", 0.8, 3.1, {"type": "agent", "name": "helper", "tools": []}),
    ]
    root = _span("s_task", None, 0.5, 3.2, {"type": "custom", "name": "task", "data": {
        "sdk_span_type": "task", "name": "wf", "usage": {"input_tokens": 4100,
                                                          "output_tokens": 15, "requests": 2}}})
    p = tmp_path / "run.jsonl"
    lines = [json.dumps(trace), json.dumps({"data": spans}), "{not json", json.dumps(root),
             json.dumps({"object": "trace.span", "id": "s_bad", "trace_id": "trace_x"})]
    p.write_text("\n".join(lines) + "\n")

    df, rep = load_frame(p)
    assert set(df["format"]) == {"openai-agents"}
    assert_invariants(df)
    assert rep.malformed_count == 2  # the broken JSON line and the span without span_data
    assert rep.malformed[0].startswith(f"{p}:3:")
    llm = df[df["kind"] == "llm"].sort_values("started_at")
    assert list(llm["input_tokens"]) == [2000, 2100]
    assert list(llm["cache_read_tokens"]) == [1024, 1920]
    assert list(llm["cache_write_tokens"]) == [0, 128]  # Responses reports writes, 0 is real
    assert (llm["model"] == "gpt-5-mini").all()  # from the trace metadata
    assert list(llm["tool_calls"].iloc[0]) == ["lookup"]
    assert (llm["name"] == "helper").all()
    assert set(df["session_id"]) == {"conv-1"}
    tool = df[df["kind"] == "tool"].iloc[0]
    assert bool(tool["is_error"])
    assert tool["tool_input_hash"] == args_hash({"a": 1, "b": 2})
    assert rep.duplicates == {
        "openai-agents: turn span usage (repeats its model call)": 1,
        "openai-agents: task span usage (run totals of its model calls)": 1}

    with pytest.raises(InputError) as exc:
        load_frame(p, strict=True)
    assert "run.jsonl:3" in str(exc.value)


def test_generation_cache_write_zero_is_unknown(tmp_path: Path) -> None:
    gen = _span("g1", None, 1, 2, {"type": "generation", "model": "claude-sonnet-4-5",
                                   "input": [{"role": "user", "content": "hi"}],
                                   "output": [{"role": "assistant", "content": "yo"}],
                                   "usage": _usage(1500, 3, 1200, 0)})
    p = tmp_path / "g.jsonl"
    p.write_text(json.dumps(gen) + "\n")
    df, _ = load_frame(p)
    row = df.iloc[0]
    assert row["input_tokens"] == 1500 and row["cache_read_tokens"] == 1200
    assert pd.isna(row["cache_write_tokens"])  # the SDK's default 0, not a reported figure
    assert row["provider"] == "anthropic" and list(row["tool_calls"]) == []


def test_time_window(authentic: Path) -> None:
    path = authentic / "openai-agents-sdk" / "responses.agents.jsonl"
    full, _ = load_frame(path)
    cut = full[full["kind"] == "llm"].sort_values("started_at")["started_at"].iloc[2]
    df, rep = load_frame(path, since=cut.isoformat())
    assert (df["kind"] == "llm").sum() == 2
    assert rep.outside_window > 0


def test_sniff() -> None:
    head = b'{"object": "trace", "id": "trace_1", "workflow_name": "w", "group_id": null}\n'
    assert READER.sniff(Source(name="x", data=head)) == 95
    span = _span("s", None, 1, 2, {"type": "agent", "name": "a"})
    assert READER.sniff(Source(name="x", data=json.dumps(span).encode())) == 95
    assert READER.sniff(Source(name="x", data=json.dumps({"data": [span]}).encode())) == 95
    assert READER.sniff(Source(name="x", data=b'{"task_id": "t", "kind": "llm"}\n')) == 0
    assert READER.sniff(Source(name="x", data=b'{"request": {}, "response": {}}\n')) == 0


def test_args_hash() -> None:
    assert args_hash('{"a": 1, "b": 2}') == args_hash('{"b":2,"a":1}') == args_hash({"b": 2,
                                                                                      "a": 1})
    assert args_hash("not json") is not None and len(args_hash("not json") or "") == 16
    assert args_hash(None) is None


def test_default_model_prices_nameless_response_spans(authentic: Path, tmp_path: Path) -> None:
    """Agents SDK response spans carry usage but no model: default_model prices them exactly as
    the same calls are priced when the model is named (here: rebuilt from the ground truth)."""
    import agentcost
    from agentcost.config import Config

    run = authentic / "openai-agents-sdk" / "responses.agents.jsonl"
    plain = agentcost.analyze(agentcost.load([str(run)]))
    assert plain.totals["cost_is_lower_bound"] and plain.totals["cost_usd"] is None
    # the warning names the way out: --default-model, not "add a price for (no model)"
    nameless = [w for w in plain.warnings if "name no model" in w]
    assert len(nameless) == 1 and "--default-model MODEL" in nameless[0]
    assert not any("no price for model (no model)" in w for w in plain.warnings)
    cfg = Config(default_model="gpt-4.1-mini")
    table = agentcost.load([str(run)], config=cfg)
    rep = agentcost.analyze(table, config=cfg)
    assert not rep.totals["cost_is_lower_bound"]
    assert rep.pricing["default_model"] == {"model": "gpt-4.1-mini", "steps": 4}
    assert any("priced as gpt-4.1-mini" in w for w in rep.warnings)
    # the same four calls, model named, from the ground truth
    lines = []
    for gt in map(json.loads, (run.parent / "responses.ground_truth.jsonl").read_text()
                  .splitlines()):
        u = gt["usage"]
        lines.append(json.dumps({
            "task_id": "t", "kind": "llm", "model": gt["model"], "provider": "openai",
            "started_at": gt["server_start_unix"], "input_tokens": u["input_tokens"],
            "cache_read_tokens": u["input_tokens_details"]["cached_tokens"],
            "cache_write_tokens": u["input_tokens_details"]["cache_write_tokens"],
            "output_tokens": u["output_tokens"]}))
    ref_path = tmp_path / "ref.jsonl"
    ref_path.write_text("\n".join(lines) + "\n")
    ref = agentcost.analyze(agentcost.load([str(ref_path)]))
    assert rep.totals["cost_usd"] == pytest.approx(ref.totals["cost_usd"], rel=1e-9)
    assert rep.totals["cost_usd"] > 0
