"""``agentcost rules MODEL``: a model's caching rules and prices."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from agentcost.cli.analyze import OutFormat
from agentcost.cli.edge import console, run
from agentcost.cli.options import Config


def rules(
    model: Annotated[str, typer.Argument(help="Model id or alias, e.g. claude-sonnet-4-6.")],
    provider: Annotated[str | None, typer.Option(help="Provider hint.")] = None,
    fmt: Annotated[OutFormat, typer.Option("--format", "-f")] = OutFormat.table,
    config: Config = None,
) -> None:
    """Print a model's prompt-caching rules (with source and check date) and its prices."""

    def body() -> int:
        from agentcost import config as cfgmod
        from agentcost.render import data
        from agentcost.rules_report import rules_report

        rep = rules_report(model, provider=provider, config=cfgmod.load(config))
        if fmt is OutFormat.json:
            sys.stdout.write(data.to_json(rep))
        else:
            from agentcost.render.rules_text import render_rules

            render_rules(rep, console(), markdown=fmt is OutFormat.markdown)
        return 0

    run(body)
