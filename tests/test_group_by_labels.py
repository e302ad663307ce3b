"""``--group-by label:KEY``: cost by the metadata traces carry (issue 14, item 7) — Claude
Code's git branch and project folder, OTel resource attributes and user ids, agentcost JSONL
``labels``. Every breakdown adds up to the run's totals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REAL

SPOTTER = REAL / "claude-code-spotter"


def _json(run: Any, *args: str) -> dict[str, Any]:
    res = run("analyze", *args, "-f", "json")
    assert res.exit_code == 0, res.output
    return dict(json.loads(res.stdout))


def test_claude_code_cost_by_git_branch(run: Any, real: Path) -> None:
    d = _json(run, str(SPOTTER), "--group-by", "label:git_branch")
    rows = {g["label:git_branch"]: g for g in d["groups"]}
    assert set(rows) == {"spotter-dov", "master"}
    assert sum(g["cost_usd"] for g in rows.values()) == pytest.approx(d["totals"]["cost_usd"])
    assert sum(g["llm_calls"] for g in rows.values()) == d["totals"]["llm_calls"]
    assert rows["spotter-dov"]["cost_usd"] > rows["master"]["cost_usd"]
    by_project = _json(run, str(SPOTTER), "--group-by", "label:project")["groups"]
    assert len(by_project) == 2 and all(g["label:project"].startswith("/home/")
                                        for g in by_project)


def _otlp(path: Path, service: str, user: str | None, tokens: int) -> None:
    attrs = [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
             {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4.1-mini"}},
             {"key": "gen_ai.usage.input_tokens", "value": {"intValue": str(tokens)}},
             {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "10"}}]
    if user:
        attrs.append({"key": "user.id", "value": {"stringValue": user}})
    doc = {"resourceSpans": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": service}},
            {"key": "deployment.environment", "value": {"stringValue": "prod"}}]},
        "scopeSpans": [{"scope": {"name": "opentelemetry.instrumentation.openai_v2"},
                        "spans": [{"traceId": f"{tokens:032x}", "spanId": f"{tokens:016x}",
                                   "name": "chat gpt-4.1-mini", "kind": 3,
                                   "startTimeUnixNano": "1763632800000000000",
                                   "endTimeUnixNano": "1763632801000000000",
                                   "attributes": attrs}]}]}]}
    with path.open("a") as fh:
        fh.write(json.dumps(doc) + "\n")


def test_otel_resource_attributes_and_user_ids(run: Any, tmp_path: Path) -> None:
    p = tmp_path / "fleet.otlp.jsonl"
    _otlp(p, "billing-agent", "u-1", 1_000)
    _otlp(p, "billing-agent", "u-2", 2_000)
    _otlp(p, "support-agent", "u-1", 4_000)
    svc = {g["label:service.name"]: g["input_tokens"]
           for g in _json(run, str(p), "--group-by", "label:service.name")["groups"]}
    assert svc == {"billing-agent": 3_000, "support-agent": 4_000}
    users = {g["label:user.id"]: g["input_tokens"]
             for g in _json(run, str(p), "--group-by", "label:user.id")["groups"]}
    assert users == {"u-1": 5_000, "u-2": 2_000}
    env = _json(run, str(p), "--group-by", "label:deployment.environment")["groups"]
    assert [(g["label:deployment.environment"], g["llm_calls"]) for g in env] == [("prod", 3)]


def test_jsonl_labels_and_steps_without_the_label(run: Any, tmp_path: Path) -> None:
    lines = [
        {"task_id": "a", "kind": "llm", "model": "claude-sonnet-4-5", "input_tokens": 100,
         "output_tokens": 5, "labels": {"team": "search", "pr": 42}},
        {"task_id": "a", "kind": "tool", "name": "grep", "duration_ms": 10},  # task's label
        {"task_id": "b", "kind": "llm", "model": "claude-sonnet-4-5", "input_tokens": 300,
         "output_tokens": 5, "labels": {"team": "ads"}},
        {"task_id": "c", "kind": "llm", "model": "claude-sonnet-4-5", "input_tokens": 50,
         "output_tokens": 5},
        {"task_id": "d", "kind": "llm", "model": "claude-sonnet-4-5", "input_tokens": 7,
         "output_tokens": 1, "labels": "not an object"},
    ]
    p = tmp_path / "labelled.jsonl"
    p.write_text("".join(json.dumps(x) + "\n" for x in lines))
    d = _json(run, str(p), "--group-by", "label:team")
    rows = {g["label:team"]: g for g in d["groups"]}
    assert {k: g["input_tokens"] for k, g in rows.items()} == {"ads": 300, "search": 100,
                                                              None: 50}
    assert rows["search"]["tool_calls"] == 1  # the unlabelled tool step of a labelled task
    assert d["ingest"]["malformed_lines"] == 1
    pr = _json(run, str(p), "--group-by", "label:pr")["groups"]
    assert {g["label:pr"] for g in pr} == {"42", None}  # numbers become text


def test_group_by_errors_and_hour(run: Any) -> None:
    res = run("analyze", "sample_traces", "--group-by", "team")
    assert res.exit_code == 2 and "label:KEY" in res.stderr
    assert run("analyze", "sample_traces", "--group-by", "label:").exit_code == 2
    d = _json(run, "sample_traces", "--group-by", "hour")
    assert d["group_by"] == "hour" and d["groups"][0]["hour"] == "2026-11-02 09:00"


def test_claude_code_labels_of_the_wrong_type_are_no_labels(run: Any, tmp_path: Path) -> None:
    """Found by the fuzz test: a gitBranch that is a list crashed the label cache."""
    line = {"type": "assistant", "sessionId": "s", "uuid": "u", "parentUuid": None,
            "requestId": "r", "timestamp": "2026-11-20T10:00:00.000Z", "gitBranch": [],
            "cwd": {"x": 1},
            "message": {"id": "m", "model": "claude-sonnet-4-5", "role": "assistant",
                        "content": [], "usage": {"input_tokens": 5, "output_tokens": 1}}}
    p = tmp_path / "s.jsonl"
    p.write_text(json.dumps(line) + "\n")
    d = _json(run, str(p), "--input-format", "claude-code", "--group-by", "label:git_branch")
    assert [g["label:git_branch"] for g in d["groups"]] == [None]


def test_labels_survive_export_and_group_in_memory(run: Any, real: Path, tmp_path: Path) -> None:
    """A step-table dataset keeps the labels; --group-by label:KEY on it takes the in-memory
    engine (auto) and gives what the traces give; --engine duckdb says it cannot."""
    pytest.importorskip("pyarrow")
    out = tmp_path / "ds"
    assert run("export", str(SPOTTER), "-o", str(out)).exit_code == 0
    want = _json(run, str(SPOTTER), "--group-by", "label:git_branch")["groups"]
    got = _json(run, str(out), "--group-by", "label:git_branch")["groups"]
    assert [(g["label:git_branch"], g["cost_usd"]) for g in got] == [
        (g["label:git_branch"], g["cost_usd"]) for g in want]
    pytest.importorskip("duckdb")
    res = run("analyze", str(out), "--engine", "duckdb", "--group-by", "label:git_branch")
    assert res.exit_code == 2 and "needs --engine pandas" in res.stderr
