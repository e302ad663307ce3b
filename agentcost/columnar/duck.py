"""DuckDB as the embedded engine: ``analyze --engine duckdb`` over a step-table dataset (or a
table just read from traces), out of core.

DuckDB scans the Parquet files itself (column pruning, parallel, streaming aggregates) and
spills sorts and windows to a temporary folder past its memory limit, so a dataset larger than
memory is analysed in bounded memory; ``AGENTCOST_DUCKDB_MEMORY_LIMIT`` (e.g. ``2GB``) sets
that limit (DuckDB's default is 80 % of RAM) and ``AGENTCOST_DUCKDB_THREADS`` the threads.
Costs are those stored at export (the dataset's price-data fingerprint is in the report); the
pricing record is rebuilt from the table and the export manifests. Needs the ``duckdb`` extra.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from agentcost.columnar.engine import STEPS, WORK, analyze_sql, arrow_frame, pricing_of
from agentcost.columnar.metrics import render
from agentcost.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from agentcost.analysis import AnalyzeOptions, AnalyzeReport
    from agentcost.columnar.dataset import DatasetFiles
    from agentcost.config import Config
    from agentcost.table import StepTable

NO_CLASS_COSTS = ("the dataset was exported by an older agentcost without the cost by token "
                  "class: models' cost_by_class_usd is unknown (--engine pandas re-prices)")
DUCKDB_EXTRA = "the DuckDB engine needs duckdb: pip install 'agentcost-profiler[duckdb]'"


class DuckRunner:
    """Runs the metric queries on one DuckDB connection."""

    dialect = "duckdb"

    def __init__(self, memory_limit: str | None = None, threads: int | None = None) -> None:
        try:
            import duckdb
        except ImportError:
            raise InputError(DUCKDB_EXTRA) from None
        import tempfile

        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")
        # spill to a private temporary folder (DuckDB's default is .tmp in the working folder)
        self._spill = tempfile.TemporaryDirectory(prefix="agentcost-duckdb-")
        self.con.execute(f"SET temp_directory = {_quote(self._spill.name)}")
        limit = memory_limit or os.environ.get("AGENTCOST_DUCKDB_MEMORY_LIMIT")
        if limit:
            self.con.execute(f"SET memory_limit = '{_setting(limit)}'")
        n = threads or os.environ.get("AGENTCOST_DUCKDB_THREADS")
        if n:
            self.con.execute(f"SET threads = {int(n)}")
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute("SET enable_progress_bar = false")  # it would print to stderr

    def query(self, sql: str) -> pd.DataFrame:
        import pyarrow as pa

        res = self._run(lambda: self.con.sql(sql).arrow())
        table = res.read_all() if isinstance(res, pa.RecordBatchReader) else res
        cols = [c.cast(pa.int64()) if pa.types.is_decimal(c.type) and c.type.scale == 0
                else c.cast(pa.float64()) if pa.types.is_decimal(c.type) else c
                for c in table.columns]
        return arrow_frame(pa.table(cols, names=table.column_names))

    def stream(self, sql: str, rows: int = 250_000) -> Iterator[pd.DataFrame]:
        """The result of ``sql`` a batch of ``rows`` at a time (for results that may be
        large: Python holds one batch)."""
        import pyarrow as pa

        reader = self._run(lambda: iter(self.con.sql(sql).arrow(rows)))
        while True:
            batch = self._run(lambda: next(reader, None))
            if batch is None:
                return
            yield arrow_frame(pa.Table.from_batches([batch]))

    def keep(self, name: str, sql: str) -> None:
        """Compute ``sql`` once into the temporary table ``name`` (spills like the rest)."""
        self._run(lambda: self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}"))

    @staticmethod
    def _run(fn: Any) -> Any:
        """``fn()``; DuckDB running out of memory under its limit is a one-line error."""
        import duckdb

        try:
            return fn()
        except duckdb.OutOfMemoryException:
            raise InputError("DuckDB ran out of memory under its limit: raise "
                             "AGENTCOST_DUCKDB_MEMORY_LIMIT (e.g. 4GB) or lower "
                             "AGENTCOST_DUCKDB_THREADS") from None

    def work_view(self, source_sql: str) -> None:
        """The step table (``source_sql``, with integer ``started_ns``/``ended_ns``) and the
        work view every query reads."""
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {STEPS} AS {source_sql}")
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {WORK} AS "
                         + render("work", "duckdb", steps=STEPS))


def _setting(value: str) -> str:
    v = value.strip()
    if not v.replace(" ", "").replace(".", "").isalnum():
        raise InputError(f"AGENTCOST_DUCKDB_MEMORY_LIMIT: not a size ({value!r}, e.g. 2GB)")
    return v


def _quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _window(since_ns: int | None, until_ns: int | None) -> str:
    conds = []
    if since_ns is not None:
        conds.append(f"(started_ns IS NULL OR started_ns >= {int(since_ns)})")
    if until_ns is not None:
        conds.append(f"(started_ns IS NULL OR started_ns < {int(until_ns)})")
    return " AND ".join(conds) or "1 = 1"


def open_dataset(runner: DuckRunner, files: DatasetFiles, since_ns: int | None = None,
                 until_ns: int | None = None) -> dict[str, Any]:
    """Point ``runner`` at the dataset's files (schema checked from each footer); rows that two
    export runs both hold are kept once, the newest file's copy."""
    from agentcost.columnar.dataset import OPTIONAL_COLUMNS, needs_dedupe

    per_file: list[dict[str, Any]] = []
    sources: list[str] = []
    dedupe = needs_dedupe(files)
    if files.local:
        names = ", ".join(_quote(f) for f in files.local)
        sources.append(f"SELECT * FROM read_parquet([{names}], union_by_name = true, "
                       "filename = true)")
    sources += _remote_sources(runner, files.remote, dedupe)
    present: set[str] = set()
    older = False  # a file without the cost by class (an older export): unknown, not 0
    for name, rows, cols in _footers(files):
        per_file.append({"path": name, "format": "agentcost-steps", "steps": rows})
        present |= cols
        older = older or any(c not in cols for c in OPTIONAL_COLUMNS if c.endswith("_usd"))
    absent = [c for c in OPTIONAL_COLUMNS if c not in present]
    nulls = "".join(f", CAST(NULL AS {'DOUBLE' if c.endswith('_usd') else 'VARCHAR'}) AS {c}"
                    for c in absent)
    body = " UNION ALL BY NAME ".join(sources)
    src = (f"SELECT *{nulls}, epoch_ns(started_at) AS started_ns, epoch_ns(ended_at) AS "
           f"ended_ns FROM ({body}) AS s")
    if dedupe:  # a step may be in two files: the newest file's copy counts
        src = (f"SELECT * FROM ({src}) AS d QUALIFY row_number() OVER "
               "(PARTITION BY step_key ORDER BY filename DESC) = 1")
    runner.work_view(f"SELECT * FROM ({src}) AS t WHERE {_window(since_ns, until_ns)}")
    total = sum(int(f["steps"]) for f in per_file)
    kept_all = int(runner.query(f"SELECT COUNT(*) AS n FROM ({src}) AS a")["n"].iloc[0]) \
        if dedupe else total
    kept = int(runner.query(f"SELECT COUNT(*) AS n FROM {STEPS}")["n"].iloc[0])
    return {"files": per_file, "duplicates": total - kept_all, "outside": kept_all - kept,
            "steps": kept, "no_class_costs": older}


