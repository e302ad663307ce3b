"""Cascade figures a user can act on (issue 9, items 2 and 3).

* Family aliases resolve against the trace: no silent model upgrade inside a "cascade" saving.
* A model change, when there is one, is split out of the Δ.
* Escalation is monotonic: more escalated steps never make a run cheaper.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import agentcost
from agentcost.simulation import Scenario, Settings, simulate
from agentcost.simulation.scenario import parse_cascade

REPO = Path(__file__).resolve().parents[1]
APRIL = datetime(2026, 4, 14, 9, 0, tzinfo=UTC)
NOVEMBER = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def _rows(model: str, start: datetime, provider: str = "anthropic", n: int = 4
          ) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        t0 = start + timedelta(minutes=5 * i)
        for k in range(3):
            last = k == 2
            rows.append({
                "task_id": f"t{i}", "kind": "llm", "name": "agent", "provider": provider,
                "model": model, "duration_ms": 1500, "ttft_ms": 400,
                "started_at": (t0 + timedelta(seconds=4 * k)).isoformat().replace("+00:00", "Z"),
                "input_tokens": 4000 + 600 * k, "cache_read_tokens": 0, "cache_write_tokens": 0,
                "output_tokens": 300 if last else 40,
                "stop_reason": "end_turn" if last else "tool_use",
                "tool_calls": [] if last else ["search"]})
    return rows


def _load(tmp_path: Path, rows: list[dict[str, Any]]) -> Any:
    p = tmp_path / "t.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return agentcost.load([str(p)])


def _cascade(spec: str, **kw: Any) -> Scenario:
    (cheap, strong), given = parse_cascade(spec, "--cascade")
    return Scenario(name=kw.pop("name", "cascade"), cascade=(cheap, strong), cascade_given=given,
                    cache="off", **kw)


def _run(table: Any, *scs: Scenario, **st: Any) -> dict[str, Any]:
    return simulate(table, list(scs), Settings(**st)).to_dict()


def test_aliases_keep_the_traces_generation(tmp_path):
    doc = _run(_load(tmp_path, _rows("claude-sonnet-4-5", APRIL)), _cascade("haiku,sonnet"))
    s = doc["scenarios"][0]
    c = s["details"]["cascade"]
    # strong = the trace's own Sonnet 4.5, cheap = Haiku 4.5 of the same generation; not the
    # newest 5.5 models (released after the trace, other tokenizer)
    assert (c["cheap"], c["strong"]) == ("claude-haiku-4-5", "claude-sonnet-4-5")
    assert c["tokenizer_ratios"] == {"claude-sonnet-4-5 → claude-haiku-4-5": 1.0}
    assert "delta_split" not in c  # no model change to split out
    text = " ".join(s["assumptions"])
    assert "strong alias 'sonnet' → claude-sonnet-4-5, the trace's own sonnet model" in text
    assert "cheap alias 'haiku' → claude-haiku-4-5, the haiku of the same generation" in text
    assert not any("released on" in w for w in s["warnings"])
    # figure checked by hand: cheap steps (k = 0, 1) on Haiku 4.5 $1/$5, final on Sonnet 4.5
    cheap = (4000 + 4600) * 1.0 + 80 * 5.0
    strong = 5200 * 3.0 + 300 * 15.0
    assert s["cost_usd"] == pytest.approx(4 * (cheap + strong) / 1e6, rel=1e-9)


def test_cheap_alias_falls_back_to_newest_released_before_the_trace(tmp_path):
    # Sonnet 4.6 has no Haiku 4.6; Haiku 5.5 came out on 2026-10-07, after an April trace
    doc = _run(_load(tmp_path, _rows("claude-sonnet-4-6", APRIL)), _cascade("haiku,sonnet"))
    s = doc["scenarios"][0]
    assert s["details"]["cascade"]["cheap"] == "claude-haiku-4-5"
    assert ("no haiku of claude-sonnet-4-6's generation; the newest released on or before the "
            "trace's last call (2026-04-14)") in " ".join(s["assumptions"])
    # in November Haiku 5.5 exists and is the newest
    doc = _run(_load(tmp_path, _rows("claude-sonnet-4-6", NOVEMBER)), _cascade("haiku,sonnet"))
    assert doc["scenarios"][0]["details"]["cascade"]["cheap"] == "claude-haiku-5-5"


def test_model_change_is_split_from_routing(tmp_path):
    # an OpenAI trace: `sonnet` cannot be the trace's own model, so the cascade changes models
    tab = _load(tmp_path, _rows("gpt-5", APRIL, provider="openai"))
    doc = _run(tab, _cascade("haiku,sonnet"))
    s = doc["scenarios"][0]
    split = s["details"]["cascade"]["delta_split"]
    assert split["model_change_usd"] + split["routing_usd"] == pytest.approx(s["delta_usd"],
                                                                           abs=1e-8)
    # the model-change half is what every step on the strong model costs against the baseline
    strong = s["details"]["cascade"]["strong"]
    all_strong = _run(tab, _cascade(f"{strong},{strong}", name="all"))["scenarios"][0]
    assert split["model_change_usd"] == pytest.approx(all_strong["delta_usd"], abs=1e-8)
    assert "= model change" in " ".join(s["assumptions"])
    # the strong alias picked a Sonnet that existed in April, never a later one
    assert strong == "claude-sonnet-4-6"


def test_release_after_the_trace_warns(tmp_path):
    doc = _run(_load(tmp_path, _rows("claude-sonnet-4-6", APRIL)),
               _cascade("claude-haiku-5-5,claude-sonnet-4-6"))
    ws = doc["scenarios"][0]["warnings"]
    assert any("claude-haiku-5-5 was released on 2026-10-07, after some of the trace's calls"
               in w for w in ws)


@pytest.fixture(scope="module")
def samples() -> Any:
    return agentcost.load([str(REPO / "sample_traces")])


def test_cost_never_falls_as_escalation_rises(samples):
    rates = [0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0]
    scs = [_cascade("claude-haiku-4-5,claude-sonnet-4-6", name=f"r{r}", escalation_rate=r)
           for r in rates]
    for sc in scs:
        object.__setattr__(sc, "cache", None)  # the trace's own caching, as the CLI default
    doc = _run(samples, *scs)
    by = {s["name"]: s for s in doc["scenarios"]}
    costs = [by[f"r{r}"]["cost_usd"] for r in rates]
    assert costs == sorted(costs), list(zip(rates, costs, strict=True))
    esc = [by[f"r{r}"]["details"]["cascade"]["escalated_steps"] for r in rates]
    assert esc == sorted(esc) and esc[-1] == by["r1.0"]["details"]["cascade"]["cheap_steps"]
    # the case the issue reported: 0.15 used to cost less than 0.10
    assert by["r0.15"]["cost_usd"] >= by["r0.1"]["cost_usd"]


def test_pessimistic_range_is_the_worst_case(samples):
    sc = _cascade("claude-haiku-4-5,claude-sonnet-4-6", escalation_rate=0.1)
    object.__setattr__(sc, "cache", None)
    s = _run(samples, sc, with_range=True)["scenarios"][0]
    assert s["range"]["pessimistic"]["cost_usd"] >= s["cost_usd"] >= \
        s["range"]["optimistic"]["cost_usd"]
