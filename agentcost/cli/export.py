"""``agentcost export``: options → :func:`agentcost.columnar.export.export` → one summary line."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from agentcost.cli.edge import protect, run
from agentcost.cli.options import Config, InputFormat, Prices

HELP = """Read traces once, price every step and write the step table as a dataset: Parquet
(hive-partitioned by UTC day, the default), CSV or JSONL, with manifest.json listing the files
exported. analyze, simulate, check and report read a Parquet dataset back. Needs the [parquet]
extra."""


class ExportFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"
    jsonl = "jsonl"


def export(
    paths: Annotated[list[str], typer.Argument(help="Trace files, folders or globs.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The dataset folder to write "
                                         "(new or empty; with --append an earlier export).")],
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f")] = ExportFormat.parquet,
    append: Annotated[bool, typer.Option(
        "--append", help="Add to an earlier export: files it already holds (same path, size "
        "and mtime, or same content hash) are skipped.")] = False,
    input_format: InputFormat = None,
    prices: Prices = None,
    config: Config = None,
    default_model: Annotated[str | None, typer.Option(
        "--default-model", help="Price llm steps whose trace names no model as this model.")
    ] = None,
) -> None:
    def body() -> int:
        from agentcost import config as cfgmod
        from agentcost.columnar.export import export as run_export
        from agentcost.columnar.read import need_pyarrow
        from agentcost.pricing import use_prices
        from agentcost.render.safe import printable

        protect(*paths, config, prices)
        need_pyarrow()
        cfg = cfgmod.load(config)
        if default_model:
            cfg.default_model = default_model
        use_prices(prices)
        res = run_export(paths, output, fmt=fmt.value, append=append, config=cfg,
                         input_format=input_format)
        print(printable(f"exported {res.steps_written:,} steps from {len(res.files_exported)} "
                        f"files to {res.out_dir} ({res.fmt}, {len(res.written)} part files)"
                        + (f"; {len(res.files_skipped)} files already exported, skipped"
                           if res.files_skipped else "")))
        return 0

    run(body)
