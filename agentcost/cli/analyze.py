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
    group_by: Annotated[str, typer.Option(
        "--group-by", help="task, model, hour, day, week, month, session, or label:KEY for a "
        "label the traces carry (label:git_branch, label:project, label:service.name, "
        "label:deployment.environment, label:user.id, ...).")] = "task",
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
    chart: Annotated[bool | None, typer.Option(
        "--chart/--no-chart", help="Table format: add a bar chart of cost per task (per day "
        "with --group-by day) and, with --task, a sparkline of the cache hit ratio per step "
        "(default: on for an interactive terminal of 120 columns or more).")
    ] = None,
    csv_raw: Annotated[bool, typer.Option(
        "--csv-raw", help="CSV format: keep text cells that start with = + - @ as they are "
        "(by default they get a leading ' so a spreadsheet does not run them).")] = False,
    wide: Annotated[bool, typer.Option(
        "--wide", help="Table format: keep every column (by default columns are left out, "
        "in a stated order, to fit the terminal; values are never cut).")] = False,
    anatomy: Annotated[bool, typer.Option(
        "--anatomy", help="Context anatomy: input tokens and cost by role, the carried cost "
        "of every tool result and block, staleness, findings (needs segments; reads Claude "
        "Code message content, which is slower); table, json, markdown.")] = False,
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
        from agentcost.errors import ConfigError
        from agentcost.ingest import resolve_inputs

        protect(*(paths or []), config)
        check_outputs(output)
        if anatomy and fmt in (OutFormat.csv, OutFormat.jsonl):
            raise ConfigError("--anatomy: choose --format table, json or markdown")
        cfg = cfgmod.load(config)
        if default_model:
            cfg.default_model = default_model
        in_paths, fmt_name = resolve_inputs(paths or [], claude_code, input_format)
        need = (steps or explain_misses or anatomy or task is not None
                or fmt is OutFormat.jsonl)
        opts = AnalyzeOptions(group_by=group_by, top=top, task=task,
                              include_steps=steps or fmt is OutFormat.jsonl,
                              max_iterations=max_iterations, token_budget=token_budget,
                              timezone=timezone)
        req = EngineRequest(engine.value, need, bool(prices or default_model), since, until,
                            summary=fmt is OutFormat.table)
        report, table = analyze_inputs(in_paths, req, opts, cfg, lambda: load_traces(
            in_paths, config=cfg, input_format=fmt_name, since=since, until=until,
            strict=strict, prices=prices, segments=need, conversations=anatomy))
        if explain_misses and table is not None:  # (the in-memory engine: it has the table)
            from agentcost.audit import explain_misses as run_explain

            report.extra["cache_misses"] = run_explain(table, cfg).to_dict()
        if anatomy and table is not None:
            report.extra["anatomy"] = _anatomy(table, cfg, task, top)
        emit(report, fmt, output, wide, chart, csv_raw)
        return 0

    run(body)


def emit(report: Any, fmt: OutFormat, output: Path | None = None, wide: bool = False,
         chart: bool | None = False, csv_raw: bool = False) -> None:
    from agentcost.render import analyze_text, audit_text, data

    misses = report.extra.get("cache_misses")  # analyze --explain-misses
    anatomy = report.extra.get("anatomy")  # analyze --anatomy
    if fmt is OutFormat.table:
        def draw(con: Any) -> None:
            analyze_text.render_console(report, con, wide)
            if misses is not None:
                audit_text.render_misses(misses, con)
            if anatomy is not None:
                from agentcost.render import anatomy_text

                anatomy_text.render_console(anatomy, con)
            from agentcost.render import charts

            if output is None and (chart if chart is not None else charts.auto_chart(con)):
                charts.render_cost_chart(report, con)
                charts.render_hit_sparkline(report, con)

        write_rendered(draw, output)
        return
    if (misses is not None or anatomy is not None) and fmt in (OutFormat.json,
                                                                OutFormat.markdown):
        write_output(_with_extras(report, fmt, misses, anatomy), output)
        return
    text = {
        OutFormat.json: data.render_json,
        OutFormat.csv: lambda r: data.render_csv(r, csv_raw),
        OutFormat.markdown: analyze_text.render_markdown,
        OutFormat.jsonl: data.render_jsonl,
    }[fmt](report)
    write_output(text, output)


def _anatomy(table: Any, cfg: Any, task: str | None, top: int) -> dict[str, Any]:
    from agentcost.anatomy import AnatomyOptions, anatomy

    return anatomy(table, AnatomyOptions.from_config(cfg, task=task, top=top), cfg)


def _with_extras(report: Any, fmt: OutFormat, misses: Any, anatomy: Any) -> str:
    """JSON or markdown of the report plus --explain-misses and --anatomy sections."""
    from agentcost.render import analyze_text, audit_text, data

    if fmt is OutFormat.json:
        extras = {k: v for k, v in (("cache_misses", misses), ("anatomy", anatomy))
                  if v is not None}
        return data.to_json({**report.to_dict(), **extras})
    text = analyze_text.render_markdown(report)
    if misses is not None:
        text += "\n" + "\n".join(audit_text.misses_markdown(misses["summary"],
                                                             misses["findings"]))
    if anatomy is not None:
        from agentcost.render import anatomy_text

        text += "\n" + anatomy_text.render_markdown(anatomy)
    return text
