"""Recorded HTTP calls: VCR cassettes (``agentcost.ingest.cassette``), HAR captures
(``agentcost.ingest.har``) and AWS Bedrock Converse bodies in every HTTP reader
(``agentcost.ingest.bedrock`` through ``raw_provider``).

Fixtures (tests/fixtures/cassettes/README.md says where each comes from): two real Bedrock
cassettes from pydantic-ai's test suite (MIT), and cassettes / a HAR built from the formats'
documentation.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from agentcost.errors import InputError
from agentcost.ingest import bedrock, read_sources
from agentcost.ingest.base import Source
from agentcost.ingest.cassette import READER as CASSETTE
from agentcost.ingest.cassette import looks_like_cassette
from tests.conftest import FIXTURES, assert_invariants, load_frame

CAS = FIXTURES / "cassettes"
HAR = FIXTURES / "har" / "llm_calls.har"


def _llm(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["kind"] == "llm"].reset_index(drop=True)


def _priced(*paths: Path) -> pd.DataFrame:
    from agentcost.pricing import price_frame

    df, _ = load_frame(*paths)
    price_frame(df)
    return _llm(df)


def test_real_bedrock_converse_stream_event_stream_is_decoded() -> None:
    doc = yaml.safe_load((CAS / "bedrock_converse_stream.yaml").read_text())
    events = bedrock.event_stream(doc["interactions"][0]["response"]["body"]["string"])
    assert events is not None and len(events) == 33
    assert events[0][0] == "messageStart" and events[-1][0] == "metadata"
    df = _priced(CAS / "bedrock_converse_stream.yaml")
    row = df.iloc[0]
    assert (row["format"], row["provider"], row["model"]) == (
        "cassette", "aws.bedrock", "amazon.nova-micro-v1:0")  # model id from the URI, unquoted
    assert (row["input_tokens"], row["output_tokens"], row["cache_read_tokens"]) == (13, 82, 0)
    assert row["stop_reason"] == "end_turn" and row["duration_ms"] == 391.0  # metrics.latencyMs
    assert row["cost_source"] == "computed" and row["cost_usd"] > 0
    _, rep = load_frame(CAS / "bedrock_converse_stream.yaml")
    assert any("carry no time" in w and "today's prices" in w for w in rep.warnings)


def test_real_bedrock_cache_write_then_read() -> None:
    from genai_prices import Usage, calc_price

    df = _priced(CAS / "bedrock_converse_cache.yaml")
    assert_invariants(df)
    assert len(df) == 2 and df["task_id"].nunique() == 1  # the same conversation continued
    w, r = df.iloc[0], df.iloc[1]
    # inputTokens (2) excludes the cache: inclusive input = 2 + write 1322 (= totalTokens - out)
    assert (w["input_tokens"], w["cache_write_tokens"], w["cache_read_tokens"]) == (1324, 1322, 0)
    assert (r["input_tokens"], r["cache_read_tokens"], r["cache_write_tokens"]) == (1324, 1322, 0)
    assert w["input_tokens"] + w["output_tokens"] == 1329  # the body's totalTokens
    # priced through genai-prices' Bedrock entry for the cross-region (us.) id
    exp = calc_price(Usage(input_tokens=1324, cache_read_tokens=1322, output_tokens=5),
                     "us.anthropic.claude-sonnet-4-5-20250929-v1:0", provider_id="aws")
    assert r["cost_usd"] == pytest.approx(float(exp.total_price))
    assert r["cost_usd"] < w["cost_usd"] / 5  # a read costs a tenth of a 5m write's premium


def test_anthropic_yaml_cassette_gzip_binary_body_and_sse() -> None:
    raw = yaml.safe_load((CAS / "anthropic_messages.yaml").read_text())
    assert isinstance(raw["interactions"][0]["response"]["body"]["string"], bytes)  # !!binary
    df, rep = load_frame(CAS / "anthropic_messages.yaml")
    df = _llm(df)
    assert len(df) == 2 and df["task_id"].nunique() == 1
    first, second = df.iloc[0], df.iloc[1]
    assert (first["input_tokens"], first["cache_write_tokens"], first["cache_write_5m_tokens"],
            first["output_tokens"]) == (14 + 1630, 1630, 1630, 61)
    assert list(first["tool_calls"]) == ["lookup_order"] and first["stop_reason"] == "tool_use"
    # streamed: message_start's prompt side, message_delta's final output count
    assert (second["input_tokens"], second["cache_read_tokens"], second["output_tokens"]) == (
        92 + 1630, 1630, 18)
    assert str(first["started_at"]) == "2026-03-10 14:02:11+00:00"  # the Date header
    assert first["segments"] is not None  # derived from the recorded request, no text kept
    assert rep.duplicates[
        "http: recorded requests that are not model calls (auth, files, count_tokens, ...)"] == 1


def test_openai_json_cassette_chat_stream_and_responses() -> None:
    df = _priced(CAS / "openai_chat_responses.json")
    assert list(df["name"]) == ["chat.completions", "responses"]
    chat, resp = df.iloc[0], df.iloc[1]
    assert (chat["input_tokens"], chat["cache_read_tokens"], chat["output_tokens"]) == (
        1412, 1280, 7)
    assert pd.isna(chat["cache_write_tokens"])  # Chat Completions states no writes: unknown
    assert chat["duration_ms"] == 412.0  # openai-processing-ms
    assert str(chat["started_at"]) == "2026-03-10 14:02:11.588000+00:00"  # Date - latency
    assert (resp["input_tokens"], resp["output_tokens"]) == (31, 11)


def test_cassette_sniffing_and_folder_walk(tmp_path: Path) -> None:
    assert looks_like_cassette((CAS / "anthropic_messages.yaml").read_bytes()[:4096])
    assert looks_like_cassette((CAS / "openai_chat_responses.json").read_bytes()[:4096])
    assert not looks_like_cassette(b"name: ci\non:\n  push:\n")
    (tmp_path / "ci.yaml").write_text("name: ci\non:\n  push:\n")
    (tmp_path / "cfg.yml").write_text("interactions_note: not a cassette\n")
    (tmp_path / "rec.yaml").write_bytes((CAS / "bedrock_converse_stream.yaml").read_bytes())
    res = read_sources([str(tmp_path)])
    assert [f["path"] for f in res.report.files] == [str(tmp_path / "rec.yaml")]
    # YAML that is not a cassette is passed over without a note (a folder of test data)
    assert not any("ci.yaml" in n or "cfg.yml" in n for n in res.report.notes)


def test_cassette_bad_input_is_counted_not_a_traceback(tmp_path: Path) -> None:
    good = yaml.safe_load((CAS / "anthropic_messages.yaml").read_text())
    items = good["interactions"][:1]
    items.append({"request": {"uri": "https://api.anthropic.com/v1/messages", "method": "POST",
                              "body": "{}"}, "response": "oops"})
    items.append({"request": {"uri": "https://api.openai.com/v1/chat/completions",
                              "method": "POST", "body": "{\"model\": \"gpt-4o\"}"},
                  "response": {"status": {"code": 200}, "headers": {
                      "content-encoding": ["gzip"]}, "body": {"string": b"\x1f\x8bgarbage"}}})
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump({"interactions": items, "version": 1}))
    df, rep = load_frame(p)
    assert len(_llm(df)) == 1 and rep.malformed_count == 2
    assert any(m.startswith(f"{p}:") and "interaction 2" in m for m in rep.malformed)
    with pytest.raises(InputError):
        load_frame(p, strict=True)
    broken = tmp_path / "broken.yaml"
    broken.write_text("interactions:\n- request: {uri: [\n")
    df, rep = load_frame(broken)
    assert rep.malformed_count == 1 and "invalid YAML" in rep.malformed[0]


def test_json_cassette_with_base64_gzip_body(tmp_path: Path) -> None:
    """A JSON cassette cannot hold bytes: a gzip body stored as base64 text is decoded."""
    import base64

    body = {"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-2024-08-06",
            "choices": [], "usage": {"prompt_tokens": 1200, "completion_tokens": 30,
                                     "prompt_tokens_details": {"cached_tokens": 1024}}}
    doc = {"interactions": [{"request": {
        "uri": "https://api.openai.com/v1/chat/completions", "method": "POST",
        "body": json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})},
        "response": {"status": {"code": 200, "message": "OK"},
                     "headers": {"Content-Encoding": ["gzip"],
                                 "Date": ["Wed, 04 Mar 2026 09:00:00 GMT"]},
                     "body": {"string": base64.b64encode(gzip.compress(
                         json.dumps(body).encode())).decode()}}}], "version": 1}
    p = tmp_path / "c.json"
    p.write_text(json.dumps(doc))
    df = _llm(load_frame(p)[0])
    assert (df.iloc[0]["input_tokens"], df.iloc[0]["cache_read_tokens"]) == (1200, 1024)


def test_har_capture() -> None:
    df, rep = load_frame(HAR)
    assert set(df["format"]) == {"har"}
    df = _llm(df)
    assert_invariants(df)
    assert list(df["name"]) == ["chat.completions", "messages", "converse"]
    chat, msg, conv = df.iloc[0], df.iloc[1], df.iloc[2]
    assert (chat["input_tokens"], chat["cache_read_tokens"], chat["output_tokens"]) == (
        2048, 1920, 9)  # response content stored base64
    assert chat["duration_ms"] == 812.4 and pd.isna(chat["ttft_ms"])
    assert (msg["input_tokens"], msg["output_tokens"]) == (415, 7)
    assert msg["ttft_ms"] == pytest.approx(0.5 + 12 + 40 + 0.5 + 388)  # streamed: first byte
    assert (conv["provider"], conv["model"]) == (
        "aws.bedrock", "eu.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert (conv["input_tokens"], conv["cache_read_tokens"], conv["output_tokens"]) == (
        411, 402, 10)
    assert rep.duplicates[
        "http: recorded requests that are not model calls (auth, files, count_tokens, ...)"] == 1


def test_har_bedrock_price_on_its_date() -> None:
    from genai_prices import Usage, calc_price

    df = _priced(HAR)
    conv = df[df["name"] == "converse"].iloc[0]
    exp = calc_price(Usage(input_tokens=411, cache_read_tokens=402, output_tokens=10),
                     "eu.anthropic.claude-sonnet-4-5-20250929-v1:0", provider_id="aws",
                     genai_request_timestamp=conv["started_at"].to_pydatetime())
    assert conv["cost_usd"] == pytest.approx(float(exp.total_price))
    assert conv["cost_usd"] == pytest.approx((9 * 3.3 + 402 * 0.33 + 10 * 16.5) / 1e6)


def test_raw_log_bedrock_converse_line(tmp_path: Path) -> None:
    """Issue 18.1 in raw logs: a Bedrock Converse envelope line (model id only in the path)."""
    line = {"request": {"url": "https://bedrock-runtime.us-west-2.amazonaws.com/model/"
                               "global.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse",
                        "body": {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}},
            "response": {"status": 200, "body": {
                "output": {"message": {"role": "assistant", "content": [
                    {"toolUse": {"toolUseId": "t1", "name": "search", "input": {}}}]}},
                "stopReason": "tool_use", "metrics": {"latencyMs": 640},
                "usage": {"inputTokens": 100, "cacheReadInputTokens": 2000,
                          "cacheWriteInputTokens": 300, "outputTokens": 40,
                          "totalTokens": 2440}}},
            "started_at": "2026-02-20T10:00:00Z"}
    p = tmp_path / "raw.jsonl"
    p.write_text(json.dumps(line) + "\n")
    df = _llm(load_frame(p)[0])
    row = df.iloc[0]
    assert row["format"] == "raw" and row["name"] == "converse"
    assert (row["input_tokens"], row["cache_read_tokens"], row["cache_write_tokens"],
            row["output_tokens"]) == (2400, 2000, 300, 40)
    assert row["input_tokens"] + row["output_tokens"] == 2440
    assert list(row["tool_calls"]) == ["search"] and row["duration_ms"] == 640.0


def test_agentcost_jsonl_bedrock_usage_priced_without_provider(tmp_path: Path) -> None:
    from agentcost.pricing import price_frame

    p = tmp_path / "t.jsonl"
    p.write_text(json.dumps({"task_id": "t", "kind": "llm", "model": "us.amazon.nova-lite-v1:0",
                             "started_at": "2026-05-04T12:00:00Z",
                             "usage": {"inputTokens": 1000, "cacheReadInputTokens": 4000,
                                       "outputTokens": 200, "totalTokens": 5200}}) + "\n")
    df, _ = load_frame(p)
    price_frame(df)
    row = df.iloc[0]
    assert (row["input_tokens"], row["cache_read_tokens"]) == (5000, 4000)
    assert row["cost_source"] == "computed"  # the region-prefixed id finds Bedrock's price


def test_sniff_is_cheap_and_specific() -> None:
    src = Source(name="x", data=b'{"log": {"version": "1.2", "creator": {}, "entries": []}}')
    assert CASSETTE.sniff(src) == 0
    from agentcost.ingest.har import READER as HARR

    assert HARR.sniff(src) == 95


def test_new_readers_claim_no_other_format(real: Path, authentic: Path) -> None:
    """The cassette, HAR, Inspect and OTel-JSON sniffers leave every real and authentic trace
    of the other formats to its own reader."""
    from agentcost.ingest.har import READER as HAR_READER
    from agentcost.ingest.inspect_ai import READER as INSPECT
    from agentcost.ingest.otel_json import READER as OTEL_JSON

    mine = (CASSETTE, HAR_READER, INSPECT, OTEL_JSON)
    for root in (real, authentic):
        for p in sorted(root.rglob("*")):
            if p.is_file() and p.suffix in (".json", ".jsonl", ".gz", ".log", ".traj"):
                src = Source(name=str(p), path=p)
                assert [r.name for r in mine if r.sniff(src)] == [], p


def test_bedrock_cache_details_split_and_count_aliases(tmp_path: Path) -> None:
    """``cacheDetails`` (AWS TokenUsage: writes by TTL) gives the 5m/1h split; the
    ``…TokenCount`` duplicates real responses carry are read, not named as unread."""
    _, rep = load_frame(CAS / "bedrock_converse_cache.yaml")
    assert not any("not read" in n for n in rep.notes)
    from agentcost.pricing import price_frame

    line = {"request": {"url": "https://bedrock-runtime.us-east-1.amazonaws.com/model/"
                               "us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse",
                        "body": {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}},
            "response": {"status": 200, "body": {
                "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
                "stopReason": "end_turn",
                "usage": {"inputTokens": 10, "cacheWriteInputTokens": 3000,
                          "cacheDetails": [{"inputTokens": 2000, "ttl": "1h"},
                                           {"inputTokens": 1000, "ttl": "5m"}],
                          "outputTokens": 20, "totalTokens": 3030}}},
            "started_at": "2026-06-01T09:00:00Z"}
    p = tmp_path / "raw.jsonl"
    p.write_text(json.dumps(line) + "\n")
    df, _ = load_frame(p)
    price_frame(df)
    row = df.iloc[0]
    assert (row["cache_write_5m_tokens"], row["cache_write_1h_tokens"]) == (1000, 2000)
    one_h = df.copy()
    one_h.loc[0, ["cache_write_5m_tokens", "cache_write_1h_tokens"]] = [3000, 0]
    price_frame(one_h)
    assert row["cost_usd"] > one_h.iloc[0]["cost_usd"]  # 1h writes cost more than 5m ones
