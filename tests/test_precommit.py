"""The pre-commit hooks of ``.pre-commit-hooks.yaml`` (issue 14, item 3), run by the real
``pre-commit`` against a temporary repository: pre-commit installs agentcost from this checkout
(at HEAD) into its own environment, the audit hook fails on a prompt with a date in it and passes
on a clean one, and the check hook gates a trace against a baseline."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def _precommit(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files",
                           "--color", "never"], cwd=repo, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def user_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    head = _git(REPO, "rev-parse", "HEAD")
    assert "agentcost-audit-prompt" in _git(REPO, "show", f"{head}:.pre-commit-hooks.yaml")
    repo = tmp_path_factory.mktemp("user-repo")
    _git(repo, "init", "-q")
    (repo / "prompts").mkdir()
    (repo / "prompts" / "system.txt").write_text("You are a support agent. Answer briefly.\n")
    (repo / "README.md").write_text("Today is 2026-12-03.\n")  # not a prompt file: not audited
    traces = repo / "traces"
    traces.mkdir()
    shutil.copy(REPO / "sample_traces" / "research_agent.jsonl", traces)
    baseline = repo / "baseline.json"
    subprocess.run([sys.executable, "-m", "agentcost", "analyze", str(traces), "--format",
                    "json", "--steps", "-o", str(baseline)], check=True)
    (repo / ".pre-commit-config.yaml").write_text(f"""repos:
  - repo: {REPO}
    rev: {head}
    hooks:
      - id: agentcost-audit-prompt
      - id: agentcost-check
        args: [traces/, --baseline, baseline.json, --max-increase, "10%"]
""")
    _git(repo, "add", "-A")
    return repo


def test_hooks_pass_on_a_clean_repository(user_repo: Path) -> None:
    res = _precommit(user_repo)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "agentcost audit-prompt" in res.stdout and "agentcost check" in res.stdout


def test_audit_hook_fails_on_a_dated_prompt(user_repo: Path) -> None:
    prompt = user_repo / "prompts" / "system.txt"
    prompt.write_text("Today is 2026-12-03.\nYou are a support agent. Answer briefly.\n")
    _git(user_repo, "add", "-A")
    res = _precommit(user_repo)
    prompt.write_text("You are a support agent. Answer briefly.\n")
    _git(user_repo, "add", "-A")
    assert res.returncode == 1
    assert "prompts/system.txt:1:1" in res.stdout and "timestamp" in res.stdout
    assert "README.md" not in res.stdout


def test_check_hook_fails_on_a_regression(user_repo: Path) -> None:
    more = REPO / "sample_traces" / "support_agent.jsonl"
    shutil.copy(more, user_repo / "traces")
    _git(user_repo, "add", "-A")
    res = _precommit(user_repo)
    (user_repo / "traces" / more.name).unlink()
    _git(user_repo, "add", "-A")
    assert res.returncode == 1
    assert "FAIL" in res.stdout + res.stderr
