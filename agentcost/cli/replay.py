"""``agentcost replay``: options → :func:`agentcost.replay.plan_replay` → confirmation →
:func:`agentcost.replay.run_replay` → renderer."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from agentcost.cli.edge import check_outputs, protect, run, write_output, write_rendered


class Steps(StrEnum):
    routing = "routing"
    all = "all"


class ReplayFormat(StrEnum):
    table = "table"
    json = "json"


HELP = """Re-send a sample of recorded calls (an `agentcost record` file with request bodies)
to a candidate model through its SDK and measure usage, cost, latency and agreement with the
recorded answers, per step role with a 95% confidence interval. Sends requests only with an API
key and after a confirmation (or --yes); --max-cost stops it before sending when the estimate
(recorded tokens x the candidate's price) is over. -o writes the JSON report that
`simulate --escalation-from` reads."""


Recording = Annotated[Path, typer.Argument(help="An agentcost record file.")]
Model = Annotated[str, typer.Option("--model", help="The candidate model.")]
Sample = Annotated[int, typer.Option("--sample", min=1, help="Calls to replay.")]
Seed = Annotated[int, typer.Option("--seed", help="Seed of the random sample.")]
StepsOpt = Annotated[Steps, typer.Option(
    "--steps", help="routing: the steps a cascade sends to the cheap model (tool calls, "
    "short answers); all: every call.")]
MaxCost = Annotated[float | None, typer.Option(
    "--max-cost", min=0.0, help="USD ceiling, checked before sending and before each call.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Send without asking.")]
BaseUrl = Annotated[str | None, typer.Option(
    "--base-url", help="Send through this gateway or proxy.")]
Judge = Annotated[str | None, typer.Option(
    "--judge", help="Also ask this model whether text answers agree (stated rubric).")]
Batch = Annotated[bool, typer.Option(
    "--batch", help="Send the sample as one Anthropic Message Batch or OpenAI Batch, at batch "
    "prices (results can take up to 24 h).")]
Similarity = Annotated[float, typer.Option(
    "--similarity", min=0.0, max=1.0,
    help="Text answers agree from this similarity (default 0.8).")]
Format = Annotated[ReplayFormat, typer.Option("--format", "-f")]
Output = Annotated[Path | None, typer.Option(
    "--output", "-o", help="Write the JSON report to this file.")]
ConfigFile = Annotated[Path | None, typer.Option(help="agentcost.yaml (prices).")]


def replay(
    recording: Recording,
    model: Model,
    sample: Sample = 50,
    seed: Seed = 0,
    steps: StepsOpt = Steps.routing,
    max_cost: MaxCost = None,
    yes: Yes = False,
    base_url: BaseUrl = None,
    judge: Judge = None,
    batch: Batch = False,
    similarity: Similarity = 0.8,
    fmt: Format = ReplayFormat.table,
    output: Output = None,
    config: ConfigFile = None,
) -> None:
    def body() -> int:
        from agentcost import config as cfgmod
        from agentcost.render.data import to_json
        from agentcost.replay import ReplayOptions, plan_replay, run_replay

        protect(recording, config)
        check_outputs(output)
        opts = ReplayOptions(model=model, sample=sample, seed=seed, steps=steps.value,
                             max_cost=max_cost, base_url=base_url, judge=judge,
                             threshold=similarity, batch=batch)
        plan = plan_replay(recording, opts, cfgmod.load(config))
        _confirm(plan.summary(), yes)
        report = run_replay(plan).to_dict()
        if output is not None:
            write_output(to_json(report), output)
        if fmt is ReplayFormat.json and output is None:
            write_output(to_json(report), None)
        elif fmt is ReplayFormat.table:
            from agentcost.render import replay_text

            write_rendered(lambda con: replay_text.render_console(report, con), None)
        return 0

    run(body)


def _confirm(summary: dict[str, Any], yes: bool) -> None:
    from agentcost.errors import InputError
    from agentcost.render.replay_text import plan_summary

    line = plan_summary(summary)
    print(f"agentcost: {line}", file=sys.stderr)
    if yes:
        return
    if not sys.stdin.isatty():
        raise InputError("not confirmed: nothing was sent (give --yes to send without asking)")
    if not typer.confirm("Send these requests?", default=False, err=True):
        raise InputError("not confirmed: nothing was sent")
