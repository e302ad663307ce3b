"""``agentcost check`` end to end in a real git repository created in the test.

The flow CI runs: on ``main`` the traces are analysed into ``baseline.json`` (``--steps``) and
committed; a feature branch changes the traces (or the price config); ``check`` runs on the branch
against the baseline read back from ``main`` with ``git show``. Exit codes, the console table
(golden file, pinned COLUMNS=100 / NO_COLOR / TZ=UTC), markdown, JUnit XML and JSON are asserted.

Prices: claude-sonnet-4-5 at $3 / $15 per million input / output tokens (genai-prices). The main
branch's run has two tasks:

* ``ticket-1``: 3 calls × (10,000 in + 200 out) = 3 × ($0.030 + $0.003) = $0.099
* ``eval-refund-<run id>``: 2 calls × (5,000 in + 100 out) = 2 × ($0.015 + $0.0015) = $0.033

total $0.132. The refund task's id changes with every run, so it is matched by task name.

Regenerate the golden file after an intended change: ``UPDATE_GOLDEN=1 pytest tests/test_check.py``.
"""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentcost.cli import app
from agentcost.errors import ConfigError
from agentcost.gate import CheckOptions, parse_budgets, parse_max_increase
from agentcost.gate.baseline import match_tasks, task_name
from tests.conftest import REPO, assert_golden

MODEL = "claude-sonnet-4-5"
BASE_COST = 0.132


def write_traces(path: Path, run_id: str, *, ticket_calls: int = 3, refund_out: int = 100,
                 refund_model: str = MODEL) -> None:
    """Two tasks in agentcost JSONL (one step per line); times one second apart."""
    lines = []
    t = 0

    def call(task: str, inp: int, out: int, model: str) -> None:
        nonlocal t
        lines.append({"task_id": task, "kind": "llm", "provider": "anthropic", "model": model,
                      "started_at": f"2026-11-02T09:{t // 60:02d}:{t % 60:02d}Z",
                      "duration_ms": 800, "input_tokens": inp, "cache_read_tokens": 0,
                      "cache_write_tokens": 0, "output_tokens": out})
        t += 1

    for _ in range(ticket_calls):
        call("ticket-1", 10_000, 200, MODEL)
    for _ in range(2):
        call(f"eval-refund-{run_id}", 5_000, refund_out, refund_model)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))


def git(repo: Path, *args: str) -> str:
    res = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return res.stdout


@pytest.fixture
def cli(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


@pytest.fixture
def repo(tmp_path, monkeypatch, cli):
    """A git repository: traces and baseline.json committed on main, then a feature branch."""
    r = tmp_path / "repo"
    r.mkdir()
    monkeypatch.chdir(r)
    git(r, "init", "-q", "-b", "main")
    git(r, "config", "user.email", "ci@example.com")
    git(r, "config", "user.name", "CI")
    write_traces(r / "traces" / "run.jsonl", "3f9a2c1e")
    res = cli("analyze", "traces", "--format", "json", "--steps", "-o", "baseline.json")
    assert res.exit_code == 0, res.output
    git(r, "add", ".")
    git(r, "commit", "-q", "-m", "baseline on main")
    git(r, "checkout", "-q", "-b", "feature")
    return r


def branch_change(repo: Path, **kw) -> None:
    write_traces(repo / "traces" / "run.jsonl", "77aa12bc", **kw)
    git(repo, "commit", "-q", "-am", "agent change")
    # the CI check job downloads the main branch's baseline; here: read it back from git
    (repo.parent / "base.json").write_text(git(repo, "show", "main:baseline.json"))




_golden = assert_golden


# ----------------------------------------------------------------------------- end to end


def test_regression_over_threshold_fails(repo, cli, tmp_path, monkeypatch):
    branch_change(repo, ticket_calls=4)  # one more call: +$0.033 = +25%
    summary = tmp_path / "step_summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    res = cli("check", "traces", "--baseline", "../base.json", "--max-increase", "10%",
              "--junit", "../junit.xml")
    assert res.exit_code == 1, res.output
    _golden("check_regression.txt", res.stdout)
    assert "FAIL" in res.stderr and "over max +10%" in res.stderr

    # markdown went to the step summary (appended), summary sentence first
    md = summary.read_text()
    assert md.startswith("earlier step\n")
    first = md.splitlines()[1]
    assert first.startswith("❌ **agentcost check: FAIL** — 1 of 1 gates failed")
    assert "$0.1320 → $0.1650 (+25.0%, +$0.0330)" in first
    assert "| cost | $0.1320 | $0.1650 | +$0.0330 | +25.0% | max +10% | ❌ fail |" in md
    assert "<details><summary>⚠️ warn <code>ticket-1</code>" in md
    assert md.rstrip().endswith("<!-- agentcost-check -->")

    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.tag == "testsuites" and root.get("tests") == "1" and root.get("failures") == "1"
    case = root.find("testsuite/testcase")
    assert case is not None and case.get("name") == "total cost_usd"
    failure = case.find("failure")
    assert failure is not None and "over max +10%" in failure.get("message", "")

    d = json.loads(cli("check", "traces", "-b", "../base.json", "--max-increase", "10%",
                       "-f", "json").stdout)
    assert (d["verdict"], d["exit_code"]) == ("fail", 1)
    cost = d["totals"]["cost_usd"]
    assert cost["past"] == pytest.approx(BASE_COST)
    assert cost["current"] == pytest.approx(BASE_COST + 0.033)
    assert cost["diff_pct"] == pytest.approx(0.25)
    assert d["totals"]["iterations"]["diff"] == 1
    assert d["price_drift"]["drift_usd"] == 0.0
    by_id = {t["task_id"]: t for t in d["tasks"]}
    assert by_id["ticket-1"]["match"] == "id" and by_id["ticket-1"]["verdict"] == "warn"
    refund = by_id["eval-refund-77aa12bc"]
    assert refund["match"] == "name" and refund["baseline_task_id"] == "eval-refund-3f9a2c1e"
    assert refund["name"] == "eval-refund-*" and refund["verdict"] is None
    assert d["new_tasks"] == [] and d["missing_tasks"] == []


