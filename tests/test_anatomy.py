"""``analyze --anatomy`` (issue 17): input by role, carried cost, staleness, findings — on a
hand-built agentcost JSONL trace, on request-body traces (authentic wire captures) and on real
Claude Code logs (segments rebuilt from the conversation, calibrated to reported usage).

Prices are never written down here: expected dollars come from the price data through
:class:`agentcost.pricing.Pricer`, at the trace's own dates (November 2026).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import agentcost
from agentcost import schemas
from agentcost.anatomy import AnatomyOptions, anatomy, layout
from agentcost.ingest.conversation import fit
from agentcost.ingest.segments import from_request
from agentcost.pricing import Pricer
from tests.conftest import AUTHENTIC, FIXTURES, REAL, assert_golden

ONE_BIG = FIXTURES / "anatomy" / "one_big_result.jsonl"  # hand-built: see its README.md
HOUR = "2026-11-02T10:00:00+00:00"


def sonnet_input_rate() -> float:
    rates = Pricer().rates("claude-sonnet-4-5", "anthropic", None, HOUR)
    assert rates is not None
    return rates.uncached


def test_one_big_result_carried_20000_tokens_and_their_dollars() -> None:
    """The issue's "done when": a 5,000-token tool result sent by four calls, no caching."""
    a = anatomy(agentcost.load([str(ONE_BIG)]))
    top = a["tool_results"][0]
    assert (top["name"], top["call_id"], top["tokens"], top["sends"]) == (
        "read_file",
        "call-1",
        5000,
        4,
    )
    assert top["carried_tokens"] == 20_000 and top["uncached_tokens"] == 20_000
    assert top["carried_cost_usd"] == pytest.approx(20_000 * sonnet_input_rate(), rel=1e-9)
    assert top["stale_turns"] == 3 and top["carried_until"] == "task end"
    tools = {t["name"]: t for t in a["tools"]}
    assert tools["read_file"]["cost_share"] == pytest.approx(20_000 / 33_340, abs=1e-4)
    assert [f["rule"] for f in a["findings"]] == ["tool-results-cost"]
    assert "read_file results: 60% of input cost" in a["findings"][0]["message"]


def test_roles_add_up_to_the_input_cost_analyze_reports() -> None:
    table = agentcost.load([str(ONE_BIG)])
    a = anatomy(table)
    llm = table.frame[table.frame["kind"] == "llm"]
    input_cost = float((llm["cost_usd"] - llm["output_cost_usd"]).sum())
    roles = {r["role"]: r for r in a["by_role"]}
    assert sum(r["tokens"] for r in roles.values()) == int(llm["input_tokens"].sum()) == 33_340
    assert sum(r["cost_usd"] for r in roles.values()) == pytest.approx(input_cost, rel=1e-9)
    assert a["covered_input_cost_usd"] == pytest.approx(input_cost, rel=1e-9)
    assert roles["tools"]["tokens"] == 5 * 500 and roles["system"]["tokens"] == 5 * 1500
    assert roles["tool"]["tokens"] == 20_000 + 40 * (3 + 2 + 1)


def test_layout_puts_reads_first_then_writes_then_uncached() -> None:
    segs = [{"tokens": 1000}, {"tokens": 3000}, {"tokens": 2000}]
    assert layout(segs, 6000, 2500, 2000) == [
        (1000, 1000, 0, 0),
        (3000, 1500, 1500, 0),
        (2000, 0, 500, 1500),
    ]
    # segments that do not add up are rescaled to the reported input, as the simulator does
    assert [p[0] for p in layout(segs, 600, 0, 0)] == [100, 300, 200]


def test_cached_calls_price_each_class_at_its_own_rate(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in ONE_BIG.read_text().splitlines()]
    llm = [r for r in rows if r["kind"] == "llm"]
    for prev, r in zip(llm, llm[1:], strict=False):  # every call reads the previous prompt
        r["cache_read_tokens"] = prev["input_tokens"]
        r["cache_write_tokens"] = r["input_tokens"] - prev["input_tokens"]
    p = tmp_path / "cached.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    a = anatomy(agentcost.load([str(p)]))
    top = a["tool_results"][0]
    # first sent in a write (call 2), then read by the three later calls
    assert (top["cache_write_tokens"], top["cache_read_tokens"]) == (5000, 15_000)
    rates = Pricer().rates("claude-sonnet-4-5", "anthropic", None, HOUR)
    assert rates is not None
    assert top["carried_cost_usd"] == pytest.approx(
        5000 * rates.cache_write_5m + 15_000 * rates.cache_read, rel=1e-9
    )


