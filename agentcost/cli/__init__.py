"""The ``agentcost`` command line: one module per command, each a thin adapter (options → one
library call → renderer → exit code); :mod:`agentcost.cli.edge` maps errors to exit codes and
writes output.

Command modules import only typer at module level; pandas, the readers and rich are imported
inside the command bodies, so ``agentcost --help`` and ``--version`` stay fast. Commands are
registered explicitly: a missing module is an import error, never a silently absent command.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, NoReturn

import typer

from agentcost import __version__
from agentcost.cli import (
    analyze,
    audit,
    check,
    export,
    prices,
    record,
    replay,
    report,
    rules,
    schema,
    simulate,
)
from agentcost.cli.edge import write_output

__all__ = ["app", "main", "write_output"]

app = typer.Typer(
    name="agentcost",
    help="Profile and optimise the cost and latency of LLM agent traces.",
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"agentcost {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_callback(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Profile and optimise the cost and latency of LLM agent traces."""


app.command("analyze")(analyze.analyze)
app.command("rules")(rules.rules)
app.command("audit-prompt", help=audit.HELP)(audit.audit_prompt)
app.command("simulate", help=simulate.HELP)(simulate.simulate)
app.command("check", help=check.HELP)(check.check)
app.command("report", help=report.HELP)(report.report)
app.command("export", help=export.HELP)(export.export)
app.command("schema")(schema.schema)
app.command("record", help=record.HELP)(record.record)
app.command("replay", help=replay.HELP)(replay.replay)
app.add_typer(prices.app, name="prices")


def main() -> None:
    """Console entry point. Once the command has finished and its output is flushed, the
    process ends without tearing its heap down object by object (as mypy does): freeing a
    large step table at interpreter exit costs a quarter of a second for nothing."""
    try:
        app()
    except SystemExit as exc:
        _exit_now(exc.code)
    _exit_now(0)


def _exit_now(code: object) -> NoReturn:
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # SystemExit("message"): Python prints it and exits 1
        print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # reader went away / stream closed
            pass
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    main()
