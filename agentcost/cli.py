"""The ``agentcost`` command line: thin adapters (options → one library call → renderer → exit).

Heavy modules (pandas, the readers, rich tables) are imported inside the commands so that
``agentcost --help`` and ``--version`` stay fast.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from agentcost import __version__
from agentcost.commands.options import InputFormat, Since, Strict, Until
from agentcost.errors import EXIT_INTERNAL, AgentcostError

app = typer.Typer(
    name="agentcost",
    help="Profile and optimise the cost and latency of LLM agent traces.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

PROGRESS_MIN_BYTES = 50 * 1024 * 1024


class OutFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    jsonl = "jsonl"


class GroupBy(StrEnum):
    task = "task"
    model = "model"
    day = "day"
    session = "session"


def _fail(err: AgentcostError) -> NoReturn:
    from agentcost.render.safe import printable

    # the message may quote the input (a file name, a model, a task id)
    print(f"agentcost: error: {printable(err)}", file=sys.stderr)
    raise typer.Exit(err.exit_code)


def _run(fn: Any) -> Any:
    """Run a command body, mapping errors to one-line messages and exit codes."""
    try:
        return fn()
    except AgentcostError as err:
        _fail(err)
    except KeyboardInterrupt:
        print("agentcost: interrupted", file=sys.stderr)
        raise typer.Exit(130) from None
    except BrokenPipeError:
        raise typer.Exit(0) from None
    except typer.Exit:
        raise
    except Exception as exc:  # a bug: exit 70, never 2 (bad input); AGENTCOST_DEBUG=1 shows it
        if os.environ.get("AGENTCOST_DEBUG"):
            raise
        from agentcost.render.safe import printable

        print(f"agentcost: internal error: {type(exc).__name__}: {printable(exc)}\n"
              "agentcost: this is a bug, not bad input; please report it with the traceback "
              "that AGENTCOST_DEBUG=1 prints", file=sys.stderr)
        raise typer.Exit(EXIT_INTERNAL) from None


def _console() -> Any:
    from rich.console import Console

    con = Console(highlight=False, soft_wrap=False)

    def reader_went_away() -> None:
        # rich's own handler exits 1, which `agentcost check … | head` would read as a failed
        # gate: the rest of the output goes nowhere and the command keeps its own exit code
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        con.quiet = True

    con.on_broken_pipe = reader_went_away  # type: ignore[method-assign]
    return con


def _progress_cb() -> tuple[Any, Any]:
    """A rich progress bar on stderr for large inputs when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    progress = Progress("reading traces", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                        console=Console(stderr=True), transient=True)
    state: dict[str, Any] = {"task": None}

    def cb(done: int, total: int) -> None:
        if total < PROGRESS_MIN_BYTES:
            return
        if state["task"] is None:
            progress.start()
            state["task"] = progress.add_task("read", total=total)
        progress.update(state["task"], completed=done)

    return cb, progress


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


