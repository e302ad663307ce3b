"""Raw provider request/response logs (``agentcost.ingest.raw_provider``)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from agentcost.errors import InputError
from agentcost.ingest.base import Source
from agentcost.ingest.raw_provider import READER, parse_sse
from tests.conftest import (
    AUTHENTIC,
    FIXTURES,
    assert_invariants,
    canonical,
    ground_truth,
    load_frame,
)

WIRE = AUTHENTIC / "stand-in-wire-capture"
WIRE_FILES = sorted(WIRE.glob("*.wire.jsonl")) if WIRE.is_dir() else []
PAIRS = FIXTURES / "raw" / "pairs.jsonl"
MALFORMED = FIXTURES / "raw" / "malformed.jsonl"


def _val(v):  # type: ignore[no-untyped-def]
    return None if pd.isna(v) else int(v)


@pytest.mark.parametrize("path", WIRE_FILES, ids=[p.name for p in WIRE_FILES])
def test_wire_capture_matches_ground_truth(path: Path, authentic: Path) -> None:
    df, rep = load_frame(path)  # format detected from content
    assert set(df["format"]) == {"raw"}
    assert_invariants(df)
    gt = ground_truth(path)
    llm = df[df["kind"] == "llm"].sort_values("started_at").reset_index(drop=True)
    assert len(llm) == 4 == len(gt)
    assert llm["task_id"].nunique() == 1  # the append-only loop is one task
    assert rep.lines_read == 4 and rep.malformed_count == 0
    for col in ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens"):
        want = [canonical(c)[col] for c in gt]
        got = [_val(v) for v in llm[col]]
        assert got == want, col  # per call, hence also the exact sums
        if all(w is not None for w in want):
            assert int(llm[col].sum()) == sum(want)
    for i, call in enumerate(gt):
        row = llm.iloc[i]
        assert list(row["tool_calls"]) == call["tool_calls"]
        assert row["stop_reason"] == call["finish_reason"]
        assert row["response_model"] == call["response_model"]
        assert row["model"] == call["model"]
        assert row["provider"] == call["provider"]
        segs = row["segments"]
        assert segs and sum(s["tokens"] for s in segs) == row["input_tokens"]
        assert row["duration_ms"] > 0
    if gt[0]["endpoint"] == "messages":
        assert (llm["cache_write_5m_tokens"] == llm["cache_write_tokens"]).all()
        assert (llm["service_tier"] == "standard").all()


def test_wire_capture_sums_table(authentic: Path) -> None:
    """The README's per-API totals."""
    expect = {"anthropic": (12432, 9041, 3383, 531), "openai_chat": (12634, 8960, None, 472),
              "openai_responses": (12630, 8960, 3328, 472)}
    for stem, (inp, cr, cw, out) in expect.items():
        for suffix in ("", "_stream"):
            df, _ = load_frame(authentic / "stand-in-wire-capture" / f"{stem}{suffix}.wire.jsonl")
            assert int(df["input_tokens"].sum()) == inp
            assert int(df["cache_read_tokens"].sum()) == cr
            if cw is None:
                assert df["cache_write_tokens"].isna().all()  # Chat Completions: not reported
            else:
                assert int(df["cache_write_tokens"].sum()) == cw
            assert int(df["output_tokens"].sum()) == out


def test_no_prompt_text_in_rows(authentic: Path) -> None:
    df, _ = load_frame(authentic / "stand-in-wire-capture" / "anthropic.wire.jsonl")
    blob = df.astype(str).to_string() + json.dumps([list(s) for s in df["segments"]])
    assert "Atlas" not in blob and "Lisbon" not in blob


