"""AgentOps trace export (``agentcost.ingest.agentops``)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import agentcost.ingest as ingest
from agentcost.ingest.agentops import READER
from agentcost.ingest.base import Source
from tests.conftest import assert_invariants, load_frame


@pytest.fixture(autouse=True)
def _registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Until ``agentops`` is listed in ``READER_MODULES``, register it for these tests."""
    if "agentops" not in ingest.READER_MODULES:
        monkeypatch.setattr(ingest, "READER_MODULES", (*ingest.READER_MODULES, "agentops"))


def test_real_export(real: Path) -> None:
    path = real / "agentops-openai-agents" / "api_output.json"
    df, rep = load_frame(path)
    assert set(df["format"]) == {"agentops"}
    assert_invariants(df)
    assert rep.lines_read == 7 and rep.malformed_count == 0
    llm = df[df["kind"] == "llm"]
    assert len(llm) == 1
    row = llm.iloc[0]
    # counted once from the embedded Responses JSON; the run roll-up and the start record
    # of the same SDK span are reported as dropped
    assert (row["input_tokens"], row["cache_read_tokens"], row["output_tokens"]) == (52, 0, 439)
    assert pd.isna(row["cache_write_tokens"])  # that API version did not report writes
    assert row["model"] == "gpt-4o" and row["response_model"] == "gpt-4o-2024-08-06"
    assert row["stop_reason"] == "completed" and list(row["tool_calls"]) == []
    assert pd.isna(row["duration_ms"]) and pd.isna(row["started_at"])
    assert sum(rep.duplicates.values()) == 2
    run = df[df["kind"] == "agent"].iloc[0]
    assert run["name"] == "Hello World Agent" and run["duration_ms"] == pytest.approx(4653.579)
    assert df["task_id"].nunique() == 1
    assert "Recursion" not in df.drop(columns=["segments"]).astype(str).to_string()


def test_run_usage_fallback_and_malformed(tmp_path: Path) -> None:
    doc = {"trace_id": "t1", "spans": [
        {"span_id": "a", "parent_span_id": "", "span_name": "agents.run.Bot", "duration": 2e9,
         "start_time": "", "span_attributes": {"agent": {"name": "Bot"}, "gen_ai": {
             "request": {"model": "gpt-4o-mini"}, "system": "openai",
             "usage": {"prompt_tokens": "100", "completion_tokens": "7"}}}},
        {"span_id": "b", "parent_span_id": "a", "span_name": "agents.response", "duration": 1,
         "span_attributes": {"gen_ai": {"completion": [{"0": {"content": "null"}}]}}},
        "not a span",
    ]}
    p = tmp_path / "export.json"
    p.write_text(json.dumps(doc, indent=2))
    df, rep = load_frame(p)
    assert rep.malformed_count == 1
    llm = df[df["kind"] == "llm"]
    assert list(llm["input_tokens"]) == [100] and list(llm["output_tokens"]) == [7]
    assert llm["model"].iloc[0] == "gpt-4o-mini"
    assert any("agents.run usage" in n for n in rep.notes)


def test_sniff(real: Path) -> None:
    data = (real / "agentops-openai-agents" / "api_output.json").read_bytes()
    assert READER.sniff(Source(name="x", data=data)) == 80
    assert READER.sniff(Source(name="x", data=b'{"request": {}, "response": {}}\n')) == 0
