"""The JSON Schemas of the reports (issue 14, item 4): valid 2020-12 schemas, shipped and printed
by ``agentcost schema``, and every golden and a spread of real outputs validates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from agentcost import schemas
from tests.conftest import AUTHENTIC, GOLDEN, REAL

GOLDENS = {"analyze_research.json": "analyze", "audit_body.json": "audit",
           "audit_trace.json": "audit"}


@pytest.mark.parametrize("name", schemas.NAMES)
def test_schema_is_valid_2020_12(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(schemas.load(name))
    assert schemas.load(name)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("golden,name", sorted(GOLDENS.items()))
def test_goldens_validate(golden: str, name: str) -> None:
    assert schemas.errors(name, json.loads((GOLDEN / golden).read_text())) == []


def _runs() -> list[tuple[str, list[str]]]:
    cc, tau2 = str(REAL / "claude-code-spotter"), str(REAL / "tau2-bench")
    wire = str(AUTHENTIC / "anthropic-sdk-native")
    return [
        ("analyze", ["analyze", "sample_traces", "--steps", "--group-by", "model"]),
        ("analyze", ["analyze", cc, "--explain-misses"]),
        ("analyze", ["analyze", tau2, "--group-by", "day"]),
        ("analyze", ["analyze", str(REAL / "codex-codemie"), "--group-by", "session"]),
        ("analyze", ["analyze", "tests/fixtures/cassettes", "tests/fixtures/har",
                     "tests/fixtures/inspect/ctf_easy.eval", "tests/fixtures/otel",
                     str(AUTHENTIC / "openai-agents-sdk" / "chatcmpl_stream.agents.jsonl"),
                     str(AUTHENTIC / "openai-agents-sdk" / "chatcmpl.agents.jsonl"), "--steps",
                     "--group-by", "model"]),
        ("simulate", ["simulate", "sample_traces", "--cascade", "haiku,sonnet",
                      "--escalation-rate", "0.1", "--range"]),
        ("simulate", ["simulate", "sample_traces", "--scenarios",
                      "tests/fixtures/simulate/scenarios.yaml"]),
        ("simulate", ["simulate", tau2, "--cache", "auto", "--batch"]),
        ("simulate", ["simulate", wire, "--cache", "stable+last", "--trim-history", "2"]),
        ("audit", ["audit-prompt", "tests/fixtures/prompts/dirty", "--model",
                   "claude-sonnet-4-6"]),
        ("audit", ["audit-prompt", cc]),
        ("rules", ["rules", "claude-sonnet-4-6"]),
        ("rules", ["rules", "gpt-4o"]),
    ]


@pytest.mark.parametrize("name,args", _runs(), ids=lambda v: v if isinstance(v, str) else
                         " ".join(Path(a).name for a in v[:3]))
def test_outputs_validate(run: Any, name: str, args: list[str]) -> None:
    res = run(*args, "--format", "json")
    assert res.exit_code in (0, 1), res.output
    assert schemas.errors(name, json.loads(res.stdout)) == []


def test_check_reports_validate(run: Any, tmp_path: Path) -> None:
    base = tmp_path / "base.json"
    assert run("analyze", "sample_traces/research_agent.jsonl", "--format", "json", "--steps",
               "-o", str(base)).exit_code == 0
    for args in (["--baseline", str(base)], ["--baseline", str(base), "--per-task",
                                             "--max-increase", "10%"]):
        res = run("check", "sample_traces", *args, "--format", "json", "--no-step-summary")
        assert res.exit_code in (0, 1), res.output
        assert schemas.errors("check", json.loads(res.stdout)) == []
    cfg = tmp_path / "agentcost.yaml"
    cfg.write_text("budgets:\n  total_cost: 0.10\n  iterations_max: 10\n")
    res = run("check", "sample_traces", "--config", str(cfg), "--prompt",
              "tests/fixtures/prompts/dirty/short_prefix.txt", "--model", "claude-sonnet-4-6",
              "--format", "json", "--no-step-summary")
    doc = json.loads(res.stdout)
    assert doc["audit"] is not None and doc["budgets"]
    assert schemas.errors("check", doc) == []


def test_a_wrong_type_is_reported() -> None:
    doc = json.loads((GOLDEN / "analyze_research.json").read_text())
    doc["totals"]["cache_hit_ratio"] = "85%"
    doc["schema_version"] = 2
    errs = schemas.errors("analyze", doc)
    assert any(e.startswith("totals/cache_hit_ratio:") for e in errs)
    assert any(e.startswith("schema_version:") for e in errs)


def test_schema_command(run: Any) -> None:
    res = run("schema", "simulate")
    assert res.exit_code == 0 and json.loads(res.stdout) == schemas.load("simulate")
    assert run("schema").stdout.split() == list(schemas.NAMES)
    bad = run("schema", "nope")
    assert bad.exit_code == 2
