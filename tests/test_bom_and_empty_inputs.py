"""Inputs people have (issue 11, item 6): a UTF-8 byte-order mark is accepted in every reader
path, and a folder in which no file is a trace is an error that says what was skipped — never
a $0 report with exit 0 that a CI gate would read as "spent nothing"."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

from tests.conftest import REAL, REPO

BOM = b"\xef\xbb\xbf"


def _totals(run: Any, path: Path) -> dict[str, Any]:
    res = run("analyze", str(path), "--format", "json")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)["totals"]


def test_bom_is_accepted(run: Any, tmp_path: Path) -> None:
    for src in (REPO / "sample_traces" / "research_agent.jsonl",
                REAL / "claude-code-spotter" / "4d5611e5-241a-462a-8d15-5122611a9569.jsonl"):
        plain = _totals(run, src)
        bom = tmp_path / src.name
        bom.write_bytes(BOM + src.read_bytes())
        assert _totals(run, bom) == plain, src.name
        gz = tmp_path / (src.name + ".gz")
        gz.write_bytes(gzip.compress(BOM + src.read_bytes()))
        assert _totals(run, gz) == plain, src.name


def test_a_folder_without_traces_is_an_error(run: Any, tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text('{"hello": "world"}\n')
    (tmp_path / "empty.jsonl").write_text("")
    res = run("analyze", str(tmp_path))
    assert res.exit_code == 2
    assert "no trace found: 2 files skipped" in res.stderr
    assert "notes.json" in res.stderr and "empty.jsonl" in res.stderr
    check = run("check", str(tmp_path))
    assert check.exit_code == 2  # not a pass


def test_a_folder_with_some_traces_lists_the_rest(run: Any, tmp_path: Path) -> None:
    shutil.copy(REPO / "sample_traces" / "research_agent.jsonl", tmp_path)
    (tmp_path / "notes.json").write_text('{"hello": "world"}\n')
    doc = json.loads(run("analyze", str(tmp_path), "--format", "json").stdout)
    assert doc["totals"]["llm_calls"] == 4
    assert any("notes.json" in n for n in doc["ingest"]["notes"])


def test_null_input_tokens_make_the_total_a_lower_bound(run: Any, tmp_path: Path) -> None:
    """A `null` token count is unknown, not 0: a step with output but no input count is priced
    on its output only, and the total says it is a lower bound."""
    row = {"task_id": "t", "kind": "llm", "model": "claude-sonnet-4-6", "provider": "anthropic",
           "started_at": "2026-11-02T09:00:00Z", "input_tokens": None, "output_tokens": 1000}
    p = tmp_path / "partial.jsonl"
    p.write_text(json.dumps(row) + "\n")
    doc = json.loads(run("analyze", str(p), "--format", "json").stdout)
    t = doc["totals"]
    assert t["partial_usage_steps"] == 1 and t["cost_is_lower_bound"] is True
    assert t["cost_usd"] == 0.015  # 1,000 output tokens at $15/M; the input is not known
    assert any("only part of their usage" in w for w in doc["warnings"])
    assert "≥$0.0150" in run("analyze", str(p)).stdout
