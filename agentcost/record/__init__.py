"""Record every call a program makes through the ``anthropic`` and ``openai`` SDKs.

::

    import agentcost.record

    with agentcost.record.to("run.jsonl"):          # or agentcost.record.instrument("run.jsonl")
        with agentcost.record.task("ticket-4711"):   # or AGENTCOST_TASK=ticket-4711
            client.messages.create(...)

Each call (each HTTP attempt: a retried call gives one line per attempt, ``attempt`` 0, 1, …)
becomes one line of agentcost JSONL (docs/formats.md, "Recorded calls"): sync and async
clients, streamed or not, Messages, Chat Completions and Responses, ``with_raw_response`` and
``with_streaming_response`` alike, as they all go through the SDKs' HTTP transport
(:mod:`agentcost.record.hooks`). The output file is created and never replaced unless asked
(``append=True`` adds to it, ``overwrite=True`` empties it first); ``content=False`` keeps only
token counts, fingerprints and segment sizes. ``agentcost record -o FILE -- COMMAND`` does the
same for a whole command and the Python processes it starts (:mod:`agentcost.record.runner`).

The task id of a call is the innermost :func:`task` around it, else ``$AGENTCOST_TASK``, else
the recorder's run id (``$AGENTCOST_RECORD_RUN`` under ``agentcost record``, else
``run-<time>-<pid>``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from agentcost.record.hooks import ACTIVE, TASK, Recorder, install, install_when_imported

__all__ = ["Recorder", "instrument", "start_from_env", "task", "to", "uninstrument"]


def instrument(
    path: str | os.PathLike[str] | None = None,
    *,
    content: bool = True,
    append: bool = False,
    overwrite: bool = False,
) -> Recorder:
    """Start recording into ``path`` (default ``$AGENTCOST_RECORD_FILE``) until
    :func:`uninstrument`. Raises ``FileExistsError`` when the file exists and neither
    ``append`` nor ``overwrite`` is set, ``RuntimeError`` when the SDKs' transport (httpx2) is
    not installed."""
    target = os.fspath(path) if path is not None else os.environ.get("AGENTCOST_RECORD_FILE")
    if not target:
        raise ValueError("instrument(): give a path or set AGENTCOST_RECORD_FILE")
    if not install():
        raise RuntimeError(
            "agentcost.record needs the anthropic or openai SDK "
            "(pip install 'agentcost-profiler[sdk]')"
        )
    mode = "a" if append else "w" if overwrite else "x"
    rec = Recorder(
        target, content=content, mode=mode, run_id=os.environ.get("AGENTCOST_RECORD_RUN")
    )
    ACTIVE.append(rec)
    return rec


def uninstrument(rec: Recorder | None = None) -> None:
    """Stop the given recorder (default: the latest one) and close its file."""
    if rec is None:
        if not ACTIVE:
            return
        rec = ACTIVE[-1]
    if rec in ACTIVE:
        ACTIVE.remove(rec)
    rec.close()


@contextmanager
def to(
    path: str | os.PathLike[str],
    *,
    content: bool = True,
    append: bool = False,
    overwrite: bool = False,
) -> Iterator[Recorder]:
    """Record the calls made inside the ``with`` block into ``path``."""
    rec = instrument(path, content=content, append=append, overwrite=overwrite)
    try:
        yield rec
    finally:
        uninstrument(rec)


@contextmanager
def task(name: str) -> Iterator[None]:
    """Calls made inside the block (this thread or asyncio task) belong to task ``name``."""
    token = TASK.set(str(name))
    try:
        yield
    finally:
        TASK.reset(token)


def start_from_env() -> Recorder | None:
    """Start recording as ``agentcost record`` asks its processes to (``AGENTCOST_RECORD_FILE``,
    appended to; ``AGENTCOST_RECORD_CONTENT=0`` for ``--no-content``). The transport is hooked
    when the program imports it, so a process that never uses the SDKs pays nothing for it."""
    path = os.environ.get("AGENTCOST_RECORD_FILE")
    if not path:
        return None
    rec = Recorder(
        path,
        content=os.environ.get("AGENTCOST_RECORD_CONTENT", "1") != "0",
        mode="a",
        run_id=os.environ.get("AGENTCOST_RECORD_RUN"),
    )
    ACTIVE.append(rec)
    install_when_imported()
    return rec