def test_unknown_price_is_unknown_not_zero(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in ONE_BIG.read_text().splitlines()]
    for r in rows:
        if r["kind"] == "llm":
            r["model"] = "house-model-7"
    p = tmp_path / "unpriced.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    a = anatomy(agentcost.load([str(p)]))
    assert a["tool_results"][0]["carried_tokens"] == 20_000
    assert a["tool_results"][0]["carried_cost_usd"] is None
    assert a["covered_input_cost_usd"] is None and a["cost_is_lower_bound"]
    assert all(r["cost_usd"] is None for r in a["by_role"])
    assert any("no known price" in s for s in a["assumptions"])


def test_unused_tool_definitions_and_definition_share(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in ONE_BIG.read_text().splitlines()]
    first = True
    for r in rows:
        if r["kind"] == "llm":
            r["segments"].insert(
                1,
                {"role": "tools", "tokens": 3000, "hash": "tools-deploy", "name": "deploy_service"},
            )
            r["input_tokens"] += 3000
            if first:  # offered on one call only: not "offered on every call"
                r["segments"].insert(
                    1, {"role": "tools", "tokens": 400, "hash": "t-once", "name": "rollback"}
                )
                r["input_tokens"] += 400
                first = False
    p = tmp_path / "tools.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    a = anatomy(agentcost.load([str(p)]), AnatomyOptions(tools_share=0.1))
    rules = {f["rule"]: f for f in a["findings"]}
    assert rules["unused-tool-definitions"]["unused_tools"] == ["deploy_service"]
    assert "3,000 tokens per call" in rules["unused-tool-definitions"]["message"]
    # what the unused definition cost: 3,000 uncached tokens in each of the five calls
    assert rules["unused-tool-definitions"]["at_stake_usd"] == pytest.approx(
        5 * 3000 * sonnet_input_rate(), rel=1e-9
    )
    assert "rollback" not in rules["unused-tool-definitions"]["unused_tools"]
    assert "tool-definitions-share" in rules


def test_resent_often_finding() -> None:
    a = anatomy(agentcost.load([str(ONE_BIG)]), AnatomyOptions(max_sends=3))
    f = next(f for f in a["findings"] if f["rule"] == "resent-tool-results")
    assert f["message"].startswith("1 tool results were sent by more than 3 calls")


def test_task_filter() -> None:
    a = anatomy(agentcost.load([str(ONE_BIG), "sample_traces/"]), AnatomyOptions(task="t-read"))
    assert a["task"] == "t-read" and [t["task_id"] for t in a["tasks"]] == ["t-read"]


# ------------------------------------------------------------------- request-body traces


def test_request_bodies_name_tools_and_calls() -> None:
    body = {
        "tools": [{"name": "get_weather", "input_schema": {}}],
        "system": "be brief",
        "messages": [
            {"role": "user", "content": "weather in Paris?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"},
                    {"type": "text", "text": "and tomorrow?", "cache_control": {"type": "x"}},
                ],
            },
        ],
    }
    segs = from_request(body)
    assert [(s["role"], s.get("name"), s.get("call_id")) for s in segs] == [
        ("tools", "get_weather", None),
        ("system", None, None),
        ("user", None, None),
        ("assistant", None, None),
        ("tool", "get_weather", "toolu_1"),
        ("user", None, None),
    ]
    assert segs[-1].get("breakpoint") and not segs[-2].get("breakpoint")
    chat = {
        "messages": [
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "ok"},
        ]
    }
    assert from_request(chat)[-1] | {"tokens": 0, "hash": ""} == {
        "role": "tool",
        "name": "lookup",
        "call_id": "c1",
        "tokens": 0,
        "hash": "",
    }
    responses = {
        "input": [
            {"type": "function_call", "call_id": "fc1", "name": "search", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "fc1", "output": "hits"},
        ]
    }
    last = from_request(responses)[-1]
    assert (last["role"], last["name"], last["call_id"]) == ("tool", "search", "fc1")


