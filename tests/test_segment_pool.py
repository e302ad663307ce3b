"""The readers' segment pool: identical segments of different calls become one shared dict,
and nothing a consumer sees changes (values, key order, types)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import agentcost
from agentcost.ingest.segments import SegmentPool

REPO = Path(__file__).resolve().parents[1]


def test_equal_segments_share_one_dict() -> None:
    pool = SegmentPool()
    a = pool.share([{"role": "tools", "tokens": 10, "hash": "t"},
                    {"role": "user", "tokens": 5, "hash": "u"}])
    b = pool.share([{"role": "tools", "tokens": 10, "hash": "t"},
                    {"role": "user", "tokens": 5, "hash": "u"},
                    {"role": "assistant", "tokens": 3, "hash": "a"}])
    assert a[0] is b[0] and a[1] is b[1]
    assert b == [{"role": "tools", "tokens": 10, "hash": "t"},
                 {"role": "user", "tokens": 5, "hash": "u"},
                 {"role": "assistant", "tokens": 3, "hash": "a"}]


def test_only_exact_copies_are_shared() -> None:
    pool = SegmentPool()
    first = pool.share([{"role": "system", "tokens": 7, "hash": "s", "breakpoint": True}])[0]
    others: list[dict[str, Any]] = [
        {"role": "system", "tokens": 8, "hash": "s", "breakpoint": True},  # another size
        {"hash": "s", "role": "system", "tokens": 7, "breakpoint": True},  # another key order
        {"role": "system", "tokens": 7, "hash": "s", "breakpoint": 1},  # 1 is not True
        {"role": "system", "tokens": 7, "hash": "s"},  # no breakpoint
    ]
    for seg in others:
        got = pool.share([seg])[0]
        assert got is seg and got is not first
        assert list(got.items()) == list(seg.items())
    floats = [{"role": "user", "tokens": 1, "hash": "f", "w": 0.0},
              {"role": "user", "tokens": 1, "hash": "f", "w": -0.0}]
    assert pool.share([floats[0]])[0] is floats[0]
    assert pool.share([floats[1]])[0] is floats[1]  # floats never shared (0.0 == -0.0)


def test_segments_of_other_shapes_are_left_alone() -> None:
    pool = SegmentPool()
    odd = {"role": "user", "tokens": 1, "hash": "x", "text": "kept as given"}
    assert pool.share([odd])[0] is odd
    again = dict(odd)
    assert pool.share([again])[0] is again  # never pooled, so never shared


def test_other_values_pass_through() -> None:
    pool = SegmentPool()
    odd: list[Any] = ["text", {"role": "user", "tokens": 1, "hash": ["not", "hashable"]}, None]
    assert pool.share(list(odd)) == odd


def test_a_loaded_table_shares_repeated_segments(tmp_path: Path) -> None:
    tools = {"role": "tools", "tokens": 1200, "hash": "tools-v1", "name": "lookup"}
    system = {"role": "system", "tokens": 2600, "hash": "sys-v1", "breakpoint": True}
    lines = []
    history: list[dict[str, Any]] = []
    for k in range(4):
        history.append({"role": "user" if k % 2 == 0 else "assistant", "tokens": 100 + k,
                        "hash": f"m{k}"})
        segs = [tools, system, *history]
        lines.append({"task_id": f"t{k % 2}", "kind": "llm", "provider": "anthropic",
                      "model": "claude-sonnet-4-6",
                      "input_tokens": sum(s["tokens"] for s in segs),
                      "output_tokens": 10, "started_at": f"2026-11-03T10:00:0{k}Z",
                      "segments": segs})
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    df = agentcost.load([str(path)]).frame.sort_values("started_at")
    got = list(df["segments"])
    assert [[dict(d) for d in s] for s in got] == [x["segments"] for x in lines]
    assert [list(d) for d in got[3]] == [list(d) for d in lines[3]["segments"]]  # key order
    assert len({id(s[0]) for s in got}) == 1 and len({id(s[1]) for s in got}) == 1
    assert got[1][2] is got[3][2]  # the same message, re-sent by a later call
    assert got[2][4]["role"] is got[0][2]["role"]  # a new message keeps the pool's "user"
