"""Start-up of ``agentcost analyze`` on a tiny trace, against the floors it cannot go below.

Runs, interleaved and ``--repeat`` times each (after one warm-up round that also writes the
byte-code caches):

* ``python``: ``python -c pass`` (the interpreter alone);
* ``help``: ``agentcost --help`` (the command line's own imports);
* ``import``: ``python -c "import agentcost.cli"``;
* ``analyze``: ``agentcost analyze FILE`` (table output, to a pipe);
* ``analyze-json``: ``agentcost analyze FILE --format json``;
* with ``--baseline-src DIR``: ``base-analyze`` / ``base-json``, the same two runs with the
  agentcost of another source tree;
* with ``--other-python PY``: ``other-analyze`` / ``other-json``, the same two runs with the
  agentcost installed in another environment, e.g. a base install without the extras (no
  pyarrow: pandas then imports less);
* with ``--floors``: ``imports``, a program that only imports every module the analyze run
  imports, and the same without pandas, genai-prices, numpy (see ``FLOORS``): what start-up
  could reach if those were not imported.

Prints best and median wall time per run, the median CPU time (user + system: less
sensitive than wall time to other work on the machine), and the ratios of the medians to
``python``, ``help`` and ``analyze`` (ratios of interleaved runs are steadier than absolute
times on a shared machine).
Every command runs through the interpreter of this process (``python -m agentcost.cli``),
so the figures do not depend on which ``agentcost`` is first on PATH.

    python bench/startup_bench.py                       # sample_traces/support_agent.jsonl
    python bench/startup_bench.py --repeat 20 --file my.jsonl --json-out /tmp/startup.json
    git archive main | tar -x -C /tmp/main-src        # compare with another revision:
    python bench/startup_bench.py --baseline-src /tmp/main-src

Runs happen in an empty temporary folder (no ``agentcost.yaml`` or ``pyproject.toml`` to
find on the way up, and no source tree shadowing the installed one).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT / "sample_traces" / "support_agent.jsonl"


def commands(trace: Path, baseline: Path | None = None, other_python: Path | None = None
             ) -> dict[str, list[str]]:
    py = sys.executable
    cli = [py, "-m", "agentcost.cli"]
    cmds = {
        "python": [py, "-c", "pass"],
        "help": [*cli, "--help"],
        "import": [py, "-c", "import agentcost.cli"],
        "analyze": [*cli, "analyze", str(trace)],
        "analyze-json": [*cli, "analyze", str(trace), "--format", "json"],
    }
    if baseline is not None:  # another source tree of agentcost, e.g. `git archive REV | tar -x`
        src = ["env", f"PYTHONPATH={baseline}", *cli]
        cmds["base-analyze"] = [*src, "analyze", str(trace)]
        cmds["base-json"] = [*src, "analyze", str(trace), "--format", "json"]
    if other_python is not None:  # the agentcost installed in another environment
        other = [str(other_python), "-m", "agentcost.cli"]
        cmds["other-analyze"] = [*other, "analyze", str(trace)]
        cmds["other-json"] = [*other, "analyze", str(trace), "--format", "json"]
    return cmds


# --floors: what the analyze run would cost if it did not import these packages (approximate:
# only the named top-level packages are left out, not the standard-library modules that only
# they pull in, so each floor is an upper bound)
FLOORS = {
    "no-pandas": ("pandas", "pyarrow", "dateutil"),
    "no-pandas-genai": ("pandas", "pyarrow", "dateutil", "genai_prices", "httpx2", "idna"),
    "no-pandas-genai-numpy": ("pandas", "pyarrow", "dateutil", "genai_prices", "httpx2", "idna",
                              "numpy"),
}

_DUMP_MODULES = """
import contextlib, io, json, os, runpy, sys
os._exit = lambda code: (_ for _ in ()).throw(SystemExit(code))
sys.argv = ["agentcost", "analyze", sys.argv[1]]
with contextlib.redirect_stdout(io.StringIO()):
    try:
        runpy.run_module("agentcost.cli", run_name="__main__")
    except SystemExit:
        pass
