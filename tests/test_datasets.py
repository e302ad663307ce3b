"""Step-table datasets over time: what ingest noted at export is said again on every read, and
an older export (without the cost-by-class columns) reads with those figures unknown, never 0.
Exact streaming percentiles equal numpy's on awkward columns."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("duckdb")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
np = pytest.importorskip("numpy")

from agentcost.analysis import analyze  # noqa: E402
from agentcost.columnar.duck import NO_CLASS_COSTS, DuckRunner, analyze_dataset  # noqa: E402
from agentcost.columnar.export import export  # noqa: E402
from agentcost.columnar.quantiles import quantiles  # noqa: E402
from agentcost.table import load  # noqa: E402
from tests.conftest import REPO  # noqa: E402
from tests.test_engines import assert_parity  # noqa: E402

SAMPLES = REPO / "sample_traces"


def test_export_notes_are_said_on_every_read(tmp_path: Path) -> None:
    traces = tmp_path / "traces"
    traces.mkdir()
    src = SAMPLES / "research_agent.jsonl"
    (traces / "run.jsonl").write_bytes(src.read_bytes() + b"{not json\n")
    ds = tmp_path / "ds"
    export([str(traces)], ds)
    run = json.loads((ds / "manifest.json").read_text())["runs"][0]
    assert run["ingest"]["malformed_lines"] == 1
    for report in (analyze(load([str(ds)])).to_dict(), analyze_dataset([str(ds)]).to_dict()):
        notes = report["ingest"]["notes"]
        assert any(n.startswith("at export: 1 malformed lines skipped (first: ")
                   for n in notes), notes


def test_ingest_records_of_several_loads_merge() -> None:
    """Notes once each in the order first said; counts summed; five examples at most."""
    from agentcost.columnar.export import merge_ingest_records

    a = {"notes": ["n1", "n2"], "warnings": ["w1"], "malformed_lines": 4,
         "malformed_examples": [f"a:{i}" for i in range(4)],
         "duplicates_dropped": {"same span twice": 2}}
    b = {"notes": ["n2", "n3"], "warnings": ["w1", "w2"], "malformed_lines": 3,
         "malformed_examples": ["b:1", "b:2", "b:3"],
         "duplicates_dropped": {"same span twice": 1, "a retried call": 5}}
    assert merge_ingest_records([a, b]) == {
        "notes": ["n1", "n2", "n3"], "warnings": ["w1", "w2"], "malformed_lines": 7,
        "malformed_examples": ["a:0", "a:1", "a:2", "a:3", "b:1"],
        "duplicates_dropped": {"a retried call": 5, "same span twice": 3}}
    assert merge_ingest_records([])["malformed_lines"] == 0


def test_an_older_export_reads_with_class_costs_unknown(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    export([str(SAMPLES)], ds)
    want = analyze_dataset([str(ds)]).to_dict()
    old = tmp_path / "old"
    shutil.copytree(ds, old)
    for part in old.rglob("*.parquet"):
        t = pq.read_table(part, partitioning=None)
        pq.write_table(t.drop_columns(["cache_read_cost_usd", "cache_write_cost_usd",
                                       "labels"]), part)
    duck = analyze_dataset([str(old)]).to_dict()
    assert all(m["cost_by_class_usd"] is None for m in duck["models"])
    assert any(m["cost_by_class_usd"] for m in want["models"])
    assert NO_CLASS_COSTS in duck["warnings"]
    for m in (*want["models"], *duck["models"]):
        m.pop("cost_by_class_usd")
    assert_parity(want, duck, ("totals", "tasks", "models", "findings"))
    mixed = analyze_dataset([str(old), str(ds)]).to_dict()  # one older export among others
    assert NO_CLASS_COSTS in mixed["warnings"]
    assert all(m["cost_by_class_usd"] is None for m in mixed["models"])
    # the in-memory path re-prices: the per-class figures are known again
    mem = analyze(load([str(old)])).to_dict()
    assert any(m["cost_by_class_usd"] for m in mem["models"])


@pytest.mark.parametrize("values", [
    np.random.default_rng(1).lognormal(7, 1, 20_000),
    np.random.default_rng(2).normal(0, 3, 5_001),
    np.random.default_rng(3).integers(0, 5, 999).astype(float),
    np.array([3.5]), np.array([1.0, 2.0]),
    np.r_[np.zeros(10), -np.ones(3), [np.inf, -np.inf], np.linspace(0, 1e-300, 20)],
], ids=["lognormal", "normal", "ties", "one", "two", "edges"])
def test_streaming_quantiles_equal_numpy(values: np.ndarray) -> None:
    runner = DuckRunner()
    groups = np.where(np.arange(len(values)) % 3 == 0, "a", "b'q")
    runner.con.register("t", pa.table({"v": values, "g": groups}))
    probs = (0.0, 0.5, 0.95, 1.0)
    with np.errstate(invalid="ignore"):
        same = np.testing.assert_array_equal  # bit for bit (nan where numpy gives nan)
        same(quantiles(runner, "t", "v", probs)["all"], np.quantile(values, probs))
        per = quantiles(runner, "t", "v", probs, group="g")
        for g in set(groups.tolist()):
            same(per[g], np.quantile(values[groups == g], probs))
