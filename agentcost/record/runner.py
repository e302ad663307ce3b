"""Run a command with the recorder active in it and in every Python process it starts.

A temporary folder holding a ``sitecustomize.py`` (agentcost/record/bootstrap) goes first on
``PYTHONPATH``; Python runs it at start-up in the command (when it is Python) and in each
Python child, and it starts :func:`agentcost.record.start_from_env`. The processes append
whole lines to one file. ``PYTHONPATH`` is the only change to the command's environment
besides the ``AGENTCOST_RECORD_*`` variables; a ``sitecustomize`` the environment had runs as
before, after the recorder's. Python started with ``-S`` or ``-I`` skips ``sitecustomize`` and
is not recorded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from agentcost.errors import InputError

BOOTSTRAP = Path(__file__).with_name("bootstrap") / "sitecustomize.py"


@dataclass
class RecordResult:
    exit_code: int  # the command's own exit code
    calls: int  # lines in the output file after the run (this run's lines with --append)
    output: Path


def _create(output: Path, mode: str) -> int:
    """Create (or empty / open) the output before the command runs; return lines it had."""
    if output.is_dir():
        raise InputError("is a folder, not a file", str(output))
    before = 0
    if output.exists():
        if mode == "x":
            raise InputError(
                "exists; give --append to add to it or --force to replace it", str(output)
            )
        if mode == "a":
            with open(output, "rb") as fh:
                before = sum(1 for _ in fh)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if mode == "w" else os.O_APPEND)
    try:
        os.close(os.open(output, flags, 0o666))
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", str(output)) from None
    return before


def record_command(
    command: list[str], output: Path, *, content: bool = True, mode: str = "x"
) -> RecordResult:
    """Run ``command`` recording its SDK calls into ``output`` (``mode``: ``x`` refuse an
    existing file, ``a`` append, ``w`` replace)."""
    if not command:
        raise InputError(
            "no command: give it after --, e.g. agentcost record -o run.jsonl -- python my_agent.py"
        )
    if shutil.which(command[0]) is None:
        raise InputError(f"command not found: {command[0]}")
    output = output.expanduser().absolute()
    before = _create(output, mode)
    import agentcost

    libdir = str(Path(agentcost.__file__).resolve().parent.parent)
    with tempfile.TemporaryDirectory(prefix="agentcost-record-") as tmp:
        shutil.copy(BOOTSTRAP, Path(tmp) / "sitecustomize.py")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (tmp, env.get("PYTHONPATH")) if p)
        env.update(
            {
                "AGENTCOST_RECORD_FILE": str(output),
                "AGENTCOST_RECORD_CONTENT": "1" if content else "0",
                "AGENTCOST_RECORD_LIBDIR": libdir,
                "AGENTCOST_RECORD_RUN": env.get("AGENTCOST_RECORD_RUN")
                or f"run-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}",
            }
        )
        try:
            code = subprocess.call(command, env=env)  # noqa: S603 - the user's own command
        except OSError as exc:
            raise InputError(f"cannot run {command[0]}: {exc.strerror}") from None
    with open(output, "rb") as fh:
        lines = sum(1 for _ in fh)
    # killed by a signal: the shell's convention, 128 + the signal number
    return RecordResult(128 - code if code < 0 else code, lines - before, output)