@pytest.mark.parametrize("variant", ["anthropic.wire.jsonl", "openai_chat.wire.jsonl"])
def test_anatomy_on_authentic_wire_captures(variant: str) -> None:
    table = agentcost.load([str(AUTHENTIC / "stand-in-wire-capture" / variant)])
    a = anatomy(table)
    llm = table.frame[table.frame["kind"] == "llm"]
    assert a["calls_with_segments"] == a["llm_calls"] == len(llm) == 4
    assert sum(r["tokens"] for r in a["by_role"]) == int(llm["input_tokens"].sum())
    roles = {r["role"]: r["tokens"] for r in a["by_role"]}
    assert roles["tools"] > 0 and roles["system"] > 0 and roles["tool"] > 0
    assert a["tools"] and all(t["name"] != "(unnamed)" for t in a["tools"])


# ----------------------------------------------------------------------------- Claude Code


def test_claude_code_anatomy_is_calibrated_and_states_its_error() -> None:
    path = REAL / "claude-code-spotter"
    table = agentcost.load([str(path)], conversations=True)
    llm = table.frame[table.frame["kind"] == "llm"]
    with_segs = llm[llm["segments"].notna()]
    assert len(with_segs) == len(llm) == 174  # subagent progress mirrors included
    for _, r in with_segs.iterrows():  # calibrated: every call's segments add up exactly
        assert sum(s["tokens"] for s in r["segments"]) == r["input_tokens"]
    a = anatomy(table)
    note = next(s for s in a["assumptions"] if s.startswith("claude-code: prompt segments"))
    assert "fit error before scaling: mean" in note and "p95" in note
    mean = float(note.split("mean ")[1].split("%")[0])
    assert 0 < mean < 15  # the stated error is a real, measured figure
    names = {t["name"] for t in a["tools"]}
    assert {"Read", "Bash"} <= names
    system = next(r for r in a["by_role"] if r["role"] == "system")
    assert system["tokens"] > 0  # the unlogged system prompt + tool definitions


def test_claude_code_default_read_keeps_the_fast_path() -> None:
    """Without conversations=True the reader decodes no content: no segments at all, and the
    rest of the table is the same either way."""
    path = REAL / "claude-code-spotter" / "4d5611e5-241a-462a-8d15-5122611a9569.jsonl"
    fast = agentcost.load([str(path)])
    assert fast.frame["segments"].isna().all()
    full = agentcost.load([str(path)], conversations=True)
    assert full.frame["segments"].notna().sum() > 100
    cols = [c for c in fast.frame.columns if c != "segments"]
    assert fast.frame[cols].astype(str).equals(full.frame[cols].astype(str))


def test_fit_recovers_prefix_and_rate() -> None:
    pts = [(b, int(20_000 + 0.3 * b)) for b in (1000, 5000, 20_000, 80_000)]
    f, r = fit(pts)
    assert f == pytest.approx(20_000, abs=2) and r == pytest.approx(0.3, abs=1e-4)
    f1, r1 = fit([(4000, 12_000)])  # one call: the default rate, the rest is the prefix
    assert (f1, r1) == (11_000, 0.25)


# -------------------------------------------------------------------------------- the CLI


def test_cli_table_json_markdown(run: Any) -> None:
    res = run("analyze", str(ONE_BIG), "--anatomy")
    assert res.exit_code == 0, res.output
    text = res.stdout[res.stdout.index("Context anatomy") :]
    assert_golden("analyze_anatomy.txt", text)
    js = run("analyze", str(ONE_BIG), "--anatomy", "--format", "json")
    doc = json.loads(js.stdout)
    assert doc["anatomy"]["tool_results"][0]["carried_tokens"] == 20_000
    assert schemas.errors("analyze", doc) == []
    md = run("analyze", str(ONE_BIG), "--anatomy", "--format", "markdown").stdout
    assert "### Context anatomy" in md and "| read_file | 1 | 4 | 20,000 |" in md


def test_cli_claude_code_json_validates(run: Any) -> None:
    res = run(
        "analyze",
        str(REAL / "claude-code-spotter" / "tool_heavy.jsonl"),
        "--anatomy",
        "--format",
        "json",
    )
    doc = json.loads(res.stdout)
    assert schemas.errors("analyze", doc) == []
    assert doc["anatomy"]["calls_with_segments"] == 4


def test_control_characters_from_a_trace_never_reach_the_terminal(run: Any, tmp_path: Path) -> None:
    rows = [json.loads(line) for line in ONE_BIG.read_text().splitlines()]
    for r in rows:
        for s in r.get("segments") or []:
            if s.get("name") == "read_file":
                s["name"] = "read\x1b[2Jfile"
    p = tmp_path / "ctl.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for fmt in ("table", "markdown"):
        out = run("analyze", str(p), "--anatomy", "--format", fmt).stdout
        assert "\x1b" not in out and "read\\x1b[2Jfile" in out


