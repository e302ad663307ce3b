"""Inspect AI evaluation logs (``agentcost.ingest.inspect_ai``).

The fixtures (tests/fixtures/inspect/) were built for these tests following the structure of
inspect_ai's own test log ``tests/log/test_eval_log/log_read_sample.json`` (MIT) and the
``ModelUsage`` / ``ModelEvent`` / ``ToolEvent`` types: one EvalLog with two samples of an
Anthropic agent (cache write, then reads; a tool call; one event served from Inspect's local
cache), and the same log in the ``.eval`` zip form.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from agentcost.ingest import read_sources
from agentcost.ingest.inspect_ai import CACHED_REASON, usage
from tests.conftest import FIXTURES, assert_invariants, load_frame

LOG = FIXTURES / "inspect" / "ctf_easy.json"
ZIP = FIXTURES / "inspect" / "ctf_easy.eval"


@pytest.mark.parametrize("path", [LOG, ZIP], ids=["json", "eval-zip"])
def test_eval_log_steps_tasks_and_usage(path: Path) -> None:
    df, rep = load_frame(path)
    assert set(df["format"]) == {"inspect-ai"}
    assert_invariants(df)
    assert sorted(df["task_id"].unique()) == ["ctf_easy/ctf-1/1", "ctf_easy/ctf-2/1"]
    assert set(df["session_id"]) == {"Xq7WgPZ3kLm9"}
    llm = df[df["kind"] == "llm"].reset_index(drop=True)
    assert len(llm) == 3  # the event answered from Inspect's cache made no API call
    assert rep.duplicates[CACHED_REASON] == 1
    first = llm.iloc[0]
    # Anthropic through Inspect: input_tokens (12) excludes the 1650 written to the cache
    assert (first["input_tokens"], first["cache_write_tokens"], first["output_tokens"]) == (
        1662, 1650, 48)
    assert (first["provider"], first["model"], first["response_model"]) == (
        "anthropic", "claude-sonnet-4-5", "claude-sonnet-4-5-20250929")
    assert list(first["tool_calls"]) == ["bash"] and first["duration_ms"] == 2200.0
    assert str(first["started_at"]) == "2026-04-14 13:00:01.100000+00:00"
    assert first["segments"] is not None  # from call.request
    tool = df[df["kind"] == "tool"].iloc[0]
    assert (tool["name"], tool["duration_ms"]) == ("bash", 500.0)
    # the events agree with the log's stats.model_usage: no warning
    assert not any("stats.model_usage" in n for n in rep.notes)


def test_cross_check_warns_when_model_usage_differs(tmp_path: Path) -> None:
    log = json.loads(LOG.read_text())
    log["stats"]["model_usage"]["anthropic/claude-sonnet-4-5"]["output_tokens"] = 999
    p = tmp_path / "log.json"
    p.write_text(json.dumps(log))
    _, rep = load_frame(p)
    note = next(n for n in rep.notes if "stats.model_usage" in n)
    assert "107 input / 100 output" in note and "107 / 999" in note
    assert rep.warnings == [note]  # shown among the report's warnings too


def test_cross_check_difference_is_a_report_warning(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log = json.loads(LOG.read_text())
    log["stats"]["model_usage"]["anthropic/claude-sonnet-4-5"]["input_tokens"] = 5
    p = tmp_path / "log.json"
    p.write_text(json.dumps(log))
    res = run("analyze", str(p), "--format", "json")
    assert res.exit_code == 0
    assert any("stats.model_usage says 5 / 100" in w for w in json.loads(res.output)["warnings"])


def test_usage_conventions() -> None:
    # OpenAI through Inspect: input_tokens = prompt_tokens (includes the cached 1024)
    oa = usage({"input_tokens": 1200, "output_tokens": 30, "total_tokens": 1230,
                "input_tokens_cache_read": 1024, "reasoning_tokens": 10}, "openai", "gpt-5")
    assert (oa["input_tokens"], oa["cache_read_tokens"], oa["reasoning_tokens"]) == (
        1200, 1024, 10)
    # Anthropic: total = input + reads + writes + output, so input is exclusive
    an = usage({"input_tokens": 5, "output_tokens": 9, "total_tokens": 1514,
                "input_tokens_cache_read": 1000, "input_tokens_cache_write": 500},
               "anthropic", "claude-haiku-4-5")
    assert (an["input_tokens"], an["cache_write_5m_tokens"]) == (1505, 500)
    # no total: a Claude model on Bedrock is exclusive; an unknown figure stays unknown
    br = usage({"input_tokens": 7, "output_tokens": 3, "input_tokens_cache_read": 3},
               "aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert br["input_tokens"] == 10 and br["cache_write_tokens"] is None
    assert isinstance(usage({"input_tokens": "many"}, None, None), str)


def test_bad_logs_are_counted_not_tracebacks(tmp_path: Path) -> None:
    log = json.loads(LOG.read_text())
    log["samples"][0]["events"][1]["output"]["usage"]["input_tokens"] = "lots"
    log["samples"].append("not a sample")
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(log))
    df, rep = load_frame(p)
    assert rep.malformed_count == 2 and len(df[df["kind"] == "llm"]) == 2
    z = tmp_path / "broken.eval"
    z.write_bytes(ZIP.read_bytes()[:600])  # a cut-off archive
    res = read_sources([str(z)])
    assert res.report.malformed_count == 1
    assert "not a readable Inspect log" in res.report.malformed[0]


def test_folder_walk_reads_eval_zip(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "run.eval").write_bytes(ZIP.read_bytes())
    with zipfile.ZipFile(tmp_path / "logs" / "other.zip", "w") as zf:  # not a trace suffix
        zf.writestr("a.txt", "x")
    res = read_sources([str(tmp_path)])
    assert [f["format"] for f in res.report.files] == ["inspect-ai"]
    assert int(pd.Series(res.frame["kind"] == "llm").sum()) == 3


def test_eval_labels_for_group_by(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Every step carries the eval's task, model and run as labels (``--group-by label:KEY``),
    plus the eval's own metadata."""
    doc = json.loads(LOG.read_text())
    doc["eval"]["metadata"] = {"team": "red", "suite": 3}
    p = tmp_path / "labelled.json"
    p.write_text(json.dumps(doc))
    df, _ = load_frame(p)
    labels = df["labels"].iloc[0]
    assert labels == {"eval.task": "ctf_easy", "eval.model": "anthropic/claude-sonnet-4-5",
                      "eval.run_id": "R4nd0mRunId", "eval.task_version": "0", "team": "red",
                      "suite": "3"}
    res = run("analyze", str(p), "-f", "json", "--group-by", "label:team")
    (g,) = json.loads(res.stdout)["groups"]
    assert g["label:team"] == "red" and g["llm_calls"] == int((df["kind"] == "llm").sum())


def test_real_log_from_inspect_0_3_41_reads_transcript_events() -> None:
    """A log Inspect AI 0.3.41 wrote (its own test data): the events sit under
    ``samples[].transcript.events``. Before this layout was read, the file gave no step at all
    and analyze reported 0 tasks and no cost."""
    df, rep = load_frame(FIXTURES / "inspect" / "log_formats.json")
    assert_invariants(df)
    assert list(df["kind"]) == ["llm"]
    row = df.iloc[0]
    assert row["task_id"] == "popularity/1/1"
    assert (row["provider"], row["model"], row["response_model"]) == (
        "ollama", "llama3.1", "llama3.1")
    assert (row["input_tokens"], row["output_tokens"]) == (66, 2)
    # no cache figures in this usage: unknown, not 0
    assert pd.isna(row["cache_read_tokens"])
    assert str(row["started_at"]) == "2024-10-15 16:53:13.587873+00:00"
    # the event carries neither `completed` nor `working_time`: the duration is unknown
    assert pd.isna(row["duration_ms"])
    # the events agree with stats.model_usage (66 / 2): no cross-check warning
    assert not any("stats.model_usage" in n for n in rep.notes)
