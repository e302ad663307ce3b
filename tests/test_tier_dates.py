"""Service tiers on dates before the price data's tier variants (issue 9, item 1).

genai-prices 0.2.3 has batch prices only from 2026-10-14 and flex/priority from 2026-10-12 (the
days its data was verified). A trace from April 2026 with ``service_tier: batch`` must still be
priced at the batch ratio, and ``simulate --batch`` on it must project the discount it states.
Every expected figure below is computed here from list prices (provider-rules §E), not by
agentcost.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import agentcost
from agentcost.simulation import Scenario, Settings, simulate

APRIL = datetime(2026, 4, 14, 9, 0, tzinfo=UTC)
NOVEMBER = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
MTOK = 1e6
# claude-sonnet-4-5 list prices (provider-rules §E1): in / 5m write / read / out per MTok
SONNET_45 = {"in": 3.0, "w5": 3.75, "read": 0.30, "out": 15.0}


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _call(task: str, at: datetime, inp: int, read: int, write: int, out: int, *,
          model: str = "claude-sonnet-4-5", provider: str = "anthropic",
          tier: str | None = None, stop: str = "tool_use") -> dict[str, Any]:
    row: dict[str, Any] = {
        "task_id": task, "kind": "llm", "name": "agent", "provider": provider, "model": model,
        "started_at": _iso(at), "duration_ms": 1500, "ttft_ms": 400, "input_tokens": inp,
        "cache_read_tokens": read, "cache_write_tokens": write, "cache_write_5m_tokens": write,
        "cache_write_1h_tokens": 0, "output_tokens": out, "stop_reason": stop}
    if tier:
        row["service_tier"] = tier
    return row


def _conversations(n: int, start: datetime) -> list[dict[str, Any]]:
    """``n`` three-call Anthropic conversations that write their prefix once and read it back."""
    rows = []
    for i in range(n):
        t0 = start + timedelta(minutes=i)
        task = f"conv-{i:04d}"
        rows += [_call(task, t0, 5_000, 0, 4_000, 200),
                 _call(task, t0 + timedelta(seconds=5), 5_600, 4_000, 1_000, 150),
                 _call(task, t0 + timedelta(seconds=10), 6_000, 5_000, 600, 300, stop="end_turn")]
    return rows


def _expected_sonnet(rows: list[dict[str, Any]], factor: float = 1.0) -> float:
    p = SONNET_45
    total = 0.0
    for r in rows:
        unc = r["input_tokens"] - r["cache_read_tokens"] - r["cache_write_tokens"]
        total += (unc * p["in"] + r["cache_read_tokens"] * p["read"]
                  + r["cache_write_tokens"] * p["w5"] + r["output_tokens"] * p["out"]) / MTOK
    return total * factor


def _load(tmp_path: Path, rows: list[dict[str, Any]]) -> Any:
    path = tmp_path / "trace.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return agentcost.load([str(path)])


def test_april_batch_steps_cost_half_in_analyze(tmp_path):
    std = _conversations(3, APRIL)
    batch = [dict(r, service_tier="batch", task_id=r["task_id"] + "-b") for r in std]
    tab = _load(tmp_path, std + batch)
    cost = tab.frame.assign(b=tab.frame["task_id"].str.endswith("-b")).groupby("b")["cost_usd"]
    assert cost.sum()[False] == pytest.approx(_expected_sonnet(std), rel=1e-12)
    assert cost.sum()[True] == pytest.approx(_expected_sonnet(std, 0.5), rel=1e-12)
    # the report says how it priced them, with the date the ratio came from
    notes = tab.pricing.notes
    assert len(notes) == 1
    assert "batch tier of anthropic:claude-sonnet-4-5 before 2026-10-14" in notes[0]
    assert "50% of the standard price" in notes[0]
    rep = agentcost.analyze(tab)
    assert f"pricing: {notes[0]}" in rep.warnings


def test_batch_after_the_variant_date_is_genai_prices_own_answer(tmp_path):
    rows = [dict(r, service_tier="batch") for r in _conversations(2, NOVEMBER)]
    tab = _load(tmp_path, rows)
    assert tab.frame["cost_usd"].sum() == pytest.approx(_expected_sonnet(rows, 0.5), rel=1e-12)
    assert tab.pricing.notes == []  # nothing back-dated


def test_priority_before_its_date_uses_the_models_own_factor(tmp_path):
    # gpt-5: priority is 2x standard, gpt-5.5 2.5x (provider-rules §E2); gpt-4o's batch leaves
    # the cached-input price at standard, so only input and output halve
    at = APRIL
    rows = [
        _call("p5", at, 10_000, 4_096, 0, 500, model="gpt-5", provider="openai", tier="priority"),
        _call("s5", at, 10_000, 4_096, 0, 500, model="gpt-5", provider="openai"),
        _call("p55", at, 10_000, 4_096, 0, 500, model="gpt-5.5", provider="openai",
              tier="priority"),
        _call("b4o", at, 10_000, 4_096, 0, 500, model="gpt-4o", provider="openai", tier="batch"),
    ]
    tab = _load(tmp_path, rows)
    c = tab.frame.set_index("task_id")["cost_usd"]
    gpt5 = (5_904 * 1.25 + 4_096 * 0.125 + 500 * 10) / MTOK
    assert c["s5"] == pytest.approx(gpt5, rel=1e-12)
    assert c["p5"] == pytest.approx(2 * gpt5, rel=1e-12)
    assert c["p55"] == pytest.approx(2.5 * (5_904 * 5 + 4_096 * 0.5 + 500 * 30) / MTOK, rel=1e-12)
    assert c["b4o"] == pytest.approx((5_904 * 1.25 + 4_096 * 1.25 + 500 * 5) / MTOK, rel=1e-12)
    notes = " | ".join(tab.pricing.notes)
    assert "priority tier of openai:gpt-5 before 2026-10-12" in notes
    assert "250% of the standard price" in notes
    assert "batch tier of openai:gpt-4o" in notes and "input 50%" in notes


def test_thousand_april_conversations_cost_exactly_half_under_batch(tmp_path):
    rows = _conversations(1_000, APRIL)
    tab = _load(tmp_path, rows)
    doc = simulate(tab, [Scenario(name="batch", batch=True)], Settings()).to_dict()
    base, b = doc["baseline"], doc["scenarios"][0]
    assert base["cost_usd"] == pytest.approx(_expected_sonnet(rows), rel=1e-9)
    assert b["cost_usd"] == pytest.approx(base["cost_usd"] / 2, rel=1e-12)
    assert b["delta_pct"] == pytest.approx(-50.0)
    text = " ".join(b["assumptions"])
    # the stated discount is the one applied, and the back-dating is said
    assert "3,000 batched calls priced at the provider's batch prices" in text
    assert f"${base['cost_usd'] / 2:,.4f} instead of ${base['cost_usd']:,.4f}" in text
    assert "(-50.0%" in text
    assert "before 2026-10-14" in text


def test_batch_and_caching_stack_on_april_traces(tmp_path):
    # no cache fields used: every prompt uncached; cache auto then batch on top of it
    rows = []
    for i in range(50):
        t0 = APRIL + timedelta(minutes=i)
        segs = [{"role": "tools", "tokens": 1500, "hash": "tools"},
                {"role": "system", "tokens": 3000, "hash": "sys"},
                {"role": "user", "tokens": 300, "hash": f"u{i}"}]
        for k in range(3):
            r = _call(f"c{i}", t0 + timedelta(seconds=5 * k), 0, 0, 0, 100,
                      stop="tool_use" if k < 2 else "end_turn")
            r["segments"] = segs + [{"role": "assistant", "tokens": 200, "hash": f"a{i}-{j}"}
                                    for j in range(k)]
            r["input_tokens"] = sum(s["tokens"] for s in r["segments"])
            rows.append(r)
    tab = _load(tmp_path, rows)
    doc = simulate(tab, [Scenario(name="cache", cache="auto"),
                         Scenario(name="both", cache="auto", batch=True)], Settings()).to_dict()
    by = {s["name"]: s for s in doc["scenarios"]}
    assert by["cache"]["cost_usd"] < doc["baseline"]["cost_usd"] * 0.6  # caching pays here
    assert by["both"]["cache_read_tokens"] == by["cache"]["cache_read_tokens"]
    assert by["both"]["cost_usd"] == pytest.approx(by["cache"]["cost_usd"] / 2, rel=1e-12)


def test_simulate_cli_batch_on_april_trace(tmp_path, run):
    path = tmp_path / "april.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _conversations(20, APRIL)))
    res = run("simulate", str(path), "--batch", "--format", "json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["scenarios"][0]["delta_pct"] == pytest.approx(-50.0)