def _remote_sources(runner: DuckRunner, remote: list[tuple[Any, str]], dedupe: bool
                    ) -> list[str]:
    """The files on pyarrow file systems (S3, GCS) as relations DuckDB scans through pyarrow
    (projection and filters pushed down): one per file system, or one per file when the
    newest file's copy of a step must be told apart."""
    import pyarrow.dataset as pds

    groups = _by_filesystem(remote)
    if dedupe:
        groups = [(fs, [p]) for fs, group in groups for p in group]
    sources = []
    for i, (fs, group) in enumerate(groups):
        runner.con.register(f"agentcost_remote_{i}", pds.dataset(group, filesystem=fs,
                                                                 format="parquet"))
        sources.append(f"SELECT *, {_quote(group[0])} AS filename FROM agentcost_remote_{i}")
    return sources


def _by_filesystem(remote: list[tuple[Any, str]]) -> list[tuple[Any, list[str]]]:
    groups: list[tuple[Any, list[str]]] = []
    for fs, path in remote:
        for g in groups:
            if g[0] is fs:
                g[1].append(path)
                break
        else:
            groups.append((fs, [path]))
    return groups


def _footers(files: DatasetFiles) -> list[tuple[str, int, set[str]]]:
    """Each file's row count and columns, from its footer, after checking its schema."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from agentcost.columnar.dataset import check_schema

    out = []
    openers: list[tuple[str, Any]] = [(f, f) for f in files.local]
    openers += [(p, fs.open_input_file(p)) for fs, p in files.remote]
    for name, handle in openers:
        try:
            pf = pq.ParquetFile(handle)
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"not a readable Parquet file: {str(exc).splitlines()[0]}",
                             name) from None
        check_schema(pf.schema_arrow, name)
        out.append((name, pf.metadata.num_rows, set(pf.schema_arrow.names)))
    return out


def open_table(runner: DuckRunner, table: StepTable) -> None:
    """Point ``runner`` at a step table already in memory (for parity with the in-memory
    path, and for ``--engine duckdb`` on trace files)."""
    from agentcost.columnar.schema import to_arrow

    runner.con.register("agentcost_frame", to_arrow(table.frame, table.pricing.data_fingerprint))
    runner.work_view("SELECT *, epoch_ns(started_at) AS started_ns, "
                     "epoch_ns(ended_at) AS ended_ns FROM agentcost_frame")


def analyze_table(table: StepTable, options: AnalyzeOptions | None = None,
                  config: Config | None = None, summary: bool = False) -> AnalyzeReport:
    """:func:`agentcost.analysis.analyze` of a loaded table, computed by DuckDB."""
    runner = DuckRunner()
    open_table(runner, table)
    return analyze_sql(runner, table.ingest, table.pricing, options, config, summary)


def analyze_dataset(paths: Sequence[str], options: AnalyzeOptions | None = None,
                    config: Config | None = None, since: str | None = None,
                    until: str | None = None, memory_limit: str | None = None,
                    summary: bool = False) -> AnalyzeReport:
    """The analyze report of step-table datasets, out of core (see the module docstring);
    ``summary``: only what the console table shows (see :func:`analyze_sql`)."""
    from agentcost.columnar.dataset import export_ingest, resolve
    from agentcost.columnar.read import need_pyarrow
    from agentcost.ingest import time_bound
    from agentcost.ingest.base import IngestReport

    need_pyarrow()
    runner = DuckRunner(memory_limit)
    files = resolve(paths)
    info = open_dataset(runner, files, time_bound(since, "--since") if since else None,
                        time_bound(until, "--until") if until else None)
    ingest = IngestReport(files=info["files"], steps_kept=info["steps"],
                          outside_window=info["outside"])
    ingest.notes, ingest.warnings = export_ingest(files.manifests)
    if info["no_class_costs"]:
        ingest.notes.append(NO_CLASS_COSTS)
        ingest.warnings.append(NO_CLASS_COSTS)
    if info["duplicates"]:
        ingest.duplicates["same step in two exports of the dataset"] += info["duplicates"]
    return analyze_sql(runner, ingest, pricing_of(runner, files.manifests), options, config,
                       summary)
