"""Langfuse export reader, on the real framework traces in
shared/real-traces/langfuse-framework-traces (SOURCES.md §10).

Expected figures are recomputed here with plain ``json`` from the raw attributes / usage
details of the observations that are model calls. None of the real files has a non-zero cache
read, so the cache conventions are tested on copies of a real file with cache figures set.
"""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import pytest

from agentcost.errors import InputError
from agentcost.ingest import detect, langfuse, readers
from agentcost.ingest.base import Source
from tests.conftest import REAL, assert_invariants, load_frame

DIR = REAL / "langfuse-framework-traces"
FILES = sorted(DIR.glob("*.json"))


def _obs(name: str) -> list[dict]:
    return json.loads((DIR / name).read_text(encoding="utf-8"))["observations"]


def _attrs(o: dict) -> dict:
    md = o.get("metadata")
    if isinstance(md, str):
        try:
            md = json.loads(md)
        except ValueError:
            md = ast.literal_eval(md)
    return (md or {}).get("attributes") or {}


def _llm(name: str):  # type: ignore[no-untyped-def]
    df, rep = load_frame(DIR / name)
    return df, df[df["kind"] == "llm"], rep


def _tok(series) -> int:  # type: ignore[no-untyped-def]
    return int(series.fillna(0).sum())


# -- totals per file, recomputed from the raw observations ---------------------------------------

def test_openinference_attributes() -> None:
    """openai_agents / llama_index / google_genai spans: llm.token_count.* (prompt inclusive)."""
    for name in ("openai-agents-2025-09-30.json", "llamaindex-2025-06-05.json",
                 "google-gemini-2025-08-01.json", "google-adk-2025-08-28.json"):
        gens = [o for o in _obs(name) if o["type"] == "GENERATION"]
        _, llm, _ = _llm(name)
        assert len(llm) == len(gens)
        assert _tok(llm["input_tokens"]) == sum(int(_attrs(o)["llm.token_count.prompt"])
                                                for o in gens)
        assert _tok(llm["output_tokens"]) == sum(int(_attrs(o)["llm.token_count.completion"])
                                                 for o in gens)
    _, llm, _ = _llm("google-gemini-2025-08-01.json")
    assert (int(llm["output_tokens"].iloc[0]), int(llm["reasoning_tokens"].iloc[0])) == (2055, 1104)
    _, llm, _ = _llm("openai-agents-2025-09-30.json")
    assert llm["cache_read_tokens"].tolist() == [0, 0]  # reported zero, not unknown
    assert math.isclose(float(llm["reported_cost_usd"].sum()), 0.000632, rel_tol=1e-9)
    assert sorted(t for tc in llm["tool_calls"] for t in tc) == ["get_weather"]


def test_genai_attributes_and_rollups() -> None:
    """pydantic-ai / AG2: gen_ai.usage.* on the chat spans; the agent-run spans' sums are
    roll-ups and are not counted again."""
    for name, rollups in (("pydantic-ai-tools-2025-12-04.json", 3),
                          ("pydantic-ai-trace-2025-06-06.json", 1),
                          ("ag2-2026-03-09.json", 1)):
        gens = [o for o in _obs(name) if o["type"] == "GENERATION"]
        df, llm, rep = _llm(name)
        assert _tok(llm["input_tokens"]) == sum(int(_attrs(o)["gen_ai.usage.input_tokens"])
                                                for o in gens)
        assert _tok(llm["output_tokens"]) == sum(int(_attrs(o)["gen_ai.usage.output_tokens"])
                                                 for o in gens)
        assert rep.duplicates[langfuse.DROP_ROLLUP] == rollups
        assert df.loc[df["kind"] != "llm", "input_tokens"].isna().all()
        assert_invariants(df)
    df, llm, _ = _llm("pydantic-ai-tools-2025-12-04.json")
    assert _tok(llm["input_tokens"]) == 1315
    assert sorted(df.loc[df["kind"] == "tool", "name"]) == [
        "get_dad_joke_suggestion", "get_one_liner_suggestion", "get_pun_suggestion"]


