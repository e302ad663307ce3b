"""Step table as Arrow/Parquet: schema round trip and export (real sample traces)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from agentcost.columnar.export import export  # noqa: E402
from agentcost.columnar.schema import SCHEMA_VERSION, from_arrow, step_schema, to_arrow  # noqa: E402
from agentcost.errors import InputError  # noqa: E402
from agentcost.table import load  # noqa: E402

SAMPLES = str(Path(__file__).resolve().parents[1] / "sample_traces")


def test_schema_is_versioned() -> None:
    assert step_schema().metadata[b"agentcost.schema_version"] == SCHEMA_VERSION.encode()


def test_arrow_round_trip_is_exact() -> None:
    import pandas as pd

    t = load([SAMPLES])
    arrow = to_arrow(t.frame, t.pricing.data_fingerprint)
    assert arrow.schema.equals(step_schema())
    pd.testing.assert_frame_equal(from_arrow(arrow), t.frame)
    # unknown stays null, never 0
    assert arrow.column("cost_usd").null_count == int(t.frame["cost_usd"].isna().sum())


def test_export_parquet_partitions_and_append(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    t = load([SAMPLES])
    res = export([SAMPLES], out)
    assert res.steps_written == len(t.frame)
    days = sorted(p.name for p in out.iterdir() if p.is_dir())
    expected = sorted(f"day={d}" for d in t.frame["started_at"].dt.date.dropna().unique())
    assert days == expected
    import pyarrow.dataset as pds

    ds = pds.dataset(out, format="parquet", partitioning="hive",
                     exclude_invalid_files=True).to_table()
    assert ds.num_rows == len(t.frame)
    assert abs(pa.compute.sum(ds.column("cost_usd")).as_py() - t.frame["cost_usd"].sum()) < 1e-9
    assert ds.column("price_data_fingerprint")[0].as_py() == t.pricing.data_fingerprint
    again = export([SAMPLES], out, append=True)
    assert again.steps_written == 0 and len(again.files_skipped) == len(res.files_exported)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert len(manifest["runs"]) == 1


def test_export_refuses_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("keep")
    with pytest.raises(InputError, match="not empty"):
        export([SAMPLES], tmp_path)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_text_formats(tmp_path: Path, fmt: str) -> None:
    res = export([SAMPLES], tmp_path / "o", fmt=fmt)
    lines = sum(len(Path(p).read_text().splitlines()) for p in res.written)
    assert lines == res.steps_written + (len(res.written) if fmt == "csv" else 0)


def test_every_column_of_the_schema_is_documented() -> None:
    """docs/scale.md's column table names every field of the versioned schema."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "scale.md").read_text()
    table = [line for line in text.splitlines() if line.startswith("| `")]
    documented = {c for line in table for c in line.split("|")[1].replace("`", "").replace(
        ",", " ").split()}
    assert {f.name for f in step_schema()} <= documented
