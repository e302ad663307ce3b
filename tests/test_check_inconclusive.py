"""`check` never passes on input it could not compare (issue 9, item 6)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bl") / "baseline.json"
    res = subprocess.run([sys.executable, "-m", "agentcost.cli", "analyze", "sample_traces",
                          "--format", "json", "--steps", "-o", str(out)], cwd=REPO,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return out


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agentcost.cli", "check", *args], cwd=REPO,
                          capture_output=True, text=True, env={"COLUMNS": "100", "NO_COLOR": "1",
                                                               "PATH": "/usr/bin:/bin"})


def test_every_line_rejected_is_inconclusive(tmp_path, baseline):
    bad = tmp_path / "broken.jsonl"
    bad.write_text('{"task_id": "x", "kind": "llm", "input_tokens": 12\nnot json at all\n')
    res = _check(str(bad), "--input-format", "agentcost", "--baseline", str(baseline),
                 "--max-increase", "10%", "--format", "json")
    assert res.returncode == 3, res.stderr
    doc = json.loads(res.stdout)
    assert doc["verdict"] == "inconclusive"
    assert any("no llm call was read from the current traces (2 of 2 lines were rejected"
               in r for r in doc["reasons"])
    # budgets alone: still nothing to hold to a budget
    cfg = tmp_path / "agentcost.yaml"
    cfg.write_text("budgets:\n  total_cost: 12.00\n")
    res = _check(str(bad), "--input-format", "agentcost", "--config", str(cfg))
    assert res.returncode == 3, res.stdout + res.stderr


def test_no_baseline_task_in_the_current_run_is_inconclusive(tmp_path, baseline):
    rows = [json.loads(x) for x in (REPO / "sample_traces" / "research_agent.jsonl")
            .read_text().splitlines()[:3]]
    for r in rows:
        r["task_id"], r["name"] = "renamed-task", "renamed-" + r["name"]
    cur = tmp_path / "other.jsonl"
    cur.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = _check(str(cur), "--baseline", str(baseline), "--max-increase", "10%")
    assert res.returncode == 3, res.stdout + res.stderr
    assert "none of the baseline's 7 tasks is in the current run" in res.stdout
    assert "PASS" not in res.stdout
    # the "Why" names the input, not a regression
    assert "inconclusive baseline tasks:" in res.stdout


def test_broken_pipe_keeps_the_verdict(baseline):
    cmd = [sys.executable, "-m", "agentcost.cli", "check", "sample_traces", "--baseline",
           str(baseline), "--max-increase", "10%"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={"COLUMNS": "100", "NO_COLOR": "1", "PATH": "/usr/bin:/bin"})
    assert proc.stdout is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # the reader goes away, as `| head -1` does
    proc.wait(timeout=60)
    assert b"PASS" in first
    assert proc.returncode == 0
