"""The step table's builder and frame construction (agentcost.steps)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentcost.steps import COLUMNS, StepBuilder, _int_array, build_frame

NS = 1_770_000_000_000_000_000  # 2026-02-02


def test_add_columns_pads_and_keeps_order_with_dict_rows():
    b = StepBuilder()
    b.add({"task_id": "a", "kind": "llm", "input_tokens": 5, "started_at": NS})
    b.add_columns(("task_id", "kind", "output_tokens", "started_at"),
                  [["a", "b"], ["tool", "llm"], [None, 7], [NS + 1, None]])
    b.add({"task_id": "b", "kind": "tool", "started_at": NS + 5})
    df = build_frame(b)
    assert list(df["task_id"]) == ["a", "a", "b", "b"]
    assert list(df["kind"]) == ["llm", "tool", "tool", "llm"]  # b: timed step first
    assert int(df["input_tokens"].iloc[0]) == 5 and pd.isna(df["input_tokens"].iloc[1])
    assert int(df["output_tokens"].iloc[3]) == 7
    assert list(df["step"]) == [1, 2, 1, 2]
    assert set(df.columns) == set(COLUMNS)


def test_add_columns_rejects_unknown_names_and_ragged_columns():
    b = StepBuilder()
    with pytest.raises(ValueError, match="unknown step columns: nope"):
        b.add_columns(("task_id", "nope"), [["a"], [1]])
    with pytest.raises(ValueError, match="different lengths"):
        b.add_columns(("task_id", "kind"), [["a", "b"], ["llm"]])
    assert len(b) == 0


def test_build_frame_releases_the_builder():
    b = StepBuilder()
    b.add_columns(("task_id", "kind"), [["a"] * 3, ["llm"] * 3])
    df = build_frame(b)
    assert len(df) == 3 and len(b) == 0 and all(v == [] for v in b.columns.values())


@given(st.lists(st.one_of(st.none(), st.integers(-2**62, 2**62)), max_size=40))
def test_int_array_equals_pandas_coercion(values):
    got = pd.array(_int_array(values), dtype="Int64")
    want = pd.array(values, dtype="Int64")
    assert got.equals(want) or (len(got) == len(want) == 0)


def test_int_array_leaves_other_values_to_pandas():
    assert list(_int_array([1.0, None, 3])) == [1, pd.NA, 3]
    assert list(_int_array([True, 2])) == [1, 2]
    with pytest.raises((TypeError, ValueError)):
        _int_array([1.5, None])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["t2", "t1", "t10", "a"]),
                          st.one_of(st.none(), st.integers(0, 5))), max_size=30))
def test_order_and_step_numbers_match_a_plain_sort(rows):
    """finalize's one-permutation ordering equals a stable sort by (task, start with missing
    times last, reader order), and numbers steps 1.. within each task."""
    b = StepBuilder()
    for i, (task, t) in enumerate(rows):
        b.add({"task_id": task, "kind": "llm", "line": i,
               "started_at": None if t is None else NS + t * 1_000_000_000})
    df = build_frame(b)
    ref = sorted(range(len(rows)), key=lambda i: (rows[i][0], rows[i][1] is None,
                                                  rows[i][1] or 0, i))
    assert df["line"].astype("int64").tolist() == ref
    expect_steps: list[int] = []
    for i, task in enumerate(df["task_id"]):
        expect_steps.append(expect_steps[-1] + 1 if i and df["task_id"][i - 1] == task else 1)
    assert df["step"].astype("int64").tolist() == expect_steps


def test_missing_times_are_nat_and_known_ones_exact():
    b = StepBuilder()
    b.add({"task_id": "a", "kind": "llm", "started_at": NS + 123, "ended_at": None})
    df = build_frame(b)
    assert str(df["started_at"].dtype) == "datetime64[ns, UTC]"
    assert df["started_at"].iloc[0].value == NS + 123
    assert pd.isna(df["ended_at"].iloc[0])
    assert np.isnan(df["duration_ms"].astype("float64").iloc[0])


_ODD_COLUMNS = {  # values of the kinds a reader may hand over, per column
    "input_tokens": [1, None, np.int64(3), 4, 2**40, 0],
    "output_tokens": [1.0, 2.0, None, 3, 4, 5],
    "reasoning_tokens": [True, 1, None, 2, 3, 4],
    "duration_ms": [1, 2.5, None, float("nan"), 3, 4],
    "ttft_ms": [True, 1.0, 2, 3, 4, 5],
    "reported_cost_usd": [None] * 6,
    "cost_usd": [1, 2.5, None, float("nan"), 3, 4],
    "is_error": [True, False, None, np.bool_(True), False, None],
    "started_at": [NS + 3, None, NS + 1, NS + 2, None, NS],
    "ended_at": [None] * 6,
    "model": ["a", None, "b", "", "c", "ü"],
    "name": ["a", 1, None, "x", "y", "z"],
    "tool_calls": [(1, 2), (3, 4), (5, 6), (7, 8), (9, 0), (1, 1)],
    "labels": [None, {"a": "b"}, None, {}, None, None],
    "task_id": ["t2", "t1", "t2", "t1", "t1", "t3"],
}


def test_arrow_built_columns_equal_pandas_coercion(monkeypatch):
    """The columns pyarrow builds from the value lists equal what pandas' own coercion
    gives (the path taken without Arrow string storage), odd values included."""
    import agentcost.steps as steps

    def frame() -> pd.DataFrame:
        b = StepBuilder()
        b.add_columns(tuple(_ODD_COLUMNS), [list(v) for v in _ODD_COLUMNS.values()])
        return build_frame(b)

    fast = frame()
    monkeypatch.setattr(steps, "_arrow", lambda: None)
    slow = frame()
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    assert fast["task_id"].tolist() == ["t1", "t1", "t1", "t2", "t2", "t3"]
    assert fast["line"].isna().all() and fast.index.equals(pd.RangeIndex(6))