def test_regression_under_threshold_passes(repo, cli, tmp_path):
    branch_change(repo, refund_out=150)  # 2 × 50 more output tokens × $15/M = +$0.0015 (+1.1%)
    res = cli("check", "traces", "-b", "../base.json", "--max-increase", "10%",
              "--max-increase", "0.01", "--junit", "../junit.xml", "-f", "markdown",
              "-o", "../report.md")
    assert res.exit_code == 0, res.output + res.stderr
    md = (tmp_path / "report.md").read_text()
    assert md.splitlines()[0].startswith("✅ **agentcost check: PASS** — the gate passed; total "
                                         "cost $0.1320 → $0.1335 (+1.1%)")
    assert "<code>eval-refund-77aa12bc</code> = <code>eval-refund-3f9a2c1e</code>" in md
    assert "1 matched task unchanged" in md
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "0")


def test_per_task_gate_and_noise_floor(repo, cli):
    branch_change(repo, refund_out=150)  # refund task +$0.0015 = +4.5%; total +1.1%
    args = ("check", "traces", "-b", "../base.json", "--max-increase", "3%", "--per-task",
            "-f", "json")
    d = json.loads(cli(*args).stdout)
    assert d["verdict"] == "fail"
    failed = [g["name"] for g in d["gates"] if g["verdict"] == "fail"]
    assert failed == ["task eval-refund-77aa12bc cost_usd"]
    # the same change below a $0.002 noise floor passes
    res = cli(*args, "--min-delta", "0.002")
    assert res.exit_code == 0 and json.loads(res.stdout)["verdict"] == "pass"


def test_price_change_shows_as_price_drift(repo, cli, tmp_path):
    # the traces do not change; the branch's agentcost.yaml doubles the model's prices
    (repo / "agentcost.yaml").write_text(f"prices:\n  {MODEL}:\n    input_mtok: 6\n"
                                         "    output_mtok: 30\n")
    git(repo, "add", "agentcost.yaml")
    git(repo, "commit", "-q", "-m", "price change")
    (tmp_path / "base.json").write_text(git(repo, "show", "main:baseline.json"))
    res = cli("check", "traces", "-b", "../base.json", "--max-increase", "10%", "-f", "json")
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    cost = d["totals"]["cost_usd"]
    # both sides at the new prices: no change of the agent
    assert cost["past"] == pytest.approx(2 * BASE_COST) and cost["diff"] == pytest.approx(0)
    drift = d["price_drift"]
    assert drift["method"] == "repriced"
    assert drift["baseline_recorded_usd"] == pytest.approx(BASE_COST)
    assert drift["baseline_repriced_usd"] == pytest.approx(2 * BASE_COST)
    assert drift["drift_usd"] == pytest.approx(BASE_COST) and drift["drift_pct"] == 1.0
    assert "price drift +$0.1320" in d["summary"]
    md = cli("check", "traces", "-b", "../base.json", "--max-increase", "10%",
             "-f", "markdown").stdout
    assert "| price drift | $0.1320 | $0.2640 | +$0.1320 | +100.0% |  | not gated |" in md

    # a baseline saved without --steps cannot be re-priced: the cost gate is inconclusive
    no_steps = json.loads((tmp_path / "base.json").read_text())
    del no_steps["steps"]
    (tmp_path / "nosteps.json").write_text(json.dumps(no_steps))
    res = cli("check", "traces", "-b", "../nosteps.json", "--max-increase", "10%")
    assert res.exit_code == 3
    assert "agentcost.yaml overrides" in res.stderr and "--steps" in res.stderr
    # ... while the non-cost metrics are still compared and gated
    res = cli("check", "traces", "-b", "../nosteps.json", "--max-increase", "iterations=10%")
    assert res.exit_code == 0, res.output


