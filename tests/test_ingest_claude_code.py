"""Claude Code reader, on the real session logs in shared/real-traces (SOURCES.md §1–§2).

Expected totals are computed here by an independent dedupe (plain ``json``, calls keyed by
``requestId`` first, max output per key) and compared with the reader for every real file.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from agentcost.errors import InputError
from agentcost.ingest import claude_code as cc
from agentcost.ingest import claude_code_pool as ccp
from agentcost.ingest import claude_code_records as ccr
from agentcost.ingest import claude_code_scan as ccs
from agentcost.ingest.base import Source
from tests.conftest import REAL, assert_invariants, load_frame

SPOTTER = REAL / "claude-code-spotter"
CODEMIE = REAL / "claude-code-codemie"
BIG_ID = "4d5611e5-241a-462a-8d15-5122611a9569"
BIG = SPOTTER / f"{BIG_ID}.jsonl"
BIG_SUB = SPOTTER / BIG_ID / "subagents" / "agent-a2898e3.jsonl"
V064 = CODEMIE / "metrics-v2.0.64" / "-tmp-private"
V064_ID = "4c2ddfdc-b619-4525-8d03-1950fb1b0257"
ALL_FILES = sorted([*SPOTTER.rglob("*.jsonl"), *CODEMIE.rglob("*.jsonl")])
FIELDS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_5m_tokens",
          "cache_write_1h_tokens", "output_tokens")


# -- the independent dedupe -------------------------------------------------------------------
def _calls(paths: list[Path]) -> dict[str, dict]:
    """Every API call once: top-level assistant lines by requestId (else message id, else
    uuid) with the max output; subagent calls mirrored in progress lines only where no
    top-level line has them."""
    top: dict[str, dict] = {}
    mirrored: dict[str, dict] = {}

    def put(table: dict[str, dict], line: dict, msg: dict) -> None:
        if msg.get("model") == "<synthetic>" or not isinstance(msg.get("usage"), dict):
            return
        key = line.get("requestId") or msg.get("id") or line.get("uuid")
        u = msg["usage"]
        if key not in table or u.get("output_tokens", 0) >= table[key].get("output_tokens", 0):
            table[key] = u

    for p in paths:
        with open(p, encoding="utf-8") as fh:
            for text in fh:
                if not text.strip():
                    continue
                line = json.loads(text)
                if line.get("type") == "assistant":
                    put(top, line, line["message"])
                elif line.get("type") == "progress":
                    data = line.get("data") or {}
                    nested = data.get("message") or {}
                    if data.get("type") == "agent_progress" and nested.get("type") == "assistant":
                        put(mirrored, nested, nested["message"])
    for k, u in mirrored.items():
        top.setdefault(k, u)
    return top


def _totals(calls: dict[str, dict]) -> dict[str, int]:
    t = Counter()
    for u in calls.values():
        raw = u.get("input_tokens", 0)
        cr = u.get("cache_read_input_tokens", 0) or 0
        cw = u.get("cache_creation_input_tokens", 0) or 0
        split = u.get("cache_creation") or {}
        w1 = split.get("ephemeral_1h_input_tokens", 0) or 0
        t["input_tokens"] += raw + cr + cw
        t["cache_read_tokens"] += cr
        t["cache_write_tokens"] += cw
        t["cache_write_1h_tokens"] += w1
        t["cache_write_5m_tokens"] += cw - w1
        t["output_tokens"] += u.get("output_tokens", 0)
    t["calls"] = len(calls)
    return dict(t)


def _reader_totals(df) -> dict[str, int]:
    llm = df[df["kind"] == "llm"]
    out = {c: int(llm[c].sum()) for c in FIELDS}
    out["calls"] = len(llm)
    return out


def _lines(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(t) for t in fh if t.strip()]


def _write(path: Path, objs: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(o) + "\n" for o in objs), encoding="utf-8")
    return path


def _ns(ts: str) -> int:
    dt = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return int(dt.timestamp()) * 1_000_000_000 + dt.microsecond * 1000


# -- tests ------------------------------------------------------------------------------------
def test_real_files_present(real):
    assert BIG.is_file() and BIG_SUB.is_file() and len(ALL_FILES) == 14


def test_sniff_real_files_and_nothing_else(real):
    for p in ALL_FILES:
        assert cc.READER.sniff(Source(name=str(p), path=p)) >= 80, p
    others = [p for p in real.rglob("*") if p.is_file() and "claude-code" not in str(p)
              and p.suffix in (".json", ".jsonl", ".traj")]
    assert others
    for p in others:
        assert cc.READER.sniff(Source(name=str(p), path=p)) == 0, p


def test_big_session_totals(real):
    df, report = load_frame(BIG)
    main = df[(df["kind"] == "llm") & (df["task_id"] == BIG_ID)]
    got = {c: int(main[c].sum()) for c in FIELDS}
    assert len(main) == 139
    assert got["cache_read_tokens"] == 11_618_567
    assert got["cache_write_tokens"] == 479_537
    assert got["input_tokens"] == 177 + 479_537 + 11_618_567
    assert got["output_tokens"] >= 7_933
    indep = _totals({k: u for k, u in _calls([BIG]).items() if k.startswith("req_")
                     and k in set(main["span_id"])})
    assert indep["calls"] == 139
    assert got == {c: indep[c] for c in FIELDS}
    assert got["output_tokens"] == 28_755  # verified by the independent dedupe above
    assert report.duplicates["claude-code: streamed partial line"] >= 254 - 139


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(REAL)))
def test_each_real_file_matches_independent_dedupe(real, path):
    df, report = load_frame(path)
    assert _reader_totals(df) == _totals(_calls([path]))
    assert_invariants(df)
    assert report.malformed_count == 0
    with open(path, "rb") as fh:
        assert report.lines_read == sum(1 for t in fh if t.strip())


def test_whole_folders_match_independent_dedupe(real):
    df, report = load_frame(SPOTTER, CODEMIE)
    assert _reader_totals(df) == _totals(_calls(ALL_FILES))
    assert_invariants(df)
    # every usage-bearing line is either counted or accounted for (mirror lines in progress
    # lines only where they are the sole copy; the others are reported as progress copies)
    only = _progress_only_keys()
    usage_lines = 0
    for p in ALL_FILES:
        for o in _lines(p):
            if o.get("type") == "assistant" and "usage" in o["message"]:
                usage_lines += 1
            elif o.get("type") == "progress" and (o.get("data") or {}).get("type") == \
                    "agent_progress" and o["data"]["message"].get("requestId") in only:
                usage_lines += 1
    d = report.duplicates
    assert usage_lines == (int((df["kind"] == "llm").sum())
                           + d["claude-code: streamed partial line"]
                           + d["claude-code: resumed-session copy"]
                           + d["claude-code: sidechain copy"]
                           + d["claude-code: synthetic message (not an API call)"])
    assert d["claude-code: subagent progress copy"] == 33  # mirrored in the big session


def _progress_only_keys() -> set[str]:
    top, mirrored = set(), set()
    for p in ALL_FILES:
        for o in _lines(p):
            if o.get("type") == "assistant":
                top.add(o.get("requestId") or o["message"]["id"])
            elif o.get("type") == "progress" and (o.get("data") or {}).get("type") == \
                    "agent_progress" and o["data"]["message"].get("type") == "assistant":
                mirrored.add(o["data"]["message"].get("requestId"))
    return mirrored - top


def test_cache_write_split_kept(real):
    df, _ = load_frame(SPOTTER / "short.jsonl", SPOTTER / "tool_heavy.jsonl", BIG)
    llm = df[df["kind"] == "llm"]
    assert ((llm["cache_write_5m_tokens"] + llm["cache_write_1h_tokens"])
            == llm["cache_write_tokens"]).all()
    short = llm[llm["task_id"] == "55604662-cf2a-4331-851a-ec234028f8ca"]
    assert int(short["cache_write_1h_tokens"].sum()) == 13_835
    assert int(short["cache_write_5m_tokens"].sum()) == 0
    big = llm[llm["task_id"] == BIG_ID]
    assert int(big["cache_write_5m_tokens"].sum()) == 479_537
    assert set(llm["service_tier"].dropna()) == {"standard"}
    # 2.0.x logs have no split: the write is 5m (the default TTL)
    df2, _ = load_frame(V064 / f"{V064_ID}.jsonl")
    l2 = df2[df2["kind"] == "llm"]
    assert (l2["cache_write_5m_tokens"] == l2["cache_write_tokens"]).all()
    assert l2["service_tier"].isna().all()


def test_subagents_are_tasks_linked_to_parent(real):
    df, report = load_frame(SPOTTER)
    llm = df[df["kind"] == "llm"]
    sub = llm[llm["task_id"] == f"{BIG_ID}/agent-a2898e3"]
    assert len(sub) == 12
    assert set(sub["parent_task_id"]) == {BIG_ID} and set(sub["session_id"]) == {BIG_ID}
    assert set(sub["model"]) == {"claude-sonnet-4-5-20250929"}
    compact = llm[llm["task_id"] == f"{BIG_ID}/agent-acompact-e1f845"]
    assert len(compact) == 1 and set(compact["parent_task_id"]) == {BIG_ID}
    main = llm[llm["task_id"] == BIG_ID]
    assert main["parent_task_id"].isna().all() and set(main["session_id"]) == {BIG_ID}
    # the subagent calls mirrored in the parent's progress lines were not counted twice
    assert report.duplicates["claude-code: subagent progress copy"] == 33
    # 2.0.64 layout: agent-<id>.jsonl beside the session file
    df2, _ = load_frame(V064)
    tasks = set(df2["task_id"])
    assert tasks == {V064_ID, f"{V064_ID}/agent-36541525", f"{V064_ID}/agent-50243ee8"}
    assert set(df2.loc[df2["task_id"] != V064_ID, "parent_task_id"]) == {V064_ID}
    # 2.1.7 incremental layout: turn-2.jsonl + turn-2/subagents/agent-a485154.jsonl
    df3, _ = load_frame(CODEMIE / "incremental-subagents")
    sid = "e9fb405b-169f-40eb-9396-7e75076f045d"
    assert set(df3["task_id"]) == {sid, f"{sid}/agent-a485154"}


def test_subagent_known_only_from_progress_lines(real):
    # spotter's subagent.jsonl was copied without its subagents folder
    df, report = load_frame(SPOTTER / "subagent.jsonl")
    sid = "491e126e-1e71-469c-ade2-fcc8af567c74"
    sub = df[(df["kind"] == "llm") & (df["task_id"] == f"{sid}/agent-afb92ff")]
    assert len(sub) == 5 and set(sub["parent_task_id"]) == {sid}
    assert any("known only from progress" in n for n in report.notes)
    # the big session alone: its subagent comes from progress (11 of its 12 calls)
    df2, _ = load_frame(BIG)
    assert int((df2["task_id"] == f"{BIG_ID}/agent-a2898e3").sum()) >= 11


def test_resumed_session_copy_counted_once(real, tmp_path):
    original = _lines(SPOTTER / "tool_heavy.jsonl")
    sid = original[1]["sessionId"] if "sessionId" in original[1] else original[2]["sessionId"]
    new_sid = "99999999-0000-4000-8000-000000000000"
    resumed = [dict(o, sessionId=new_sid) if "sessionId" in o else o for o in original]
    last = next(o for o in reversed(original) if o.get("type") == "assistant")
    extra = json.loads(json.dumps(last))
    extra.update(sessionId=new_sid, requestId="req_resumed_extra", uuid="u-extra",
                 timestamp="2026-02-11T09:00:00.000Z")
    extra["message"]["id"] = "msg_resumed_extra"
    extra["message"]["content"] = [{"type": "text", "text": "done"}]
    extra["message"]["usage"] = {"input_tokens": 10, "cache_read_input_tokens": 100,
                                 "cache_creation_input_tokens": 0, "output_tokens": 5}
    resumed.append(extra)
    # the resumed file sorts first in input order: the original must still win
    a = _write(tmp_path / "b-original.jsonl", original)
    b = _write(tmp_path / "a-resumed.jsonl", resumed)
    df, report = load_frame(tmp_path)
    llm = df[df["kind"] == "llm"]
    one, _ = load_frame(a)
    assert len(llm) == int((one["kind"] == "llm").sum()) + 1
    assert set(llm.loc[llm["span_id"] != "req_resumed_extra", "task_id"]) == {sid}
    assert set(llm.loc[llm["span_id"] == "req_resumed_extra", "task_id"]) == {new_sid}
    copies = sum(1 for o in original if o.get("type") == "assistant")
    assert report.duplicates["claude-code: resumed-session copy"] == copies
    # tool steps of the copied calls are not doubled either
    assert int((df["kind"] == "tool").sum()) == int((one["kind"] == "tool").sum())
    assert _reader_totals(df) == _totals(_calls([a, b]))


def test_main_chain_copy_preferred_over_sidechain(real, tmp_path):
    lines = _lines(SPOTTER / "short.jsonl")
    sid = next(o["sessionId"] for o in lines if "sessionId" in o)
    asst = [o for o in lines if o.get("type") == "assistant"]
    side = [dict(o, isSidechain=True, agentId="zz1") for o in asst]
    _write(tmp_path / "proj" / "agent-zz1.jsonl", side)  # read first
    _write(tmp_path / "proj" / "main.jsonl", lines)
    df, report = load_frame(tmp_path / "proj")
    llm = df[df["kind"] == "llm"]
    assert set(llm["task_id"]) == {sid}
    assert len(llm) == len({o["requestId"] for o in asst})
    assert report.duplicates["claude-code: sidechain copy"] == len(asst)


def test_bedrock_converse_line_without_request_id(real):
    df, _ = load_frame(V064 / "agent-50243ee8.jsonl")
    llm = df[df["kind"] == "llm"]
    assert len(llm) == 1
    r = llm.iloc[0]
    assert r["model"] == "converse/jp.anthropic.claude-haiku-4-5-20251001-v1:0"
    assert r["provider"] == "anthropic"
    assert (r["input_tokens"], r["cache_read_tokens"], r["cache_write_tokens"],
            r["output_tokens"]) == (16_878, 0, 0, 237)
    line = _lines(V064 / "agent-50243ee8.jsonl")[-1]
    assert "requestId" not in line
    assert r["span_id"] == line["message"]["id"]
    assert r["task_id"] == f"{V064_ID}/agent-50243ee8"


def test_lines_without_any_id_are_counted_by_uuid(tmp_path):
    base = {"sessionId": "s1", "type": "assistant", "isSidechain": False,
            "timestamp": "2026-01-01T00:00:01.000Z"}
    objs = [
        dict(base, uuid="u1", message={"model": "claude-x", "role": "assistant",
                                       "usage": {"input_tokens": 5, "output_tokens": 1}}),
        dict(base, uuid="u2", message={"model": "claude-x", "role": "assistant",
                                       "usage": {"input_tokens": 7, "output_tokens": 2}}),
        dict(base, uuid="u3", message={"model": "<synthetic>", "role": "assistant",
                                       "usage": {"input_tokens": 0, "output_tokens": 0}}),
    ]
    df, report = load_frame(_write(tmp_path / "s1.jsonl", objs), input_format="claude-code")
    assert sorted(df["input_tokens"].tolist()) == [5, 7]
    assert report.duplicates["claude-code: synthetic message (not an API call)"] == 1


def test_tool_steps(real):
    df, _ = load_frame(SPOTTER / "tool_heavy.jsonl")
    lines = _lines(SPOTTER / "tool_heavy.jsonl")
    uses, results = {}, {}
    for o in lines:
        content = (o.get("message") or {}).get("content")
        if not isinstance(content, list):
            continue
        for b in content:
            if o["type"] == "assistant" and b.get("type") == "tool_use":
                uses.setdefault(b["id"], (b, o))
            if o["type"] == "user" and b.get("type") == "tool_result":
                results.setdefault(b["tool_use_id"], (b, o))
    tools = df[df["kind"] == "tool"].set_index("tool_call_id")
    assert set(tools.index) == set(uses)
    llm = df[df["kind"] == "llm"]
    for tid, (block, line) in uses.items():
        t = tools.loc[tid]
        assert t["name"] == block["name"]
        canon = json.dumps(block["input"], sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
        assert t["tool_input_hash"] == hashlib.sha1(canon.encode()).hexdigest()[:16]
        assert t["started_at"].value == _ns(line["timestamp"])
        assert t["parent_id"] == line["requestId"]
        assert t["parent_id"] in set(llm["span_id"])
        res = results.get(tid)
        if res:
            assert t["ended_at"].value == _ns(res[1]["timestamp"])
            assert bool(t["is_error"]) == bool(res[0].get("is_error"))
    # tool_calls of each llm step name its tool steps
    for _, r in llm.iterrows():
        mine = tools[tools["parent_id"] == r["span_id"]]
        assert sorted(r["tool_calls"]) == sorted(mine["name"])


def test_is_error_counted(real):
    path = CODEMIE / "session-3fe1b6bc.jsonl"
    df, _ = load_frame(path)
    errs = set()
    for o in _lines(path):
        c = (o.get("message") or {}).get("content")
        if o.get("type") == "user" and isinstance(c, list):
            errs |= {b["tool_use_id"] for b in c
                     if b.get("type") == "tool_result" and b.get("is_error")}
    tools = df[df["kind"] == "tool"]
    assert errs
    assert set(tools.loc[tools["is_error"].fillna(False).astype(bool), "tool_call_id"]) == errs


def test_llm_latency_from_timestamps(real):
    lines = _lines(SPOTTER / "tool_heavy.jsonl")
    by_uuid = {o["uuid"]: o for o in lines if "uuid" in o}
    df, _ = load_frame(SPOTTER / "tool_heavy.jsonl")
    llm = df[df["kind"] == "llm"].set_index("span_id")
    groups: dict[str, list[dict]] = {}
    for o in lines:
        if o.get("type") == "assistant":
            groups.setdefault(o["requestId"], []).append(o)
    for req, g in groups.items():
        r = llm.loc[req]
        parent = by_uuid[g[0]["parentUuid"]]
        assert r["started_at"].value == _ns(parent["timestamp"])
        assert r["ended_at"].value == _ns(g[-1]["timestamp"])
        if len(g) > 1:
            assert r["ttft_ms"] == pytest.approx(
                (_ns(g[0]["timestamp"]) - _ns(parent["timestamp"])) / 1e6)
        else:
            assert pd.isna(r["ttft_ms"])
    assert (df["duration_ms"].dropna() >= 0).all()


def test_no_content_in_rows(real):
    df, _ = load_frame(SPOTTER)
    for col in ("task_id", "span_id", "parent_id", "name", "model", "stop_reason",
                "tool_input_hash", "tool_call_id", "session_id", "parent_task_id"):
        vals = df[col].dropna().astype(str)
        assert (vals.str.len() < 120).all(), col


def test_malformed_and_truncated_lines(real, tmp_path):
    raw = (SPOTTER / "short.jsonl").read_bytes().splitlines(keepends=True)
    usage_idx = next(i for i, t in enumerate(raw) if b'"usage"' in t)
    plain_idx = next(i for i, t in enumerate(raw) if b'"usage"' not in t and i > 0)
    bad = list(raw)
    bad[plain_idx] = raw[plain_idx][: len(raw[plain_idx]) // 2] + b"\n"  # cut, skipped kind
    bad[usage_idx] = raw[usage_idx][:-40] + b"\n"  # cut inside a usage line
    bad.append(raw[-1][:50])  # truncated last line, no newline
    path = tmp_path / "broken.jsonl"
    path.write_bytes(b"".join(bad))
    df, report = load_frame(path)
    assert report.malformed_count == 3
    locs = {m.split(": ", 1)[0] for m in report.malformed}
    assert locs == {f"{path}:{plain_idx + 1}", f"{path}:{usage_idx + 1}",
                    f"{path}:{len(bad)}"}
    assert any("truncated" in m for m in report.malformed)
    assert (df["kind"] == "llm").sum() >= 1
    with pytest.raises(InputError) as exc:
        load_frame(path, strict=True)
    assert exc.value.location == f"{path}:{min(plain_idx, usage_idx) + 1}"


def test_since_until_prune(real):
    df_all, _ = load_frame(BIG)
    llm = df_all[df_all["kind"] == "llm"]
    mid = llm["started_at"].sort_values().iloc[70]
    since = mid.isoformat()
    df, report = load_frame(BIG, since=since)
    assert len(df) > 0 and (df["started_at"].dropna() >= mid).all()
    assert report.outside_window == int((df_all["started_at"] < mid).sum())
    until = mid.isoformat()
    df2, report2 = load_frame(BIG, until=until)
    assert (df2["started_at"].dropna() < mid).all()
    assert len(df) + len(df2) == len(df_all)


def test_pool_scan_equals_serial(real, monkeypatch):
    monkeypatch.setenv("AGENTCOST_JOBS", "1")
    serial, rep1 = load_frame(SPOTTER, CODEMIE)
    monkeypatch.setenv("AGENTCOST_JOBS", "2")
    monkeypatch.setattr(ccp, "_POOL_MIN_BYTES", 0)
    pooled, rep2 = load_frame(SPOTTER, CODEMIE)
    cols = [c for c in serial.columns if c != "tool_calls"]
    assert serial[cols].equals(pooled[cols])
    assert list(serial["tool_calls"]) == list(pooled["tool_calls"])
    assert rep1.to_dict() == rep2.to_dict()


def test_timestamp_fast_path_matches_to_utc_ns():
    from agentcost.steps import to_utc_ns

    for ts in ("2026-02-12T16:02:25.227Z", "2025-12-10T19:37:48.019Z",
               "2026-02-12T16:02:25Z", "2026-02-12T16:02:25.123456789Z",
               "2026-02-12T18:02:25.227+02:00"):
        assert ccr.ns(ts) == to_utc_ns(ts), ts
    assert ccr.ns(None) is None and ccr.ns("not a time") is None


def test_empty_and_non_claude_lines_do_not_crash(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"sessionId":"s","type":"summary","summary":"x","leafUuid":"u"}\n\n'
                 '{"hello": "world"}\n[1,2]\n', encoding="utf-8")
    df, report = load_frame(p, input_format="claude-code")
    assert len(df) == 0
    assert report.malformed_count == 1  # the array line


def test_gzip_and_copy_in_folder(real, tmp_path):
    import gzip

    dst = tmp_path / "proj"
    shutil.copytree(V064, dst)
    f = dst / f"{V064_ID}.jsonl"
    with gzip.open(str(f) + ".gz", "wb") as gz:
        gz.write(f.read_bytes())
    f.unlink()
    df, _ = load_frame(dst)
    ref, _ = load_frame(V064)
    assert _reader_totals(df) == _reader_totals(ref)
    assert set(df["task_id"]) == set(ref["task_id"])


def _scan_state(scan):  # type: ignore[no-untyped-def]
    return (scan.lines, scan.first_ts, scan.last_ts, scan.results, scan.malformed,
            scan.synthetic, scan.mirrored, scan.untyped, scan.unread, scan.notes,
            [c.__getstate__() for c in scan.calls])


def test_fast_paths_equal_full_decoding(real):
    # every real file scans to the same calls, results, counts and notes with the byte-level
    # shortcuts as with a full decode of every line
    for p in ALL_FILES:
        src = Source(name=str(p), path=p)
        fast = ccs.Scanner(src, 0).run()
        slow = ccs.Scanner(src, 0, fast=False).run()
        assert _scan_state(fast) == _scan_state(slow), p.name
    # and line by line: every tool_result line read without decoding gives what decoding does
    for p in ALL_FILES:
        scanner = ccs.Scanner(Source(name=str(p), path=p), 0)
        for raw in p.read_bytes().splitlines(keepends=True):
            if ccs._kind(raw) != ccs._TOOL_RESULT:
                continue
            obj = json.loads(raw)
            scanner.scan.results.clear()
            got = scanner._fast_result(raw)
            if got is None:
                continue
            assert got == (obj["uuid"], obj["timestamp"])
            blocks = [b for b in obj["message"]["content"] if b.get("type") == "tool_result"]
            assert len(blocks) == 1
            ((tid, (ended, err)),) = scanner.scan.results.items()
            assert tid == blocks[0]["tool_use_id"] and err == bool(blocks[0].get("is_error"))
            assert ended == _ns(obj["timestamp"])


def test_corrupt_gzip_is_an_input_error(real, tmp_path):
    import gzip

    blob = gzip.compress((SPOTTER / "tool_heavy.jsonl").read_bytes())
    p = tmp_path / "s.jsonl.gz"
    p.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(InputError) as exc:
        load_frame(p)
    assert "s.jsonl.gz" in str(exc.value)


def test_assistant_lines_take_the_content_free_path(real):
    """Claude Code writes the message's ``"type":"message"`` before the line's own
    ``"type":"assistant"``: such lines must still be read as assistant lines (content cut out
    before decoding), not decoded whole as unknown lines."""
    n = 0
    for p in ALL_FILES:
        for raw in p.read_bytes().splitlines(keepends=True):
            try:
                obj = json.loads(raw)
            except ValueError:
                continue
            if isinstance(obj, dict) and obj.get("type") == "assistant":
                n += 1
                assert ccs._kind(raw) == ccs._DECODE_ASSISTANT, raw[:200]
    assert n > 500


def test_table_fast_path_equals_checked_row_path(real):
    """read_table's columns (built without per-row dicts or the ingest loop's checks) give the
    same frame as the reader's rows fed through the generic checked path."""
    from agentcost.ingest import _consume, resolve_sources
    from agentcost.ingest.base import IngestContext
    from agentcost.steps import StepBuilder, build_frame

    fast, _ = load_frame(SPOTTER, CODEMIE)
    srcs = [s for s, _ in resolve_sources([str(SPOTTER), str(CODEMIE)])
            if cc.READER.sniff(s)]
    ctx = IngestContext()
    builder = StepBuilder()
    _consume(cc.READER.read_many(srcs, ctx), builder, ctx, cc.FORMAT, srcs)
    slow = build_frame(builder)
    assert len(fast) == len(slow) > 500
    cols = [c for c in fast.columns if c != "tool_calls"]
    assert fast[cols].equals(slow[cols])
    assert list(fast["tool_calls"]) == list(slow["tool_calls"])


