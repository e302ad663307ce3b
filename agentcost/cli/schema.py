"""``agentcost schema NAME``: print the JSON Schema of a report."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from agentcost.cli.edge import run


def schema(
    name: Annotated[str | None, typer.Argument(
        help="Report: analyze, audit, check, replay, rules or simulate (none: list them).")] = None,
) -> None:
    """Print the JSON Schema (draft 2020-12) of a JSON report, to validate it in your tools."""

    def body() -> int:
        from agentcost import schemas

        sys.stdout.write(schemas.text(name) if name else "\n".join(schemas.NAMES) + "\n")
        return 0

    run(body)
