"""Gemini CLI reader, on the real chat recordings in shared/real-traces/gemini-cli-codemie
(SOURCES.md §5). Expected token sums are recomputed with plain ``json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentcost.errors import InputError
from agentcost.ingest import detect, gemini_cli, readers
from agentcost.ingest.base import Source
from tests.conftest import REAL, assert_invariants, load_frame

DIR = REAL / "gemini-cli-codemie"
S1 = DIR / "session-2025-12-01T21-45-5b959dae.json"
S2 = DIR / "session-2026-01-16T11-01-file-ops-37b7abef.json"
LOGS = DIR / "logs.json"


def _expected(path: Path) -> dict[str, int]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    out = dict.fromkeys(("input", "cached", "output", "reasoning", "records", "tools"), 0)
    for m in doc["messages"]:
        if m["type"] != "gemini":
            continue
        t = m["tokens"]
        out["input"] += t["input"] + t["tool"]
        out["cached"] += t["cached"]
        out["output"] += t["output"] + t["thoughts"]
        out["reasoning"] += t["thoughts"]
        out["records"] += 1
        out["tools"] += len(m.get("toolCalls") or [])
        assert t["total"] == t["input"] + t["output"] + t["thoughts"] + t["tool"]
    return out


def _sums(df) -> dict[str, int]:  # type: ignore[no-untyped-def]
    llm = df[df["kind"] == "llm"]
    return {"input": int(llm["input_tokens"].sum()), "cached": int(llm["cache_read_tokens"].sum()),
            "output": int(llm["output_tokens"].sum()),
            "reasoning": int(llm["reasoning_tokens"].sum())}


@pytest.mark.parametrize("path, extra_calls", [(S1, 2), (S2, 4)])
def test_real_session_totals(path: Path, extra_calls: int) -> None:
    df, rep = load_frame(path)
    exp = _expected(path)
    assert _sums(df) == {k: exp[k] for k in ("input", "cached", "output", "reasoning")}
    assert df["cache_read_tokens"].sum() > 0
    llm = df[df["kind"] == "llm"]
    # every record is a model call; records holding several calls' tool calls add calls whose
    # usage the CLI lost (unknown, not 0)
    assert len(llm) == exp["records"] + extra_calls
    assert llm["input_tokens"].isna().sum() == extra_calls
    assert (df["kind"] == "tool").sum() == exp["tools"]
    assert any("without usage" in n for n in rep.notes)
    assert set(llm["provider"]) == {"google"}
    assert_invariants(df)


def test_merged_record_is_split_by_time() -> None:
    df, _ = load_frame(S1)
    llm = df[df["kind"] == "llm"].sort_values("started_at")
    # record 11 holds read_file, then write_file, then read_file: three model calls
    rec = llm[llm["line"] == 11]
    assert [list(t) for t in rec["tool_calls"]] == [["read_file"], ["write_file"], ["read_file"]]
    assert rec["input_tokens"].notna().tolist() == [True, False, False]
    tools = df[(df["kind"] == "tool") & (df["line"] == 11)].sort_values("started_at")
    # the write ran 73.9 s (from its scheduling to its completion)
    assert tools["duration_ms"].round().tolist() == [132.0, 73932.0, 78.0]
    assert (df.loc[df["kind"] == "tool", "tool_input_hash"].notna()).all()
    # calls and tools alternate in time: each llm step ends before its tools start
    seq = df.sort_values(["started_at", "step"])["kind"].tolist()
    assert seq[:4] == ["llm", "llm", "tool", "llm"]


def test_logs_json_is_recognised_and_skipped() -> None:
    df, rep = load_frame(LOGS)
    assert len(df) == 0
    assert any("prompt log" in n for n in rep.notes)
    assert rep.malformed_count == 0


def test_jsonl_recording_matches_json(tmp_path: Path) -> None:
    """Newer CLIs write JSONL: metadata line, records re-appended on change (last wins)."""
    doc = json.loads(S1.read_text(encoding="utf-8"))
    meta = {k: v for k, v in doc.items() if k != "messages"}
    lines = [json.dumps(meta)]
    for m in doc["messages"]:
        if m["type"] == "gemini":  # first an unfinished version, then the final one
            lines.append(json.dumps({**m, "tokens": None, "toolCalls": []}))
        lines.append(json.dumps(m))
    lines.append(json.dumps({"$set": {"lastUpdated": "2025-12-01T21:51:00Z"}}))
    lines.append(json.dumps({"$rewindTo": doc["messages"][-1]["id"]}))
    f = tmp_path / "session-x.jsonl"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    src = Source(name=str(f), path=f)
    assert gemini_cli.READER.sniff(src) >= 90
    df, rep = load_frame(f)
    ref, _ = load_frame(S1)
    assert _sums(df) == _sums(ref)
    assert len(df) == len(ref)
    assert any("rewind" in n for n in rep.notes)


def test_broken_file_is_one_malformed_record(tmp_path: Path) -> None:
    f = tmp_path / "session-broken.json"
    f.write_text(S1.read_text(encoding="utf-8")[:5000], encoding="utf-8")
    df, rep = load_frame(f)
    assert len(df) == 0
    assert rep.malformed_count == 1
    assert rep.malformed[0].startswith(str(f))
    with pytest.raises(InputError):
        load_frame(f, strict=True)


def test_bad_token_field(tmp_path: Path) -> None:
    doc = json.loads(S2.read_text(encoding="utf-8"))
    doc["messages"][1]["tokens"]["input"] = "lots"
    f = tmp_path / "session-bad.json"
    f.write_text(json.dumps(doc), encoding="utf-8")
    df, rep = load_frame(f)
    assert rep.malformed_count == 1 and ":2:" in rep.malformed[0]
    assert (df["kind"] == "llm").sum() == 12


def test_sniff_only_gemini_files(real: Path) -> None:
    table = readers()
    for p in sorted(real.rglob("*")):
        if not p.is_file() or p.suffix not in (".json", ".jsonl", ".traj"):
            continue
        src = Source(name=str(p), path=p)
        mine = p.parent == DIR
        assert (gemini_cli.READER.sniff(src) > 0) == mine, p
        if mine:
            assert detect(src, table) is gemini_cli.READER