def test_bad_token_counts_are_reported_by_the_worker(tmp_path):
    line = {"parentUuid": None, "isSidechain": False, "sessionId": "s1", "type": "assistant",
            "uuid": "u1", "timestamp": "2026-02-12T16:02:25.227Z", "requestId": "r1",
            "message": {"id": "m1", "model": "claude-opus-4-6", "role": "assistant",
                        "type": "message", "content": [],
                        "usage": {"input_tokens": 10, "output_tokens": -5,
                                  "cache_read_input_tokens": 0}}}
    p = _write(tmp_path / "s1.jsonl", [line])
    df, report = load_frame(p)
    assert len(df) == 0 and report.malformed_count == 1
    assert "output_tokens is negative" in report.malformed[0]
    assert report.malformed[0].startswith(f"{p}:1: ")
    with pytest.raises(InputError):
        load_frame(p, strict=True)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_progress_is_reported_file_by_file(real, monkeypatch, jobs):
    monkeypatch.setenv("AGENTCOST_JOBS", jobs)
    monkeypatch.setattr(ccp, "_POOL_MIN_BYTES", 0)
    calls: list[tuple[int, int]] = []
    load_frame(SPOTTER, progress=lambda done, total: calls.append((done, total)))
    files = list(SPOTTER.rglob("*.jsonl"))
    total = sum(f.stat().st_size for f in files)
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    # one step per file (serial) or per batch of files (pool), not one jump at the end
    steps = len(files) if jobs == "1" else len(ccp._batches([f.stat().st_size for f in files], 2))
    assert steps >= 2 and len({d for d, _ in calls}) >= steps + 1
    assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:], strict=False))



