"""Codex rollout reader, on the real rollout in shared/real-traces/codex-codemie (SOURCES.md §4).

Expected figures are recomputed here with plain ``json`` from the raw events.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from agentcost.errors import InputError
from agentcost.ingest import codex, detect, readers
from agentcost.ingest.base import Source
from tests.conftest import REAL, assert_invariants, load_frame

DIR = REAL / "codex-codemie"
ROLLOUT = DIR / "rollout-2026-05-11T11-26-55-019e1625-789d-76c0-80ab-3724b5ddb799.jsonl"
SESSION = "019e1625-789d-76c0-80ab-3724b5ddb799"


def _events(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(t) for t in fh if t.strip()]


def _expected(path: Path) -> dict[str, int]:
    """Sum ``last_token_usage`` over token_count events whose running total changed."""
    sums = dict.fromkeys(("input", "cached", "output", "reasoning", "calls"), 0)
    prev = None
    for ev in _events(path):
        p = ev.get("payload") or {}
        if p.get("type") != "token_count" or not p.get("info"):
            continue
        total = p["info"]["total_token_usage"]
        if total == prev:
            continue
        prev = total
        last = p["info"]["last_token_usage"]
        sums["input"] += last["input_tokens"]
        sums["cached"] += last["cached_input_tokens"]
        sums["output"] += last["output_tokens"]
        sums["reasoning"] += last["reasoning_output_tokens"]
        sums["calls"] += 1
    return sums


def _llm_sums(df) -> dict[str, int]:  # type: ignore[no-untyped-def]
    llm = df[df["kind"] == "llm"]
    return {"input": int(llm["input_tokens"].sum()), "cached": int(llm["cache_read_tokens"].sum()),
            "output": int(llm["output_tokens"].sum()),
            "reasoning": int(llm["reasoning_tokens"].sum()), "calls": len(llm)}


def test_real_rollout_totals_match_raw_events(real: Path) -> None:
    df, rep = load_frame(ROLLOUT)
    exp = _expected(ROLLOUT)
    assert _llm_sums(df) == exp
    assert exp == {"input": 6_055_836, "cached": 4_929_536, "output": 9_118, "reasoning": 1_759,
                   "calls": 66}
    # the last running total equals the sum of the per-call usage
    last_total = [e["payload"]["info"]["total_token_usage"] for e in _events(ROLLOUT)
                  if e["payload"].get("type") == "token_count"][-1]
    assert last_total["input_tokens"] == exp["input"]
    assert last_total["output_tokens"] == exp["output"]
    assert df["cache_read_tokens"].sum() > 0
    assert rep.malformed_count == 0
    assert rep.lines_read == 386
    assert_invariants(df)


def test_reasoning_is_inside_output() -> None:
    """Codex's total_tokens = input + output on every event: reasoning is not extra."""
    for ev in _events(ROLLOUT):
        p = ev["payload"]
        if p.get("type") == "token_count" and p.get("info"):
            for u in p["info"].values():
                if isinstance(u, dict) and "total_tokens" in u:
                    assert u["total_tokens"] == u["input_tokens"] + u["output_tokens"]
                    assert u["reasoning_output_tokens"] <= u["output_tokens"]


