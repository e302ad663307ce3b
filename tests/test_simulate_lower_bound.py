"""A baseline with calls that report only part of their usage is a lower bound in
``simulate`` too, as in ``analyze`` (issue 11): null is unknown, not 0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def test_partial_usage_makes_every_total_a_lower_bound(run: Any, tmp_path: Path) -> None:
    lines = [{"task_id": "t", "kind": "llm", "model": "claude-sonnet-4-5",
              "started_at": "2026-11-01T00:00:00Z", "input_tokens": 1_000, "output_tokens": 10},
             {"task_id": "t", "kind": "llm", "model": "claude-sonnet-4-5",
              "started_at": "2026-11-01T00:00:05Z", "input_tokens": 2_000}]  # output unknown
    p = tmp_path / "partial.jsonl"
    p.write_text("".join(json.dumps(x) + "\n" for x in lines))
    res = run("simulate", str(p), "--cache", "auto", "-f", "json")
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["baseline"]["cost_is_lower_bound"] is True
    assert d["baseline"]["warnings"] == [
        "1 llm call(s) report only input or only output tokens: every total leaves the "
        "unknown part out and is a lower bound"]
    assert all(s["cost_is_lower_bound"] for s in d["scenarios"])
    text = run("simulate", str(p), "--cache", "auto").stdout
    assert "baseline ≥$0.0092" in text
    # complete usage: no lower bound, no warning
    p.write_text(json.dumps(lines[0]) + "\n")
    d = json.loads(run("simulate", str(p), "--cache", "auto", "-f", "json").stdout)
    assert d["baseline"]["cost_is_lower_bound"] is False and d["baseline"]["warnings"] == []