def test_usage_fast_path_equals_general_conversion():
    """The worker's fast usage conversion gives exactly what usage.anthropic + check_tokens
    give, or defers to them (None) — for every shape, valid or not."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from agentcost.ingest import usage as U
    from agentcost.steps import MAX_TOKENS_PER_CALL, check_tokens

    num = st.one_of(st.integers(-5, 3000), st.just(MAX_TOKENS_PER_CALL), st.none(),
                    st.booleans(), st.floats(0, 10), st.text(max_size=3))
    split = st.one_of(st.none(), st.just("x"), st.fixed_dictionaries(
        {}, optional={"ephemeral_5m_input_tokens": num, "ephemeral_1h_input_tokens": num}))
    usage = st.fixed_dictionaries({}, optional={
        "input_tokens": num, "cache_read_input_tokens": num,
        "cache_creation_input_tokens": num, "output_tokens": num, "cache_creation": split,
        "service_tier": st.one_of(st.none(), st.just("standard"), st.just(""), st.just(3)),
        "output_tokens_details": st.just({"thinking_tokens": 5})})

    def slow(u):
        try:
            row = U.anthropic(u)
        except ValueError:
            return "error"
        if check_tokens(row, "x"):
            return "error"
        return tuple(row.get(k) for k in ccs.USAGE_COLS)

    @settings(max_examples=3000, deadline=None)
    @given(usage)
    def check(u):
        fast = ccr.usage_fast(u)
        if fast is not None:
            assert fast == slow(dict(u)), u

    check()
    # and the real logs take the fast path
    real_usage = []
    for p in ALL_FILES:
        for obj in _lines(p):
            if obj.get("type") == "assistant" and isinstance(obj["message"].get("usage"), dict):
                real_usage.append(obj["message"]["usage"])
    assert len(real_usage) > 500
    assert sum(ccr.usage_fast(u) is not None for u in real_usage) / len(real_usage) > 0.95
