"""OTel spans from the Python SDK's console exporter and GitHub Copilot CLI's file exporter
(``agentcost.ingest.otel_json``), and redacted usage values in every span reader.
Fixtures: tests/fixtures/otel/README.md."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from agentcost.ingest.otel_json import SKIPPED_TEXT
from tests.conftest import FIXTURES, assert_invariants, load_frame

CONSOLE = FIXTURES / "otel" / "console_spans.log"
COPILOT = FIXTURES / "otel" / "copilot_cli.jsonl"


def test_console_exporter_output() -> None:
    df, rep = load_frame(CONSOLE)
    assert set(df["format"]) == {"otel-json"}
    assert_invariants(df)
    assert df["task_id"].nunique() == 1
    assert sorted(df["kind"].value_counts().items()) == [("agent", 1), ("llm", 4), ("tool", 1)]
    llm = df[df["kind"] == "llm"].sort_values("started_at").reset_index(drop=True)
    assert list(llm["input_tokens"].iloc[:2]) == [3010, 3100]
    assert list(llm["cache_read_tokens"].iloc[:2]) == [0, 2944]
    assert str(llm.iloc[0]["started_at"]) == "2026-04-12 13:20:00.005000+00:00"
    assert llm.iloc[0]["duration_ms"] == 900.0 and llm.iloc[0]["stop_reason"] == "tool_calls"
    # "[REDACTED]" usage: unknown, not 0, not malformed
    red = llm.iloc[2]
    assert pd.isna(red["input_tokens"]) and pd.isna(red["output_tokens"])
    assert rep.malformed_count == 0
    assert any("redaction marker" in n for n in rep.notes)
    assert bool(llm.iloc[3]["is_error"])  # status_code ERROR
    agent = df[df["kind"] == "agent"].iloc[0]
    assert pd.isna(agent["input_tokens"])  # the roll-up's 9,010 are not counted again
    assert rep.duplicates[SKIPPED_TEXT] == 2  # the program's own prints between spans


def test_redacted_usage_leaves_the_total_a_lower_bound() -> None:
    from agentcost.pricing import price_frame

    df, _ = load_frame(CONSOLE)
    info = price_frame(df)
    assert info.no_usage_steps == 1 and info.lower_bound


def test_copilot_cli_file_exporter() -> None:
    df, rep = load_frame(COPILOT)
    assert set(df["format"]) == {"otel-json"}
    assert_invariants(df)
    llm = df[df["kind"] == "llm"].sort_values("started_at").reset_index(drop=True)
    assert len(llm) == 2
    assert (llm.iloc[0]["input_tokens"], llm.iloc[0]["cache_write_tokens"]) == (21884, 21881)
    assert (llm.iloc[1]["cache_read_tokens"], llm.iloc[1]["cache_write_tokens"]) == (21881, 126)
    assert set(df["session_id"]) == {"5ebcb4c3-cd86-4966-8761-82394d8106f0"}
    assert llm.iloc[0]["duration_ms"] == 4100.0  # startTime/endTime as [s, ns]
    assert df[df["kind"] == "tool"].iloc[0]["name"] == "bash"
    assert rep.malformed_count == 0
    assert "otel-json: 2 metric line(s) skipped (they carry no per-call usage)" in rep.notes
    assert rep.duplicates["otlp: roll-up span tokens ignored"] == 1


def test_copilot_lines_bad_input_counted(tmp_path: Path) -> None:
    lines = COPILOT.read_text().splitlines()
    span = json.loads(lines[1])
    span["attributes"]["gen_ai.usage.output_tokens"] = "eighty"  # not a marker: malformed
    span["spanId"] = "9999999999999999"
    p = tmp_path / "c.jsonl"
    p.write_text("\n".join([*lines, json.dumps(span), "{not json", '{"type": "weird"}']) + "\n")
    df, rep = load_frame(p)
    assert rep.malformed_count == 3
    assert len(df[df["kind"] == "llm"]) == 2


def test_redacted_in_otlp_proper(tmp_path: Path) -> None:
    req = {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{
        "scope": {"name": "opentelemetry.instrumentation.openai_v2"},
        "spans": [{"traceId": "5b8aa5a2d2c872e8321cf37308d69df2", "spanId": "051581bf3cb55c13",
                   "name": "chat gpt-4o", "startTimeUnixNano": "1776000000000000000",
                   "endTimeUnixNano": "1776000001000000000", "attributes": [
                       {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                       {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                       {"key": "gen_ai.usage.input_tokens", "value": {"stringValue": "[REDACTED]"}},
                       {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "12"}}]}]}]}]}
    p = tmp_path / "t.otlp.jsonl"
    p.write_text(json.dumps(req) + "\n")
    df, rep = load_frame(p)
    row = df[df["kind"] == "llm"].iloc[0]
    assert pd.isna(row["input_tokens"]) and row["output_tokens"] == 12
    assert rep.malformed_count == 0


def test_bedrock_span_input_excluding_cache_is_corrected(tmp_path: Path) -> None:
    """Issue 18.1 in OTel: a Bedrock span that copies Converse's inputTokens (which excludes
    the cache) into gen_ai.usage.input_tokens."""
    line = {"type": "span", "traceId": "aad6f1cd07be14015e443eba8edd06c6",
            "spanId": "f322639d3b2c3d97", "name": "chat", "startTime": [1776100000, 0],
            "endTime": [1776100002, 0], "attributes": {
                "gen_ai.operation.name": "chat", "gen_ai.provider.name": "aws.bedrock",
                "gen_ai.request.model": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 40,
                "gen_ai.usage.cache_read.input_tokens": 2000}}
    p = tmp_path / "b.jsonl"
    p.write_text(json.dumps(line) + "\n")
    from agentcost.pricing import price_frame

    df, rep = load_frame(p)
    price_frame(df)
    row = df[df["kind"] == "llm"].iloc[0]
    assert (row["input_tokens"], row["cache_read_tokens"]) == (2100, 2000)
    assert row["cost_source"] == "computed"  # the region-prefixed Bedrock id is priced
    assert any("without cache tokens" in n for n in rep.notes)