def test_recorded_price_data_differs_without_steps(repo, cli, tmp_path):
    base = json.loads((repo / "baseline.json").read_text())
    del base["steps"]
    (tmp_path / "same.json").write_text(json.dumps(base))
    res = cli("check", "traces", "-b", "../same.json", "--max-increase", "10%")
    assert res.exit_code == 0, res.output  # same price data fingerprint: comparable
    base["pricing"]["data_fingerprint"] = "0000000000000000"
    base["pricing"]["version"] = "0.1.0"
    (tmp_path / "old.json").write_text(json.dumps(base))
    res = cli("check", "traces", "-b", "../old.json", "--max-increase", "10%", "-f", "json")
    assert res.exit_code == 3
    d = json.loads(res.stdout)
    assert d["price_drift"]["method"] == "unknown"
    assert "the price data changed" in d["reasons"][0]
    # an undecided gate is not a regression: its Why line says inconclusive, not "regression"
    assert d["reasons"][0].startswith("inconclusive total cost_usd: ")
    assert not any(r.startswith("regression") for r in d["reasons"])


def test_unpriced_model_is_inconclusive(repo, cli, tmp_path):
    branch_change(repo, refund_model="acme-llama-70b")
    res = cli("check", "traces", "-b", "../base.json", "--max-increase", "10%",
              "--junit", "../junit.xml")
    assert res.exit_code == 3, res.output
    assert "INCONCLUSIVE" in res.stderr and "acme-llama-70b" in res.stderr
    root = ET.parse(tmp_path / "junit.xml").getroot()
    err = root.find("testsuite/testcase/error")
    assert err is not None and err.get("type") == "inconclusive"
    # a lower bound already over a budget is a decided failure, not inconclusive
    (repo / "agentcost.yaml").write_text("budgets:\n  total_cost: 0.05\n")
    res = cli("check", "traces", "-b", "../base.json", "--max-increase", "10%", "-f", "json")
    assert res.exit_code == 1
    d = json.loads(res.stdout)
    budget = d["budgets"][0]
    assert budget["verdict"] == "fail" and budget["current"] == pytest.approx(0.099)
    # priced through agentcost.yaml, the gate is decided again
    (repo / "agentcost.yaml").write_text("prices:\n  acme-llama-70b:\n    input_mtok: 3\n"
                                         "    output_mtok: 15\n")
    assert cli("check", "traces", "-b", "../base.json", "--max-increase", "10%").exit_code == 0


def test_budgets_without_baseline(repo, cli):
    (repo / "agentcost.yaml").write_text(
        "budgets:\n  total_cost: 1.00\n  cost_per_task_p95: 0.05\n"
        "  iterations_max: {limit: 2, action: warn}\n  tokens_per_task_max: 40000\n"
        "  latency_p95_s: 30\n  cache_hit_ratio_min: {limit: 0.5, action: warn}\n")
    res = cli("check", "traces", "-f", "json")
    assert res.exit_code == 1, res.output
    d = json.loads(res.stdout)
    got = {b["budget"]: (b["verdict"], b["current"]) for b in d["budgets"]}
    # per-task costs $0.099 and $0.033: p95 = 0.033 + 0.95 × 0.066 = $0.0957
    assert got["cost_per_task_p95"] == ("fail", pytest.approx(0.0957))
    assert got["total_cost"] == ("pass", pytest.approx(BASE_COST))
    assert got["iterations_max"] == ("warn", 3)
    assert got["tokens_per_task_max"] == ("pass", 30_600)
    assert got["cache_hit_ratio_min"] == ("warn", 0.0)
    # wall times: ticket-1 spans 2.8 s, the refund task 1.8 s
    assert got["latency_p95_s"] == ("pass", pytest.approx(2.75))
    assert d["budgets"][2]["tasks_over"] == ["ticket-1"]
    table = cli("check", "traces").stdout
    assert "cost_per_task_p95 (cost per task p95)" in table and "FAIL" in table


