"""``agentcost report``: options → :func:`agentcost.report_data.build_payload` → HTML page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agentcost.cli.edge import check_outputs, protect, run, write_output
from agentcost.cli.options import InputFormat, Prices, Since, Strict, Until

HELP = """Write a self-contained HTML report with charts (works offline; Plotly is embedded):
summary, cost per day by model, models, costliest tasks, per-task input-token and timeline
charts, findings, and with --simulate the scenarios side by side. Needs the [report] extra."""


def report(
    paths: Annotated[list[str], typer.Argument(help="Trace files, folders, globs, or -.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file to write.")],
    simulate: Annotated[Path | None, typer.Option(
        "--simulate", help="Scenarios file (as simulate --scenarios) to compare.")] = None,
    group_by: Annotated[str, typer.Option("--group-by", help="task, model, hour, day, week, month, session, label:KEY.")
                        ] = "task",
    task: Annotated[str | None, typer.Option("--task", help="Chart this task in detail.")
                    ] = None,
    top: Annotated[int, typer.Option(min=1, help="Rows in the costliest-tasks chart.")] = 10,
    task_charts: Annotated[int, typer.Option(
        min=1, help="Costliest tasks charted step by step (without --task).")] = 5,
    config: Annotated[Path | None, typer.Option(help="agentcost.yaml.")] = None,
    default_model: Annotated[str | None, typer.Option(
        "--default-model", help="Price llm steps whose trace names no model as this model.")] = None,
    input_format: InputFormat = None,
    since: Since = None,
    until: Until = None,
    strict: Strict = False,
    prices: Prices = None,
    with_content: Annotated[bool, typer.Option(
        "--with-content", help="Show prompt and response excerpts (400 characters) on the "
        "charted tasks' llm steps, read back from the trace files. Off by default: without it "
        "the page holds no prompt text.")] = False,
) -> None:
    def body() -> int:
        from agentcost import config as cfgmod
        from agentcost.analysis import AnalyzeOptions
        from agentcost.render.html_report import plotly_js, render_html
        from agentcost.report_data import ReportOptions, build_payload
        from agentcost.table import load

        protect(*paths, config, simulate, prices)
        check_outputs(output)
        plotly_js()  # fail early when the [report] extra is missing
        cfg = cfgmod.load(config)
        if default_model:
            cfg.default_model = default_model
        table = load(paths, config=cfg, input_format=input_format, since=since, until=until,
                     strict=strict, prices=prices, segments=simulate is not None)
        sim = None
        if simulate is not None:
            from agentcost.simulation import simulate as run_simulate
            from agentcost.simulation.scenario import from_config, load_scenarios_file

            _, st = from_config(cfg.raw)
            scs, st = load_scenarios_file(str(simulate), st)
            sim = run_simulate(table, scs, st, config=cfg)
        opts = ReportOptions(AnalyzeOptions(group_by=group_by, top=top, task=task),
                             task_charts=task_charts, with_content=with_content)
        write_output(render_html(build_payload(table, opts, cfg, sim)), output)
        return 0

    run(body)