def test_steps_structure() -> None:
    df, _ = load_frame(ROLLOUT)
    evs = _events(ROLLOUT)
    n_calls = sum(1 for e in evs if e["payload"].get("type") in ("function_call",
                                                                 "custom_tool_call"))
    assert (df["kind"] == "tool").sum() == n_calls == 102
    assert (df["kind"] == "agent").sum() == 2  # two turns
    assert set(df["task_id"]) == {SESSION}
    assert set(df.loc[df["kind"] == "llm", "model"]) == {"gpt-5.5"}
    assert set(df.loc[df["kind"] == "llm", "provider"]) == {"openai"}
    tools = df[df["kind"] == "tool"]
    assert tools["tool_input_hash"].notna().all() and tools["tool_call_id"].notna().all()
    assert tools["ended_at"].notna().all()
    assert (tools["duration_ms"] >= 0).all()
    assert set(tools["name"]) == {"exec_command", "write_stdin", "apply_patch", "update_plan"}
    # the requested tool names on llm steps add up to the tool steps (+3 hosted web searches)
    requested = [t for tc in df.loc[df["kind"] == "llm", "tool_calls"] for t in tc]
    assert len(requested) == n_calls + 3 and requested.count("web_search") == 3
    # task_complete figures on the turn steps, TTFT on each turn's first llm step
    done = [e["payload"] for e in evs if e["payload"].get("type") == "task_complete"]
    turns = df[df["kind"] == "agent"].sort_values("started_at")
    assert list(turns["duration_ms"]) == [float(d["duration_ms"]) for d in done]
    assert list(turns["ttft_ms"]) == [float(d["time_to_first_token_ms"]) for d in done]
    llm = df[df["kind"] == "llm"]
    assert sorted(llm["ttft_ms"].dropna()) == sorted(float(d["time_to_first_token_ms"])
                                                     for d in done)
    assert (llm["duration_ms"] > 0).all()
    # first call: from the user's message to its token_count line
    first = llm.sort_values("started_at").iloc[0]
    assert first["duration_ms"] == pytest.approx(22_767 - 17_495)
    # exec_command_end exit codes reach the tool steps
    assert tools.loc[tools["name"] == "exec_command", "is_error"].notna().all()


def test_reemitted_and_copied_events_are_dropped(tmp_path: Path) -> None:
    lines = ROLLOUT.read_text(encoding="utf-8").splitlines(keepends=True)
    tc_idx = [i for i, t in enumerate(lines) if '"type":"token_count"' in t.replace(" ", "")]
    # Codex re-emits the same cumulative token_count (e.g. on a rate-limit refresh) ...
    dup = lines[: tc_idx[5] + 1] + [lines[tc_idx[5]]] + lines[tc_idx[5] + 1:]
    # ... and sometimes writes one with info: null
    null_info = json.dumps({"timestamp": "2026-05-11T08:27:33.000Z", "type": "event_msg",
                            "payload": {"type": "token_count", "info": None,
                                        "rate_limits": None}}) + "\n"
    dup.insert(tc_idx[2] + 1, null_info)
    f = tmp_path / "rollout-dup.jsonl"
    f.write_text("".join(dup), encoding="utf-8")
    df, rep = load_frame(f)
    assert _llm_sums(df) == _expected(ROLLOUT)
    assert rep.duplicates[codex.DROP_REEMITTED] == 1
    # the same rollout in a second file (a fork/resume copying history) counts once
    g = tmp_path / "copy" / "rollout-copy.jsonl"
    g.parent.mkdir()
    shutil.copy(ROLLOUT, g)
    df2, rep2 = load_frame(ROLLOUT, g)
    assert _llm_sums(df2) == _expected(ROLLOUT)
    assert rep2.duplicates[codex.DROP_COPIED] == 66 + 102


def test_malformed_lines(tmp_path: Path) -> None:
    lines = ROLLOUT.read_text(encoding="utf-8").splitlines(keepends=True)
    bad = lines[:12] + ['{"timestamp": "x", "type": "event_msg", "payload": {"type": \n'] \
        + ['{"timestamp":"2026-05-11T08:27:28Z","type":"event_msg","payload":{"type":'
           '"token_count","info":{"last_token_usage":{"input_tokens":"many"}}}}\n'] + lines[12:]
    f = tmp_path / "rollout-bad.jsonl"
    f.write_text("".join(bad), encoding="utf-8")
    df, rep = load_frame(f)
    assert rep.malformed_count == 2
    assert any(":13: invalid JSON" in m for m in rep.malformed)
    assert _llm_sums(df)["calls"] == 66
    with pytest.raises(InputError):
        load_frame(f, strict=True)


def test_time_window() -> None:
    df, rep = load_frame(ROLLOUT, since="2026-05-11T08:30:00Z")
    assert df["started_at"].min().isoformat() >= "2026-05-11T08:30:00"
    assert rep.outside_window == 6  # turn 1: turn step, 3 llm, 2 tools


def test_sniff_only_codex_files(real: Path) -> None:
    table = readers()
    for p in sorted(real.rglob("*")):
        if not p.is_file() or p.suffix not in (".json", ".jsonl", ".traj"):
            continue
        src = Source(name=str(p), path=p)
        mine = p.parent == DIR
        assert (codex.READER.sniff(src) > 0) == mine, p
        if mine:
            assert detect(src, table) is codex.READER