def test_hand_made_pairs() -> None:
    df, rep = load_frame(PAIRS)
    assert_invariants(df)
    assert rep.lines_read == 8 and rep.malformed_count == 0
    assert len(df) == 8 and (df["kind"] == "llm").all()
    by_line = df.set_index("line")

    # conversation A (Anthropic; lines 1, 3, 5) interleaved with B (Chat; lines 2, 4)
    a_task = f"{PAIRS}:1"
    assert list(df[df["task_id"] == a_task]["line"]) == [1, 3, 5]
    assert list(df[df["task_id"] == f"{PAIRS}:2"]["line"]) == [2, 4]
    a = by_line.loc[[1, 3, 5]]
    assert list(a["input_tokens"]) == [2010, 2075, 2098]
    assert list(a["cache_read_tokens"]) == [0, 2000, 2060]
    assert list(a["cache_write_tokens"]) == [2000, 60, 30]
    assert list(a["cache_write_1h_tokens"]) == [0, 60, 0]
    assert list(a["output_tokens"]) == [30, 40, 9]  # streamed: last cumulative delta, not a sum
    assert list(a["stop_reason"]) == ["tool_use", "end_turn", "end_turn"]
    assert list(a["tool_calls"].iloc[0]) == ["lookup"]
    assert a["ttft_ms"].iloc[0] == 400 and a["ttft_ms"].iloc[1] == 250
    assert a["duration_ms"].iloc[2] == pytest.approx(800)
    assert (a["provider"] == "anthropic").all()
    assert a["response_model"].iloc[0] == "claude-sonnet-4-5-20250929"

    b = by_line.loc[[2, 4]]
    assert list(b["input_tokens"]) == [1500, 1600]
    assert list(b["cache_read_tokens"]) == [0, 1408]
    assert b["cache_write_tokens"].isna().all()  # Chat Completions did not report writes
    assert list(b["service_tier"]) == ["standard", "flex"]
    assert list(b["stop_reason"]) == ["tool_calls", "stop"]
    assert list(b["tool_calls"].iloc[0]) == ["lookup"] and list(b["tool_calls"].iloc[1]) == []

    # Responses: explicit task id, and previous_response_id joins the streamed follow-up
    r = by_line.loc[[6, 7]]
    assert set(r["task_id"]) == {"t-resp"}
    assert list(r["input_tokens"]) == [3000, 3300]
    assert list(r["cache_read_tokens"]) == [2048, 2944]
    assert list(r["cache_write_tokens"]) == [0, 256]
    assert list(r["reasoning_tokens"]) == [128, 0]
    assert list(r["tool_calls"].iloc[0]) == ["lookup"]

    # a Chat stream without include_usage: tokens unknown, never 0
    last = by_line.loc[8]
    assert pd.isna(last["input_tokens"]) and pd.isna(last["output_tokens"])
    assert any("carry no usage" in n for n in rep.notes)

    # segments add up to the inclusive input, and never hold text
    for _, row in df[df["input_tokens"].notna()].iterrows():
        assert sum(s["tokens"] for s in row["segments"]) == row["input_tokens"]
    assert "careful research" not in json.dumps([list(s) for s in df["segments"]])


def test_time_window() -> None:
    df, rep = load_frame(PAIRS, since="2026-05-01T10:00:06Z")
    assert sorted(df["line"]) == [6, 7, 8]
    assert rep.outside_window == 5


def test_malformed_counted_and_strict() -> None:
    df, rep = load_frame(MALFORMED, input_format="raw")
    assert len(df) == 1
    assert rep.lines_read == 3
    assert rep.malformed_count == 2
    assert rep.malformed[0].startswith(f"{MALFORMED}:2:")
    with pytest.raises(InputError) as exc:
        load_frame(MALFORMED, input_format="raw", strict=True)
    assert "malformed.jsonl:2" in str(exc.value)


def test_sniff() -> None:
    assert READER.sniff(Source(name="x", data=PAIRS.read_bytes())) >= 80
    assert READER.sniff(Source(name="x", data=b'{"task_id": "t", "kind": "llm"}\n')) == 0
    assert READER.sniff(Source(name="x", data=b'{"object": "trace", "id": "trace_1"}\n')) == 0
    assert READER.sniff(Source(name="x", data=b"not json\n")) == 0


def test_http_envelope_and_error(tmp_path: Path) -> None:
    p = tmp_path / "env.jsonl"
    lines = [
        {"request": {"url": "https://api.anthropic.com/v1/messages",
                     "headers": {"anthropic-version": "2023-06-01"},
                     "body": json.dumps({"model": "claude-haiku-4-5", "max_tokens": 10,
                                         "messages": [{"role": "user", "content": "hi"}]})},
         "response": {"status": 200, "body": {"type": "message", "model": "claude-haiku-4-5",
                                              "content": [], "stop_reason": "end_turn",
                                              "usage": {"input_tokens": 5, "output_tokens": 2}}}},
        {"request": {"model": "gpt-4.1", "messages": [{"role": "user", "content": "x"}]},
         "response": {"error": {"message": "rate limited", "type": "rate_limit_error"}},
         "status": 429},
        {"path": "/v1/messages/count_tokens", "request": {"model": "claude-haiku-4-5",
                                                          "messages": []},
         "response": {"input_tokens": 12}},
    ]
    p.write_text("".join(json.dumps(x) + "\n" for x in lines))
    df, rep = load_frame(p, input_format="raw")
    assert len(df) == 2
    ok, err = df.iloc[0], df.iloc[1]
    assert ok["provider"] == "anthropic" and ok["input_tokens"] == 5
    assert ok["cache_read_tokens"] == 0  # Anthropic reports cache fields whenever it can cache
    assert bool(err["is_error"]) and pd.isna(err["input_tokens"])
    assert sum(rep.duplicates.values()) == 1  # count_tokens is not a model call


def test_parse_sse() -> None:
    ev = parse_sse("event: a\ndata: {\"x\": 1}\n\n: comment\ndata: [DONE]\n\n")
    assert ev == [("a", {"x": 1}), (None, "[DONE]")]