def test_langfuse_sdk_usage_details() -> None:
    """LangChain via the Langfuse SDK: usageDetails with input_* / output_* details."""
    gens = [o for o in _obs("langgraph-2025-08-22.json") if o["type"] == "GENERATION"]
    df, llm, _ = _llm("langgraph-2025-08-22.json")
    u = [o["usageDetails"] for o in gens]
    assert _tok(llm["input_tokens"]) == sum(x["input"] + x["input_cache_read"] + x["input_audio"]
                                            for x in u) == 168
    assert _tok(llm["output_tokens"]) == sum(x["output"] + x["output_reasoning"]
                                             + x["output_audio"] for x in u) == 66
    # the tool the first call asked for is recorded as a plain span: it is the tool step
    assert df.loc[df["kind"] == "tool", "name"].tolist() == ["Web-Search"]


def test_wrapped_generation_counted_once() -> None:
    """agno: the OpenInference OpenAIChat.invoke generation wraps the Langfuse OpenAI
    wrapper's generation of the same call; the inner one (reported usage) is kept."""
    obs = _obs("agno-2025-06-11.json")
    inner = [o for o in obs if o["type"] == "GENERATION" and "langfuse" in str(o["metadata"])]
    df, llm, rep = _llm("agno-2025-06-11.json")
    assert len(llm) == len(inner) == 2
    assert _tok(llm["input_tokens"]) == sum(o["usageDetails"]["input"] for o in inner) == 826
    assert rep.duplicates[langfuse.DROP_WRAPPER] == 2
    assert (df["name"] == "OpenAIChat.invoke").sum() == 2  # kept as agent steps


def test_inferred_usage_is_unknown() -> None:
    """koog / microsoft agent_framework / beeai report no usage attributes: Langfuse's
    usageDetails there come from its tokenizer and are not used."""
    _, llm, rep = _llm("koog-2025-08-26.json")
    assert len(llm) == 2 and llm["input_tokens"].isna().all()
    assert llm["reported_cost_usd"].isna().all()
    assert any("inferred" in n for n in rep.notes)
    _, llm, _ = _llm("microsoft-agent-2025-10-14.json")
    assert llm["input_tokens"].tolist()[1] == 631 and pd_isna(llm["input_tokens"].tolist()[0])
    df, llm, rep = _llm("beeai-2025-08-01.json")
    assert len(llm) == 3 and llm["input_tokens"].isna().all()
    assert rep.duplicates[langfuse.DROP_EVENT_MARKER] == 4
    # the start marker with a success/finish marker ends there; the others' end is unknown
    assert llm["duration_ms"].notna().sum() == 1
    assert (df["kind"] == "tool").sum() == 1


def pd_isna(v: object) -> bool:
    import pandas as pd

    return bool(pd.isna(v))


def test_all_real_files() -> None:
    df, rep = load_frame(DIR)
    assert rep.malformed_count == 0
    assert df["task_id"].nunique() == len(FILES)
    assert_invariants(df)
    llm = df[df["kind"] == "llm"]
    assert set(llm["provider"].dropna()) == {"openai", "google"}


# -- cache conventions ---------------------------------------------------------------------------

def _write(tmp_path: Path, name: str, doc: dict) -> Path:
    f = tmp_path / name
    f.write_text(json.dumps(doc), encoding="utf-8")
    return f