@pytest.mark.parametrize("case", ["truncated-baseline", "not-a-report", "strict-trace",
                                  "bad-budget", "bad-threshold", "nothing-to-check",
                                  "missing-baseline", "missing-prompt", "bad-fail-on"])
def test_bad_input_exits_2(repo, cli, tmp_path, case):
    args = ["check", "traces", "-b", "../base.json"]
    base = (repo / "baseline.json").read_text()
    (tmp_path / "base.json").write_text(base)
    if case == "truncated-baseline":
        (tmp_path / "base.json").write_text(base[: len(base) // 2])
        msg = "../base.json: not valid JSON"
    elif case == "not-a-report":
        (tmp_path / "base.json").write_text('{"hello": 1}')
        msg = "not an agentcost analyze report"
    elif case == "strict-trace":
        with open(repo / "traces" / "run.jsonl", "a") as fh:
            fh.write('{"task_id": "t", "kind": "llm", "input_tok\n')
        args.append("--strict")
        msg = "traces/run.jsonl:6: invalid JSON"
    elif case == "bad-budget":
        (repo / "agentcost.yaml").write_text("budgets:\n  total_cots: 1\n")
        msg = "budgets.total_cots: unknown budget"
    elif case == "bad-threshold":
        args += ["--max-increase", "ten%"]
        msg = "--max-increase ten%: expected a number"
    elif case == "nothing-to-check":
        args = ["check", "traces"]
        msg = "nothing to check"
    elif case == "missing-prompt":
        # a configured prompt that is not there is an input error, never silently unchecked
        (repo / "agentcost.yaml").write_text("check:\n  prompts: [prompts/system.txt]\n")
        msg = "prompts/system.txt: no such file or folder"
    elif case == "bad-fail-on":
        (repo / "agentcost.yaml").write_text("check:\n  prompts: [p.txt]\n  fail_on: high\n")
        msg = "check.fail_on: expected one of info, warning, error, got 'high'"
    else:
        args = ["check", "traces", "-b", "../nope.json"]
        msg = "../nope.json: baseline file not found"
    res = cli(*args)
    assert res.exit_code == 2, res.output
    assert msg in res.stderr and "Traceback" not in res.stderr
    assert res.stdout == ""


PROMPTS = REPO / "tests" / "fixtures" / "prompts"


def test_audit_gate_dirty_prompt_fails(repo, cli, tmp_path):
    # check.prompts are relative to the config file's folder, not to the current directory
    conf = tmp_path / "conf"
    (conf / "prompts").mkdir(parents=True)
    (conf / "prompts" / "system.txt").write_bytes(
        (PROMPTS / "dirty" / "timestamp_today.txt").read_bytes())
    (conf / "agentcost.yaml").write_text(
        "check:\n  prompts: [prompts/system.txt]\n  fail_on: warning\n")
    res = cli("check", "traces", "--config", str(conf / "agentcost.yaml"), "-f", "json",
              "--junit", str(tmp_path / "j.xml"))
    assert res.exit_code == 1, res.output
    d = json.loads(res.stdout)
    gate = next(g for g in d["gates"] if g["kind"] == "audit")
    assert gate["verdict"] == "fail" and gate["name"].endswith("prompts/system.txt")
    assert "1 finding (1 warning; fails on warning)" in gate["message"]
    assert "timestamp" in gate["message"]
    a = d["audit"]["prompts"][0]
    assert (a["findings"], a["top"][0]["rule"], a["top"][0]["line"]) == (1, "timestamp", 2)
    suite = ET.parse(tmp_path / "j.xml").getroot().find("testsuite[@name='agentcost.check.audit']")
    assert suite is not None and suite.get("failures") == "1"
    # --fail-on error: the warning no longer fails the gate (it is reported as warn)
    res = cli("check", "traces", "--config", str(conf / "agentcost.yaml"), "--fail-on", "error")
    assert res.exit_code == 0, res.output
    assert "Audit" in res.stdout and "timestamp" in res.stdout
    md = cli("check", "traces", "--prompt", str(PROMPTS / "dirty" / "timestamp_today.txt"),
             "-f", "markdown")
    assert md.exit_code == 1 and "**Audit**" in md.stdout and "timestamp" in md.stdout


def test_audit_gate_clean_prompt_passes(repo, cli):
    res = cli("check", "traces", "--prompt", str(PROMPTS / "clean" / "atlas_system.txt"),
              "--model", "claude-sonnet-4-6", "--fail-on", "info", "-f", "json")
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert [(g["kind"], g["verdict"], g["message"]) for g in d["gates"]] == [
        ("audit", "pass", "no findings")]
    assert d["audit"]["findings"] == 0 and d["settings"]["fail_on"] == "info"


# ----------------------------------------------------------------------------- units


def test_threshold_and_budget_parsing():
    assert parse_max_increase("10%").kind == "pct" and parse_max_increase("10%").value == 0.1
    t = parse_max_increase("$0.50")
    assert (t.metric, t.kind, t.value) == ("cost_usd", "abs", 0.5)
    assert parse_max_increase("latency_p95_s=20%").metric == "latency_p95_s"
    assert parse_max_increase("cache_hit_ratio=0.05").describe() == "max drop 5 pts"
    with pytest.raises(ConfigError, match="unknown metric 'speed'"):
        parse_max_increase("speed=5%")
    b = parse_budgets({"iterations_max": 25, "total_cost": {"limit": 12, "action": "warn"}})
    assert [(x.key, x.limit, x.action) for x in b] == [("iterations_max", 25.0, "fail"),
                                                        ("total_cost", 12.0, "warn")]
    for raw, path in [({"total_cost": "lots"}, "budgets.total_cost: expected a number"),
                      ({"total_cost": {"limit": 1, "action": "panic"}},
                       "budgets.total_cost.action: expected fail or warn"),
                      ({"cache_hit_ratio_min": 60}, "budgets.cache_hit_ratio_min: a ratio"),
                      ({"total_cost": {"max": 1}}, "budgets.total_cost.max: unknown key")]:
        with pytest.raises(ConfigError, match=re.escape(path)):
            parse_budgets(raw)


def test_check_section_of_config():
    from agentcost.config import parse

    cfg = parse({"check": {"max_increase": {"cost": "10%", "iterations": [2, "50%"]},
                           "min_delta": 0.01, "per_task": True}})
    o = CheckOptions.from_config(cfg, max_increase=["5%"])
    assert [(t.metric, t.kind, t.value) for t in o.thresholds] == [
        ("iterations", "abs", 2.0), ("iterations", "pct", 0.5), ("cost_usd", "pct", 0.05)]
    assert o.min_delta == {"cost_usd": 0.01} and o.per_task is True
    with pytest.raises(ConfigError, match="check.max_increase.tokens: unknown metric"):
        CheckOptions.from_config(parse({"check": {"max_increase": {"tokens": "5%"}}}))
    with pytest.raises(ConfigError, match="check.colour: unknown key"):
        CheckOptions.from_config(parse({"check": {"colour": 1}}))


def test_task_names_and_matching():
    assert task_name("eval-refund-3f9a2c1e") == "eval-refund-*"
    assert task_name("run-2026-11-02T09:00:00Z-research") == "run-*-research"
    assert task_name("ticket-4711") == "ticket-4711"
    assert task_name("0b9a5d1e-1111-2222-3333-444455556666", "cases/refund.jsonl.gz") == "refund"
    cur = [{"task_id": "a-11111111"}, {"task_id": "b-1"}, {"task_id": "x-22222222"},
           {"task_id": "x-33333333"}]
    base = [{"task_id": "a-99999999"}, {"task_id": "b-1"}, {"task_id": "x-44444444"},
            {"task_id": "gone"}]
    got = {(m.current or {}).get("task_id"): (m.match, (m.baseline or {}).get("task_id"))
           for m in match_tasks(cur, base)}
    assert got["b-1"] == ("id", "b-1")
    assert got["a-11111111"] == ("name", "a-99999999")
    # "x-*" is ambiguous on the current side: not matched by name
    assert got["x-22222222"] == (None, None) and got["x-33333333"] == (None, None)
    missing = {m.baseline["task_id"] for m in match_tasks(cur, base) if m.status == "missing"}
    assert missing == {"x-44444444", "gone"}
