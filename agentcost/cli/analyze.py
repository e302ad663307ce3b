"""``agentcost analyze``: options → :func:`agentcost.analysis.analyze` → renderer."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from agentcost.cli.edge import (
    check_outputs,
    load_traces,
    protect,
    run,
    write_output,
    write_rendered,
)
from agentcost.cli.options import Config, InputFormat, Prices, Since, Strict, Until


class OutFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    jsonl = "jsonl"


class Engine(StrEnum):
    auto = "auto"
    pandas = "pandas"
    duckdb = "duckdb"


class GroupBy(StrEnum):
    task = "task"
    model = "model"
    day = "day"
    week = "week"
    month = "month"
    session = "session"


def analyze(
    paths: Annotated[list[str] | None, typer.Argument(
        help="Trace files, folders (recursive), globs, or - for stdin; .gz is fine.")] = None,
    claude_code: Annotated[bool, typer.Option(
        "--claude-code", help="Read Claude Code logs (~/.claude/projects, $CLAUDE_CONFIG_DIR) "
        "when no path is given.")] = False,
    input_format: InputFormat = None,
    since: Since = None,
    until: Until = None,
    strict: Strict = False,
    prices: Prices = None,
    config: Config = None,
    default_model: Annotated[str | None, typer.Option(
        "--default-model", help="Price llm steps whose trace names no model (e.g. OpenAI "
        "Agents SDK response spans) as this model; overrides default_model in the config.")
    ] = None,
    group_by: Annotated[GroupBy, typer.Option("--group-by")] = GroupBy.task,
    timezone: Annotated[str | None, typer.Option(
        "--timezone", help="Time zone of the day/week/month buckets (IANA name, e.g. "
        "Europe/Berlin; default UTC).")] = None,
    top: Annotated[int, typer.Option(min=1, help="Rows in the costliest-tasks table.")] = 10,
    fmt: Annotated[OutFormat, typer.Option("--format", "-f")] = OutFormat.table,
    steps: Annotated[bool, typer.Option("--steps", help="Include the step table.")] = False,
    task: Annotated[str | None, typer.Option("--task", help="Show one task's step table.")] = None,
    max_iterations: Annotated[int | None, typer.Option(
        min=1, help="Flag tasks with more llm calls than this.")] = None,
    token_budget: Annotated[int | None, typer.Option(
        min=1, help="Flag tasks with more tokens than this.")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the report to this file (atomically) instead of stdout.")
    ] = None,
    explain_misses: Annotated[bool, typer.Option(
        "--explain-misses", help="Explain each cache miss (cause, first differing block, tokens "
        "and dollars lost; needs request bodies or segments); table, json, markdown.")] = False,
    chart: Annotated[bool, typer.Option(
        "--chart", help="Table format: add a bar chart of cost per task (per day with "
        "--group-by day) and, with --task, a sparkline of the cache hit ratio per step.")
    ] = False,
    csv_raw: Annotated[bool, typer.Option(
        "--csv-raw", help="CSV format: keep text cells that start with = + - @ as they are "
        "(by default they get a leading ' so a spreadsheet does not run them).")] = False,
    wide: Annotated[bool, typer.Option(
        "--wide", help="Table format: keep every column (by default columns are left out, "
        "in a stated order, to fit the terminal; values are never cut).")] = False,
    engine: Annotated[Engine, typer.Option(
        "--engine", help="auto: DuckDB for step-table datasets (agentcost export), else in "
        "memory; pandas: in memory; duckdb: SQL over the step table, out of core (needs the "
        "[duckdb] extra). Same report either way.")] = Engine.auto,
) -> None:
    """Where the money and the seconds went, per task and per step."""

    def body() -> int:
        from agentcost import config as cfgmod
        from agentcost.analysis import AnalyzeOptions
        from agentcost.engines import EngineRequest, analyze_inputs
        from agentcost.ingest import resolve_inputs

        protect(*(paths or []), config)
        check_outputs(output)
        cfg = cfgmod.load(config)
        if default_model:
            cfg.default_model = default_model
        in_paths, fmt_name = resolve_inputs(paths or [], claude_code, input_format)
        # prompt segments are only shown with the step table or used to explain misses
        need = steps or explain_misses or task is not None or fmt is OutFormat.jsonl
        opts = AnalyzeOptions(group_by=group_by.value, top=top, task=task,
                              include_steps=steps or fmt is OutFormat.jsonl,
                              max_iterations=max_iterations, token_budget=token_budget,
                              timezone=timezone)
        req = EngineRequest(engine.value, need, bool(prices or default_model), since, until,
                            summary=fmt is OutFormat.table)
        report, table = analyze_inputs(in_paths, req, opts, cfg, lambda: load_traces(
            in_paths, config=cfg, input_format=fmt_name, since=since, until=until,
            strict=strict, prices=prices, segments=need))
        if explain_misses and table is not None:  # (the in-memory engine: it has the table)
            from agentcost.audit import explain_misses as run_explain

            report.extra["cache_misses"] = run_explain(table, cfg).to_dict()
        emit(report, fmt, output, wide, chart, csv_raw)
        return 0

    run(body)


def emit(report: Any, fmt: OutFormat, output: Path | None = None, wide: bool = False,
         chart: bool = False, csv_raw: bool = False) -> None:
    from agentcost.render import analyze_text, audit_text, data

    misses = report.extra.get("cache_misses")  # analyze --explain-misses
    if fmt is OutFormat.table:
        def draw(con: Any) -> None:
            analyze_text.render_console(report, con, wide)
            if misses is not None:
                audit_text.render_misses(misses, con)
            if chart and output is None:
                from agentcost.render import charts

                charts.render_cost_chart(report, con)
                charts.render_hit_sparkline(report, con)

        write_rendered(draw, output)
        return
    if misses is not None and fmt in (OutFormat.json, OutFormat.markdown):
        text = (data.to_json({**report.to_dict(), "cache_misses": misses})
                if fmt is OutFormat.json else analyze_text.render_markdown(report) + "\n"
                + "\n".join(audit_text.misses_markdown(misses["summary"], misses["findings"])))
        write_output(text, output)
        return
    text = {
        OutFormat.json: data.render_json,
        OutFormat.csv: lambda r: data.render_csv(r, csv_raw),
        OutFormat.markdown: analyze_text.render_markdown,
        OutFormat.jsonl: data.render_jsonl,
    }[fmt](report)
    write_output(text, output)