print(json.dumps(list(sys.modules)))
"""


def floor_commands(trace: Path, cwd: Path) -> dict[str, list[str]]:
    """``python -c`` programs that import what ``agentcost analyze`` imports (in its order),
    all of it (``imports``) and without the packages of each :data:`FLOORS` entry."""
    out = subprocess.run([sys.executable, "-c", _DUMP_MODULES, str(trace)], cwd=cwd,
                         capture_output=True, text=True, check=True)
    mods = [m for m in json.loads(out.stdout.strip().splitlines()[-1])
            if m != "__main__" and not m.startswith(("_", "encodings."))]

    def program(skip: tuple[str, ...]) -> list[str]:
        keep = [m for m in mods if m.split(".")[0] not in skip]
        return [sys.executable, "-c", "import importlib\n"
                f"for m in {keep!r}:\n"
                "    try:\n        importlib.import_module(m)\n"
                "    except Exception:\n        pass\n"]

    return {"imports": program(()), **{name: program(skip) for name, skip in FLOORS.items()}}


def time_once(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                          cwd=cwd, check=False)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): "
                         f"{proc.stderr.decode(errors='replace')[-400:]}")
    return elapsed, cpu


def measure(cmds: dict[str, list[str]], repeat: int, cwd: Path
            ) -> dict[str, list[tuple[float, float]]]:
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}
    env.pop("AGENTCOST_PRICES", None)
    # an installed wheel has its bytecode compiled: let the warm-up write __pycache__ even where
    # the environment says not to (else every run compiles agentcost's modules, ~0.1 s)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for cmd in cmds.values():  # warm-up: page cache and __pycache__
        time_once(cmd, env, cwd)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in cmds}
    for _ in range(repeat):
        for name, cmd in cmds.items():
            times[name].append(time_once(cmd, env, cwd))
    return times


def summary(times: dict[str, list[tuple[float, float]]]) -> list[dict[str, float | str]]:
    med = {name: statistics.median(w for w, _ in ts) for name, ts in times.items()}
    rows: list[dict[str, float | str]] = []
    for name, ts in times.items():
        rows.append({"run": name, "best_s": min(w for w, _ in ts), "median_s": med[name],
                     "cpu_median_s": statistics.median(c for _, c in ts),
                     "x_python": med[name] / med["python"], "x_help": med[name] / med["help"],
                     "x_analyze": med[name] / med["analyze"]})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", type=Path, default=DEFAULT_FILE, help="the tiny trace")
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--json-out", type=Path)
    ap.add_argument("--baseline-src", type=Path,
                    help="also time the agentcost of this source tree (base-* rows)")
    ap.add_argument("--other-python", type=Path,
                    help="also time the agentcost installed for this interpreter, e.g. "
                    "a base install's venv/bin/python (other-* rows)")
    ap.add_argument("--floors", action="store_true",
                    help="also time importing what analyze imports, without pandas, ... "
                    "(see FLOORS)")
    args = ap.parse_args()
    trace = args.file.resolve()
    baseline = args.baseline_src.resolve() if args.baseline_src else None
    with tempfile.TemporaryDirectory() as cwd:  # no agentcost.yaml, no source tree on sys.path
        cmds = commands(trace, baseline, args.other_python)
        if args.floors:
            cmds.update(floor_commands(trace, Path(cwd)))
        rows = summary(measure(cmds, args.repeat, Path(cwd)))
    print(f"{args.file.name}, {args.repeat} interleaved runs each "
          f"(load average {os.getloadavg()[0]:.2f} at the end)")
    print(f"{'run':<22}{'best s':>8}{'median s':>10}{'cpu s':>7}{'x python':>10}{'x help':>8}"
          f"{'x analyze':>11}")
    for r in rows:
        print(f"{r['run']:<22}{r['best_s']:>8.3f}{r['median_s']:>10.3f}{r['cpu_median_s']:>7.3f}"
              f"{r['x_python']:>10.1f}{r['x_help']:>8.2f}{r['x_analyze']:>11.2f}")
    if args.json_out:
        args.json_out.write_text(json.dumps({"file": str(args.file), "repeat": args.repeat,
                                             "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
