"""agentcost.spark in local mode (local[2], one session for the whole test run): ingest on
Spark writes the export layout, and Spark SQL over it gives the report the local path gives,
on the real and authentic traces of ../shared and on the sample traces."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark")
pytest.importorskip("pyarrow")
if shutil.which("java") is None:  # pragma: no cover - .ci/run installs a Java runtime
    pytest.skip("no Java runtime for Spark", allow_module_level=True)

from agentcost import spark as acs  # noqa: E402
from agentcost.analysis import AnalyzeOptions, analyze  # noqa: E402
from agentcost.columnar.export import export  # noqa: E402
from agentcost.errors import InputError  # noqa: E402
from agentcost.table import load  # noqa: E402
from tests.conftest import AUTHENTIC, REAL, REPO  # noqa: E402
from tests.test_engines import METRICS, assert_parity  # noqa: E402

SAMPLES = REPO / "sample_traces"


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = acs.local_session(cores=2)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _readable_dirs() -> list[str]:
    out = []
    for root in (REAL, AUTHENTIC):
        for d in sorted(p for p in root.iterdir() if p.is_dir()):
            try:
                load([str(d)], segments=False)
            except InputError:
                continue  # formats agentcost does not read
            out.append(str(d))
    return out


def test_ingest_and_analyze_on_real_and_authentic_traces(spark: Any, tmp_path: Path,
                                                         real: Path, authentic: Path) -> None:
    dirs = _readable_dirs()
    assert len(dirs) >= 15
    out = tmp_path / "fleet"
    res = acs.ingest(spark, dirs, out)
    local = load(dirs)
    assert all(Path(p).parent.name.startswith("day=") for p in res.written)
    got = acs.analyze(spark, str(out)).to_dict()
    want = analyze(local).to_dict()
    assert_parity(want, got)
    # one folder per Spark task: a step two folders both hold (a Claude Code subagent's calls
    # seen from its session's folder too) was written twice and is read once
    assert got["ingest"]["steps_kept"] == len(local.frame)
    assert res.steps_written - len(local.frame) == sum(
        got["ingest"]["duplicates_dropped"].values())
    assert got["totals"]["cost_usd"] > 0 and got["findings"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runs"][0]["unique_keys"] is False
    again = acs.ingest(spark, dirs, out, append=True)  # nothing new: every file skipped
    assert again.steps_written == 0 and again.files_skipped


def test_analyze_an_export_by_day_and_week(spark: Any, tmp_path: Path) -> None:
    export([str(SAMPLES)], tmp_path / "ds")
    t = load([str(SAMPLES)])
    for opts in (AnalyzeOptions(group_by="day", timezone="America/Los_Angeles"),
                 AnalyzeOptions(group_by="week", max_iterations=5, token_budget=20_000)):
        got = acs.analyze(spark, str(tmp_path / "ds"), opts).to_dict()
        assert_parity(analyze(t, opts).to_dict(), got, (*METRICS, "warnings"))


def test_ingest_of_an_unreadable_file_names_it(spark: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"hello": "world"}\n')
    with pytest.raises(InputError, match="not a recognised trace format"):
        acs.ingest(spark, [str(bad)], tmp_path / "out")


def test_analyze_a_time_window_and_an_older_export(spark: Any, tmp_path: Path) -> None:
    """since/until as analyze takes them; a dataset without the cost-by-class columns (an
    older export) reads with those figures unknown."""
    import pyarrow.parquet as pq

    from agentcost.columnar.duck import analyze_dataset

    ds = tmp_path / "ds"
    export([str(SAMPLES)], ds)
    since = "2026-11-03T00:00:00Z"
    got = acs.analyze(spark, str(ds), since=since).to_dict()
    want = analyze_dataset([str(ds)], since=since).to_dict()
    assert_parity(want, got, (*METRICS, "warnings"))
    assert got["ingest"]["outside_time_window"] == want["ingest"]["outside_time_window"] > 0
    for part in ds.rglob("*.parquet"):
        t = pq.read_table(part, partitioning=None)
        pq.write_table(t.drop_columns(["cache_read_cost_usd", "cache_write_cost_usd"]), part)
    old = acs.analyze(spark, str(ds)).to_dict()
    assert all(m["cost_by_class_usd"] is None for m in old["models"])
    assert old["totals"]["cost_usd"] == pytest.approx(analyze_dataset([str(ds)]).to_dict()
                                                      ["totals"]["cost_usd"])


def test_what_the_executors_noted_is_said_on_every_read(spark: Any, tmp_path: Path) -> None:
    """A folder's malformed line, noted by the executor that read it, reaches the manifest
    and every report of the dataset (it used to stay on the executor)."""
    for name, extra in (("a", b"{not json\n"), ("b", b"")):
        (tmp_path / name).mkdir()
        src = SAMPLES / "research_agent.jsonl" if name == "a" else SAMPLES / "support_agent.jsonl"
        (tmp_path / name / "run.jsonl").write_bytes(src.read_bytes() + extra)
    out = tmp_path / "ds"
    acs.ingest(spark, [str(tmp_path / "a"), str(tmp_path / "b")], out)
    run = json.loads((out / "manifest.json").read_text())["runs"][0]
    assert run["ingest"]["malformed_lines"] == 1
    assert run["ingest"]["malformed_examples"][0].startswith(str(tmp_path / "a" / "run.jsonl"))
    for report in (acs.analyze(spark, str(out)).to_dict(), analyze(load([str(out)])).to_dict()):
        assert any(n.startswith("at export: 1 malformed lines skipped (first: ")
                   for n in report["ingest"]["notes"]), report["ingest"]["notes"]
