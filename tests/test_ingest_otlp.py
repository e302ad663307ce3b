"""OpenTelemetry spans (``agentcost.ingest.otlp`` + ``agentcost.ingest.otel_attrs``).

Every authentic ``*.otlp.jsonl`` run is compared call by call with its ``*.ground_truth.jsonl``
(what the stand-in provider actually answered). A figure the format does not carry must come
out unknown (``<NA>``), never 0: those cases are listed in :data:`LACKS` with the reason.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from agentcost.errors import InputError
from agentcost.ingest.base import Source
from agentcost.ingest.otlp import DUP_REASON, READER, ROLLUP_REASON, SAME_SPAN_REASON
from tests.conftest import AUTHENTIC, REAL, assert_invariants, canonical, ground_truth, load_frame

OTLP_FILES = sorted(p for p in AUTHENTIC.glob("*/*.otlp.jsonl")
                    if not p.name.endswith(".logs.otlp.jsonl"))
LOG_FILES = sorted(AUTHENTIC.glob("*/*.logs.otlp.jsonl"))
TOKENS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")
ALL = frozenset(TOKENS)

# run (folder/stem) -> token columns the span format does not carry
LACKS: dict[str, frozenset[str]] = {
    # opentelemetry-instrumentation-openai-v2 2.4b0: no cached-token attribute on chat spans
    "otel-genai-openai-v2/span_content": frozenset({"cache_read_tokens", "cache_write_tokens"}),
    "otel-genai-openai-v2/span_and_event": frozenset({"cache_read_tokens",
                                                      "cache_write_tokens"}),
    "otel-genai-openai-v2/stream_bare": frozenset({"cache_read_tokens", "cache_write_tokens"}),
    # the Agents SDK records no usage for streamed Chat Completions; the OI bridge has none
    "openinference-openai-agents/chatcmpl_stream": ALL,
    # Traceloop's Agents bridge puts no usage on Chat Completions generation spans
    "openllmetry-openai-agents/chatcmpl": ALL,
    # OpenLLMetry 0.62.4 has no cache-write attribute for OpenAI Responses
    "openllmetry-openai-agents/responses": frozenset({"cache_write_tokens"}),
    "openllmetry-openai/openai_responses": frozenset({"cache_write_tokens"}),
}
# Chat Completions reports no cache writes; openlit nevertheless states 0 for them
STATED_ZERO_WRITES = {"openlit/openai_chat", "openlit/openai_chat_stream"}
# runs where two instrumentations wrap each of the 4 calls
TWO_INSTRUMENTATIONS = {"openinference-anthropic/anthropic",
                        "openinference-anthropic/anthropic_stream",
                        "openllmetry-anthropic/anthropic", "openllmetry-anthropic/anthropic_events",
                        "openllmetry-anthropic/anthropic_stream", "traceloop-sdk/anthropic"}
# runs whose agent span carries app-supplied roll-up usage
ROLLUPS = {"otel-genai-openai-v2/span_content", "otel-genai-openai-v2/span_and_event"}
# openlit 1.45.0 records only the last function call of a Responses output
LOSSY_TOOL_CALLS = {"openlit/openai_responses"}


def run_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name.split('.')[0]}"


def _val(v: Any) -> int | None:
    return None if pd.isna(v) else int(v)


def _llm(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["kind"] == "llm"].sort_values("started_at").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# authentic runs vs ground truth


def test_every_authentic_otlp_run_is_covered(authentic: Path) -> None:
    assert len(OTLP_FILES) >= 30
    for key in [*LACKS, *TWO_INSTRUMENTATIONS, *ROLLUPS, *STATED_ZERO_WRITES]:
        assert (AUTHENTIC / f"{key}.otlp.jsonl").is_file(), key


@pytest.mark.parametrize("path", OTLP_FILES, ids=[run_id(p) for p in OTLP_FILES])
def test_authentic_run_matches_ground_truth(path: Path, authentic: Path) -> None:
    rid = run_id(path)
    df, rep = load_frame(path)  # format detected from content
    assert set(df["format"]) == {"otlp"}
    assert_invariants(df)
    assert rep.malformed_count == 0
    assert rep.lines_read == len([ln for ln in path.read_text().splitlines() if ln.strip()])
    gt = ground_truth(path)
    llm = _llm(df)
    assert len(llm) == 4 == len(gt)

    lacks = LACKS.get(rid, frozenset())
    for col in TOKENS:
        want = [canonical(c)[col] for c in gt]
        got = [_val(v) for v in llm[col]]
        if col in lacks and col in ("input_tokens", "output_tokens") and (
                llm["cost_source"] == "estimated").all():
            # no usage on the spans, but the messages are there: counted from them (issue 11.5,
            # tests/test_estimated_tokens.py); never a reported figure, never 0
            assert llm[col].isna().all() or (llm[col] > 0).all(), f"{col}: {got}"
        elif col in lacks:
            assert llm[col].isna().all(), f"{col} must be unknown, not {got}"
        elif all(w is not None for w in want):
            assert got == want, col  # call by call, exact
            assert int(llm[col].sum()) == sum(want)  # hence the sums too
        elif rid in STATED_ZERO_WRITES:
            assert got == [0] * 4, col
        else:
            assert llm[col].isna().all(), f"{col}: the API reports none, got {got}"
    # tokens belong to llm steps only (roll-ups and tools carry none)
    assert not df[df["kind"] != "llm"][list(TOKENS)].notna().any().any()

    # each call counted once; what was dropped is reported
    assert rep.duplicates.get(DUP_REASON, 0) == (4 if rid in TWO_INSTRUMENTATIONS else 0)
    assert rep.duplicates.get(ROLLUP_REASON, 0) == (1 if rid in ROLLUPS else 0)

    # models: requested and served as the ground truth says, where the span states them
    for i, call in enumerate(gt):
        m, rm = llm.loc[i, "model"], llm.loc[i, "response_model"]
        assert pd.isna(m) or m in (call["model"], call["response_model"])
        assert pd.isna(rm) or rm in (call["response_model"], call["model"])
        assert not (pd.isna(m) and pd.isna(rm))
    assert (llm["provider"] == gt[0]["provider"]).all()

    # tool calls requested by each model call, where the format records them
    tcs = [list(t) if isinstance(t, tuple) else [] for t in llm["tool_calls"]]
    if any(tcs) and rid not in LOSSY_TOOL_CALLS:
        assert tcs == [c["tool_calls"] for c in gt]
    tools = df[df["kind"] == "tool"].sort_values("started_at")
    if len(tools):
        assert list(tools["name"]) == [t for c in gt for t in c["tool_calls"]]
        assert tools["tool_input_hash"].str.fullmatch(r"[0-9a-f]{16}").all()
        assert tools["tool_input_hash"].nunique() == 4
        assert tools["duration_ms"].notna().all()

    # timing
    assert llm["started_at"].notna().all() and llm["duration_ms"].gt(0).all()
    if any(c["stream"] for c in gt) and (rid.startswith(("anthropic-sdk-native",
                                                          "openllmetry-anthropic/anthropic_st",
                                                          "openinference-anthropic/anthropic_st"))):
        assert llm["ttft_ms"].notna().all()  # gen_ai.response.time_to_first_chunk
    if rid.startswith("openlit/"):
        assert llm["ttft_ms"].notna().all()  # gen_ai.server.time_to_first_token
        assert llm["reported_cost_usd"].gt(0).all()  # gen_ai.usage.cost
    if rid.startswith(("openinference-openai/", "openinference-anthropic/", "traceloop-sdk/")):
        assert llm["session_id"].notna().all()
        assert df["task_id"].nunique() == 1  # one trace per run
    if rid.startswith("openinference-openai/") or rid.startswith("openinference-anthropic/"):
        # raw request JSON in input.value -> segments that add up to the input tokens
        for _, r in llm.iterrows():
            assert sum(s["tokens"] for s in r["segments"]) == r["input_tokens"]
            assert {s["role"] for s in r["segments"]} >= {"tools", "system", "user"}
    if gt[0]["provider"] == "anthropic" and "cache_write_tokens" not in lacks:
        # Anthropic writes carry the 5m/1h split (stated by the SDK span, else all 5m)
        assert (llm["cache_write_5m_tokens"] + llm["cache_write_1h_tokens"]
                == llm["cache_write_tokens"]).all()

    # no prompt or completion text in the table
    blob = df.drop(columns=["segments"]).astype(str).to_string()
    assert "Atlas" not in blob and "trip-planning" not in blob


def test_anthropic_sdk_span_nested_under_openinference_keeps_best_of_both(
        authentic: Path) -> None:
    df, rep = load_frame(AUTHENTIC / "openinference-anthropic/anthropic_stream.otlp.jsonl")
    llm = _llm(df)
    # ttft and the 5m/1h split come from the SDK span, segments/tool calls from OpenInference
    assert llm["ttft_ms"].notna().all()
    assert list(llm["cache_write_5m_tokens"]) == list(llm["cache_write_tokens"])
    assert (llm["cache_write_1h_tokens"] == 0).all()
    assert llm["segments"].notna().all()
    # the kept step sits in the tree where the OpenInference span was: under the agent span
    agent = df[df["kind"] == "agent"].iloc[0]
    assert (llm["parent_id"] == agent["span_id"]).all()
    assert any("omits zero cache details" in n for n in rep.notes)


def test_openllmetry_streaming_output_overcount_resolved_by_sdk_span(authentic: Path) -> None:
    df, rep = load_frame(AUTHENTIC / "openllmetry-anthropic/anthropic_stream.otlp.jsonl")
    assert list(_llm(df)["output_tokens"]) == [42, 106, 43, 340]
    assert any("+1 output token" in n and "com.anthropic.sdk.python" in n for n in rep.notes)


def test_openlit_anthropic_input_excludes_cache_is_corrected(authentic: Path) -> None:
    path = AUTHENTIC / "openlit/anthropic.otlp.jsonl"
    df, rep = load_frame(path)
    llm = _llm(df)
    assert list(llm["input_tokens"]) == [canonical(c)["input_tokens"] for c in ground_truth(path)]
    assert any("openlit" in n and "excludes cache" in n for n in rep.notes)
    # openlit's child HTTP POST spans are not model calls
    assert any("not made steps" in n for n in rep.notes)
    # openai files of the same library are not touched
    _, rep2 = load_frame(AUTHENTIC / "openlit/openai_chat.otlp.jsonl")
    assert not any("excludes cache" in n for n in rep2.notes)


def test_openinference_genai_semconv_requested_model(authentic: Path) -> None:
    df, rep = load_frame(AUTHENTIC / "openinference-openai/openai_chat_genai.otlp.jsonl")
    llm = _llm(df)
    assert (llm["model"] == "gpt-4.1-mini").all()
    assert (llm["response_model"] == "gpt-4.1-mini-2025-04-14").all()
    assert any("llm.invocation_parameters" in n for n in rep.notes)


@pytest.mark.parametrize("path", LOG_FILES, ids=[run_id(p) for p in LOG_FILES])
def test_log_files_are_recognised_and_skipped(path: Path, authentic: Path) -> None:
    assert READER.sniff(Source(name=str(path), path=path)) > 0
    df, rep = load_frame(path)
    assert len(df) == 0 and rep.malformed_count == 0
    assert any("log record" in n and str(path) in n for n in rep.notes)


def test_folder_with_spans_and_logs(authentic: Path) -> None:
    df, rep = load_frame(AUTHENTIC / "openlit")
    otlp = df[df["format"] == "otlp"]
    span_files = [p for p in (AUTHENTIC / "openlit").glob("*.otlp.jsonl")
                  if ".logs." not in p.name]
    assert (otlp["kind"] == "llm").sum() == 4 * len(span_files) == 20
    assert sum("log record" in n for n in rep.notes) == 5
    assert rep.malformed_count == 0


def test_sniff_rejects_other_formats(authentic: Path) -> None:
    for p in [*AUTHENTIC.glob("*/*.ground_truth.jsonl"), *AUTHENTIC.glob("*/*.agents.jsonl"),
              *AUTHENTIC.glob("*/manifest.json")]:
        assert READER.sniff(Source(name=str(p), path=p)) == 0, p
    for p in OTLP_FILES:
        assert READER.sniff(Source(name=str(p), path=p)) >= 90


# ---------------------------------------------------------------------------------------------
# other encodings of the same spans


def _requests(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _tokens(df: pd.DataFrame) -> list[tuple[Any, ...]]:
    llm = _llm(df)
    return [tuple(_val(v) for v in row) for row in llm[list(TOKENS)].itertuples(index=False)]


SAMPLE = "openinference-anthropic/anthropic.otlp.jsonl"  # two instrumentations, several lines


def test_pretty_printed_back_to_back_objects(tmp_path: Path, authentic: Path) -> None:
    src = AUTHENTIC / SAMPLE
    ref, _ = load_frame(src)
    reqs = _requests(src)
    p = tmp_path / "pretty.json"
    p.write_text("".join(json.dumps(r, indent=2) + "\n" for r in reqs))
    df, rep = load_frame(p)
    assert set(df["format"]) == {"otlp"} and rep.malformed_count == 0
    assert _tokens(df) == _tokens(ref)
    assert len(df) == len(ref) and rep.duplicates[DUP_REASON] == 4
    assert rep.lines_read == len(p.read_text().splitlines())
    assert_invariants(df)
    # without separating newlines, too
    p2 = tmp_path / "tight.json"
    p2.write_text("".join(json.dumps(r, indent=1) for r in reqs))
    assert _tokens(load_frame(p2)[0]) == _tokens(ref)


def test_json_array_of_requests(tmp_path: Path, authentic: Path) -> None:
    src = AUTHENTIC / SAMPLE
    ref, _ = load_frame(src)
    for name, text in (("array.json", json.dumps(_requests(src), indent=2)),
                       ("array1.json", json.dumps(_requests(src)))):
        p = tmp_path / name
        p.write_text(text)
        df, rep = load_frame(p)
        assert rep.malformed_count == 0
        assert _tokens(df) == _tokens(ref)


def _walk(o: Any, fn: Any) -> Any:
    if isinstance(o, dict):
        return fn({k: _walk(v, fn) for k, v in o.items()})
    if isinstance(o, list):
        return [_walk(v, fn) for v in o]
    return o


def test_ints_as_numbers_and_strings(tmp_path: Path, authentic: Path) -> None:
    src = AUTHENTIC / SAMPLE
    ref, _ = load_frame(src)
    raw = src.read_text()
    assert '"intValue":"' in raw and '"startTimeUnixNano":"' in raw  # as exported: strings

    def as_numbers(d: dict[str, Any]) -> dict[str, Any]:
        for k in ("intValue", "startTimeUnixNano", "endTimeUnixNano"):
            if isinstance(d.get(k), str):
                d[k] = int(d[k])
        return d

    p = tmp_path / "numbers.otlp.jsonl"
    p.write_text("".join(json.dumps(_walk(r, as_numbers)) + "\n" for r in _requests(src)))
    df, _ = load_frame(p)
    assert _tokens(df) == _tokens(ref)
    assert list(_llm(df)["started_at"]) == list(_llm(ref)["started_at"])


def test_snake_case_protobuf_json_with_base64_ids(tmp_path: Path, authentic: Path) -> None:
    src = AUTHENTIC / SAMPLE
    ref, _ = load_frame(src)

    def snake(d: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for k, v in d.items():
            if k in ("traceId", "spanId", "parentSpanId") and v:
                v = base64.b64encode(bytes.fromhex(v)).decode()
            out[re.sub(r"(?<!^)([A-Z])", r"_\1", k).lower() if k != "key" else k] = v
        return out

    p = tmp_path / "snake.json"
    p.write_text("".join(json.dumps(_walk(r, snake)) + "\n" for r in _requests(src)))
    assert "resource_spans" in p.read_text()[:40]
    df, rep = load_frame(p)
    assert rep.malformed_count == 0
    assert _tokens(df) == _tokens(ref)
    assert sorted(df["span_id"]) == sorted(ref["span_id"])  # base64 ids decoded to hex
    assert rep.duplicates[DUP_REASON] == 4  # parent links survive


def test_spans_of_one_trace_across_files(tmp_path: Path, authentic: Path) -> None:
    src = AUTHENTIC / "traceloop-sdk/anthropic.otlp.jsonl"
    lines = [ln for ln in src.read_text().splitlines() if ln.strip()]
    assert len(lines) == 2
    for i, ln in enumerate(lines):
        (tmp_path / f"part{i}.otlp.jsonl").write_text(ln + "\n")
    df, rep = load_frame(tmp_path)
    assert _tokens(df) == _tokens(load_frame(src)[0])
    assert rep.duplicates[DUP_REASON] == 4 and df["task_id"].nunique() == 1


def test_span_exported_twice_is_counted_once(tmp_path: Path, authentic: Path) -> None:
    src = AUTHENTIC / "otel-genai-openai-v2/stream_bare.otlp.jsonl"
    p = tmp_path / "twice.otlp.jsonl"
    p.write_text(src.read_text() * 2)
    df, rep = load_frame(p)
    assert len(_llm(df)) == 4
    assert rep.duplicates[SAME_SPAN_REASON] == 4


def test_malformed_lines_counted_and_strict_raises(tmp_path: Path, authentic: Path) -> None:
    src = AUTHENTIC / "otel-genai-openai-v2/stream_bare.otlp.jsonl"
    lines = src.read_text().splitlines()
    p = tmp_path / "bad.otlp.jsonl"
    p.write_text("\n".join([lines[0], '{"resourceSpans": [ truncated', *lines[1:],
                            '"just a string"']) + "\n")
    df, rep = load_frame(p)
    assert len(_llm(df)) == 4
    assert rep.malformed_count == 2
    assert rep.malformed[0].startswith(f"{p}:2: invalid JSON")
    with pytest.raises(InputError, match=re.escape(f"{p}:2")):
        load_frame(p, strict=True)


def test_malformed_pretty_object_is_skipped(tmp_path: Path, authentic: Path) -> None:
    reqs = _requests(AUTHENTIC / "otel-genai-openai-v2/stream_bare.otlp.jsonl")
    text = json.dumps(reqs[0], indent=2) + "\n{\n  \"resourceSpans\": [\n    oops\n}\n"
    p = tmp_path / "bad_pretty.json"
    p.write_text(text + "".join(json.dumps(r, indent=2) + "\n" for r in reqs[1:]))
    df, rep = load_frame(p)
    assert rep.malformed_count == 1 and len(_llm(df)) == 4
    with pytest.raises(InputError, match=re.escape(f"{p}:")):
        load_frame(p, strict=True)


def test_time_window(authentic: Path) -> None:
    src = AUTHENTIC / "otel-genai-openai-v2/stream_bare.otlp.jsonl"
    ref = _llm(load_frame(src)[0])
    cut = ref["started_at"].iloc[2].isoformat()
    df, rep = load_frame(src, since=cut)
    assert len(_llm(df)) == 2 and rep.outside_window == 2


# ---------------------------------------------------------------------------------------------
# any-agent and Vercel AI SDK captures

ANY_AGENT = sorted((REAL / "any-agent-traces").glob("*_trace.json"))


@pytest.mark.parametrize("path", ANY_AGENT, ids=[p.stem for p in ANY_AGENT])
def test_any_agent_traces(path: Path, real: Path) -> None:
    df, rep = load_frame(path)
    assert set(df["format"]) == {"otlp"} and rep.malformed_count == 0
    assert_invariants(df)
    spans = json.loads(path.read_text())["spans"]  # stdlib json: ids exceed 64 bits
    llm_spans = [s for s in spans if s["attributes"].get("gen_ai.operation.name") == "call_llm"]
    tool_spans = [s for s in spans
                  if s["attributes"].get("gen_ai.operation.name") == "execute_tool"]
    llm = _llm(df)
    assert len(llm) == len(llm_spans) >= 3
    assert (df["kind"] == "tool").sum() == len(tool_spans) >= 2
    assert (df["kind"] == "agent").sum() == 1
    trace_id = format(spans[0]["context"]["trace_id"], "032x")
    assert set(df["task_id"]) == {trace_id}
    by_start = sorted(llm_spans, key=lambda s: s["start_time"])
    assert list(llm["input_tokens"]) == [s["attributes"]["gen_ai.usage.input_tokens"]
                                         for s in by_start]
    assert list(llm["output_tokens"]) == [s["attributes"]["gen_ai.usage.output_tokens"]
                                          for s in by_start]
    assert llm["cache_read_tokens"].isna().all()  # any-agent carries no cache figures
    for (_, r), s in zip(llm.iterrows(), by_start, strict=True):
        a = s["attributes"]
        assert r["reported_cost_usd"] == pytest.approx(a["gen_ai.usage.input_cost"]
                                                       + a["gen_ai.usage.output_cost"])
        assert r["model"] == "mistral/mistral-small-latest" and r["provider"] == "mistral"
        assert r["started_at"].value == s["start_time"]
    tools = df[df["kind"] == "tool"]
    assert tools["tool_input_hash"].notna().all()
    first_tool = sorted(tool_spans, key=lambda s: s["start_time"])[0]
    args = json.loads(first_tool["attributes"]["gen_ai.tool.args"])
    want = hashlib.sha1(json.dumps(args, sort_keys=True, separators=(",", ":")).encode())
    assert tools.sort_values("started_at")["tool_input_hash"].iloc[0] == want.hexdigest()[:16]
    # the llm step that asked for get_current_time says so
    assert "get_current_time" in llm["tool_calls"].iloc[0]


VERCEL = REAL / "vercel-ai-sdk-v6-spans-openinference" / "all-spans.json"


def test_vercel_ai_sdk_capture(real: Path) -> None:
    df, rep = load_frame(VERCEL)
    assert set(df["format"]) == {"otlp"} and rep.malformed_count == 0
    assert_invariants(df)
    llm = _llm(df)
    pairs = sorted((int(r["input_tokens"]), int(r["output_tokens"])) for _, r in llm.iterrows())
    assert pairs == [(10, 0), (14, 20), (15, 112), (50, 9), (63, 156)]
    # the outer ai.* spans state the same usage again: roll-ups, dropped
    assert (df["kind"] == "agent").sum() == 5
    assert rep.duplicates[ROLLUP_REASON] == 5
    assert (llm["provider"] == "openai").all()
    stream = llm[llm["name"] == "ai.streamText.doStream"].iloc[0]
    assert stream["ttft_ms"] == pytest.approx(426.8535)
    assert stream["cache_read_tokens"] == 0  # ai.usage.cachedInputTokens
    gen = llm[llm["name"] == "ai.generateText.doGenerate"]
    assert gen["cache_read_tokens"].isna().all()  # not carried on doGenerate
    assert (gen["response_model"] == "gpt-4o-mini-2024-07-18").all()
    # no parent links in the capture: each do* span is attached to its enclosing ai.* span
    assert df["task_id"].nunique() == 5
    assert llm["parent_id"].notna().all()
    assert any("attached" in n for n in rep.notes)


# ---------------------------------------------------------------------------------------------
# attribute mapping on hand-built spans


def _kv(k: str, v: Any) -> dict[str, Any]:
    if isinstance(v, bool):
        return {"key": k, "value": {"boolValue": v}}
    if isinstance(v, int):
        return {"key": k, "value": {"intValue": str(v)}}
    if isinstance(v, float):
        return {"key": k, "value": {"doubleValue": v}}
    if isinstance(v, list):
        return {"key": k, "value": {"arrayValue": {"values": [{"stringValue": x} for x in v]}}}
    return {"key": k, "value": {"stringValue": v}}


def _span(span_id: str, name: str, attrs: dict[str, Any], *, parent: str = "",
          start: int = 1_800_000_000_000_000_000, dur_ms: int = 100,
          status: int = 1, trace: str = "ab" * 16) -> dict[str, Any]:
    return {"traceId": trace, "spanId": span_id, "parentSpanId": parent, "name": name,
            "kind": 3, "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(start + dur_ms * 1_000_000),
            "attributes": [_kv(k, v) for k, v in attrs.items()], "status": {"code": status}}


def _request(scope: str, spans: list[dict[str, Any]], version: str | None = None) -> str:
    sc: dict[str, Any] = {"name": scope}
    if version:
        sc["version"] = version
    return json.dumps({"resourceSpans": [{"resource": {"attributes": []},
                                          "scopeSpans": [{"scope": sc, "spans": spans}]}]})


def test_deprecated_and_legacy_attribute_names(tmp_path: Path) -> None:
    t0 = 1_800_000_000_000_000_000
    spans = [
        _span("0000000000000001", "openai.chat", {
            "llm.request.type": "chat", "gen_ai.system": "OpenAI",
            "gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.usage.prompt_tokens": 1200, "gen_ai.usage.completion_tokens": 50,
            "gen_ai.usage.cache_read_input_tokens": 1024,
            "gen_ai.usage.reasoning.output_tokens": 10,
            "gen_ai.response.finish_reasons": ["length"],
            "traceloop.association.properties.session_id": "s-1"}, start=t0),
        _span("0000000000000002", "anthropic.chat", {
            "gen_ai.system": "Anthropic", "gen_ai.request.model": "claude-3-5-sonnet",
            "gen_ai.usage.prompt_tokens": 20, "gen_ai.usage.completion_tokens": 5,
            "gen_ai.usage.cache_creation_input_tokens": 300,
            "gen_ai.usage.cache_read_input_tokens": 1000}, start=t0 + 10**9, status=2),
        _span("0000000000000003", "legacy.total", {
            "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
            "llm.usage.total_tokens": 130, "gen_ai.usage.completion_tokens": 30,
            "gen_ai.usage.cost": 0.0042}, start=t0 + 2 * 10**9),
        _span("0000000000000004", "execute_tool lookup", {
            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup",
            "gen_ai.tool.call.id": "call_1",
            "gen_ai.tool.call.arguments": '{"b": 2, "a": 1}'}, start=t0 + 3 * 10**9),
        _span("0000000000000005", "execute_tool lookup", {
            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup",
            "gen_ai.tool.call.arguments": '{"a":1,"b":2}'}, start=t0 + 4 * 10**9),
        _span("0000000000000006", "HTTP POST", {"http.method": "POST"}, start=t0),
    ]
    p = tmp_path / "legacy.otlp.jsonl"
    p.write_text(_request("opentelemetry.instrumentation.x", spans) + "\n")
    df, rep = load_frame(p)
    assert_invariants(df)
    llm = _llm(df)
    assert len(llm) == 3 and (df["kind"] == "tool").sum() == 2 and len(df) == 5
    a, b, c = (llm.iloc[i] for i in range(3))
    assert (a["input_tokens"], a["cache_read_tokens"], a["output_tokens"],
            a["reasoning_tokens"]) == (1200, 1024, 50, 10)
    assert pd.isna(a["cache_write_tokens"])  # not stated: unknown
    assert a["provider"] == "openai" and a["stop_reason"] == "length"
    assert a["session_id"] == "s-1" and a["response_model"] == "gpt-4o-2024-08-06"
    # Anthropic with cache > input: the instrumentation reported raw (exclusive) input
    assert (b["input_tokens"], b["cache_read_tokens"], b["cache_write_tokens"]) == (1320, 1000,
                                                                                   300)
    assert (b["cache_write_5m_tokens"], b["cache_write_1h_tokens"]) == (300, 0)
    assert bool(b["is_error"]) and not bool(a["is_error"])
    assert any("without cache tokens" in n for n in rep.notes)
    assert (c["input_tokens"], c["output_tokens"]) == (100, 30)  # total - output
    assert c["reported_cost_usd"] == pytest.approx(0.0042)
    tools = df[df["kind"] == "tool"].sort_values("started_at")
    assert tools["tool_input_hash"].nunique() == 1  # same arguments, other key order
    assert tools["tool_call_id"].iloc[0] == "call_1"
    assert any("not made steps" in n for n in rep.notes)


def test_openinference_span_kinds_and_rollup(tmp_path: Path) -> None:
    t0 = 1_800_000_000_000_000_000
    spans = [
        _span("00000000000000a1", "agent", {"openinference.span.kind": "AGENT",
                                            "llm.token_count.prompt": 500,
                                            "llm.token_count.completion": 20,
                                            "session.id": "conv"}, start=t0, dur_ms=5000),
        _span("00000000000000a2", "chain", {"openinference.span.kind": "CHAIN"},
              parent="00000000000000a1", start=t0 + 1, dur_ms=4000),
        _span("00000000000000a3", "llm", {
            "openinference.span.kind": "LLM", "llm.provider": "anthropic",
            "llm.model_name": "claude-sonnet-4-5", "llm.token_count.prompt": 500,
            "llm.token_count.completion": 20, "llm.token_count.prompt_details.cache_read": 400,
            "llm.token_count.prompt_details.cache_write": 50,
            "llm.token_count.completion_details.reasoning": 7, "llm.cost.total": 0.01,
            "llm.output_messages.0.message.tool_calls.1.tool_call.function.name": "b",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "a",
        }, parent="00000000000000a2", start=t0 + 2, dur_ms=1000),
        _span("00000000000000a4", "a", {"openinference.span.kind": "TOOL", "tool.name": "a",
                                        "input.value": '{"q": 1}'},
              parent="00000000000000a2", start=t0 + 2_000_000_000, dur_ms=10),
    ]
    p = tmp_path / "oi.otlp.jsonl"
    p.write_text(_request("openinference.instrumentation.langchain", spans, "0.1.0") + "\n")
    df, rep = load_frame(p)
    assert list(df.sort_values("started_at")["kind"]) == ["agent", "agent", "llm", "tool"]
    llm = _llm(df).iloc[0]
    assert (llm["input_tokens"], llm["cache_read_tokens"], llm["cache_write_tokens"],
            llm["output_tokens"], llm["reasoning_tokens"]) == (500, 400, 50, 20, 7)
    assert list(llm["tool_calls"]) == ["a", "b"]
    assert llm["reported_cost_usd"] == pytest.approx(0.01)
    assert llm["session_id"] == "conv"  # stated on the root span only: applies to the task
    assert rep.duplicates[ROLLUP_REASON] == 1
    assert df[df["kind"] == "agent"]["input_tokens"].isna().all()


def test_openlit_version_gate(tmp_path: Path) -> None:
    attrs = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
             "gen_ai.request.model": "claude-sonnet-4-6", "gen_ai.usage.input_tokens": 900,
             "gen_ai.usage.output_tokens": 10, "gen_ai.usage.cache_read.input_tokens": 100,
             "gen_ai.usage.cache_creation.input_tokens": 0}
    for version, want in ((None, 1000), ("1.40.2", 1000), ("9.0.0", 900)):
        p = tmp_path / f"openlit-{version}.otlp.jsonl"
        p.write_text(_request("openlit.instrumentation.anthropic",
                              [_span("00000000000000b1", "chat claude-sonnet-4-6", attrs)],
                              version) + "\n")
        df, _ = load_frame(p)
        assert int(_llm(df)["input_tokens"].iloc[0]) == want, version


def test_non_numeric_token_attribute_is_malformed(tmp_path: Path) -> None:
    p = tmp_path / "nan.otlp.jsonl"
    p.write_text(_request("x", [_span("00000000000000c1", "chat m", {
        "gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": "lots"})]) + "\n")
    df, rep = load_frame(p)
    assert len(df) == 0 and rep.malformed_count == 1
    with pytest.raises(InputError, match=r"nan\.otlp\.jsonl:1: .*not a token count"):
        load_frame(p, strict=True)


def test_llm_span_wrapping_several_calls_is_a_rollup(tmp_path: Path) -> None:
    t0 = 1_800_000_000_000_000_000
    usage = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"}
    parent = _span("00000000000000d1", "graph llm", {
        "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o",
        "llm.token_count.prompt": 300, "llm.token_count.completion": 30}, start=t0, dur_ms=900)
    kids = [_span(f"00000000000000d{i}", "chat gpt-4o", {
        **usage, "gen_ai.usage.input_tokens": 100 * i, "gen_ai.usage.output_tokens": 10 * i},
        parent="00000000000000d1", start=t0 + i * 300_000_000, dur_ms=200) for i in (2, 3)]
    p = tmp_path / "wrap.otlp.jsonl"
    p.write_text(_request("openinference.instrumentation.langchain", [parent]) + "\n"
                 + _request("opentelemetry.instrumentation.openai.v1", kids) + "\n")
    df, rep = load_frame(p)
    assert sorted(_llm(df)["input_tokens"]) == [200, 300]
    assert rep.duplicates[ROLLUP_REASON] == 1 and DUP_REASON not in rep.duplicates
    assert list(df[df["kind"] == "agent"]["name"]) == ["graph llm"]


def test_segments_can_be_skipped_without_changing_anything_else(authentic):
    """analyze without --steps/--explain-misses reads with segments=False: only the segments
    column differs."""
    from tests.conftest import load_frame

    folder = authentic / "openinference-anthropic"
    with_seg, rep1 = load_frame(folder)
    without, rep2 = load_frame(folder, segments=False)
    llm = with_seg["kind"] == "llm"
    assert with_seg.loc[llm, "segments"].notna().all() and llm.sum() >= 4
    assert without["segments"].isna().all()
    cols = [c for c in with_seg.columns if c not in ("segments", "tool_calls")]
    assert with_seg[cols].equals(without[cols])
    assert rep1.to_dict() == rep2.to_dict()


def test_careful_id_parsing_only_where_snake_case_ids_occur():
    from agentcost.ingest.otlp_decode import loads

    big = b'{"trace_id": 123456789012345678901234567890, "x": 1}'
    assert loads(big)["trace_id"] == 123456789012345678901234567890
    assert loads(b'\xef\xbb\xbf{"traceId": "ab"}', careful=False) == {"traceId": "ab"}
