"""Cache misses of calls without segments, explained from usage and timing alone
(``agentcost.audit.usage_misses``), on real Claude Code and Codex logs and on hand-built
traces where each cause is known (issue 9, item 5)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import agentcost
from agentcost.analysis import analyze
from agentcost.audit.traces import explain_misses
from tests.conftest import REAL

SPOTTER = REAL / "claude-code-spotter"
MAIN = "4d5611e5-241a-462a-8d15-5122611a9569"
# claude-opus-4-6 (genai-prices, 2026): input $5, 5m cache write $6.25, cache read $0.50 per M


@pytest.fixture(scope="module")
def spotter() -> Any:
    return agentcost.load([str(SPOTTER)])


def test_audit_and_analyze_agree_on_cache_writes(spotter: Any) -> None:
    s = explain_misses(spotter).summary
    t = analyze(spotter).totals
    assert s["cache_write_tokens"] == t["cache_write_tokens"] == 631_133
    assert s["llm_calls"] == t["llm_calls"] == 174
    # every write analyze calls unread (a task that never read after writing) is unread here
    unread_tasks = sum(f["details"]["cache_write_tokens"] for f in analyze(spotter).findings
                       if f["type"] == "cache-write-unread")
    assert unread_tasks == 13_835 + 8_681
    assert unread_tasks <= s["unread_cache_write_tokens"] < s["cache_write_tokens"]
    assert s["calls_cache_read_unknown"] == 0
    assert "judged from usage and timing" in s["sentence"]


def test_ttl_expiry_from_timing_with_tokens_and_dollars(spotter: Any) -> None:
    rep = explain_misses(spotter)
    f = next(f for f in rep.findings if f.task_id == MAIN and f.step == 41)
    assert f.rule == "ttl-expired"
    assert "15,076s after step 39" in f.message and "5m TTL (300s)" in f.message
    assert f.miss["cache_read_tokens"] == 0
    assert f.miss["lost_tokens"] == f.miss["expected_read_tokens"] == 81_957
    # all 81,957 tokens were re-written at the 5m write price instead of read
    assert f.miss["lost_usd"] == pytest.approx(81_957 * (6.25 - 0.50) / 1e6, abs=1e-8)
    by = {c["cause"]: c for c in rep.summary["causes"]}
    assert set(by) == {"ttl-expired", "prefix-rebuilt"}
    assert by["ttl-expired"]["calls"] == 2
    assert rep.summary["lost_tokens"] == sum(c["lost_tokens"] for c in rep.summary["causes"])


def test_cli_no_longer_prints_zero_writes(run: Any) -> None:
    out = run("audit-prompt", str(SPOTTER)).stdout
    assert "cache writes 631,133" in out
    assert "cache writes 0" not in out
    assert "ttl-expired" in out


def test_openai_reports_no_writes_so_they_are_unknown(real: Path) -> None:
    s = explain_misses(agentcost.load([str(real / "codex-codemie")])).summary
    assert s["cache_write_tokens"] is None and s["unread_cache_write_tokens"] is None
    assert s["calls_judged_from_usage"] > 0


# ---------------------------------------------------------------- hand-built, cause known

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _call(task: str, s: float, inp: int, read: int, write: int, model: str = "claude-sonnet-4-6",
          dur: float = 3000) -> dict[str, Any]:
    return {"task_id": task, "kind": "llm", "name": "agent", "provider": "anthropic",
            "model": model, "started_at": (T0 + timedelta(seconds=s)).isoformat(),
            "duration_ms": dur, "input_tokens": inp, "output_tokens": 100,
            "cache_read_tokens": read, "cache_write_tokens": write}


def _explain(tmp_path: Path, rows: list[dict[str, Any]]) -> Any:
    p = tmp_path / "t.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return explain_misses(agentcost.load([str(p)]))


def test_each_cause_from_usage(tmp_path: Path) -> None:
    rows = [
        _call("ok", 0, 10_000, 0, 10_000), _call("ok", 10, 11_000, 10_000, 1_000),
        _call("ttl", 0, 10_000, 0, 10_000), _call("ttl", 400, 11_000, 0, 11_000),
        _call("model", 0, 10_000, 0, 10_000),
        _call("model", 10, 11_000, 0, 11_000, model="claude-opus-4-6"),
        _call("conc", 0, 10_000, 0, 10_000, dur=5000), _call("conc", 2, 10_500, 0, 10_500),
        # compaction: 60k prompt, then a 12k summary prompt that reads not even the 8k system
        _call("cmp", 0, 8_000, 0, 8_000), _call("cmp", 10, 60_000, 8_000, 52_000),
        _call("cmp", 20, 12_000, 0, 12_000),
        # compaction that keeps the shared prefix: not a miss
        _call("cmp-ok", 0, 8_000, 0, 8_000), _call("cmp-ok", 10, 60_000, 8_000, 52_000),
        _call("cmp-ok", 20, 12_000, 8_000, 4_000),
        _call("edit", 0, 10_000, 0, 10_000), _call("edit", 10, 12_000, 4_000, 8_000),
    ]
    rep = _explain(tmp_path, rows)
    got = {f.task_id: f for f in rep.findings}
    assert set(got) == {"ttl", "model", "conc", "cmp", "edit"}
    assert got["ttl"].rule == "ttl-expired" and got["ttl"].miss["lost_tokens"] == 10_000
    assert got["model"].rule == "model-change"
    assert got["conc"].rule == "concurrent"
    assert got["cmp"].rule == "compaction"
    assert got["cmp"].miss["expected_read_tokens"] == 8_000
    assert "shrank from 60,000 to 12,000" in got["cmp"].message
    assert got["edit"].rule == "prefix-rebuilt"
    assert "between ~4,000 and ~10,000 tokens" in got["edit"].message
    assert got["edit"].miss["lost_tokens"] == 6_000
    # claude-sonnet-4-6 in March 2026: write $3.75, read $0.30 per million
    assert got["edit"].miss["lost_usd"] == pytest.approx(6_000 * (3.75 - 0.30) / 1e6)
    assert rep.summary["calls_judged_from_usage"] == 9


def test_unknown_reads_are_counted_not_zero(tmp_path: Path) -> None:
    rows = [_call("a", 0, 10_000, 0, 10_000), _call("a", 10, 11_000, 0, 0)]
    del rows[1]["cache_read_tokens"]
    rep = _explain(tmp_path, rows)
    assert rep.findings == []
    assert rep.summary["calls_cache_read_unknown"] == 1
