"""The command line's edge: error mapping and exit codes, the console, writing output.

Every command body runs through :func:`run`: an :class:`agentcost.errors.AgentcostError` (bad
input, bad config) becomes one line on stderr and its exit code (2 by default); a bug becomes
exit 70 with a line saying how to report it (``AGENTCOST_DEBUG=1`` shows the traceback); a reader
that goes away (``| head``) ends the output quietly without changing the exit code.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import typer

from agentcost.errors import EXIT_INTERNAL, AgentcostError

PROGRESS_MIN_BYTES = 50 * 1024 * 1024
EXPORT_WIDTH = 120  # width of table output written to a file
_PROTECTED: list[Path] = []  # the run's inputs: no output may replace them


def fail(err: AgentcostError) -> NoReturn:
    from agentcost.render.safe import printable

    # the message may quote the input (a file name, a model, a task id)
    print(f"agentcost: error: {printable(err)}", file=sys.stderr)
    raise typer.Exit(err.exit_code)


def run(fn: Callable[[], int]) -> NoReturn:
    """Run a command body and exit with its code, mapping errors to one-line messages."""
    _PROTECTED.clear()  # each run protects its own inputs
    try:
        code = fn()
    except AgentcostError as err:
        fail(err)
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
    raise typer.Exit(code)


def console() -> Any:
    """A rich console on stdout that survives a reader going away."""
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


def protect(*paths: str | Path | None) -> None:
    """Remember the run's inputs (traces, baseline, config, prompts): :func:`write_output`
    refuses to write over any of them."""
    for p in paths:
        if p is None or str(p) == "-":
            continue
        q = Path(p).expanduser()
        if q.exists():
            _PROTECTED.append(q)


def check_outputs(*outputs: Path | None) -> None:
    """Refuse (exit 2) before any work when an output is one of the protected inputs or lies
    inside a protected folder of traces."""
    from agentcost.errors import InputError

    for out in outputs:
        if out is None or str(out) == "-":
            continue
        target = out.expanduser().resolve()
        for p in _PROTECTED:
            src = p.resolve()
            if target == src or (src.is_dir() and src in target.parents and target.exists()):
                raise InputError(f"refusing to write over an input of this run ({p})",
                                 str(out))


def write_output(text: str, output: Path | None) -> None:
    """Write to stdout, or to ``output``: a regular file atomically (a temp file renamed into
    place, so a failed run never leaves a half-written or emptied file behind; a new file gets
    the umask's mode, a replaced one keeps its mode; a symlink writes its target); a FIFO, a
    device or ``-`` as a stream. An input of the run is never written over."""
    import stat
    import tempfile

    from agentcost.errors import InputError

    if output is None or str(output) == "-":
        sys.stdout.write(text)
        return
    check_outputs(output)
    target = output.expanduser()
    if target.is_symlink():
        target = target.resolve()
    if target.is_dir():
        raise InputError("is a folder, not a file", str(output))
    try:
        if target.exists() and not stat.S_ISREG(target.stat().st_mode):
            with open(target, "w", encoding="utf-8") as fh:  # a FIFO or a device
                fh.write(text)
            return
        mode = target.stat().st_mode & 0o7777 if target.exists() else _new_file_mode()
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", str(output)) from None


def _new_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_rendered(draw: Callable[[Any], None], output: Path | None) -> None:
    """Draw a rich rendering on the terminal, or record it as plain text into ``output``."""
    if output is None:
        draw(console())
        return
    from rich.console import Console

    with open(os.devnull, "w") as sink:
        con = Console(record=True, file=sink, width=EXPORT_WIDTH, highlight=False,
                      color_system=None)
        draw(con)
    write_output(con.export_text(), output)


def progress_cb() -> tuple[Any, Any]:
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


def load_traces(paths: list[str], **kw: Any) -> Any:
    """:func:`agentcost.table.load` with a progress bar on a terminal for large inputs."""
    from agentcost.table import load

    cb, progress = progress_cb()
    try:
        return load(paths, progress=cb, **kw)
    finally:
        if progress is not None:
            progress.stop()
