"""The runaway-loop finding compares like with like (issue 9, item 7): main sessions,
subagents and compactions apart, interactive sessions per user turn, and "at stake" is the cost
beyond the typical count, not the whole task."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import agentcost
from agentcost.analysis import analyze
from tests.conftest import REAL, REPO

MAIN = "4d5611e5-241a-462a-8d15-5122611a9569"


def _runaways(rep: Any) -> dict[str, dict[str, Any]]:
    return {f["task_id"]: f for f in rep.findings if f["type"] == "runaway-loop"}


def test_claude_code_session_is_not_compared_with_its_subagents() -> None:
    """The spotter log: one 139-call main session, 3 other main sessions, subagents and a
    compaction. It used to be flagged "27.8x the median of 5, at stake $9.30" against a median
    taken mostly from subagent and compaction tasks; 3 other main sessions are too few to say
    what is typical, so nothing is flagged."""
    rep = analyze(agentcost.load([str(REAL / "claude-code-spotter")]))
    assert _runaways(rep) == {}


def test_interactive_sessions_are_measured_per_user_turn() -> None:
    table = agentcost.load([str(REAL / "claude-code-spotter"), str(REAL / "claude-code-codemie")])
    rep = analyze(table)
    f = _runaways(rep)[MAIN]
    d = f["details"]
    assert d["role"] == "main" and d["measure"] == "calls per user turn"
    assert d["peers"] == 8  # the other main sessions, no subagent or compaction among them
    assert f["severity"] == "info"  # a long turn may be the autonomy the user asked for
    assert f"({d['iterations']} calls, {d['user_turns']} turns)" in f["message"]
    # at stake: the calls of each turn beyond the typical count, not the whole session
    df = table.frame
    llm = df[(df["task_id"] == MAIN) & (df["kind"] == "llm")].sort_values("step")
    whole = float(llm["cost_usd"].sum())
    keep = math.ceil(d["typical"])
    ends = [isinstance(t, (list, tuple)) and not t for t in llm["tool_calls"]]
    turn, seen, beyond = 0, {}, 0.0
    for i, c in enumerate(llm["cost_usd"].tolist()):
        if i and ends[i - 1]:
            turn += 1
        seen[turn] = seen.get(turn, 0) + 1
        if seen[turn] > keep:
            beyond += c
    assert f["usd_at_stake"] == pytest.approx(beyond, abs=1e-8)
    assert f["usd_at_stake"] < whole
    # no subagent is judged against main sessions
    tasks = {t["task_id"]: t for t in rep.tasks}
    assert all(tasks[t]["parent_task_id"] is None for t in _runaways(rep))


def test_at_stake_is_the_cost_beyond_the_typical_count() -> None:
    table = agentcost.load([str(REPO / "sample_traces")])
    f = _runaways(analyze(table))["ticket-4713"]
    assert f["message"] == "25 llm calls, 8.3x the median of 6 other main tasks (3 calls)"
    df = table.frame
    llm = df[(df["task_id"] == "ticket-4713") & (df["kind"] == "llm")].sort_values("step")
    assert f["usd_at_stake"] == pytest.approx(float(llm["cost_usd"].iloc[3:].sum()), abs=1e-8)
    assert f["usd_at_stake"] < float(llm["cost_usd"].sum())


T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _task(task: str, n: int, parent: str | None = None) -> list[dict[str, Any]]:
    rows = []
    for k in range(n):
        r = {"task_id": task, "kind": "llm", "name": "agent", "provider": "anthropic",
             "model": "claude-sonnet-4-6",
             "started_at": (T0 + timedelta(seconds=5 * k)).isoformat(), "duration_ms": 1000,
             "input_tokens": 1000, "output_tokens": 50}
        if parent:
            r["parent_task_id"] = parent
        rows.append(r)
    return rows


def test_subagents_are_compared_with_subagents(tmp_path: Path) -> None:
    rows: list[dict[str, Any]] = []
    for i in range(6):  # six main tasks of 40 calls, six subagents of 3, one subagent of 30
        rows += _task(f"main-{i}", 40)
        rows += _task(f"main-{i}/agent-{i}", 3, parent=f"main-{i}")
    rows += _task("main-0/agent-x", 30, parent="main-0")
    p = tmp_path / "run.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    got = _runaways(analyze(agentcost.load([str(p)])))
    # the 30-call subagent is 10x its peers; the 40-call main tasks are typical mains
    assert set(got) == {"main-0/agent-x"}
    assert "the median of 6 other subagent tasks (3 calls)" in got["main-0/agent-x"]["message"]


def test_loop_profiles_group_interleaved_tasks_in_row_order() -> None:
    """Rows of several tasks interleaved (a table not in task order): each profile holds its
    task's calls in row order, turns end at calls that requested no tool, and tasks come
    in the order they first appear."""
    import pandas as pd

    from agentcost.loops import loop_profiles

    rows = [("b", None, "claude-code", 1.0, 10, 1, ("Read",)),
            ("a", None, "claude-code", 2.0, 20, 2, ()),
            ("b", None, "claude-code", float("nan"), None, 3, ()),
            ("a", None, "claude-code", 4.0, 40, None, ("Bash",)),
            ("b/agent-x", "b", "claude-code", 5.0, 50, 5, None),
            ("b", None, "claude-code", 6.0, 60, 6, ("Edit",)),
            ("c", None, "openai-agents", 7.0, 70, 7, None),
            ("a", None, "claude-code", 9.0, 1, 1, ())]  # a tool step: not a call
    df = pd.DataFrame(rows, columns=["task_id", "parent_task_id", "format", "cost_usd",
                                     "input_tokens", "output_tokens", "tool_calls"])
    df["kind"] = ["llm"] * 7 + ["tool"]
    df["parent_task_id"] = df["parent_task_id"].astype("string")
    df["input_tokens"] = df["input_tokens"].astype("Int64")
    df["output_tokens"] = df["output_tokens"].astype("Int64")
    got = loop_profiles(df)
    assert list(got) == ["b", "a", "b/agent-x", "c"]
    b, a, sub, c = got["b"], got["a"], got["b/agent-x"], got["c"]
    assert b.costs[0] == 1.0 and math.isnan(b.costs[1]) and b.costs[2] == 6.0
    assert b.tokens == [11, 3, 66] and b.turn == [0, 0, 1] and b.interactive
    assert a.costs == [2.0, 4.0] and a.tokens == [22, 40] and a.turn == [0, 1]
    assert sub.role == "subagent" and not sub.interactive and sub.turn == [0]
    assert c.role == "main" and not c.interactive and c.calls == 1
    assert loop_profiles(df.iloc[:0]) == {}