@app.command()
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
    config: Annotated[Path | None, typer.Option(
        help="agentcost.yaml (default: ./agentcost.yaml if present).")] = None,
    default_model: Annotated[str | None, typer.Option(
        "--default-model", help="Price llm steps whose trace names no model (e.g. OpenAI "
        "Agents SDK response spans) as this model; overrides default_model in the config.")
    ] = None,
    group_by: Annotated[GroupBy, typer.Option("--group-by")] = GroupBy.task,
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
    chart: Annotated[bool, typer.Option(
        "--chart", help="Table format: add a bar chart of cost per task (per day with "
        "--group-by day) and, with --task, a sparkline of the cache hit ratio per step.")
    ] = False,
    wide: Annotated[bool, typer.Option(
        "--wide", help="Table format: keep every column (by default columns are left out, "
        "in a stated order, to fit the terminal; values are never cut).")] = False,
) -> None:
    """Where the money and the seconds went, per task and per step."""

    def body() -> int:
        from agentcost import config as cfgmod
        from agentcost.analysis import AnalyzeOptions
        from agentcost.analysis import analyze as run_analyze
        from agentcost.errors import InputError
        from agentcost.ingest import claude_code_roots
        from agentcost.table import load

        cfg = cfgmod.load(config)
        if default_model:
            cfg.default_model = default_model
        in_paths = list(paths or [])
        fmt_name = input_format
        if claude_code:
            fmt_name = fmt_name or "claude-code"
            if not in_paths:
                roots = claude_code_roots()
                if not roots:
                    raise InputError("no Claude Code logs found (looked in $CLAUDE_CONFIG_DIR, "
                                     "~/.claude/projects and ~/.config/claude/projects)")
                in_paths = [str(r) for r in roots]
        if not in_paths:
            raise InputError("no input: give trace files or folders, - for stdin, or "
                             "--claude-code")
        cb, progress = _progress_cb()
        try:
            # prompt segments are only shown with the step table or used to explain misses
            table = load(in_paths, config=cfg, input_format=fmt_name, since=since, until=until,
                         strict=strict, progress=cb,
                         segments=steps or explain_misses or task is not None
                         or fmt is OutFormat.jsonl)
        finally:
            if progress is not None:
                progress.stop()
        opts = AnalyzeOptions(group_by=group_by.value, top=top, task=task,
                              include_steps=steps or fmt is OutFormat.jsonl,
                              max_iterations=max_iterations, token_budget=token_budget)
        report = run_analyze(table, opts, cfg)
        if explain_misses:
            from agentcost.audit import explain_misses as run_explain

            report.extra["cache_misses"] = run_explain(table, cfg).to_dict()
        _emit_analyze(report, fmt, output, wide)
        if chart and fmt is OutFormat.table and output is None:
            from agentcost.render import charts

            charts.render_cost_chart(report, _console())
            charts.render_hit_sparkline(report, _console())
        return 0

    code = _run(body)
    raise typer.Exit(code)


def _emit_analyze(report: Any, fmt: OutFormat, output: Path | None = None,
                  wide: bool = False) -> None:
    from agentcost.render import analyze_text, audit_text, data

    misses = report.extra.get("cache_misses")  # analyze --explain-misses
    if fmt is OutFormat.table:
        if output is None:
            analyze_text.render_console(report, _console(), wide)
            if misses is not None:
                audit_text.render_misses(misses, _console())
            return
        from rich.console import Console

        con = Console(record=True, file=open(os.devnull, "w"), width=120,  # noqa: SIM115
                      highlight=False, color_system=None)
        analyze_text.render_console(report, con, wide)
        if misses is not None:
            audit_text.render_misses(misses, con)
        write_output(con.export_text(), output)
        return
    if misses is not None and fmt in (OutFormat.json, OutFormat.markdown):
        text = (data.to_json({**report.to_dict(), "cache_misses": misses})
                if fmt is OutFormat.json else analyze_text.render_markdown(report) + "\n"
                + "\n".join(audit_text.misses_markdown(misses["summary"], misses["findings"])))
        write_output(text, output)
        return
    text = {
        OutFormat.json: data.render_json,
        OutFormat.csv: data.render_csv,
        OutFormat.markdown: analyze_text.render_markdown,
        OutFormat.jsonl: data.render_jsonl,
    }[fmt](report)
    write_output(text, output)


@app.command()
def rules(
    model: Annotated[str, typer.Argument(help="Model id or alias, e.g. claude-sonnet-4-6.")],
    provider: Annotated[str | None, typer.Option(help="Provider hint.")] = None,
    fmt: Annotated[OutFormat, typer.Option("--format", "-f")] = OutFormat.table,
    config: Annotated[Path | None, typer.Option(help="agentcost.yaml for price overrides.")] = None,
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

            render_rules(rep, _console(), markdown=fmt is OutFormat.markdown)
        return 0

    raise typer.Exit(_run(body))


def write_output(text: str, output: Path | None) -> None:
    """Write to stdout, or atomically to ``output`` (a temp file renamed into place, so a failed
    run never leaves a half-written or emptied file behind)."""
    if output is None:
        sys.stdout.write(text)
        return
    import tempfile

    from agentcost.errors import InputError

    target = output.expanduser()
    if target.is_dir():
        raise InputError("is a folder, not a file", str(output))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", str(output)) from None


def _register_commands() -> None:
    import importlib

    from agentcost.commands import COMMAND_MODULES

    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(f"agentcost.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"agentcost.commands.{name}":
                continue
            raise
        mod.register(app)


_register_commands()


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
