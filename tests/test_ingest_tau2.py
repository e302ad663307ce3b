"""tau2-bench reader, on the real simulation results in shared/real-traces/tau2-bench
(SOURCES.md §15). Expected figures are recomputed with plain ``json``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from agentcost.errors import InputError
from agentcost.ingest import detect, readers, tau2
from agentcost.ingest.base import Source
from tests.conftest import REAL, assert_invariants, load_frame

DIR = REAL / "tau2-bench"
SIM = DIR / "2025-08-10T02-44-06_telecom_llm_agent_gpt-4o_user_simulator_gpt-4o.json"


def _doc() -> dict:
    return json.loads(SIM.read_text(encoding="utf-8"))


def test_real_totals_are_the_agents_only() -> None:
    doc = _doc()
    agent = [m for s in doc["simulations"] for m in s["messages"]
             if m["role"] == "assistant" and m.get("usage")]
    user = [m for s in doc["simulations"] for m in s["messages"]
            if m["role"] == "user" and m.get("usage")]
    df, rep = load_frame(SIM)
    llm = df[df["kind"] == "llm"]
    assert len(llm) == len(agent) == 217
    assert int(llm["input_tokens"].sum()) == sum(m["usage"]["prompt_tokens"] for m in agent)
    assert int(llm["output_tokens"].sum()) == sum(m["usage"]["completion_tokens"] for m in agent)
    assert int(llm["input_tokens"].sum()) == 1_547_053
    # reported cost = the file's own per-simulation agent_cost
    assert math.isclose(float(llm["reported_cost_usd"].sum()),
                        sum(s["agent_cost"] for s in doc["simulations"]), rel_tol=1e-9)
    # the user simulator's calls are left out, and said so
    assert user and any("user simulator" in n and f"{len(user)} model call" in n
                        for n in rep.notes)
    # no cache fields in the source: unknown, never 0
    assert llm["cache_read_tokens"].isna().all() and llm["cache_write_tokens"].isna().all()
    assert llm["reasoning_tokens"].isna().all()
    assert set(llm["model"]) == {"gpt-4o"} and set(llm["provider"]) == {"openai"}
    assert set(llm["stop_reason"]) == {"stop", "tool_calls"}
    assert_invariants(df)


def test_tasks_and_tools() -> None:
    doc = _doc()
    df, _ = load_frame(SIM)
    assert set(df["task_id"]) == {s["id"] for s in doc["simulations"]}
    agents = df[df["kind"] == "agent"]
    assert len(agents) == 20
    assert set(agents["name"]) == {s["task_id"] for s in doc["simulations"]}
    agent_tools = [m for s in doc["simulations"] for m in s["messages"]
                   if m["role"] == "tool" and m.get("requestor") == "assistant"]
    tools = df[df["kind"] == "tool"]
    assert len(tools) == len(agent_tools) == 90
    assert tools["name"].notna().all() and tools["tool_input_hash"].notna().all()
    assert int(tools["is_error"].sum()) == sum(bool(m["error"]) for m in agent_tools)
    # every tool call requested by an llm step has its tool step
    requested = sorted(t for tc in df.loc[df["kind"] == "llm", "tool_calls"] for t in tc)
    assert requested == sorted(tools["name"])
    # latency: llm steps run from the previous message to their own
    first = doc["simulations"][0]["messages"]
    i = next(k for k, m in enumerate(first) if m["role"] == "assistant" and m.get("usage"))
    row = df[(df["task_id"] == doc["simulations"][0]["id"]) & (df["kind"] == "llm")] \
        .sort_values("started_at").iloc[0]
    assert row["started_at"].isoformat().startswith(first[i - 1]["timestamp"])
    assert row["ended_at"].isoformat().startswith(first[i]["timestamp"])


def test_broken_file_is_one_malformed_record(tmp_path: Path) -> None:
    f = tmp_path / "sim.json"
    f.write_bytes(SIM.read_bytes()[:200_000])
    df, rep = load_frame(f)
    assert len(df) == 0 and rep.malformed_count == 1
    assert rep.malformed[0].startswith(str(f))
    with pytest.raises(InputError):
        load_frame(f, strict=True)


def test_bad_usage_is_malformed(tmp_path: Path) -> None:
    doc = _doc()
    msg = next(m for m in doc["simulations"][0]["messages"]
               if m["role"] == "assistant" and m.get("usage"))
    msg["usage"]["prompt_tokens"] = -5
    f = tmp_path / "sim.json"
    f.write_text(json.dumps(doc), encoding="utf-8")
    df, rep = load_frame(f)
    assert rep.malformed_count == 1
    assert (df["kind"] == "llm").sum() == 216


def test_sniff_only_tau2_files(real: Path) -> None:
    table = readers()
    for p in sorted(real.rglob("*")):
        if not p.is_file() or p.suffix not in (".json", ".jsonl", ".traj"):
            continue
        src = Source(name=str(p), path=p)
        mine = p.parent == DIR
        assert (tau2.READER.sniff(src) > 0) == mine, p
        if mine:
            assert detect(src, table) is tau2.READER
