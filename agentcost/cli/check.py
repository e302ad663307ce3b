"""``agentcost check``: the CI gate — options → :func:`agentcost.gate.check` → renderers → exit code.

Only typer is imported at module level; everything else inside the command body.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from agentcost.cli.edge import check_outputs, protect, run, write_output, write_rendered
from agentcost.cli.options import InputFormat, Prices, Since, Strict, Until


class CheckFormat(StrEnum):
    table = "table"
    markdown = "markdown"
    json = "json"


class FailOn(StrEnum):
    info = "info"
    warning = "warning"
    error = "error"


HELP = """Fail CI on cost regressions against a baseline, on budgets, and on cache-breaking
prompt content (the prompt audit of `check.prompts` / `--prompt`).

Save a baseline on the main branch with `agentcost analyze TRACES --format json --steps -o
baseline.json`, then run `agentcost check TRACES --baseline baseline.json --max-increase 10%` on
the pull request. Both sides are priced with the current price data; a price change shows as
"price drift" and never passes for a change of the agent.

Exit codes: 0 every gate passed, 1 a gate failed, 2 usage or input error, 3 inconclusive (a gate
could not be evaluated: unpriced models, missing fields).
"""


Paths = Annotated[list[str], typer.Argument(
    help="Trace files or folders of the current run (- for stdin).")]
Baseline = Annotated[Path | None, typer.Option(
    "--baseline", "-b", help="Baseline report: analyze --format json --steps output.")]
ConfigFile = Annotated[Path | None, typer.Option(
    help="agentcost.yaml with budgets: and check: (default: ./agentcost.yaml).")]
MaxIncrease = Annotated[list[str] | None, typer.Option(
    "--max-increase", help="Regression threshold: 10% or 0.50 (dollars) for cost, or "
    "METRIC=VALUE (e.g. iterations=20%, latency_p95_s=5). Repeatable.")]
MinDelta = Annotated[list[str] | None, typer.Option(
    "--min-delta", help="Noise floor for percentage thresholds: 0.01 (dollars) or "
    "METRIC=VALUE. Repeatable.")]
PerTask = Annotated[bool | None, typer.Option(
    "--per-task/--no-per-task", help="Also gate every matched task (default: totals "
    "only; tasks over a threshold are flagged warn).")]
Prompt = Annotated[list[str] | None, typer.Option(
    "--prompt", help="Also audit this prompt file or folder (added to check.prompts). "
    "Repeatable.")]
FailOnOpt = Annotated[FailOn | None, typer.Option(
    "--fail-on", help="Audit gate: fail on findings at or above this severity (default: "
    "check.fail_on, else warning).")]
Model = Annotated[str | None, typer.Option(
    "--model", help="Audit gate: the target model (default: check.model).")]
Format = Annotated[CheckFormat, typer.Option("--format", "-f")]
Output = Annotated[Path | None, typer.Option(
    "--output", "-o", help="Write the report to this file instead of stdout.")]
Junit = Annotated[Path | None, typer.Option(
    "--junit", help="Also write JUnit XML (one test case per gate) to this file.")]
ReportJson = Annotated[Path | None, typer.Option(
    "--report-json", help="Also write the JSON report to this file (e.g. with --format "
    "markdown for a PR comment).")]
StepSummary = Annotated[bool, typer.Option(
    "--step-summary/--no-step-summary", help="Append the markdown report to "
    "$GITHUB_STEP_SUMMARY when it is set.")]
Top = Annotated[int, typer.Option(min=1, help="Tasks listed in the tables.")]


def check(
    paths: Paths,
    baseline: Baseline = None,
    config: ConfigFile = None,
    max_increase: MaxIncrease = None,
    min_delta: MinDelta = None,
    per_task: PerTask = None,
    prompt: Prompt = None,
    fail_on: FailOnOpt = None,
    model: Model = None,
    fmt: Format = CheckFormat.table,
    output: Output = None,
    junit: Junit = None,
    report_json: ReportJson = None,
    step_summary: StepSummary = True,
    top: Top = 20,
    input_format: InputFormat = None,
    since: Since = None,
    until: Until = None,
    strict: Strict = False,
    prices: Prices = None,
) -> None:
    def body() -> int:
        from agentcost import config as cfgmod
        from agentcost.gate import CheckOptions, load_baseline
        from agentcost.gate import check as run_check
        from agentcost.table import load

        protect(*paths, baseline, config, prices, *(prompt or []))
        check_outputs(output, junit, report_json)
        cfg = cfgmod.load(config)
        opts = CheckOptions.from_config(cfg, max_increase=max_increase or [],
                                        min_delta=min_delta or [], per_task=per_task,
                                        fail_on=fail_on.value if fail_on else None,
                                        prompts=prompt or [], model=model,
                                        current_label=" ".join(paths))
        base = load_baseline(baseline) if baseline is not None else None
        table = load(paths, config=cfg, input_format=input_format, since=since, until=until,
                     strict=strict, prices=prices, segments=False)  # the gates never look at segments
        report = run_check(table, cfg.raw.get("budgets"), base, opts)
        _emit(report, fmt, output, junit, top, step_summary)
        if report_json is not None:
            from agentcost.render.data import to_json

            write_output(to_json(report.to_dict()), report_json)
        if report.exit_code:
            from agentcost.render.safe import printable

            print(f"agentcost: {printable(report.summary)}", file=sys.stderr)
        return int(report.exit_code)

    run(body)


def _emit(report: Any, fmt: CheckFormat, output: Path | None, junit: Path | None, top: int,
          step_summary: bool) -> None:
    import os

    from agentcost.render import check_text, data

    if fmt is CheckFormat.table:
        write_rendered(lambda con: check_text.render_console(report, con, top=top), output)
    elif fmt is CheckFormat.markdown:
        write_output(check_text.render_markdown(report, top=top), output)
    else:
        write_output(data.to_json(report.to_dict()), output)
    if junit is not None:
        from agentcost.render.check_junit import render_junit

        write_output(render_junit(report), junit)
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary and summary_path:
        from agentcost.errors import InputError

        try:
            with open(summary_path, "a", encoding="utf-8") as fh:
                fh.write(check_text.render_markdown(report, top=top))
        except OSError as exc:
            raise InputError(f"cannot append the summary: {exc.strerror}",
                             summary_path) from None

