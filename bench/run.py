"""Benchmark: ingest of Claude Code logs vs a bare parse-and-sum loop over the same bytes.

    python bench/run.py --size 100M            # generates bench/data/cc-100M if missing
    python bench/run.py --size 1G --repeat 3
    python bench/run.py --size 1G --profile dense   # bench/data/cc-dense-1G
    python bench/run.py --data ~/.claude/projects   # your own logs (no expected totals)

Each measurement runs in a child process, after one warm-up read of every file (so all runs
read from the page cache), ``--repeat`` times; the best and the median wall time are shown.

* ``baseline`` — ``bench/baseline.py``: orjson on every line, usage summed, no dedupe;
* ``reader`` — the Claude Code reader alone (``read_many``: scan, dedupe, step rows; no
  pandas), with the default worker pool, and ``reader-1cpu`` with ``AGENTCOST_JOBS=1``;
* ``ingest`` — ``agentcost.ingest.read_sources`` (sniffing, reader, step table: pandas
  import and DataFrame build included), and ``ingest-1cpu``;
* ``cli`` — ``agentcost analyze <dir> --format json`` (import, ingest, pricing, analysis,
  rendering), when the installed agentcost has the ``analyze`` command;
* ``ccusage`` / ``ccusage-1cpu`` — ``ccusage claude daily --json --offline`` (and with
  ``--single-thread``) when a ccusage binary is given with ``--ccusage`` or is on PATH (never
  installed by this); its totals are checked against the manifest too.

Peak memory: ``maxrss`` is the largest single process (``ru_maxrss`` of the waited child, which
covers its pool workers one by one); ``tree`` is the sampled sum of PSS over the child and
its workers (every 20 ms), the figure to hold against a memory budget.
Totals are checked against the generator's ``manifest.json`` when there is one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


# -- memory of a process tree -----------------------------------------------------------------
def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(b")") + 2 :].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def _pss_kib(pid: int) -> int:
    for name, key in (("smaps_rollup", b"Pss:"), ("status", b"VmRSS:")):
        try:
            with open(f"/proc/{pid}/{name}", "rb") as fh:
                for line in fh:
                    if line.startswith(key):
                        return int(line.split()[1])
        except OSError:
            continue
    return 0


class TreeSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kib = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            kids = _children_map()
            todo, total = [self.pid], 0
            while todo:
                p = todo.pop()
                total += _pss_kib(p)
                todo.extend(kids.get(p, []))
            self.peak_kib = max(self.peak_kib, total)
            self.stop.wait(0.02)


def measure(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})}, cwd=REPO)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    out_chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: out_chunks.append(proc.stdout.read()))  # type: ignore[union-attr]
    reader.start()
    _, status, rusage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    reader.join()
    sampler.stop.set()
    sampler.join()
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return {"wall": wall, "maxrss_mib": rusage.ru_maxrss / 1024,
            "tree_mib": sampler.peak_kib / 1024, "stdout": b"".join(out_chunks)}


# -- the children ------------------------------------------------------------------------------
def reader_totals(path: str) -> dict[str, int]:
    """What the Claude Code reader alone counts in ``path`` (scan, dedupe, step rows), in the
    manifest's terms: no table, no pandas."""
    from agentcost.ingest import resolve_sources
    from agentcost.ingest.base import IngestContext
    from agentcost.ingest.claude_code import READER

    sources = [s for s, _ in resolve_sources([path])]
    out = dict.fromkeys(("calls", "input_raw", "cache_read", "cache_write", "cache_write_1h",
                         "output", "tool_steps"), 0)
    for row in READER.read_many(sources, IngestContext()):
        if row["kind"] == "tool":
            out["tool_steps"] += 1
            continue
        out["calls"] += 1
        out["cache_read"] += row["cache_read_tokens"]
        out["cache_write"] += row["cache_write_tokens"]
        out["cache_write_1h"] += row["cache_write_1h_tokens"]
        out["input_raw"] += (row["input_tokens"] - row["cache_read_tokens"]
                             - row["cache_write_tokens"])
        out["output"] += row["output_tokens"]
    return out


def child_reader(path: str) -> None:
    """The Claude Code reader alone (scan, dedupe, step rows): no table, no pandas."""
    print(json.dumps(reader_totals(path)))