def test_cache_reads_openinference_and_sdk_conventions(tmp_path: Path) -> None:
    # OpenInference attributes: llm.token_count.prompt already includes the cache read
    doc = json.loads((DIR / "openai-agents-2025-09-30.json").read_text(encoding="utf-8"))
    gen = next(o for o in doc["observations"] if o["id"].startswith("90d94774"))
    attrs = gen["metadata"]["attributes"]
    attrs["llm.token_count.prompt"] = "2085"
    attrs["llm.token_count.prompt_details.cache_read"] = "1920"
    gen["metadata"] = repr(gen["metadata"])  # as a Python repr string, as some exports have it
    df, _ = load_frame(_write(tmp_path, "oi.json", doc))
    row = df[df["span_id"] == gen["id"]].iloc[0]
    assert (row["input_tokens"], row["cache_read_tokens"]) == (2085, 1920)
    assert row["uncached_input_tokens"] == 165
    # Langfuse SDK usageDetails: input excludes input_cache_read (total says so)
    doc = json.loads((DIR / "langgraph-2025-08-22.json").read_text(encoding="utf-8"))
    gen = next(o for o in doc["observations"] if o["type"] == "GENERATION")
    gen["usageDetails"] = {"input": 40, "input_cache_read": 1024, "input_audio": 0,
                           "output": 10, "output_reasoning": 5, "total": 1079}
    df, _ = load_frame(_write(tmp_path, "sdk.json", doc))
    row = df[df["span_id"] == gen["id"]].iloc[0]
    assert (row["input_tokens"], row["cache_read_tokens"]) == (1064, 1024)
    assert (row["output_tokens"], row["reasoning_tokens"]) == (15, 5)
    # ... unless input + output already make the total (an inclusive instrumentation)
    gen["usageDetails"] = {"input": 1064, "input_cache_read": 1024, "output": 15, "total": 1079}
    df, _ = load_frame(_write(tmp_path, "sdk2.json", doc))
    row = df[df["span_id"] == gen["id"]].iloc[0]
    assert (row["input_tokens"], row["cache_read_tokens"]) == (1064, 1024)
    assert_invariants(df)


def test_cache_reads_genai_anthropic_exclusive(tmp_path: Path) -> None:
    """A GenAI span whose input count excludes cache (older Anthropic instrumentations):
    reads + writes above the input count are added to it."""
    doc = json.loads((DIR / "pydantic-ai-trace-2025-06-06.json").read_text(encoding="utf-8"))
    gen = next(o for o in doc["observations"] if o["type"] == "GENERATION")
    a = gen["metadata"]["attributes"]
    a.update({"gen_ai.system": "anthropic", "gen_ai.request.model": "claude-sonnet-4-5",
              "gen_ai.usage.input_tokens": "31", "gen_ai.usage.cache_read.input_tokens": "4000",
              "gen_ai.usage.cache_creation.input_tokens": "500"})
    df, rep = load_frame(_write(tmp_path, "anth.json", doc))
    row = df[df["kind"] == "llm"].iloc[0]
    assert (row["input_tokens"], row["cache_read_tokens"], row["cache_write_tokens"]) == \
        (4531, 4000, 500)
    assert row["provider"] == "anthropic"
    assert any("outside the prompt count" in n for n in rep.notes)


# -- malformed input and sniffing ----------------------------------------------------------------

def test_broken_file_is_one_malformed_record(tmp_path: Path) -> None:
    f = tmp_path / "trace.json"
    f.write_bytes((DIR / "koog-2025-08-26.json").read_bytes()[:9000])
    df, rep = load_frame(f)
    assert len(df) == 0 and rep.malformed_count == 1
    assert rep.malformed[0].startswith(str(f))
    with pytest.raises(InputError):
        load_frame(f, strict=True)


def test_observation_without_type(tmp_path: Path) -> None:
    doc = json.loads((DIR / "autogen-2025-06-06.json").read_text(encoding="utf-8"))
    del doc["observations"][0]["type"]
    df, rep = load_frame(_write(tmp_path, "t.json", doc))
    assert rep.malformed_count == 1 and len(df) == 1


def test_sniff_only_langfuse_files(real: Path) -> None:
    table = readers()
    for p in sorted(real.rglob("*")):
        if not p.is_file() or p.suffix not in (".json", ".jsonl", ".traj"):
            continue
        src = Source(name=str(p), path=p)
        mine = p.parent == DIR
        assert (langfuse.READER.sniff(src) > 0) == mine, p
        if mine:
            assert detect(src, table) is langfuse.READER
