"""``agentcost analyze``: options → :func:`agentcost.engines.analyze_inputs` (which runs
:func:`agentcost.analysis.analyze`) → renderer.

Only typer is imported at module level; everything else inside the command body.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agentcost.cli.edge import (
    check_outputs,
    load_traces,
    protect,
    run,
    write_output,
    write_rendered,
)
from agentcost.cli.options import (
    Config,
    InputFormat,
    Prices,
    Since,
    Strict,
    Until,
    command_signature,
)

if TYPE_CHECKING:
    from agentcost.analysis import AnalyzeOptions
    from agentcost.engines import EngineRequest


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


@dataclass
class AnalyzeArgs:
    """The arguments and options of ``agentcost analyze``, each declared once with its typer
    metadata; the command's signature is built from these fields, in this order."""

    paths: Annotated[list[str] | None, typer.Argument(
        help="Trace files, folders (recursive), globs, or - for stdin; .gz is fine.")] = None
    claude_code: Annotated[bool, typer.Option(
        "--claude-code", help="Read Claude Code logs (~/.claude/projects, $CLAUDE_CONFIG_DIR) "
        "when no path is given.")] = False
    input_format: InputFormat = None
    since: Since = None
    until: Until = None
    strict: Strict = False
    prices: Prices = None
    config: Config = None
    default_model: Annotated[str | None, typer.Option(
        "--default-model", help="Price llm steps whose trace names no model (e.g. OpenAI "
        "Agents SDK response spans) as this model; overrides default_model in the config.")
    ] = None
    group_by: Annotated[str, typer.Option(
        "--group-by", help="task, model, hour, day, week, month, session, or label:KEY for a "
        "label the traces carry (label:git_branch, label:project, label:service.name, "
        "label:deployment.environment, label:user.id, ...).")] = "task"
    timezone: Annotated[str | None, typer.Option(
        "--timezone", help="Time zone of the day/week/month buckets (IANA name, e.g. "
        "Europe/Berlin; default UTC).")] = None
    top: Annotated[int, typer.Option(min=1, help="Rows in the costliest-tasks table.")] = 10
    fmt: Annotated[OutFormat, typer.Option("--format", "-f")] = OutFormat.table
    steps: Annotated[bool, typer.Option("--steps", help="Include the step table.")] = False
    task: Annotated[str | None, typer.Option("--task", help="Show one task's step table.")] = None
    max_iterations: Annotated[int | None, typer.Option(
        min=1, help="Flag tasks with more llm calls than this.")] = None
    token_budget: Annotated[int | None, typer.Option(
        min=1, help="Flag tasks with more tokens than this.")] = None
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the report to this file (atomically) instead of stdout.")
    ] = None
    explain_misses: Annotated[bool, typer.Option(
        "--explain-misses", help="Explain each cache miss (cause, first differing block, tokens "
        "and dollars lost; needs request bodies or segments); table, json, markdown.")] = False
    chart: Annotated[bool | None, typer.Option(
        "--chart/--no-chart", help="Table format: add a bar chart of cost per task (per day "
        "with --group-by day) and, with --task, a sparkline of the cache hit ratio per step "
        "(default: on for an interactive terminal of 120 columns or more).")
    ] = None
    csv_raw: Annotated[bool, typer.Option(
        "--csv-raw", help="CSV format: keep text cells that start with = + - @ as they are "
        "(by default they get a leading ' so a spreadsheet does not run them).")] = False
    wide: Annotated[bool, typer.Option(
        "--wide", help="Table format: keep every column (by default columns are left out, "
        "in a stated order, to fit the terminal; values are never cut).")] = False
    anatomy: Annotated[bool, typer.Option(
        "--anatomy", help="Context anatomy: input tokens and cost by role, the carried cost "
        "of every tool result and block, staleness, findings (needs segments; reads Claude "
        "Code message content, which is slower); table, json, markdown.")] = False
    engine: Annotated[Engine, typer.Option(
        "--engine", help="auto: DuckDB for step-table datasets (agentcost export), else in "
        "memory; pandas: in memory; duckdb: SQL over the step table, out of core (needs the "
        "[duckdb] extra). Same report either way.")] = Engine.auto

    @property
    def needs_steps(self) -> bool:
        """Whether the report looks at single steps (and their segments), not only totals."""
        return (self.steps or self.explain_misses or self.anatomy or self.task is not None
                or self.fmt is OutFormat.jsonl)


def analyze(**options: Any) -> None:
    """Where the money and the seconds went, per task and per step."""
    run(lambda: _analyze(AnalyzeArgs(**options)))


analyze.__signature__ = command_signature(AnalyzeArgs)  # type: ignore[attr-defined]


def _analyze(o: AnalyzeArgs) -> int:
    from agentcost import config as cfgmod
    from agentcost.engines import analyze_inputs
    from agentcost.errors import ConfigError
    from agentcost.ingest import resolve_inputs

    protect(*(o.paths or []), o.config)
    check_outputs(o.output)
    if o.anatomy and o.fmt in (OutFormat.csv, OutFormat.jsonl):
        raise ConfigError("--anatomy: choose --format table, json or markdown")
    cfg = cfgmod.load(o.config)
    if o.default_model:
        cfg.default_model = o.default_model
    in_paths, fmt_name = resolve_inputs(o.paths or [], o.claude_code, o.input_format)
    opts, req = _library_options(o)
    report, table = analyze_inputs(in_paths, req, opts, cfg, lambda: load_traces(
        in_paths, config=cfg, input_format=fmt_name, since=o.since, until=o.until,
        strict=o.strict, prices=o.prices, segments=o.needs_steps, conversations=o.anatomy))
    if table is not None:  # (the in-memory engine: it has the table)
        _add_sections(report, table, cfg, o)
    emit(report, o.fmt, o.output, o.wide, o.chart, o.csv_raw)
    return 0


def _library_options(o: AnalyzeArgs) -> tuple[AnalyzeOptions, EngineRequest]:
    """The options as :func:`agentcost.engines.analyze_inputs` takes them."""
    from agentcost.analysis import AnalyzeOptions
    from agentcost.engines import EngineRequest

    opts = AnalyzeOptions(group_by=o.group_by, top=o.top, task=o.task,
                          include_steps=o.steps or o.fmt is OutFormat.jsonl,
                          max_iterations=o.max_iterations, token_budget=o.token_budget,
                          timezone=o.timezone)
    req = EngineRequest(o.engine.value, o.needs_steps, bool(o.prices or o.default_model),
                        o.since, o.until, summary=o.fmt is OutFormat.table)
    return opts, req


def _add_sections(report: Any, table: Any, cfg: Any, o: AnalyzeArgs) -> None:
    """The --explain-misses and --anatomy sections, into ``report.extra``."""
    if o.explain_misses:
        from agentcost.audit import explain_misses as run_explain

        report.extra["cache_misses"] = run_explain(table, cfg).to_dict()
    if o.anatomy:
        report.extra["anatomy"] = _anatomy(table, cfg, o.task, o.top)


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