def child_ingest(path: str) -> None:
    from agentcost.ingest import read_sources

    res = read_sources([path])
    df = res.frame
    llm = df[df["kind"] == "llm"]
    out = {"calls": int(len(llm)),
           "input_raw": int((llm["input_tokens"] - llm["cache_read_tokens"]
                             - llm["cache_write_tokens"]).sum()),
           "cache_read": int(llm["cache_read_tokens"].sum()),
           "cache_write": int(llm["cache_write_tokens"].sum()),
           "cache_write_1h": int(llm["cache_write_1h_tokens"].sum()),
           "output": int(llm["output_tokens"].sum()),
           "tool_steps": int((df["kind"] == "tool").sum())}
    print(json.dumps(out))


def run_interleaved(runs: dict[str, tuple[list[str], dict[str, str]]], repeat: int,
                    skip: set[str], data: Path, n_bytes: int, n_files: int,
                    info: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], float | None,
                                                   float | None]:
    """Run every measurement ``repeat`` times, interleaved (so drift hits all alike); return
    the results and the baseline's best and median wall time."""
    print(f"data: {data} — {n_bytes / 2**20:,.1f} MiB in {n_files} files")
    print(f"machine: {info['cpus']} CPUs ({info['cpu']}), load {info['load'][0]:.2f}, "
          f"{info['memory']}, Python {info['python']}, orjson {info['orjson']}")
    results: dict[str, dict[str, Any]] = {}
    for _rep in range(repeat):
        for name, (cmd, env) in runs.items():
            if name in skip:
                continue
            m = measure(cmd, env)
            r = results.setdefault(name, {"walls": [], "maxrss_mib": 0.0, "tree_mib": 0.0})
            r["walls"].append(m["wall"])
            r["maxrss_mib"] = max(r["maxrss_mib"], m["maxrss_mib"])
            r["tree_mib"] = max(r["tree_mib"], m["tree_mib"])
            r["stdout"] = m["stdout"]
    walls = results["baseline"]["walls"] if "baseline" in results else None
    return results, (min(walls) if walls else None), (
        statistics.median(walls) if walls else None)


def result_row(name: str, r: dict[str, Any], n_bytes: int, base: float | None,
               base_med: float | None, check: str, width: int = 12
               ) -> tuple[str, dict[str, Any]]:
    """One measurement's printed line and its JSON record (best/median wall, throughput, peak
    memory, ratios to the baseline's best and median)."""
    best, med = min(r["walls"]), statistics.median(r["walls"])
    ratio = f"{best / base:11.2f}" if base else f"{'':>11s}"
    ratio_med = f"{med / base_med:10.2f}" if base_med else f"{'':>10s}"
    line = (f"{name:{width}s} {best:8.2f} {med:9.2f} {n_bytes / 2**20 / best:8.0f} "
            f"{r['maxrss_mib']:11.0f} {r['tree_mib']:9.0f} {ratio} {ratio_med}  {check}")
    record = {"best_s": best, "median_s": med, "walls": r["walls"],
              "x_baseline_best": best / base if base else None,
              "x_baseline_median": med / base_med if base_med else None,
              "mib_per_s": n_bytes / 2**20 / best,
              "maxrss_mib": r["maxrss_mib"], "tree_mib": r["tree_mib"], "check": check}
    return line, record


def cli_available() -> bool:
    try:
        import agentcost.cli as cli
    except ImportError:
        return False
    return hasattr(cli, "analyze")


def cli_totals(stdout: bytes) -> dict[str, int]:
    t = json.loads(stdout)["totals"]
    return {"calls": t.get("llm_calls"), "cache_read": t.get("cache_read_tokens"),
            "cache_write": t.get("cache_write_tokens"), "output": t.get("output_tokens"),
            "tool_steps": t.get("tool_calls"),
            "input_raw": (t.get("input_tokens") or 0) - (t.get("cache_read_tokens") or 0)
            - (t.get("cache_write_tokens") or 0)}


