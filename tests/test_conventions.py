"""CLI conventions (issue 14, item 7): relative --since/--until, config discovery up to the
repository root and in pyproject.toml, AGENTCOST_CONFIG, --group-by week|month with --timezone,
``python -m agentcost``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agentcost import config as cfgmod
from agentcost.errors import InputError
from agentcost.ingest import time_bound
from tests.conftest import REPO

NOW = 1_764_720_000 * 10**9  # 2025-12-03T00:00:00Z
DAY = 86_400 * 10**9


def test_relative_bounds() -> None:
    assert time_bound("7d", now_ns=NOW) == NOW - 7 * DAY
    assert time_bound("12h", now_ns=NOW + 5) == NOW + 5 - 12 * 3600 * 10**9
    assert time_bound("2w", now_ns=NOW) == NOW - 14 * DAY
    assert time_bound("today", now_ns=NOW + 3600 * 10**9) == NOW
    assert time_bound("yesterday", now_ns=NOW + 1) == NOW - DAY
    assert time_bound("2025-12-03", now_ns=0) == NOW
    with pytest.raises(InputError, match="span such as 7d"):
        time_bound("last tuesday")


def test_relative_since_on_the_cli(run: Any) -> None:
    # the samples are from November 2026: a week before "now" (this run) keeps none of them, a
    # thousand weeks keeps all
    every = json.loads(run("analyze", "sample_traces", "--format", "json", "--since",
                           "1000w").stdout)
    assert every["totals"]["llm_calls"] == 42
    res = run("analyze", "sample_traces", "--format", "json", "--until", "1000w")
    assert json.loads(res.stdout)["totals"]["llm_calls"] == 0


def _repo(tmp: Path) -> Path:
    (tmp / ".git").mkdir(parents=True)
    (tmp / "pyproject.toml").write_text('[tool.agentcost.analyze]\nmax_iterations = 7\n')
    (tmp / "sub" / "deeper").mkdir(parents=True)
    return tmp


def test_config_discovery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTCOST_CONFIG", raising=False)
    outside = tmp_path / "agentcost.yaml"
    outside.write_text("analyze:\n  max_iterations: 99\n")  # above the repository root
    root = _repo(tmp_path / "repo")
    monkeypatch.chdir(root / "sub" / "deeper")
    assert cfgmod.load().max_iterations == 7  # pyproject.toml [tool.agentcost] at the root
    (root / "sub" / "agentcost.yaml").write_text("analyze:\n  max_iterations: 3\n")
    assert cfgmod.load().max_iterations == 3  # the nearest config wins
    env_cfg = tmp_path / "ci.yaml"
    env_cfg.write_text("analyze:\n  max_iterations: 5\n")
    monkeypatch.setenv("AGENTCOST_CONFIG", str(env_cfg))
    assert cfgmod.load().max_iterations == 5
    monkeypatch.delenv("AGENTCOST_CONFIG")
    (root / "sub" / "agentcost.yaml").unlink()
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert cfgmod.load().max_iterations is None  # stops at .git: the 99 above is not used


def test_pyproject_key_errors_name_the_table(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTCOST_CONFIG", raising=False)
    root = _repo(tmp_path)
    (root / "pyproject.toml").write_text('[tool.agentcost.analyze]\nmax_iterations = "many"\n')
    monkeypatch.chdir(root)
    with pytest.raises(cfgmod.ConfigError, match=r"pyproject.toml \[tool.agentcost\]"):
        cfgmod.load()


def _steps(tmp: Path) -> Path:
    rows = [{"task_id": t, "kind": "llm", "model": "claude-sonnet-4-6", "provider": "anthropic",
             "started_at": at, "duration_ms": 1000, "input_tokens": 1000, "output_tokens": 10}
            for t, at in (("a", "2026-11-29T23:30:00Z"), ("b", "2026-11-30T23:30:00Z"),
                          ("c", "2026-12-01T10:00:00Z"))]
    p = tmp / "run.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return p


def test_group_by_week_and_month_in_a_time_zone(run: Any, tmp_path: Path) -> None:
    p = _steps(tmp_path)

    def groups(*args: str) -> dict[str, int]:
        doc = json.loads(run("analyze", str(p), "--format", "json", *args).stdout)
        by = args[args.index("--group-by") + 1]
        return {g[by]: g["llm_calls"] for g in doc["groups"]}

    # 2026-11-29 is a Sunday (ISO week 48); 2026-11-30 a Monday (week 49)
    assert groups("--group-by", "week") == {"2026-W48": 1, "2026-W49": 2}
    assert groups("--group-by", "month") == {"2026-11": 2, "2026-12": 1}
    # in Tokyo (UTC+9) the 23:30 UTC calls fall on the next day
    assert groups("--group-by", "month", "--timezone", "Asia/Tokyo") == {"2026-11": 1,
                                                                         "2026-12": 2}
    assert groups("--group-by", "day", "--timezone", "Asia/Tokyo") == {
        "2026-11-30": 1, "2026-12-01": 2}
    bad = run("analyze", str(p), "--group-by", "day", "--timezone", "Mars/Olympus")
    assert bad.exit_code == 2 and "unknown time zone" in bad.stderr


def test_python_dash_m() -> None:
    res = subprocess.run([sys.executable, "-m", "agentcost", "--version"], cwd=REPO,
                         capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.startswith("agentcost ")


def test_shell_completion() -> None:
    """Completion of command and option names (bash; zsh, fish and PowerShell the same way)."""
    import shutil

    exe = shutil.which("agentcost", path=str(Path(sys.executable).parent))
    assert exe is not None

    def complete(words: str, cword: int) -> list[str]:
        env = {**os.environ, "COMP_WORDS": words, "COMP_CWORD": str(cword),
               "_AGENTCOST_COMPLETE": "complete_bash"}
        res = subprocess.run([exe], env=env, capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr
        return res.stdout.split()

    assert complete("agentcost ana", 1) == ["analyze"]
    assert complete("agentcost analyze --group", 2) == ["--group-by"]
    assert "prices" in complete("agentcost p", 1)
    # without a terminal shellingham may not find the shell and Typer then prints nothing;
    # with detection off (Typer's own switch for this) --show-completion takes the shell named
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    show = subprocess.run([exe, "--show-completion", "bash"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert show.returncode == 0, show.stderr
    assert "_agentcost_completion" in show.stdout
