"""``agentcost audit-prompt``: a thin adapter over :func:`agentcost.audit.run_audit`.

Only typer (and the standard library) is imported at module level; the library and the
renderers are imported inside the command so ``agentcost --help`` stays fast.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from agentcost.cli.edge import check_outputs, protect, run, write_output, write_rendered


class AuditFormat(StrEnum):
    table = "table"
    json = "json"
    sarif = "sarif"
    markdown = "markdown"


class FailOn(StrEnum):
    info = "info"
    warning = "warning"
    error = "error"


def audit_prompt(
    paths: Annotated[list[str] | None, typer.Argument(
        help="Prompt files or templates, JSON/YAML request bodies, a Python file with "
             "--symbol, or trace files/folders (detected from content).")] = None,
    model: Annotated[str | None, typer.Option(
        help="Target model: token counts and its minimum cacheable length.")] = None,
    provider: Annotated[str | None, typer.Option(help="Provider hint.")] = None,
    fmt: Annotated[AuditFormat, typer.Option("--format", "-f")] = AuditFormat.table,
    fail_on: Annotated[FailOn, typer.Option(
        "--fail-on", help="Exit 1 when a finding at or above this severity exists.")
    ] = FailOn.warning,
    fix: Annotated[bool, typer.Option(
        "--fix", help="Rewrite plain-text prompt files in canonical whitespace form "
                      "(atomically).")] = False,
    exact: Annotated[bool, typer.Option(
        "--exact", help="Count tokens with the provider's counting endpoint through its SDK: "
        "Claude models (ANTHROPIC_API_KEY), OpenAI models without an exact offline count "
        "(OPENAI_API_KEY). Needs the [sdk] extra.")] = False,
    symbol: Annotated[str | None, typer.Option(
        "--symbol", help="Python file: the string constant to audit (NAME or "
                         "Class.NAME).")] = None,
    input_format: Annotated[str | None, typer.Option(
        "--input-format", help="Treat the inputs as traces of this format.")] = None,
    config: Annotated[Path | None, typer.Option(
        help="agentcost.yaml (price overrides for the dollars lost).")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the report to this file (atomically).")] = None,
) -> None:
    """Find what breaks prompt caching: in prompt files, and across traces (why each call
    missed the cache)."""

    def body() -> int:
        from agentcost import __version__
        from agentcost import config as cfgmod
        from agentcost.audit import AuditOptions, run_audit
        from agentcost.errors import InputError

        protect(*(paths or []), config)
        check_outputs(output)
        if not paths:
            raise InputError("no input: give prompt files, request bodies or trace files")
        if "-" in paths:
            raise InputError("audit-prompt reads files, not standard input")
        opts = AuditOptions(model=model, provider=provider, symbol=symbol, exact=exact,
                            fix=fix, input_format=input_format,
                            config=cfgmod.load(config))
        rep = run_audit(list(paths), opts)
        _emit(rep, fmt, output, __version__)
        return 1 if rep.fails(fail_on.value) else 0

    run(body)


HELP = audit_prompt.__doc__


def _emit(rep: Any, fmt: AuditFormat, output: Path | None, version: str) -> None:
    from agentcost.render import audit_text

    if fmt is AuditFormat.table:
        write_rendered(lambda con: audit_text.render_console(rep, con), output)
        return
    if fmt is AuditFormat.json:
        from agentcost.render.data import to_json

        text = to_json(rep.to_dict())
    elif fmt is AuditFormat.sarif:
        from agentcost.render.sarif import render_sarif

        text = render_sarif(rep, version)
    else:
        text = audit_text.render_markdown(rep)
    write_output(text, output)
    if output is not None:
        from agentcost.render.safe import printable

        print(f"agentcost: wrote {printable(output)}", file=sys.stderr)