def machine() -> dict[str, Any]:
    import orjson

    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemAvailable"):
                mem = f"{int(line.split()[1]) // 1024} MiB available"
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "load": os.getloadavg(), "memory": mem,
            "python": platform.python_version(), "orjson": orjson.__version__}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Claude Code ingest benchmark")
    ap.add_argument("--size", default="100M")
    ap.add_argument("--profile", choices=("sparse", "dense"), default="sparse",
                    help="generated data: sparse (~36 KB per API call) or dense (~14.5 KB, "
                    "8 models; see gen_claude_code.py)")
    ap.add_argument("--data", type=Path, default=None,
                    help="folder of Claude Code logs (default bench/data/cc-<size>/projects)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip", default="", help="comma-separated measurements to skip")
    ap.add_argument("--json-out", type=Path, default=None)
    ap.add_argument("--ccusage", default=None,
                    help="a ccusage (20.x) binary to time on the same files (default: one on "
                    "PATH, if any; nothing is installed)")
    ap.add_argument("--before-src", type=Path, default=None,
                    help="another agentcost source tree (e.g. `git archive` of an earlier "
                    "commit): adds `cli-before`, its `analyze --format json`, to the runs")
    ap.add_argument("--child-ingest", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--child-reader", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_ingest:
        child_ingest(args.child_ingest)
        return 0
    if args.child_reader:
        child_reader(args.child_reader)
        return 0

    manifest: dict[str, Any] | None = None
    if args.data is None:
        sys.path.insert(0, str(HERE))
        import gen_claude_code

        root = HERE / "data" / gen_claude_code.data_name(args.profile, args.size)
        if not (root / "manifest.json").exists():
            shutil.rmtree(root, ignore_errors=True)
            gen_claude_code.main(["--size", args.size, "--profile", args.profile,
                                  "--out", str(root)])
        data = root / "projects"
        manifest = json.loads((root / "manifest.json").read_text())
    else:
        data = args.data.expanduser()
        mf = data.parent / "manifest.json"
        manifest = json.loads(mf.read_text()) if mf.exists() else None
    files = sorted(data.rglob("*.jsonl"))
    n_bytes = sum(f.stat().st_size for f in files)
    for f in files:  # warm the page cache
        with open(f, "rb") as fh:
            while fh.read(1 << 24):
                pass

    py = sys.executable
    runs: dict[str, tuple[list[str], dict[str, str]]] = {
        "baseline": ([py, str(HERE / "baseline.py"), str(data)], {}),
        "reader": ([py, str(HERE / "run.py"), "--child-reader", str(data)], {}),
        "reader-1cpu": ([py, str(HERE / "run.py"), "--child-reader", str(data)],
                        {"AGENTCOST_JOBS": "1"}),
        "ingest": ([py, str(HERE / "run.py"), "--child-ingest", str(data)], {}),
        "ingest-1cpu": ([py, str(HERE / "run.py"), "--child-ingest", str(data)],
                        {"AGENTCOST_JOBS": "1"}),
    }
    if cli_available():
        runs["cli"] = ([py, "-c", "from agentcost.cli import main; main()", "analyze",
                        str(data), "--format", "json"], {})
        if args.before_src:
            # -P: the source tree on PYTHONPATH, not the working directory, is imported
            runs["cli-before"] = ([py, "-P", *runs["cli"][0][1:]],
                                  {"PYTHONPATH": str(args.before_src.resolve())})
    else:
        print("note: agentcost analyze not available; timing read_sources only")
    ccusage = args.ccusage or shutil.which("ccusage")
    if ccusage:
        cmd = [ccusage, "claude", "daily", "--json", "--offline"]
        env = {"CLAUDE_CONFIG_DIR": str(data.parent)}
        runs["ccusage"] = (cmd, env)
        runs["ccusage-1cpu"] = ([*cmd, "--single-thread"], env)
    skip = {s for s in args.skip.split(",") if s}

    info = machine()
    results, base, base_med = run_interleaved(runs, args.repeat, skip, data, n_bytes,
                                              len(files), info)
    print(f"\n{'run':12s} {'best s':>8s} {'median s':>9s} {'MiB/s':>8s} {'maxrss MiB':>11s} "
          f"{'tree MiB':>9s} {'x base best':>11s} {'x base med':>10s}  totals")
    expected = (manifest or {}).get("expected")
    report: dict[str, Any] = {"bytes": n_bytes, "files": len(files), "machine": info,
                              "runs": {}}
    for name, r in results.items():
        check = ""
        try:
            if name in ("ingest", "ingest-1cpu", "reader", "reader-1cpu") and expected:
                got = json.loads(r["stdout"])
                check = "ok" if got == expected else f"MISMATCH {got} != {expected}"
            elif name in ("cli", "cli-before") and expected:
                got = cli_totals(r["stdout"])
                want = {k: v for k, v in expected.items() if k != "cache_write_1h"}
                check = "ok" if got == want else f"MISMATCH {got} != {want}"
            elif name.startswith("ccusage") and expected:
                t = json.loads(r["stdout"])["totals"]
                got = {"input_raw": t["inputTokens"], "cache_read": t["cacheReadTokens"],
                       "cache_write": t["cacheCreationTokens"], "output": t["outputTokens"]}
                want = {k: expected[k] for k in got}
                check = "ok" if got == want else f"MISMATCH {got} != {want}"
        except (ValueError, KeyError) as exc:
            check = f"unreadable output ({exc})"
        line, report["runs"][name] = result_row(name, r, n_bytes, base, base_med, check)
        print(line)
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
