"""Spark for fleets: ingest trace files on a cluster, analyze a step-table dataset with Spark
SQL — the same readers, the same metric definitions, the same report objects.

* :func:`ingest` hands the trace files to the executors as a distributed list
  (``mapInArrow``), one folder per item: each task runs the readers on that folder's files
  as one load (so the checks across the files of a folder hold: one run exported in two
  formats side by side, resumed sessions), prices the steps and writes them as Parquet parts
  in the layout and schema of ``agentcost export`` (``day=YYYY-MM-DD/part-<run>-<n>.parquet``);
  the driver writes ``manifest.json``. ``append=True`` skips files already exported, as
  ``export --append`` does. Checks across folders do not happen; a step that two folders both
  hold under one ``step_key`` is still counted once when the dataset is read.
* :func:`analyze` runs ``agentcost/data/sql`` as Spark SQL over the dataset (a path or a Spark
  DataFrame of the step schema) and returns the :class:`~agentcost.analysis.AnalyzeReport` that
  ``agentcost analyze`` prints. Costs are those stored at export.

Needs the ``spark`` extra (pyspark) and a Java runtime. Spark reads the schema's nanosecond
timestamps as integers (``spark.sql.legacy.parquet.nanosAsLong``, set by :func:`analyze`), so
no precision is lost.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentcost.columnar.engine import STEPS, WORK, analyze_sql, arrow_frame, pricing_of
from agentcost.columnar.metrics import render
from agentcost.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from agentcost.analysis import AnalyzeOptions, AnalyzeReport
    from agentcost.columnar.export import ExportResult
    from agentcost.config import Config

SPARK_EXTRA = "agentcost.spark needs pyspark: pip install 'agentcost-profiler[spark]'"
RESULT_SCHEMA = "path string, steps long, written string, error string, ingest string"


def local_session(cores: int = 2, memory: str = "1g") -> Any:
    """A local Spark session (``local[cores]``) set up for agentcost: no UI, few shuffle
    partitions, UTC, the executors on this Python."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InputError(SPARK_EXTRA) from None
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return (SparkSession.builder.master(f"local[{cores}]").appName("agentcost")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", str(2 * cores))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.memory", memory)
            .config("spark.sql.legacy.parquet.nanosAsLong", "true")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate())


def ingest(spark: Any, paths: Sequence[str], out_dir: str | Path, *, append: bool = False,
           config: Config | None = None, input_format: str | None = None) -> ExportResult:
    """Read and price ``paths`` on the cluster, one file per task, and write the step-table
    dataset to ``out_dir`` (a folder every executor can write)."""
    import orjson

    from agentcost.columnar.export import merge_ingest_records, plan, save_manifest

    out = Path(out_dir)
    manifest, todo, res = plan(paths, out, "parquet", append)
    run = f"{time.time_ns():x}"
    if todo:
        units = folders(p for p, _ in todo)
        files = spark.createDataFrame([("\n".join(u), i) for i, u in enumerate(units)],
                                      "path string, n long")
        files = files.repartition(min(len(units), spark.sparkContext.defaultParallelism * 4))
        worker = _Worker(str(out.resolve()), run, config, input_format)
        rows = files.mapInArrow(worker, RESULT_SCHEMA).collect()
        done = {f: r for r in rows if r["error"] is None for f in r["path"].split("\n")}
        failed = [r for r in rows if r["error"] is not None]
        res.files_exported = [str(p) for p, _ in todo if str(p) in done]
        ok = [r for r in rows if r["error"] is None]
        res.steps_written = sum(int(r["steps"]) for r in ok)
        res.written = sorted(w for r in ok for w in r["written"].split("\n") if w)
        manifest["files"].extend(e for p, e in todo if str(p) in done)
        notes = merge_ingest_records([orjson.loads(r["ingest"]) for r in ok if r["ingest"]])
        manifest["runs"].append(_run_record(run, len(done), res.steps_written, config, notes))
        save_manifest(out, manifest, "parquet")
        if failed:
            raise InputError(f"{failed[0]['error']} ({len(failed)} of {len(units)} folders not "
                             "exported; the others are)")
    else:
        save_manifest(out, manifest, "parquet")
    return res


def folders(paths: Any) -> list[list[str]]:
    """The files grouped by folder: one task reads one folder's files as one load, so the
    checks across files of a folder (one run exported in two formats side by side, resumed
    sessions of a project) hold as on one machine."""
    units: dict[str, list[str]] = {}
    for p in paths:
        units.setdefault(str(Path(p).parent), []).append(str(p))
    return [units[k] for k in sorted(units)]


def _run_record(run: str, files: int, steps: int, config: Config | None,
                ingest: dict[str, Any]) -> dict[str, Any]:
    """The run's manifest record, with what the executors' loads noted (``ingest``, merged);
    the pricing record is the driver's (same price data as the executors: the bundled or
    configured data, nothing fetched)."""
    from agentcost.columnar.export import run_record
    from agentcost.pricing import PricingInfo, data_fingerprint, genai_prices_version
    from agentcost.pricing.source import active

    info = PricingInfo(version=genai_prices_version(), data_fingerprint=data_fingerprint(),
                       data=active().describe())
    return run_record(run, files, steps, info, unique_keys=False,  # folders read one by one
                      ingest=ingest)


