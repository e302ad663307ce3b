"""Issue 18: usage shapes as the readers meet them (compaction iterations, streamed Anthropic
usage, Vercel / ADK metadata, Codex running totals, Claude Code copies, contradicting counts,
usage fields nobody reads).

The bodies are built from the providers' own type definitions (anthropic SDK 2.16
``BetaUsage`` / ``BetaCompactionIterationUsage`` / ``BetaMessageDeltaUsage``, Gemini
``UsageMetadata``, AI SDK provider metadata, codex-rs ``TokenUsage``) with hand-computed
expectations; nothing here is copied from another project.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from agentcost.ingest import usage as U
from tests.conftest import REAL, load_frame

SPOTTER = REAL / "claude-code-spotter"


def _write(path: Path, objs: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objs))
    return path


def _int(v: Any) -> int | None:
    return None if pd.isna(v) else int(v)


# --- 3. Anthropic compaction iterations -------------------------------------------------------

COMPACTED_USAGE = {
    # the request's own (post-compaction) sampling: the top-level fields
    "input_tokens": 2_000, "cache_read_input_tokens": 20_000,
    "cache_creation_input_tokens": 1_000, "output_tokens": 1_000,
    "cache_creation": {"ephemeral_5m_input_tokens": 1_000, "ephemeral_1h_input_tokens": 0},
    "iterations": [
        # the summarising call: not in the top-level figures (SDK docstring)
        {"type": "compaction", "input_tokens": 180_000, "cache_read_input_tokens": 0,
         "cache_creation_input_tokens": 0, "output_tokens": 3_500},
        {"type": "message", "input_tokens": 2_000, "cache_read_input_tokens": 20_000,
         "cache_creation_input_tokens": 1_000, "output_tokens": 1_000},
    ],
}


def test_extra_iterations_are_only_the_compaction() -> None:
    extras, why = U.extra_iterations(COMPACTED_USAGE)
    assert why is None
    assert [e["type"] for e in extras] == ["compaction"]
    assert extras[0]["input_tokens"] == 180_000 and extras[0]["output_tokens"] == 3_500
    assert U.extra_iterations({"input_tokens": 5, "output_tokens": 1, "iterations": []}) == (
        [], None)


def test_advisor_iteration_added_only_when_the_top_level_leaves_it_out() -> None:
    top = {"input_tokens": 100, "output_tokens": 10, "cache_read_input_tokens": 0,
           "cache_creation_input_tokens": 0}
    msg = {"type": "message", "input_tokens": 100, "output_tokens": 10,
           "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}
    adv = {"type": "advisor_message", "model": "claude-opus-4-5", "input_tokens": 50,
           "output_tokens": 7, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}
    extras, why = U.extra_iterations({**top, "iterations": [msg, adv]})
    assert why is None and [(e["type"], e["model"]) for e in extras] == [
        ("advisor_message", "claude-opus-4-5")]
    # top level = message + advisor: the advisor is already counted, nothing is added
    both = {**top, "input_tokens": 150, "output_tokens": 17, "iterations": [msg, adv]}
    extras, why = U.extra_iterations(both)
    assert extras == [] and why and "advisor" in why


def test_raw_log_compaction_is_its_own_priced_call(tmp_path: Path) -> None:
    line = {"request": {"model": "claude-sonnet-4-5", "max_tokens": 1024,
                        "messages": [{"role": "user", "content": "go on"}]},
            "response": {"id": "msg_c1", "type": "message", "role": "assistant",
                         "model": "claude-sonnet-4-5", "stop_reason": "end_turn",
                         "content": [{"type": "compaction", "content": "Summary"},
                                     {"type": "text", "text": "ok"}],
                         "usage": COMPACTED_USAGE},
            "started_at": "2026-11-20T10:00:00Z", "ended_at": "2026-11-20T10:00:30Z"}
    df, rep = load_frame(_write(tmp_path / "compact.jsonl", [line]))
    llm = df[df["kind"] == "llm"].reset_index(drop=True)
    assert list(llm["name"]) == ["messages", "compaction"]
    assert [_int(v) for v in llm["input_tokens"]] == [23_000, 180_000]
    assert [_int(v) for v in llm["output_tokens"]] == [1_000, 3_500]
    assert llm["task_id"].nunique() == 1
    # the compaction's seconds are the request's: it adds no time of its own
    assert llm.loc[1, "started_at"] == llm.loc[1, "ended_at"] == llm.loc[0, "started_at"]
    assert rep.malformed_count == 0


def test_claude_code_iterations_become_a_step(tmp_path: Path) -> None:
    obj = {"type": "assistant", "sessionId": "s-1", "uuid": "u-1", "parentUuid": None,
           "requestId": "req_1", "timestamp": "2026-11-20T10:00:05.000Z",
           "message": {"id": "msg_1", "model": "claude-sonnet-4-5", "role": "assistant",
                       "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn",
                       "usage": COMPACTED_USAGE}}
    df, _ = load_frame(_write(tmp_path / "s-1.jsonl", [obj]), input_format="claude-code")
    llm = df[df["kind"] == "llm"].reset_index(drop=True)
    assert list(llm["name"].fillna("")) == ["", "compaction"]
    assert int(llm["input_tokens"].sum()) == 23_000 + 180_000
    assert int(llm["output_tokens"].sum()) == 1_000 + 3_500
    assert llm.loc[1, "parent_id"] == "req_1"


# --- 4. streamed Anthropic usage: message_delta wins, 5m/1h split included ------------------


def _sse(events: list[dict[str, Any]]) -> str:
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)


def test_message_delta_wins_with_its_cache_split(tmp_path: Path) -> None:
    start = {"type": "message_start", "message": {
        "id": "msg_s", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [], "usage": {"input_tokens": 10, "cache_read_input_tokens": 0,
                                 "cache_creation_input_tokens": 0, "output_tokens": 1}}}
    delta = {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
             "usage": {"input_tokens": 12, "cache_read_input_tokens": 4_000,
                       "cache_creation_input_tokens": 3_000, "output_tokens": 250,
                       "cache_creation": {"ephemeral_5m_input_tokens": 1_000,
                                          "ephemeral_1h_input_tokens": 2_000}}}
    line = {"request": {"model": "claude-sonnet-4-5", "max_tokens": 1024, "stream": True,
                        "messages": [{"role": "user", "content": "hi"}]},
            "response": _sse([start, delta, {"type": "message_stop"}]),
            "started_at": "2026-11-20T10:00:00Z"}
    df, _ = load_frame(_write(tmp_path / "stream.jsonl", [line]))
    row = df[df["kind"] == "llm"].iloc[0]
    assert _int(row["input_tokens"]) == 12 + 4_000 + 3_000
    assert _int(row["output_tokens"]) == 250
    assert (_int(row["cache_write_5m_tokens"]), _int(row["cache_write_1h_tokens"])) == (
        1_000, 2_000)


# --- 5. Vercel provider metadata, Google ADK llm_response -----------------------------------


def _otlp(tmp_path: Path, attrs: dict[str, Any], name: str = "span") -> Path:
    def val(v: Any) -> dict[str, Any]:
        return {"intValue": str(v)} if isinstance(v, int) else {"stringValue": str(v)}

    span = {"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331",
            "name": name, "kind": 3, "startTimeUnixNano": "1763632800000000000",
            "endTimeUnixNano": "1763632802000000000",
            "attributes": [{"key": k, "value": val(v)} for k, v in attrs.items()]}
    doc = {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [
        {"scope": {"name": "ai"}, "spans": [span]}]}]}
    p = tmp_path / f"{name}.otlp.jsonl"
    p.write_text(json.dumps(doc) + "\n")
    return p


def test_vercel_provider_metadata_gives_the_cache_write(tmp_path: Path) -> None:
    meta = {"anthropic": {"cacheCreationInputTokens": 1_500, "cacheReadInputTokens": 0}}
    p = _otlp(tmp_path, {"ai.operationId": "ai.generateText.doGenerate",
                         "gen_ai.system": "anthropic.messages",
                         "ai.model.id": "claude-sonnet-4-5", "ai.model.provider":
                         "anthropic.messages", "ai.usage.inputTokens": 2_000,
                         "ai.usage.outputTokens": 40,
                         "ai.response.providerMetadata": json.dumps(meta)},
              name="ai.generateText.doGenerate")
    df, _ = load_frame(p)
    row = df[df["kind"] == "llm"].iloc[0]
    assert _int(row["cache_write_tokens"]) == 1_500 and _int(row["cache_read_tokens"]) == 0


def test_vercel_span_with_only_raw_anthropic_usage_yields_its_call(tmp_path: Path) -> None:
    raw = {"input_tokens": 30, "cache_read_input_tokens": 5_000,
           "cache_creation_input_tokens": 200, "output_tokens": 90}
    p = _otlp(tmp_path, {"ai.operationId": "ai.streamText.doStream",
                         "gen_ai.system": "anthropic.messages",
                         "ai.model.id": "claude-sonnet-4-5",
                         "ai.response.providerMetadata": json.dumps(
                             {"anthropic": {"usage": raw}})},
              name="ai.streamText.doStream")
    df, _ = load_frame(p)
    row = df[df["kind"] == "llm"].iloc[0]
    assert _int(row["input_tokens"]) == 5_230 and _int(row["output_tokens"]) == 90
    assert _int(row["cache_read_tokens"]) == 5_000 and _int(row["cache_write_tokens"]) == 200


def test_adk_llm_response_usage_metadata_wins(tmp_path: Path) -> None:
    um = {"prompt_token_count": 1_200, "cached_content_token_count": 1_000,
          "candidates_token_count": 30, "thoughts_token_count": 70,
          "total_token_count": 1_300}
    p = _otlp(tmp_path, {"gen_ai.system": "gcp.vertex.agent", "gen_ai.operation.name":
                         "generate_content", "gen_ai.request.model": "gemini-2.5-flash",
                         "gen_ai.usage.input_tokens": 1_200, "gen_ai.usage.output_tokens": 30,
                         "gcp.vertex.agent.llm_response": json.dumps(
                             {"usage_metadata": um})},
              name="call_llm")
    df, _ = load_frame(p)
    row = df[df["kind"] == "llm"].iloc[0]
    # thoughts are billed as output: the span's own output (candidates only) was short
    assert _int(row["output_tokens"]) == 100 and _int(row["reasoning_tokens"]) == 70
    assert _int(row["cache_read_tokens"]) == 1_000
    assert _int(row["input_tokens"]) + _int(row["output_tokens"]) == um["total_token_count"]


# --- 2. Gemini totals in agentcost JSONL ------------------------------------------------------


def test_gemini_total_checked_in_jsonl(tmp_path: Path) -> None:
    ok = {"promptTokenCount": 200, "toolUsePromptTokenCount": 30, "candidatesTokenCount": 40,
          "thoughtsTokenCount": 12, "totalTokenCount": 282}
    off = dict(ok, totalTokenCount=300)
    lines = [{"task_id": "g", "kind": "llm", "model": "gemini-2.5-flash", "provider": "google",
              "usage": u} for u in (ok, off)]
    df, rep = load_frame(_write(tmp_path / "g.jsonl", lines))
    assert list(df["input_tokens"]) == [230, 230]
    assert any("1 Gemini usage object(s) whose totalTokenCount differs" in n
               for n in rep.notes)


# --- 6. Codex running totals only ------------------------------------------------------------


def _codex(tmp_path: Path, infos: list[dict[str, Any]]) -> Path:
    lines: list[dict[str, Any]] = [
        {"timestamp": "2026-11-20T10:00:00.000Z", "type": "session_meta",
         "payload": {"id": "cx-1", "model_provider": "openai"}},
        {"timestamp": "2026-11-20T10:00:00.100Z", "type": "turn_context",
         "payload": {"model": "gpt-5-codex"}}]
    for i, info in enumerate(infos):
        lines.append({"timestamp": f"2026-11-20T10:00:0{i + 1}.000Z", "type": "event_msg",
                      "payload": {"type": "token_count", "info": info}})
    return _write(tmp_path / "rollout-2026-11-20T10-00-00-cx-1.jsonl", lines)


def _total(i: int, c: int, o: int, r: int) -> dict[str, int]:
    return {"input_tokens": i, "cached_input_tokens": c, "output_tokens": o,
            "reasoning_output_tokens": r, "total_tokens": i + o}


def test_codex_totals_only_are_deltas_from_zero(tmp_path: Path) -> None:
    p = _codex(tmp_path, [{"total_token_usage": _total(1_000, 0, 100, 40)},
                          {"total_token_usage": _total(2_500, 900, 180, 60)},
                          {"total_token_usage": _total(2_500, 900, 180, 60)}])  # re-emitted
    df, rep = load_frame(p)
    llm = df[df["kind"] == "llm"].sort_values("ended_at")
    assert list(llm["input_tokens"]) == [1_000, 1_500]
    assert list(llm["cache_read_tokens"]) == [0, 900]
    assert list(llm["output_tokens"]) == [100, 80]
    assert list(llm["reasoning_tokens"]) == [40, 20]
    assert rep.malformed_count == 0
    assert any("2 token_count event(s) carry only total_token_usage" in n for n in rep.notes)


# --- 7. Claude Code: fuller copy across files, untyped lines ------------------------------------


def _cc_line(usage: dict[str, int], sid: str, ts: str) -> dict[str, Any]:
    return {"type": "assistant", "sessionId": sid, "uuid": f"u-{sid}", "parentUuid": None,
            "requestId": "req_same", "timestamp": ts,
            "message": {"id": "msg_same", "model": "claude-sonnet-4-5", "role": "assistant",
                        "content": [{"type": "text", "text": "x"}], "stop_reason": "end_turn",
                        "usage": usage}}


def test_claude_code_fuller_copy_across_files_wins(tmp_path: Path) -> None:
    partial = {"input_tokens": 10, "cache_read_input_tokens": 1_000,
               "cache_creation_input_tokens": 0, "output_tokens": 2}
    full = dict(partial, output_tokens=480)
    # the original session holds only the streamed partial; the resumed copy saw the end
    a = _write(tmp_path / "a.jsonl", [_cc_line(partial, "s-a", "2026-11-20T10:00:00.000Z")])
    b = _write(tmp_path / "b.jsonl", [_cc_line(full, "s-b", "2026-11-20T10:00:00.000Z"),
                                      {"type": "user", "sessionId": "s-b", "uuid": "later",
                                       "timestamp": "2026-11-20T11:00:00.000Z",
                                       "message": {"role": "user", "content": "more"}}])
    df, rep = load_frame(a, b, input_format="claude-code")
    llm = df[df["kind"] == "llm"]
    assert len(llm) == 1 and int(llm["output_tokens"].iloc[0]) == 480
    assert llm["task_id"].iloc[0] == "s-a"  # the original session keeps the call
    assert any("fuller usage" in n for n in rep.notes)


def test_claude_code_untyped_lines_are_read(tmp_path: Path) -> None:
    objs = [{"sessionId": "s-u", "requestId": f"req_{i}", "timestamp":
             f"2026-11-20T10:00:0{i}.000Z",
             "message": {"id": f"msg_{i}", "model": "claude-sonnet-4-5",
                         "usage": {"input_tokens": 100, "output_tokens": 10,
                                   "cache_read_input_tokens": 0,
                                   "cache_creation_input_tokens": 0}}} for i in range(3)]
    df, rep = load_frame(_write(tmp_path / "untyped.jsonl", objs), input_format="claude-code")
    assert int((df["kind"] == "llm").sum()) == 3 and int(df["input_tokens"].sum()) == 300
    assert any("3 line(s) without type/uuid read" in n for n in rep.notes)


# --- 8. contradicting counts are corrected, not dropped ----------------------------------------


def test_contradictions_corrected_with_a_counted_note(tmp_path: Path) -> None:
    lines = [{"task_id": "t", "kind": "llm", "model": "claude-sonnet-4-5",
              "input_tokens": 10, "cache_read_tokens": 20, "output_tokens": 5},
             {"task_id": "t", "kind": "llm", "model": "gemini-2.5-flash",
              "input_tokens": 100, "output_tokens": 5, "reasoning_tokens": 50}]
    df, rep = load_frame(_write(tmp_path / "bad.jsonl", lines))
    assert rep.malformed_count == 0 and len(df) == 2
    assert list(df["input_tokens"]) == [30, 100]
    assert list(df["output_tokens"]) == [5, 55]
    notes = " ".join(rep.notes)
    assert "1 call(s) corrected, cache reads + writes exceeded input tokens" in notes
    assert "1 call(s) corrected, reasoning tokens exceeded output tokens" in notes


# --- 9. usage fields nobody reads are named once per file ----------------------------------------


def test_unread_usage_fields_named_once_per_file(tmp_path: Path) -> None:
    usage = {"input_tokens": 100, "output_tokens": 5, "cache_read_input_tokens": 0,
             "cache_creation_input_tokens": 0, "brand_new_tokens": 7,
             "server_tool_use": {"web_search_requests": 2, "web_fetch_requests": 1}}
    lines = [{"task_id": "t", "kind": "llm", "model": "claude-sonnet-4-5",
              "provider": "anthropic", "usage": usage}] * 3
    _, rep = load_frame(_write(tmp_path / "new.jsonl", lines))
    named = [n for n in rep.notes if "usage field(s) not read" in n]
    assert len(named) == 1
    assert "brand_new_tokens (3 calls)" in named[0]
    assert "server_tool_use.web_search_requests (3 calls)" in named[0]
    assert "web_fetch_requests" not in named[0]  # fetches cost only their tokens


def test_real_claude_code_usage_is_fully_read(real: Path) -> None:
    _, rep = load_frame(SPOTTER)
    assert not [n for n in rep.notes if "not read" in n]
