"""OpenHands reader, on the real trajectories and evaluation output in
shared/real-traces/openhands (SOURCES.md §12). Expected figures are recomputed with plain
``json``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from agentcost.errors import InputError
from agentcost.ingest import detect, openhands, readers
from agentcost.ingest.base import Source
from tests.conftest import REAL, assert_invariants, load_frame

DIR = REAL / "openhands"
TRAJS = sorted((DIR / "runtime-trajs").glob("*.json"))
EVAL = DIR / "eval-output" / "multi_swe_bench_output.jsonl"
RESOLVER = DIR / "eval-output" / "resolver_mock_output.jsonl"


def _traj_expected(path: Path) -> dict[str, int]:
    """Usage of every distinct model_response in a trajectory (litellm: prompt inclusive)."""
    seen: dict[str, dict] = {}
    repeats = 0
    for ev in json.loads(path.read_text(encoding="utf-8")):
        mr = (ev.get("tool_call_metadata") or {}).get("model_response")
        if not mr:
            continue
        if mr["id"] in seen:
            repeats += 1
        seen[mr["id"]] = mr["usage"]
    u = list(seen.values())
    return {
        "calls": len(u), "repeats": repeats,
        "input": sum(x["prompt_tokens"] for x in u),
        "read": sum(x.get("cache_read_input_tokens")
                    or (x.get("prompt_tokens_details") or {}).get("cached_tokens") or 0 for x in u),
        "write": sum(x.get("cache_creation_input_tokens") or 0 for x in u),
        "output": sum(x["completion_tokens"] for x in u),
    }


@pytest.mark.parametrize("path", TRAJS, ids=[p.name for p in TRAJS])
def test_trajectory_totals(path: Path) -> None:
    df, rep = load_frame(path)
    exp = _traj_expected(path)
    llm = df[df["kind"] == "llm"]
    with_usage = llm[llm["input_tokens"].notna()]
    assert len(with_usage) == exp["calls"]
    assert int(llm["input_tokens"].sum()) == exp["input"]
    assert int(llm["cache_read_tokens"].sum()) == exp["read"]
    assert int(llm["cache_write_tokens"].sum()) == exp["write"]
    assert int(llm["output_tokens"].sum()) == exp["output"]
    assert sum(rep.duplicates.values()) == exp["repeats"]
    assert set(df["task_id"]) == {path.stem}
    assert_invariants(df)


def test_trajectory_cache_and_dedupe() -> None:
    df, rep = load_frame(*TRAJS)
    llm = df[df["kind"] == "llm"]
    assert llm["cache_read_tokens"].sum() > 0 and llm["cache_write_tokens"].sum() > 0
    # each model_response sits on its action and again on the observation
    assert rep.duplicates[openhands.DROP_REPEATED] == 8
    # anthropic via litellm: prompt_tokens includes reads and writes (3,486 = 4 + 3,482)
    first = df[(df["task_id"] == "basic") & (df["kind"] == "llm")].sort_values("started_at")
    r = first.iloc[0]
    assert (r["input_tokens"], r["cache_read_tokens"], r["cache_write_tokens"]) == (3486, 0, 3482)
    assert r["model"] == "claude-3-5-sonnet-20241022" and r["provider"] == "anthropic"
    assert r["stop_reason"] == "tool_calls" and tuple(r["tool_calls"]) == ("str_replace_editor",)
    # tool steps end at their observation; a failed command is an error
    tools = df[df["kind"] == "tool"]
    assert tools["ended_at"].notna().all() and tools["tool_input_hash"].notna().all()
    gui = tools[tools["task_id"] == "basic_gui_mode"].sort_values("started_at")
    assert gui["is_error"].tolist()[-1] is True  # `python3 app.py` timed out
    # plain agent messages are model calls without recorded usage
    inter = df[(df["task_id"] == "basic_interactions") & (df["kind"] == "llm")]
    assert len(inter) == 3 and inter["input_tokens"].isna().sum() == 2
    assert any("without recorded usage" in n for n in rep.notes)


def test_eval_output_token_usages_and_latencies() -> None:
    df, rep = load_frame(EVAL)
    with open(EVAL, encoding="utf-8") as fh:
        instances = [json.loads(t) for t in fh if t.strip()]
    assert set(df["task_id"]) == {i["instance_id"] for i in instances}
    for inst in instances:
        m = inst["metrics"]
        task = df[df["task_id"] == inst["instance_id"]]
        llm = task[task["kind"] == "llm"]
        usages = {u["response_id"]: u for u in m["token_usages"]}
        assert int(llm["input_tokens"].sum()) == sum(u["prompt_tokens"] for u in usages.values())
        assert int(llm["input_tokens"].sum()) == m["accumulated_token_usage"]["prompt_tokens"]
        assert int(llm["output_tokens"].sum()) == \
            m["accumulated_token_usage"]["completion_tokens"]
        lats = {x["response_id"]: x["latency"] for x in m["response_latencies"]}
        # one llm step per distinct response id (latency-only ids are calls without usage)
        assert len(llm) == len(set(usages) | set(lats))
        assert llm["input_tokens"].isna().sum() == len(set(lats) - set(usages))
        for _, row in llm.iterrows():
            assert row["duration_ms"] == pytest.approx(lats[row["span_id"]] * 1000)
        assert task[task["kind"] == "agent"]["is_error"].iloc[0] == bool(inst["error"])
        assert len(task[task["kind"] == "tool"]) > 0
    llm = df[df["kind"] == "llm"]
    assert set(llm["response_model"].dropna()) == {"meta-llama/llama-4-maverick"}
    assert set(llm["model"]) == {"openrouter-llama-4-maverick"}  # litellm "openai/" route
    assert llm["started_at"].notna().all()  # latency-only calls sit at their error events
    assert_invariants(df)


def test_resolver_output_costs_only() -> None:
    df, rep = load_frame(RESOLVER)
    with open(RESOLVER, encoding="utf-8") as fh:
        rows = [json.loads(t) for t in fh if t.strip()]
    llm = df[df["kind"] == "llm"]
    assert len(llm) == sum(len(r["metrics"]["costs"]) for r in rows)
    assert math.isclose(float(llm["reported_cost_usd"].sum()),
                        sum(r["metrics"]["accumulated_cost"] for r in rows), rel_tol=1e-9)
    assert llm["input_tokens"].isna().all()
    assert any("costs only" in n for n in rep.notes)


def test_malformed(tmp_path: Path) -> None:
    lines = EVAL.read_text(encoding="utf-8").splitlines(keepends=True)
    f = tmp_path / "output.jsonl"
    f.write_text(lines[0] + '{"instance_id": "x", "history": [\n' + lines[1], encoding="utf-8")
    df, rep = load_frame(f, input_format="openhands")
    assert rep.malformed_count == 1 and ":2:" in rep.malformed[0]
    assert df["task_id"].nunique() == 2
    g = tmp_path / "traj.json"
    g.write_bytes(TRAJS[0].read_bytes()[:3000])
    df2, rep2 = load_frame(g)
    assert len(df2) == 0 and rep2.malformed_count == 1
    with pytest.raises(InputError):
        load_frame(g, strict=True)


def test_sniff_only_openhands_files(real: Path) -> None:
    table = readers()
    for p in sorted(real.rglob("*")):
        if not p.is_file() or p.suffix not in (".json", ".jsonl", ".traj"):
            continue
        src = Source(name=str(p), path=p)
        mine = DIR in p.parents
        assert (openhands.READER.sniff(src) > 0) == mine, p
        if mine:
            assert detect(src, table) is openhands.READER
