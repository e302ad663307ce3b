"""CSV cells a spreadsheet would run as formulas are neutralised (issue 11, item 8)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from agentcost.render.safe import csv_cell


def test_cell_rule() -> None:
    assert csv_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    for s in ("+1", "-cmd", "@SUM(A1)", "\tx", "\rx"):
        assert csv_cell(s) == "'" + s
    assert csv_cell(-0.5) == -0.5 and csv_cell(12) == 12 and csv_cell("task-1") == "task-1"
    assert csv_cell("=1+1", raw=True) == "=1+1"


def test_analyze_and_simulate_csv(run: Any, tmp_path: Path) -> None:
    rows = [{"task_id": "=cmd|' /C calc'!A0", "kind": "llm", "model": "claude-sonnet-4-6",
             "provider": "anthropic", "started_at": "2026-11-02T09:00:00Z",
             "duration_ms": 1000, "input_tokens": 2000, "output_tokens": 20}]
    p = tmp_path / "evil.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = run("analyze", str(p), "--format", "csv").stdout
    (cell,) = [r["task_id"] for r in csv.DictReader(io.StringIO(out))]
    assert cell == "'=cmd|' /C calc'!A0"
    raw = run("analyze", str(p), "--format", "csv", "--csv-raw").stdout
    assert [r["task_id"] for r in csv.DictReader(io.StringIO(raw))] == [rows[0]["task_id"]]
    sim = run("simulate", str(p), "--cache", "auto", "--name", "=evil", "--format", "csv").stdout
    names = [r["name"] for r in csv.DictReader(io.StringIO(sim))]
    assert "'=evil" in names and "=evil" not in names
