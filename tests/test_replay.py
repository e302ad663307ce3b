"""``agentcost replay`` and ``simulate --escalation-from``: recordings made with the real SDKs
against the stand-in server, replayed through the real SDKs against the same server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from genai_prices import Usage, calc_price

import agentcost.record as record
from agentcost.replay.agreement import wilson
from tests import agent_loops
from tests.standin_server import Standin, Turn, standin_fixture

AGENTCOST = str(Path(sys.executable).with_name("agentcost"))
# the cheap model decides differently on the second turn: another document
HAIKU_DIFFERS = {"haiku": {1: Turn("fetch_doc", {"doc_id": "policy-9"}, "")}}


@pytest.fixture
def standin() -> Any:
    yield from standin_fixture()


@pytest.fixture
def recording(standin: Standin, tmp_path: Path) -> Path:
    """Four tasks of the Messages agent loop on claude-sonnet-4-5 (16 calls, 12 routing)."""
    out = tmp_path / "run.jsonl"
    with record.to(out):
        for t in range(4):
            with record.task(f"ticket-{t}"):
                agent_loops.run(standin.port, "messages", "stream" if t % 2 else "sync")
    standin.calls.clear()
    return out


def replay(
    run: Any,
    standin: Standin,
    *args: str,
    key: bool = True,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> Any:
    if monkeypatch is not None:
        if key:
            monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-replay")
        else:
            monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    return run("replay", *args, "--base-url", standin.anthropic_url)


def test_wilson_interval_matches_published_values() -> None:
    # 95% Wilson score intervals as tabulated (Newcombe 1998, Table I: 0/10, 5/10 ... )
    assert [round(x, 4) for x in wilson(0, 10)] == [0.0, 0.2775]
    assert [round(x, 4) for x in wilson(5, 10)] == [0.2366, 0.7634]
    assert [round(x, 4) for x in wilson(81, 263)] == [0.2553, 0.3662]


def test_replay_measures_agreement_usage_and_cost(
    standin: Standin, recording: Path, tmp_path: Path, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin.variants = HAIKU_DIFFERS
    out = tmp_path / "replay.json"
    res = replay(
        run,
        standin,
        str(recording),
        "--model",
        "claude-haiku-4-5",
        "--sample",
        "8",
        "--seed",
        "3",
        "--yes",
        "-o",
        str(out),
        monkeypatch=monkeypatch,
    )
    assert res.exit_code == 0, res.output
    rep = json.loads(out.read_text())
    lines = [json.loads(x) for x in recording.read_text().splitlines()]
    assert rep["sample"] == {
        "replayable": 16,
        "eligible": 12,
        "chosen": 8,
        "sent": 8,
        "not_sent": 0,
        "errors": 0,
        "skipped_lines": {},
    }
    calls = rep["calls"]
    assert all(lines[c["line"] - 1]["tool_calls"] for c in calls)  # routing steps only
    served = standin.model_calls()
    assert len(served) == 8 and all(s["model"] == "claude-haiku-4-5" for s in served)
    # measured usage is what the server returned, call for call
    assert [c["usage"] for c in calls] == [s["usage"] for s in served]
    # agreement: the cheap model differs exactly on the second turn of a task
    turn = {
        c["line"]: sum(
            1 for m in lines[c["line"] - 1]["request"]["messages"] if m["role"] == "assistant"
        )
        for c in calls
    }
    assert [c["agree"] for c in calls] == [turn[c["line"]] != 1 for c in calls]
    k, n = sum(c["agree"] for c in calls), len(calls)
    lo, hi = wilson(k, n)
    assert rep["agreement"]["by_role"]["routing"] == {
        "n": n,
        "agree": k,
        "rate": round(k / n, 4),
        "ci95": [round(lo, 4), round(hi, 4)],
    }
    assert rep["escalation"]["rate"] == pytest.approx(1 - k / n) and k < n
    assert rep["escalation"]["ci95"] == [round(1 - hi, 4), round(1 - lo, 4)]
    # cost at the candidate's price today, checked against genai-prices directly
    now = datetime.now(UTC)
    want = 0.0
    for s in served:
        u = s["usage"]
        cw = u["cache_creation"]
        want += float(
            calc_price(
                Usage(
                    input_tokens=u["input_tokens"]
                    + u["cache_read_input_tokens"]
                    + u["cache_creation_input_tokens"],
                    cache_read_tokens=u["cache_read_input_tokens"],
                    cache_write_tokens=u["cache_creation_input_tokens"],
                    cache_write_5m_tokens=cw["ephemeral_5m_input_tokens"],
                    cache_write_1h_tokens=cw["ephemeral_1h_input_tokens"],
                    output_tokens=u["output_tokens"],
                ),
                "claude-haiku-4-5",
                genai_request_timestamp=now,
            ).total_price
        )
    assert rep["cost"]["actual_usd"] == pytest.approx(want, rel=1e-9)
    assert rep["cost"]["estimate_usd"] > 0 and rep["cost"]["recorded_usd"] > 0
    assert "routing" in res.stdout and "escalation" in res.stdout
    from agentcost import schemas

    assert schemas.errors("replay", rep) == []


def test_sampling_is_seeded(
    standin: Standin, recording: Path, tmp_path: Path, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    picks = []
    for seed in ("1", "1", "2"):
        out = tmp_path / f"r{len(picks)}.json"
        res = replay(
            run,
            standin,
            str(recording),
            "--model",
            "claude-haiku-4-5",
            "--sample",
            "5",
            "--seed",
            seed,
            "--yes",
            "-o",
            str(out),
            monkeypatch=monkeypatch,
        )
        assert res.exit_code == 0, res.output
        picks.append([c["line"] for c in json.loads(out.read_text())["calls"]])
    assert picks[0] == picks[1] != picks[2] and len(set(picks[0])) == 5
    assert picks[0] == sorted(picks[0])


def test_nothing_is_sent_without_yes_key_or_within_the_ceiling(
    standin: Standin, recording: Path, tmp_path: Path, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = [str(recording), "--model", "claude-haiku-4-5", "--sample", "4"]
    res = replay(run, standin, *args, monkeypatch=monkeypatch)  # stdin is not a terminal
    assert res.exit_code == 2 and "not confirmed: nothing was sent" in res.stderr
    assert "estimated $" in res.stderr
    res = replay(run, standin, *args, "--yes", key=False, monkeypatch=monkeypatch)
    assert res.exit_code == 2 and "set ANTHROPIC_API_KEY" in res.stderr
    res = replay(run, standin, *args, "--yes", "--max-cost", "0.001", monkeypatch=monkeypatch)
    assert res.exit_code == 2 and "over --max-cost $0.00" in res.stderr
    res = replay(
        run,
        standin,
        *args,
        "--yes",
        "--max-cost",
        "1",
        "--model",
        "acme-llm-7",
        monkeypatch=monkeypatch,
    )
    assert res.exit_code == 2 and "cannot be estimated" in res.stderr
    assert standin.calls == []  # not one request reached the server


def test_the_ceiling_stops_a_replay_that_costs_more_than_estimated(
    standin: Standin, recording: Path, tmp_path: Path, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentcost.replay import ReplayOptions, plan_replay

    est = plan_replay(recording, ReplayOptions("claude-haiku-4-5", sample=4)).estimate_usd
    assert est is not None
    # the candidate rambles: ~3,000 output tokens on the first turn instead of ~20
    standin.variants = {
        "haiku": {0: Turn("search_docs", {"query": "refund policy", "limit": 3}, "word " * 3000)}
    }
    out = tmp_path / "replay.json"
    res = replay(
        run,
        standin,
        str(recording),
        "--model",
        "claude-haiku-4-5",
        "--sample",
        "4",
        "--yes",
        "--max-cost",
        f"{est * 1.05:.6f}",
        "-o",
        str(out),
        monkeypatch=monkeypatch,
    )
    assert res.exit_code == 0, res.output
    rep = json.loads(out.read_text())
    assert rep["sample"]["sent"] < 4 and rep["sample"]["not_sent"] == 4 - rep["sample"]["sent"]
    assert any("would pass --max-cost" in n for n in rep["notes"])
    assert len(standin.model_calls()) == rep["sample"]["sent"]


def test_an_unpriced_candidate_costs_unknown_not_zero(
    standin: Standin, recording: Path, tmp_path: Path, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "replay.json"
    res = replay(
        run,
        standin,
        str(recording),
        "--model",
        "acme-llm-7",
        "--sample",
        "3",
        "--yes",
        "-o",
        str(out),
        monkeypatch=monkeypatch,
    )
    assert res.exit_code == 0, res.output
    rep = json.loads(out.read_text())
    assert rep["sample"]["sent"] == 3
    assert rep["cost"]["estimate_usd"] is None and rep["cost"]["actual_usd"] is None
    assert rep["cost"]["recorded_usd"] > 0  # the recorded model has a price
    assert any("no price for acme-llm-7" in n for n in rep["notes"])
    assert "cost unknown (no price)" in res.stderr


def test_confirmation_on_a_terminal(standin: Standin, recording: Path, tmp_path: Path) -> None:
    import pty

    env = {**os.environ, "ANTHROPIC_API_KEY": "sk-ant-replay"}
    for answer, sent in ((b"n\n", 0), (b"y\n", 2)):
        master, slave = pty.openpty()
        proc = subprocess.Popen(
            [
                AGENTCOST,
                "replay",
                str(recording),
                "--model",
                "claude-haiku-4-5",
                "--sample",
                "2",
                "--base-url",
                standin.anthropic_url,
                "--format",
                "json",
            ],
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        os.close(slave)
        os.write(master, answer)
        _, err = proc.communicate(timeout=60)
        os.close(master)
        assert b"Send these requests?" in err
        assert proc.returncode == (2 if sent == 0 else 0), err
        assert len(standin.model_calls()) == sent
        standin.calls.clear()


def test_bad_recordings_are_one_line_errors(
    standin: Standin, tmp_path: Path, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    private = tmp_path / "private.jsonl"
    with record.to(private, content=False):
        agent_loops.run(standin.port, "messages", "sync")
    res = replay(
        run, standin, str(private), "--model", "claude-haiku-4-5", "--yes", monkeypatch=monkeypatch
    )
    assert res.exit_code == 2
    assert "no replayable calls (4 no request body (recorded with --no-content))" in res.stderr
    full = tmp_path / "full.jsonl"
    with record.to(full):
        agent_loops.run(standin.port, "messages", "sync")
    res = replay(run, standin, str(full), "--model", "gpt-5-mini", "--yes", monkeypatch=monkeypatch)
    assert res.exit_code == 2 and "the candidate must speak it" in res.stderr
    res = replay(
        run,
        standin,
        str(tmp_path / "missing.jsonl"),
        "--model",
        "x",
        "--yes",
        monkeypatch=monkeypatch,
    )
    assert res.exit_code == 2 and "missing.jsonl: cannot read" in res.stderr


def test_judge_decides_text_answers(
    standin: Standin, recording: Path, tmp_path: Path, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin.judge_agrees = False
    out = tmp_path / "replay.json"
    res = replay(
        run,
        standin,
        str(recording),
        "--model",
        "claude-haiku-4-5",
        "--steps",
        "all",
        "--sample",
        "16",
        "--judge",
        "claude-haiku-4-5",
        "--yes",
        "-o",
        str(out),
        monkeypatch=monkeypatch,
    )
    assert res.exit_code == 0, res.output
    rep = json.loads(out.read_text())
    final = rep["agreement"]["by_role"]["final"]
    # the texts are identical (similarity 1.0) but the judge says no: the judge decides
    assert final["n"] == 4 and final["agree"] == 0 and final["mean_similarity"] == 1.0
    assert rep["agreement"]["by_role"]["routing"]["agree"] == 12
    judge_calls = [
        c
        for c in standin.model_calls()
        if str(c["request"].get("system", "")).startswith("You are agentcost's")
    ]
    assert len(judge_calls) == 4 and rep["cost"]["judge_usd"] > 0
    assert any("rubric" in c for c in rep["agreement"]["criteria"])


def test_streamed_openai_calls_replay_with_ttft(
    standin: Standin, tmp_path: Path, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = tmp_path / "chat.jsonl"
    with record.to(rec):
        agent_loops.run(standin.port, "chat", "stream")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-replay")
    res = run(
        "replay",
        str(rec),
        "--model",
        "gpt-5-mini",
        "--steps",
        "all",
        "--yes",
        "--base-url",
        standin.openai_url,
        "--format",
        "json",
    )
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    assert rep["sample"]["sent"] == 4 and rep["agreement"]["overall"]["rate"] == 1.0
    assert all(c["ttft_ms"] is not None and c["usage"]["prompt_tokens"] for c in rep["calls"])
    from agentcost import schemas

    assert schemas.errors("replay", rep) == []


def test_simulate_escalation_from_uses_the_measured_rate(
    standin: Standin, recording: Path, tmp_path: Path, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin.variants = HAIKU_DIFFERS
    out = tmp_path / "replay.json"
    res = replay(
        run,
        standin,
        str(recording),
        "--model",
        "claude-haiku-4-5",
        "--sample",
        "12",
        "--yes",
        "-o",
        str(out),
        monkeypatch=monkeypatch,
    )
    assert res.exit_code == 0, res.output
    esc = json.loads(out.read_text())["escalation"]
    assert (esc["disagree"], esc["steps"]) == (4, 12)  # 4 of 12 routing steps: second turns
    cascade = [
        "simulate",
        str(recording),
        "--cascade",
        "claude-haiku-4-5,claude-sonnet-4-5",
        "--format",
        "json",
    ]
    measured = json.loads(run(*cascade, "--escalation-from", str(out), "--range").stdout)
    assumed = json.loads(run(*cascade).stdout)
    sc = measured["scenarios"][0]
    det = sc["details"]["cascade"]
    assert det["escalation_rate"] == pytest.approx(1 / 3) and det["escalated_steps"] == 4
    assert det["escalation_source"].startswith(f"measured by {out}")
    assert any("measured by" in a for a in sc["assumptions"])
    assert sc["cost_usd"] > assumed["scenarios"][0]["cost_usd"]  # escalations are paid
    text = run(*cascade[:-2], "--escalation-from", str(out)).stdout
    assert "esc 0.333333 measured" in text
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "something-else"}')
    res = run(*cascade, "--escalation-from", str(bad))
    assert res.exit_code == 2 and "not an agentcost replay report" in res.stderr
    res = run("simulate", str(recording), "--escalation-from", str(out))
    assert res.exit_code == 2 and "only meaningful with --cascade" in res.stderr


def test_batch_replay_through_message_batches(
    standin: Standin, recording: Path, tmp_path: Path, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentcost.replay import ReplayOptions, plan_replay, run_replay

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-replay")
    standin.variants = HAIKU_DIFFERS
    standin.batch_polls_before_end = 2
    opts = ReplayOptions(
        "claude-haiku-4-5",
        sample=6,
        seed=2,
        base_url=standin.anthropic_url,
        batch=True,
        batch_poll_s=0.01,
    )
    batch_plan = plan_replay(recording, opts)
    plain_plan = plan_replay(recording, ReplayOptions("claude-haiku-4-5", sample=6, seed=2))
    assert batch_plan.estimate_usd == pytest.approx(plain_plan.estimate_usd / 2)  # batch: half
    rep = run_replay(batch_plan).to_dict()
    assert len(standin.batches) == 1 and len(standin.model_calls()) == 6
    batch = next(iter(standin.batches.values()))
    assert batch["polls"] == 4  # 2 in progress, 1 ended, and the one results() makes
    calls = rep["calls"]
    assert [c["usage"] for c in calls] == [s["usage"] for s in standin.model_calls()]
    assert all(c["usage"]["service_tier"] == "batch" and c["duration_ms"] is None for c in calls)
    assert not any(s["request"].get("stream") for s in standin.model_calls())
    assert rep["escalation"]["disagree"] == sum(not c["agree"] for c in calls) > 0
    assert any(n.startswith("--batch: 6 requests sent as one batch") for n in rep["notes"])


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_batch_replay_through_openai_batches(
    standin: Standin, tmp_path: Path, run: Any, monkeypatch: pytest.MonkeyPatch, api: str
) -> None:
    rec = tmp_path / "run.jsonl"
    with record.to(rec):
        for t in range(2):
            with record.task(f"t{t}"):
                agent_loops.run(standin.port, api, "stream")
    standin.calls.clear()
    standin.batch_polls_before_end = 0  # ended at the first poll (the CLI polls after 1 s)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-replay")
    out = tmp_path / "replay.json"
    res = run(
        "replay",
        str(rec),
        "--model",
        "gpt-5-mini",
        "--steps",
        "all",
        "--batch",
        "--yes",
        "--base-url",
        standin.openai_url,
        "-o",
        str(out),
    )
    assert res.exit_code == 0, res.output
    rep = json.loads(out.read_text())
    served = standin.model_calls()
    assert len(served) == 8 and len(standin.files) == 2  # the input file and the output file
    assert not any(s["request"].get("stream") or s["request"].get("stream_options") for s in served)
    assert [c["usage"] for c in rep["calls"]] == [s["usage"] for s in served]
    assert rep["agreement"]["overall"]["rate"] == 1.0 and rep["sample"]["errors"] == 0
    plain = tmp_path / "plain.json"
    res = run(
        "replay",
        str(rec),
        "--model",
        "gpt-5-mini",
        "--steps",
        "all",
        "--yes",
        "--base-url",
        standin.openai_url,
        "-o",
        str(plain),
    )
    assert rep["cost"]["actual_usd"] == pytest.approx(
        json.loads(plain.read_text())["cost"]["actual_usd"] / 2
    )  # batch rates: half