def test_damaged_inputs_never_crash_the_anatomy_or_the_levers(run: Any, tmp_path: Path) -> None:
    """24 mutants (tests/test_fuzz.py's mutations, fixed seeds) of a Claude Code log, a wire
    capture and the hand-built trace: exit 0 or 2, no control character printed."""
    import random

    from tests.test_fuzz import mutate

    seeds = [
        REAL / "claude-code-spotter" / "tool_heavy.jsonl",
        AUTHENTIC / "stand-in-wire-capture" / "anthropic.wire.jsonl",
        ONE_BIG,
    ]
    for i in range(24):
        rng = random.Random(1700 + i)
        src = seeds[i % len(seeds)]
        data, what, gz = mutate(rng, src.read_bytes())
        p = tmp_path / (f"m{i}.jsonl" + (".gz" if gz else ""))
        p.write_bytes(data)
        for args in (
            ["analyze", str(p), "--anatomy"],
            [
                "simulate",
                str(p),
                "--cap-tool-results",
                "100",
                "--prune-tool-results-after",
                "1",
                "--compact-at",
                "3000",
                "--response-cache",
            ],
        ):
            res = run(*args)
            out = res.stdout + res.stderr
            assert res.exit_code in (0, 2), (i, what, args[0], out[-300:])
            assert "\x1b" not in out, (i, what)


def test_anatomy_needs_a_format_that_can_hold_it(run: Any) -> None:
    res = run("analyze", str(ONE_BIG), "--anatomy", "--format", "csv")
    assert res.exit_code == 2 and "--anatomy: choose --format table, json or markdown" in res.stderr


def test_codex_rollout_anatomy_is_calibrated_and_names_tools() -> None:
    table = agentcost.load([str(REAL / "codex-codemie")], conversations=True)
    llm = table.frame[table.frame["kind"] == "llm"]
    assert llm["segments"].notna().all()
    for _, r in llm.iterrows():
        assert sum(s["tokens"] for s in r["segments"]) == r["input_tokens"]
    a = anatomy(table)
    note = next(s for s in a["assumptions"] if s.startswith("codex: prompt segments"))
    assert "not logged: tool definitions" in note
    assert 0 < float(note.split("mean ")[1].split("%")[0]) < 15
    tools = {t["name"]: t for t in a["tools"]}
    assert {"write_stdin", "exec_command"} <= set(tools)
    # write_stdin's outputs are ~97 % of the tool-output bytes in this rollout
    assert tools["write_stdin"]["carried_tokens"] > 20 * tools["exec_command"]["carried_tokens"]
    plain = agentcost.load([str(REAL / "codex-codemie")])
    assert plain.frame["segments"].isna().all()


def test_finding_thresholds_come_from_the_config(run: Any, tmp_path: Path) -> None:
    cfg = tmp_path / "agentcost.yaml"
    cfg.write_text("analyze:\n  anatomy_tool_share: 0.9\n  anatomy_max_sends: 3\n")
    doc = json.loads(
        run("analyze", str(ONE_BIG), "--anatomy", "--format", "json", "--config", str(cfg)).stdout
    )
    assert [f["rule"] for f in doc["anatomy"]["findings"]] == ["resent-tool-results"]
    cfg.write_text("analyze:\n  anatomy_tool_share: 2\n")
    res = run("analyze", str(ONE_BIG), "--anatomy", "--config", str(cfg))
    assert (
        res.exit_code == 2 and "analyze.anatomy_tool_share: a share between 0 and 1" in res.stderr
    )


def test_per_task_role_shares(run: Any) -> None:
    """Per task, each role's share of that task's input cost (JSON, and a table per task)."""
    res = run("analyze", str(ONE_BIG), "sample_traces", "--anatomy", "--format", "json")
    a = json.loads(res.stdout)["anatomy"]
    t = next(d for d in a["tasks"] if d["task_id"] == "t-read")
    shares = {r["role"]: r["cost_share"] for r in t["by_role"]}
    assert shares["tool"] == pytest.approx(20_240 / 33_340, abs=1e-4)
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-3)
    table = run("analyze", str(ONE_BIG), "sample_traces", "--anatomy").stdout
    assert "Share of input cost by role, per task" in table