class _Worker:
    """The executor side of :func:`ingest` (picklable): for each file of its batches, read,
    price, write the parts; yields one result row per folder (with what its load noted, as
    JSON), an error instead of raising."""

    def __init__(self, out: str, run: str, config: Config | None,
                 input_format: str | None) -> None:
        self.out, self.run, self.config, self.input_format = out, run, config, input_format

    def __call__(self, batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        for batch in batches:
            rows: dict[str, list[Any]] = {"path": [], "steps": [], "written": [], "error": [],
                                          "ingest": []}
            for path, n in zip(batch.column("path").to_pylist(), batch.column("n").to_pylist(),
                               strict=True):
                steps, written, error, noted = self.one(path.split("\n"), int(n))
                for k, v in zip(rows, (path, steps, written, error, noted), strict=True):
                    rows[k].append(v)
            yield pa.RecordBatch.from_pydict(rows, schema=pa.schema([
                ("path", pa.string()), ("steps", pa.int64()), ("written", pa.string()),
                ("error", pa.string()), ("ingest", pa.string())]))

    def one(self, paths: list[str], n: int) -> tuple[int, str, str | None, str | None]:
        import orjson

        from agentcost.columnar.export import ingest_record, write_parts
        from agentcost.columnar.schema import to_arrow
        from agentcost.errors import AgentcostError
        from agentcost.table import load

        try:
            table = load(paths, config=self.config, input_format=self.input_format)
        except AgentcostError as err:
            return 0, "", str(err), None
        arrow = to_arrow(table.frame, table.pricing.data_fingerprint)
        written = write_parts(arrow, Path(self.out), "parquet", f"{self.run}-{n:06d}")
        noted = orjson.dumps(ingest_record(table.ingest)).decode()
        return arrow.num_rows, "\n".join(written), None, noted


class SparkRunner:
    """Runs the metric queries as Spark SQL."""

    dialect = "spark"

    def __init__(self, spark: Any) -> None:
        self.spark = spark

    def query(self, sql: str) -> pd.DataFrame:
        # through Arrow: nullable whole numbers (nanosecond times) must stay whole
        return arrow_frame(self.spark.sql(sql).toArrow())

    def keep(self, name: str, sql: str) -> None:
        """Compute ``sql`` once and keep it cached as the view ``name``."""
        self.spark.sql(sql).cache().createOrReplaceTempView(name)


def analyze(spark: Any, table: str | Path | Any, options: AnalyzeOptions | None = None,
            config: Config | None = None, since: str | None = None,
            until: str | None = None) -> AnalyzeReport:
    """The analyze report of a step-table dataset (a path Spark can read, or a DataFrame of
    the step schema), computed by Spark SQL from the shared definitions. ``since`` /
    ``until`` (as ``analyze --since/--until``: an ISO time or ``7d``) keep the steps that
    started in that window, and steps without a start time."""
    from agentcost.columnar.dataset import export_ingest
    from agentcost.ingest import time_bound
    from agentcost.ingest.base import IngestReport

    spark.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
    manifests: list[dict[str, Any]] = []
    if isinstance(table, (str, Path)):
        manifests = _manifest(Path(table))
        df = spark.read.parquet(str(table))
    else:
        df = table
    from agentcost.columnar.dataset import DatasetFiles, needs_dedupe

    files = list(df.inputFiles())
    runner = SparkRunner(spark)
    window = (time_bound(since, "--since") if since else None,
              time_bound(until, "--until") if until else None)
    total, deduped, kept = _work_view(spark, df, needs_dedupe(
        DatasetFiles(local=files, manifests=manifests)), window)
    ingest = IngestReport(files=[{"path": f, "format": "agentcost-steps", "steps": None}
                                 for f in sorted(files)], steps_kept=kept,
                          outside_window=deduped - kept)
    ingest.notes, ingest.warnings = export_ingest(manifests)
    if total != deduped:
        ingest.duplicates["same step in two exports of the dataset"] += total - deduped
    return analyze_sql(runner, ingest, pricing_of(runner, manifests), options, config)


def _manifest(path: Path) -> list[dict[str, Any]]:
    import json

    mf = path / "manifest.json"
    if not mf.is_file():
        return []
    try:
        data = json.loads(mf.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"unreadable export manifest: {exc}", str(mf)) from None
    return [data] if isinstance(data, dict) else []


def _work_view(spark: Any, df: Any, dedupe: bool, window: tuple[int | None, int | None]
               ) -> tuple[int, int, int]:
    """Register the step table (integer times; one row per ``step_key`` when several export
    runs wrote it; the steps of the time ``window``, in ns) and the work view; ``(rows, rows
    after dedupe, rows kept)``."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampType
    from pyspark.sql.window import Window

    from agentcost.columnar.dataset import OPTIONAL_COLUMNS

    for c in OPTIONAL_COLUMNS:  # an older export lacks them: unknown, never 0
        if c not in df.columns:
            df = df.withColumn(c, F.lit(None).cast("double" if c.endswith("_usd")
                                                   else "string"))

    for c in ("started_at", "ended_at"):
        ns = c.replace("_at", "_ns")
        if isinstance(df.schema[c].dataType, TimestampType):
            df = df.withColumn(ns, F.unix_micros(F.col(c)) * F.lit(1000))
        else:
            df = df.withColumn(ns, F.col(c))
    total = df.count()
    if dedupe:
        newest = Window.partitionBy("step_key").orderBy(F.col("_file").desc())
        df = (df.withColumn("_file", F.input_file_name())
              .withColumn("_rn", F.row_number().over(newest))
              .where("_rn = 1").drop("_rn", "_file"))
    deduped = df.count() if dedupe else total
    since, until = window
    if since is not None:
        df = df.where(F.col("started_ns").isNull() | (F.col("started_ns") >= F.lit(since)))
    if until is not None:
        df = df.where(F.col("started_ns").isNull() | (F.col("started_ns") < F.lit(until)))
    df.createOrReplaceTempView(STEPS)
    spark.sql(render("work", "spark", steps=STEPS)).createOrReplaceTempView(WORK)
    kept = df.count() if since is not None or until is not None else deduped
    return total, deduped, kept
