"""``agentcost record``: options → :func:`agentcost.record.runner.record_command` → exit code."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from agentcost.cli.edge import check_outputs, run

HELP = """Run a command and record every call it (and the Python processes it starts) makes
through the anthropic and openai SDKs into agentcost JSONL: one line per call with usage as the
provider returned it, timing, TTFT, stop reason, tool calls, errors and retries, and the request
body (--no-content: token counts, fingerprints and segment sizes only). API keys and headers are
never written. Exits with the command's exit code. Needs the [sdk] extra in the command's
environment.

  agentcost record -o run.jsonl -- python my_agent.py ARGS"""


def record(
    command: Annotated[
        list[str], typer.Argument(help="The command to run, after --.", show_default=False)
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="The JSONL file to write.")],
    no_content: Annotated[
        bool,
        typer.Option(
            "--no-content",
            help="Keep only token counts, fingerprints and segment sizes: no "
            "prompt or answer text.",
        ),
    ] = False,
    append: Annotated[
        bool, typer.Option("--append", help="Add to an existing output file.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing output file.")
    ] = False,
) -> None:
    def body() -> int:
        from agentcost.errors import InputError
        from agentcost.record.runner import record_command
        from agentcost.render.safe import printable

        if append and force:
            raise InputError("--append and --force exclude each other")
        check_outputs(output)
        res = record_command(
            list(command),
            output,
            content=not no_content,
            mode="a" if append else "w" if force else "x",
        )
        print(
            f"agentcost: recorded {res.calls} call{'s' * (res.calls != 1)} to "
            f"{printable(res.output)}",
            file=sys.stderr,
        )
        return res.exit_code

    run(body)
