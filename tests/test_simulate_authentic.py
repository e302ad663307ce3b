"""The cache replay against a server's own figures: the stand-in wire captures of
``authentic-traces/stand-in-wire-capture`` (real SDK requests; the stand-in server computes cache
reads from the requests' ``cache_control`` breakpoints exactly as documented in the README there).

Read with the ``raw`` reader, which derives ``segments`` with ``breakpoint`` flags from the
request bodies. The requests use a breakpoint on the system prompt and automatic caching on the
last block; ``--cache auto`` (one breakpoint on the last block) must reproduce the cache reads the
server reported within 2 %. The segments' token counts are the reader's estimate of how each
request's reported total splits between blocks, which is where the small difference comes from.
"""

from __future__ import annotations

import json

import pytest

import agentcost
from agentcost.simulation import Scenario, Settings, simulate

WIRE = "stand-in-wire-capture"


def _truth(path, key):  # type: ignore[no-untyped-def]
    total = 0
    for line in path.read_text().splitlines():
        u = json.loads(line)["usage"]
        if key == "anthropic":
            total += u["cache_read_input_tokens"]
        else:
            det = u.get("prompt_tokens_details") or u.get("input_tokens_details") or {}
            total += det.get("cached_tokens", 0)
    return total


def _anthropic_runs(authentic):  # type: ignore[no-untyped-def]
    files = sorted(p for p in (authentic / WIRE).glob("anthropic*.jsonl")
                   if not p.name.endswith(".ground_truth.jsonl"))
    assert files, "no Anthropic wire captures found"
    return files


def test_cache_auto_reproduces_the_server_reads(authentic):
    for wire in _anthropic_runs(authentic):
        gt = wire.with_name(wire.name.replace(".wire.jsonl", ".ground_truth.jsonl"))
        truth = _truth(gt, "anthropic")
        assert truth == 9_041
        table = agentcost.load([str(wire)])
        assert int(table.frame["segments"].map(
            lambda s: any(x.get("breakpoint") for x in s)).sum()) == 4
        # pure simulation: every call replayed, nothing taken from the trace's own figures
        raw = simulate(table, Scenario(name="auto", cache="auto"),
                       Settings(calibrate=False)).to_dict()["scenarios"][0]
        reads = raw["cache_read_tokens"]
        assert abs(reads - truth) / truth <= 0.02, (wire.name, reads, truth)
        writes = sum(json.loads(x)["usage"]["cache_creation_input_tokens"]
                     for x in gt.read_text().splitlines())
        assert abs(raw["cache_write_tokens"] - writes) / writes <= 0.02
        # the observed placement (system breakpoint + last block) gives the same replay
        obs = simulate(table, Scenario(name="observed", cache="observed", ttl="5m"),
                       Settings(calibrate=False)).to_dict()["scenarios"][0]
        assert obs["cache_read_tokens"] == reads
        # calibrated (the default): calls whose simulated caching auto does not change keep the
        # server's figures, so the report shows exactly what the server billed
        cal = simulate(table, Scenario(name="auto", cache="auto")).to_dict()
        assert cal["scenarios"][0]["cache_read_tokens"] == truth
        assert cal["scenarios"][0]["cost_usd"] == cal["baseline"]["cost_usd"]


def test_both_runs_in_separate_workspaces(authentic):
    files = _anthropic_runs(authentic)
    table = agentcost.load([str(f) for f in files])
    raw = simulate(table, Scenario(name="auto", cache="auto"),
                   Settings(calibrate=False, workspace="source")).to_dict()["scenarios"][0]
    truth = 9_041 * len(files)
    assert abs(raw["cache_read_tokens"] - truth) / truth <= 0.02


@pytest.mark.parametrize("variant", ["openai_chat", "openai_chat_stream", "openai_responses",
                                     "openai_responses_stream"])
def test_openai_implicit_caching_matches_the_server(authentic, variant):
    wire = authentic / WIRE / f"{variant}.wire.jsonl"
    truth = _truth(wire.with_name(f"{variant}.ground_truth.jsonl"), "openai")
    assert truth == 8_960
    table = agentcost.load([str(wire)])
    raw = simulate(table, Scenario(name="auto", cache="auto"),
                   Settings(calibrate=False)).to_dict()["scenarios"][0]
    # gpt-4.1-mini: implicit caching from 1,024 tokens, reads in 128-token steps
    assert raw["cache_read_tokens"] == truth
