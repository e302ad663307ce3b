"""Tokens estimated from content where the source dropped the usage (issue 11.5):
``agentcost.ingest.estimate`` and the OpenAI Agents SDK reader, on the authentic Agents SDK
runs with streamed Chat Completions (usage all zeros) and their non-streamed twins (real usage:
the ground truth of both is the same four calls)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentcost.ingest.estimate import (
    REPLY_PRIMING,
    TEXT_END,
    TOKENS_PER_MESSAGE,
    TOOL_CALL_IN_PROMPT,
    estimate_chat,
)
from tests.conftest import AUTHENTIC, load_frame

RUNS = [AUTHENTIC / "openai-agents-sdk", AUTHENTIC / "openinference-openai-agents"]


def _truth(folder: Path) -> tuple[list[int], list[int]]:
    gt = [json.loads(x)["usage"] for x in
          (folder / "chatcmpl_stream.ground_truth.jsonl").read_text().splitlines()]
    return [u["prompt_tokens"] for u in gt], [u["completion_tokens"] for u in gt]


def _stream_rows(*paths: Path):  # type: ignore[no-untyped-def]
    from agentcost.pricing import price_frame

    df, rep = load_frame(*paths)
    price_frame(df)
    st = df[(df["kind"] == "llm") & (df["source"] == str(paths[0]))]
    return st.sort_values("started_at").reset_index(drop=True), rep


def _err(est: int, true: int) -> float:
    return (est - true) / true


@pytest.mark.parametrize("folder", RUNS, ids=[p.name for p in RUNS])
def test_streamed_run_alone_is_estimated_never_zero(folder: Path, authentic: Path) -> None:
    st, rep = _stream_rows(folder / "chatcmpl_stream.agents.jsonl")
    t_in, t_out = _truth(folder)
    assert (st["cost_source"] == "estimated").all()
    assert st["cost_usd"].notna().all() and (st["cost_usd"] > 0).all()
    # counted as OpenAI counts (cookbook framing, tool-call and end-of-text tokens measured on
    # real gpt-4o usage, the agent's tool names), from what the trace carries. Below the
    # stand-in's figures for two reasons (docs/tokens.md, "Estimated is not reported"): the
    # Agents SDK spans hold no tool definitions, and the stand-in counts with a regex
    # pseudo-tokenizer, not tiktoken (test_standin_counts_in_other_units).
    # Measured: input -33.4 %, output -11.7 % (was -35.3 % / -20.3 % before issue 11.5's fix).
    e_in, e_out = int(st["input_tokens"].sum()), int(st["output_tokens"].sum())
    assert -0.36 < _err(e_in, sum(t_in)) < -0.30
    assert -0.14 < _err(e_out, sum(t_out)) < -0.09
    # the tool-call replies, whose text is short, are within 3 tokens of the stand-in's count
    for est, true in zip(st["output_tokens"][:3], t_out[:3], strict=True):
        assert 0 <= true - int(est) <= 3
    assert any("the input of 4 is a lower bound" in n for n in rep.notes)
    # the context grows as the truth does: each call is larger than the one before
    assert list(st["input_tokens"]) == sorted(st["input_tokens"])
    assert st["cache_read_tokens"].isna().all()  # unknown, not 0: priced as uncached
    assert any("estimated from the recorded messages" in n for n in rep.notes)


@pytest.mark.parametrize("folder", RUNS, ids=[p.name for p in RUNS])
def test_streamed_run_calibrated_by_its_non_streamed_twin(folder: Path, authentic: Path) -> None:
    """With calls of the same agent whose usage is known in the input, the estimates are
    calibrated: within 5 % of the true usage, in total and per call."""
    twin = (folder / "chatcmpl.agents.jsonl") if (folder / "chatcmpl.agents.jsonl").exists() \
        else AUTHENTIC / "openai-agents-sdk" / "chatcmpl.agents.jsonl"
    st, rep = _stream_rows(folder / "chatcmpl_stream.agents.jsonl", twin)
    t_in, t_out = _truth(folder)
    assert (st["cost_source"] == "estimated").all()
    assert abs(_err(int(st["input_tokens"].sum()), sum(t_in))) < 0.05
    assert abs(_err(int(st["output_tokens"].sum()), sum(t_out))) < 0.05
    for est, true in zip(st["input_tokens"], t_in, strict=True):
        assert abs(_err(int(est), true)) < 0.05
    assert any("calibrated against calls of the same agent" in n for n in rep.notes)


def test_estimated_totals_kept_apart_in_json_and_marked_in_text(run, authentic) -> None:  # type: ignore[no-untyped-def]
    path = str(AUTHENTIC / "openai-agents-sdk" / "chatcmpl_stream.agents.jsonl")
    twin = str(AUTHENTIC / "openai-agents-sdk" / "chatcmpl.agents.jsonl")
    res = run("analyze", path, twin, "--format", "json")
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    est = d["totals"]["estimated"]
    assert est["llm_calls"] == 4
    assert 0 < est["cost_usd"] < d["totals"]["cost_usd"]
    by_task = {t["task_id"]: t for t in d["tasks"]}
    assert sum("estimated" in t for t in by_task.values()) == 1  # the twin has real usage
    assert any("estimated from the recorded content" in w for w in d["warnings"])
    text = run("analyze", path, twin)
    assert "≈$" in text.output
    one = run("analyze", path)
    assert "estimated" not in json.loads(run("analyze", twin, "--format", "json").output)[
        "totals"]  # a run with real usage has no estimated block
    assert one.exit_code == 0


def test_placeholder_zero_without_content_stays_unknown(tmp_path: Path) -> None:
    span = {"object": "trace.span", "id": "span_1", "trace_id": "trace_1", "parent_id": None,
            "started_at": "2026-05-01T10:00:00+00:00", "ended_at": "2026-05-01T10:00:01+00:00",
            "span_data": {"type": "generation", "input": None, "output": None,
                          "model": "gpt-4.1-mini",
                          "usage": {"input_tokens": 0, "output_tokens": 0}}}
    p = tmp_path / "t.agents.jsonl"
    p.write_text(json.dumps(span) + "\n")
    df, rep = load_frame(p)
    import pandas as pd

    row = df[df["kind"] == "llm"].iloc[0]
    assert pd.isna(row["input_tokens"]) and pd.isna(row["output_tokens"])  # never 0
    assert pd.isna(row["cost_source"])  # not estimated: nothing to count
    assert any("their tokens are unknown" in n for n in rep.notes)


def test_counting_rules() -> None:
    from agentcost import encodings

    msgs = [{"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Name three primary colours."},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function",
                 "function": {"name": "lookup", "arguments": "{\"q\": \"colours\"}"}}]}]
    out = [{"type": "message", "content": [{"type": "output_text", "text": "Red, yellow, blue."}]}]
    e = estimate_chat(msgs, out, "gpt-4-turbo")  # a cl100k model: exact tiktoken counts
    assert e is not None and e.method == "tiktoken cl100k_base"
    # the cookbook's rule: every field counted on its own, 3 per message, 3 priming the reply;
    # an earlier tool call: name + arguments + TOOL_CALL_IN_PROMPT (measured, docs/tokens.md)
    fields = ["system", "You are terse.", "user", "Name three primary colours.", "assistant",
              "lookup", "{\"q\": \"colours\"}"]
    assert e.input_tokens == sum(encodings.count(f, "cl100k_base") for f in fields) \
        + 3 * TOKENS_PER_MESSAGE + REPLY_PRIMING + TOOL_CALL_IN_PROMPT
    assert e.output_tokens == encodings.count("Red, yellow, blue.", "cl100k_base") + TEXT_END
    assert e.input_lower_bound and not e.tools_counted  # it called a tool: definitions missing
    assert not e.output_lower_bound
    claude = estimate_chat(msgs, out, "claude-sonnet-4-5")
    assert claude is not None and claude.method == "estimate"
    assert claude.input_tokens > e.input_tokens  # Claude's tokenizer: more tokens (§G)
    assert estimate_chat([], out, "gpt-4o") is None
    o3 = estimate_chat(msgs, out, "o3-mini")
    assert o3 is not None and o3.output_lower_bound  # reasoning tokens are not in a trace


def test_cookbook_function_definitions_example() -> None:
    """OpenAI's cookbook ("How to count tokens with tiktoken", section 7) counts its weather
    tool example at 101 prompt tokens for gpt-4o / gpt-4o-mini and 105 for gpt-4 /
    gpt-3.5-turbo, and shows the API answering the same."""
    tools = [{"type": "function", "function": {
        "name": "get_current_weather", "description": "Get the current weather in a given location",
        "parameters": {"type": "object", "properties": {
            "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
            "unit": {"type": "string", "description": "The unit of temperature to return",
                     "enum": ["celsius", "fahrenheit"]}},
            "required": ["location"]}}}]
    msgs = [{"role": "system", "content": "You are a helpful assistant that can answer to "
                                          "questions about the weather."},
            {"role": "user", "content": "What's the weather like in San Francisco?"}]
    for model, api in (("gpt-4o", 101), ("gpt-4o-mini", 101), ("gpt-4", 105),
                       ("gpt-3.5-turbo", 105)):
        e = estimate_chat(msgs, None, model, "openai", tools)
        assert e is not None and e.input_tokens == api, model
        assert e.tools_counted and not e.input_lower_bound
    flat = [t["function"] for t in tools]  # Responses / OTel GenAI shape: same count
    assert estimate_chat(msgs, None, "gpt-4o", "openai", flat).input_tokens == 101  # type: ignore[union-attr]


def test_otel_spans_with_messages_but_no_usage_are_estimated(authentic: Path) -> None:
    """The OpenInference bridge of the same streamed Agents SDK run: LLM spans with the
    messages (input.value / output.value) and no token attributes."""
    path = AUTHENTIC / "openinference-openai-agents" / "chatcmpl_stream.otlp.jsonl"
    df, rep = load_frame(path)
    llm = df[df["kind"] == "llm"].sort_values("started_at").reset_index(drop=True)
    t_in, t_out = _truth(AUTHENTIC / "openinference-openai-agents")
    assert (llm["cost_source"] == "estimated").all()
    # measured: input -34.7 % (no tool names on these spans), output -11.7 %
    assert -0.37 < _err(int(llm["input_tokens"].sum()), sum(t_in)) < -0.31
    assert -0.14 < _err(int(llm["output_tokens"].sum()), sum(t_out)) < -0.09
    note = next(n for n in rep.notes if "stated no usage but recorded their messages" in n)
    # the spans show tool calls but carry no tool definitions: the input is said to be low
    assert "the input of 3 is a lower bound" in note, note


def test_genai_messages_attribute_is_counted(tmp_path: Path) -> None:
    msgs = [{"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
            {"role": "user", "parts": [{"type": "text", "content": "Weather in Oslo?"}]}]
    out = [{"role": "assistant", "parts": [{"type": "tool_call", "name": "get_weather",
                                            "arguments": {"city": "Oslo"}}]}]
    span = {"traceId": "5b8aa5a2d2c872e8321cf37308d69df2", "spanId": "051581bf3cb55c13",
            "name": "chat gpt-4o", "startTimeUnixNano": "1776000000000000000",
            "endTimeUnixNano": "1776000001000000000",
            "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                           {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                           {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "0"}},
                           {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "0"}},
                           {"key": "gen_ai.input.messages",
                            "value": {"stringValue": json.dumps(msgs)}},
                           {"key": "gen_ai.output.messages",
                            "value": {"stringValue": json.dumps(out)}}]}
    p = tmp_path / "t.otlp.jsonl"
    p.write_text(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}) + "\n")
    df, _ = load_frame(p)
    row = df[df["kind"] == "llm"].iloc[0]
    assert row["cost_source"] == "estimated"  # 0/0 with content is a placeholder
    assert 2 * TOKENS_PER_MESSAGE + REPLY_PRIMING < row["input_tokens"] < 40
    assert 3 < row["output_tokens"] < 20


def test_tool_definitions_are_counted_when_the_span_has_them() -> None:
    from agentcost.ingest.estimate import estimate_from_span

    msgs = [{"role": "user", "parts": [{"type": "text", "content": "Weather in Oslo?"}]}]
    tools = [{"type": "function", "name": "get_weather", "description": "Current weather",
              "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    base = {"gen_ai.input.messages": json.dumps(msgs)}
    a = estimate_from_span(base, "gpt-4o", "openai")
    b = estimate_from_span({**base, "gen_ai.tool.definitions": json.dumps(tools)}, "gpt-4o",
                           "openai")
    assert a is not None and b is not None and b.input_tokens > a.input_tokens + 15
    assert a.output_tokens is None  # no output recorded: unknown, not 0


def test_standin_counts_in_other_units(authentic: Path) -> None:
    """Why the authentic runs stay below their ground truth: the stand-in server counts with a
    regex pseudo-tokenizer (authentic-traces/README.md), not OpenAI's. Its raw wire capture
    holds the whole request (messages *and* tool definitions) and its answers: counted as the
    API counts, the same four calls still come out ~27 % lower on input and ~12 % on output,
    although nothing is missing. The final answer (pure text) alone: 339 stand-in tokens,
    290 o200k tokens."""
    from agentcost.ingest.estimate import counter, tool_definition_parts

    folder = AUTHENTIC / "stand-in-wire-capture"
    wire = [json.loads(x) for x in (folder / "openai_chat.wire.jsonl").read_text().splitlines()]
    gt = [json.loads(x)["usage"] for x in
          (folder / "openai_chat.ground_truth.jsonl").read_text().splitlines()]
    e_in = e_out = 0
    for w in wire:
        body = w["request_body"]
        e = estimate_chat(body["messages"], [w["response_body"]["choices"][0]["message"]],
                          body["model"], "openai", body["tools"])
        assert e is not None and e.tools_counted and e.output_tokens is not None
        e_in, e_out = e_in + e.input_tokens, e_out + e.output_tokens
    t_in, t_out = sum(u["prompt_tokens"] for u in gt), sum(u["completion_tokens"] for u in gt)
    assert -0.30 < _err(e_in, t_in) < -0.23  # measured -26.6 %
    assert -0.14 < _err(e_out, t_out) < -0.09  # measured -11.7 %
    # the Agents SDK run sends the same messages (its increments match the wire capture's
    # call for call), so its first call's extra 133 stand-in tokens are its tool definitions
    agents = [json.loads(x)["usage"]["prompt_tokens"] for x in (
        AUTHENTIC / "openai-agents-sdk" / "chatcmpl.ground_truth.jsonl").read_text().splitlines()]
    wire_in = [u["prompt_tokens"] for u in gt]

    def steps(xs: list[int]) -> list[int]:
        return [b - a for a, b in zip(xs, xs[1:], strict=False)]

    assert steps(agents) == steps(wire_in) == [141, 246, 143]
    assert agents[0] - wire_in[0] == 133
    n, _ = counter("gpt-4.1-mini", "openai")
    texts, framing = tool_definition_parts(wire[0]["request_body"]["tools"])
    assert n(texts) + framing == 169  # what OpenAI would count for the wire run's three tools


def test_real_agents_sdk_run_within_5_percent(real: Path) -> None:
    """Out of sample, on real usage: an OpenAI Agents SDK run on gpt-4.1 (Langfuse export of
    its OpenInference spans; instructions, input items, tool definitions and output kept).
    Counted as the API counts, both calls are within 5 % on input and output (measured: input
    81 vs 85 and 54 vs 55, output 28 vs 29 and 14 vs 15); without the tool definitions the
    input would be 41 % and 58 % low."""
    d = json.loads((real / "langfuse-framework-traces" / "openai-agents-2025-09-30.json")
                   .read_text())
    gens = [o for o in d["observations"] if o.get("type") == "GENERATION"]
    assert len(gens) == 2
    for o in gens:
        out, usage = o["output"], o["usageDetails"]
        msgs = [{"role": "system", "content": out["instructions"]}, *o["input"]]
        e = estimate_chat(msgs, [out], o["model"], "openai", out["tools"])
        assert e is not None and e.output_tokens is not None and e.tools_counted
        assert abs(_err(e.input_tokens, usage["input"])) < 0.05
        assert abs(e.output_tokens - usage["output"]) <= 1
        bare = estimate_chat(msgs, [out], o["model"], "openai")
        assert bare is not None and _err(bare.input_tokens, usage["input"]) < -0.40


def test_framing_constants_reproduce_real_gpt4o_usage(real: Path) -> None:
    """The measured constants (docs/tokens.md), re-measured on the real gpt-4o usage they came
    from: tau2-bench telecom, 20 simulations. A generated text costs its tokens + 1 (137 of 139
    replies), a single generated tool call its name + arguments + 7 (60 of 60), an earlier
    text turn and the user's answer their tokens + 4 each (34 of 34 pairs), an earlier tool
    call and its result name + arguments + result + 8 + 9 (49 of 66 pairs; median)."""
    import statistics

    from agentcost.ingest.estimate import chat_prompt_parts, counter, response_output_parts

    n, _ = counter("gpt-4o", "openai")
    d = json.loads(next((real / "tau2-bench").glob("*.json")).read_text())
    text_ok = text_all = call_ok = call_all = 0
    pair_residual: list[int] = []
    for sim in d["simulations"]:
        prev: tuple[int, int] | None = None
        msgs = sim["messages"]
        for i, m in enumerate(msgs):
            raw = (m.get("raw_data") or {}).get("message")
            if m["role"] != "assistant" or not m.get("usage") or not raw:
                continue
            texts, framing = response_output_parts([raw])
            est = n(texts) + framing
            calls = raw.get("tool_calls") or []
            if not calls and raw.get("content"):
                text_all += 1
                text_ok += est == m["usage"]["completion_tokens"]
            elif len(calls) == 1 and not raw.get("content"):
                call_all += 1
                call_ok += est == m["usage"]["completion_tokens"]
            if prev is not None and [x["role"] for x in msgs[prev[0]:i]] == ["assistant", "tool"]:
                added = [(msgs[prev[0]].get("raw_data") or {}).get("message") or {},
                         {"role": "tool", "content": msgs[prev[0] + 1]["content"]}]
                t, f = chat_prompt_parts(added)
                pair_residual.append(m["usage"]["prompt_tokens"] - prev[1]
                                     - (n(t) + f - 3))  # minus the reply priming
            prev = (i, m["usage"]["prompt_tokens"])
    assert (text_ok, text_all) == (137, 139)
    assert (call_ok, call_all) == (60, 60)
    assert len(pair_residual) == 66 and statistics.median(pair_residual) == 0
