"""``agentcost simulate`` on the command line: golden outputs (COLUMNS=100, NO_COLOR, TZ=UTC),
formats, YAML scenarios and errors. Regenerate goldens: ``UPDATE_GOLDEN=1 pytest
tests/test_simulate_cli.py``."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.test_cli import _golden

SCEN = "tests/fixtures/simulate/scenarios.yaml"


@pytest.mark.parametrize("name,args", [
    ("simulate_cache_auto.txt", ["simulate", "sample_traces", "--cache", "auto"]),
    ("simulate_scenarios.txt", ["simulate", "sample_traces", "--scenarios", SCEN]),
    ("simulate_combined.md", ["simulate", "sample_traces", "--cache", "stable+last",
                              "--trim-history", "4", "--max-iterations", "10", "--range",
                              "--format", "markdown"]),
])
def test_golden(run, name, args):
    res = run(*args)
    assert res.exit_code == 0, res.output
    _golden(name, res.stdout)


def test_json_contract(run):
    res = run("simulate", "sample_traces", "--scenarios", SCEN, "--format", "json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert list(doc) == ["schema_version", "baseline", "scenarios"]
    names = [s["name"] for s in doc["scenarios"]]
    assert sorted(names) == sorted(["cache stable+last", "cascade haiku,sonnet",
                                    "nightly batch", "lean loop"])
    costs = [s["cost_usd"] for s in doc["scenarios"]]
    assert costs == sorted(costs)  # best first
    base = doc["baseline"]
    assert base["cost_usd"] == pytest.approx(0.5675895)  # = analyze's total
    for s in doc["scenarios"]:
        assert s["delta_usd"] == pytest.approx(s["cost_usd"] - base["cost_usd"], abs=1e-8)
        assert s["delta_pct"] == pytest.approx(s["delta_usd"] / base["cost_usd"] * 100, abs=0.01)
    lean = next(s for s in doc["scenarios"] if s["name"] == "lean loop")
    assert [c["lever"] for c in lean["contributions"]] == [
        "trim_history", "max_output_tokens", "tool_cache", "parallel_tools", "loop_caps"]
    assert sum(c["delta_usd"] for c in lean["contributions"]) == pytest.approx(
        lean["delta_usd"], abs=1e-7)


def test_csv_and_cascade_names_printed(run):
    res = run("simulate", "sample_traces", "--cascade", "haiku,sonnet", "--format", "csv")
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [r["name"] for r in rows] == ["baseline", "cascade haiku,sonnet"]
    assert rows[1]["levers"] == "cascade"
    assert "Escalation rate 0 (default; set --escalation-rate)" in rows[1]["assumptions"]
    table = run("simulate", "sample_traces", "--cascade", "haiku,sonnet")
    assert "models: haiku → claude-haiku-5-5, sonnet → claude-sonnet-4-6" in table.stdout
    md = run("simulate", "sample_traces", "--cascade", "haiku,sonnet", "--format", "markdown")
    assert "| cascade haiku,sonnet · esc 0 assumed |" in md.stdout


def test_output_file(run, tmp_path):
    out = tmp_path / "sim.json"
    res = run("simulate", "sample_traces", "--batch", "-f", "json", "-o", str(out))
    assert res.exit_code == 0 and res.stdout == ""
    assert json.loads(out.read_text())["scenarios"][0]["name"] == "batch"


@pytest.mark.parametrize("args,message", [
    (["simulate", "sample_traces"], "nothing to simulate"),
    (["simulate", "sample_traces", "--cache", "sometimes"], "--cache: must be one of"),
    (["simulate", "sample_traces", "--ttl", "2h", "--cache", "auto"], "--ttl: must be one of"),
    (["simulate", "sample_traces", "--cascade", "haiku"], "--cascade: expected two models"),
    (["simulate", "sample_traces", "--cascade", "haiku,nonsense-model-9"],
     "--cascade[1]: unknown model or alias 'nonsense-model-9'"),
    (["simulate", "sample_traces", "--escalation-rate", "0.1"], "only meaningful with --cascade"),
    (["simulate", "sample_traces", "--scenarios", "missing.yaml"], "scenarios file not found"),
    (["simulate", "nowhere", "--cache", "auto"], "nowhere"),
])
def test_errors_exit_2(run, args, message):
    res = run(*args)
    assert res.exit_code == 2
    assert message in res.stderr


@pytest.mark.parametrize("text,message", [
    ("scenarios:\n  - name: a\n    trim_history: 0\n",
     "scenarios[0].trim_history: expected a positive integer"),
    ("scenarios:\n  - name: a\n    cache: sometimes\n", "scenarios[0].cache: must be one of"),
    ("scenarios:\n  - name: a\n    color: red\n", "scenarios[0].color: unknown key"),
    ("scenarios:\n  - cache: auto\n", "scenarios[0].name: required"),
    ("scenarios:\n  - {name: a, cache: auto}\n  - {name: a, batch: true}\n",
     "scenarios[1].name: 'a' is used twice"),
    ("scenarios:\n  - name: a\n    roles: {plan: medium}\n    cascade: haiku,sonnet\n",
     "scenarios[0].roles.plan: must be cheap or strong"),
    ("scenarios:\n  - name: a\n    escalation_rate: 0.2\n",
     "scenarios[0].escalation_rate: only meaningful with cascade"),
    ("simulate:\n  workspace: galaxy\nscenarios:\n  - {name: a, cache: auto}\n",
     "simulate.workspace: must be one of"),
    ("simulate:\n  provider_rules:\n    claude-sonnet-4-6: {lookback: 5}\n"
     "scenarios:\n  - {name: a, cache: auto}\n",
     "simulate.provider_rules.claude-sonnet-4-6.lookback: unknown key"),
    ("scenarios: [\n", "invalid YAML"),
])
def test_yaml_errors_name_the_key_path(run, tmp_path, text, message):
    p = tmp_path / "s.yaml"
    p.write_text(text)
    res = run("simulate", "sample_traces", "--scenarios", str(p))
    assert res.exit_code == 2, res.output
    assert message in res.stderr


def test_scenarios_from_agentcost_yaml_and_provider_rules(run, tmp_path):
    cfg = tmp_path / "agentcost.yaml"
    cfg.write_text("scenarios:\n  - name: from config\n    cache: 'off'\n")
    res = run("simulate", "sample_traces", "--config", str(cfg), "-f", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["scenarios"][0]["name"] == "from config"
    rules = tmp_path / "rules.yaml"
    rules.write_text("claude-sonnet-4-6: {min_cacheable_tokens: 100000}\n")
    # pure simulation: with calibration, calls the override leaves as degenerate as the
    # reference replay would keep the trace's own figures
    cfg.write_text("simulate:\n  calibrate: false\nscenarios:\n  - name: from config\n"
                   "    cache: 'off'\n")
    res = run("simulate", "sample_traces", "--cache", "auto", "--provider-rules", str(rules),
              "--config", str(cfg), "-f", "json")
    doc = json.loads(res.stdout)
    auto = next(s for s in doc["scenarios"] if s["name"] == "cache auto")
    # every Sonnet 4.6 prompt is now below the minimum: only Sonnet 4.5 calls are cached
    assert any("claude-sonnet-4-6 100,000" in a for a in auto["assumptions"])
    assert auto["cache_read_tokens"] < doc["baseline"]["cache_read_tokens"] / 2


def test_help_is_fast_and_lists_simulate(run):
    res = run("--help")
    assert "simulate" in res.stdout
    res = run("simulate", "--help")
    assert "--escalation-rate" in res.stdout and "--scenarios" in res.stdout
