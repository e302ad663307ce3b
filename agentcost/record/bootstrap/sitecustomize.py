"""Started by Python in every process that ``agentcost record`` runs (this folder is put first on
``PYTHONPATH``): starts the recorder when ``AGENTCOST_RECORD_FILE`` is set, then runs the
``sitecustomize`` this one shadows, if there is one. It never stops the program: a recorder
that cannot start prints one line and the program runs unrecorded."""

from __future__ import annotations

import os
import sys


def _start() -> None:
    path = os.environ.get("AGENTCOST_RECORD_FILE")
    if not path:
        return
    try:
        import importlib.util

        libdir = os.environ.get("AGENTCOST_RECORD_LIBDIR")
        if libdir and importlib.util.find_spec("agentcost") is None:
            sys.path.append(libdir)  # last: the program's own packages win
        from agentcost.record import start_from_env

        start_from_env()
    except Exception as exc:
        print(
            f"agentcost record: not recording in process {os.getpid()} "
            f"({type(exc).__name__}: {exc})",
            file=sys.stderr,
        )


def _chain() -> None:
    import importlib

    here = os.path.dirname(os.path.abspath(__file__))
    saved = sys.path[:]
    me = sys.modules.pop("sitecustomize", None)
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    try:
        importlib.import_module("sitecustomize")
    except ImportError as exc:
        if exc.name != "sitecustomize":
            raise
        if me is not None:
            sys.modules["sitecustomize"] = me
    finally:
        sys.path[:] = saved


_start()
_chain()
