"""Time and peak memory of each engine over a step-table dataset (docs/scale.md).

    python bench/gen_steps.py --size 512M --out bench/data/steps-512M
    python bench/scale_bench.py bench/data/steps-512M --engines duckdb,pandas,spark

Each measurement runs in its own child process (`agentcost analyze DATASET --engine E
--format F -o /dev/null`; Spark: `agentcost.spark.analyze` in local[2] mode); wall time is
measured around it and peak memory is the sampled resident memory of the child and its children (for Spark, the Python driver
and the JVM) from /proc every 0.2 s. DuckDB's own memory limit is
`AGENTCOST_DUCKDB_MEMORY_LIMIT` (passed through).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

SPARK = """
import sys, time
from agentcost import spark as acs
s = acs.local_session(cores=2, memory=sys.argv[2])
s.sparkContext.setLogLevel("ERROR")
t = time.time()
r = acs.analyze(s, sys.argv[1])
print("analyze_s", round(time.time() - t, 2), "tasks", r.totals["tasks"], file=sys.stderr)
"""


def measure(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_tree = 0
    while proc.poll() is None:  # sampled RSS of the child and its children (the JVM)
        peak_tree = max(peak_tree, _tree_rss(proc.pid))
        time.sleep(0.2)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err[-2000:]}")
    return {"wall_s": round(wall, 2), "peak_rss_mib": round(peak_tree / (1 << 20), 1),
            "note": err.strip().splitlines()[-1] if err.strip() else ""}


def _tree_rss(pid: int) -> int:
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
    return total


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from the parent ids in /proc/*/stat)."""
    parent: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parent[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        todo += kids
    return out


PROFILE = """
import sys, time
from agentcost.columnar import duck

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0

def wrap(name):
    orig = getattr(duck.DuckRunner, name)
    def run(self, sql, *rest):
        with open("/proc/self/clear_refs", "w") as fh:  # resets the peak resident memory
            fh.write("5")
        t = time.perf_counter()
        out = orig(self, sql, *rest)
        label = " ".join((rest[0] if rest else sql).split())[:90]
        print(f"{time.perf_counter() - t:7.1f} s {hwm():7.0f} MiB  {name:5} {label}",
              file=sys.stderr, flush=True)
        return out
    setattr(duck.DuckRunner, name, run)

wrap("query")
wrap("keep")
t = time.perf_counter()
r = duck.analyze_dataset([sys.argv[1]], summary=sys.argv[2] == "table")
print(f"total {time.perf_counter() - t:.1f} s, tasks {r.totals['tasks']}", file=sys.stderr)
"""


def profile(dataset: Path, fmt: str) -> None:
    """Each DuckDB query of one analyze run: its time and the peak resident memory while it
    ran (the peak is reset before each query through /proc/self/clear_refs)."""
    subprocess.run([sys.executable, "-c", PROFILE, str(dataset), fmt], check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--engines", default="duckdb,pandas")
    ap.add_argument("--formats", default="table,json")
    ap.add_argument("--spark-memory", default="2g")
    ap.add_argument("--json-out", type=Path)
    ap.add_argument("--profile", action="store_true",
                    help="per DuckDB query: time and peak memory (one in-process run)")
    args = ap.parse_args()
    if args.profile:
        profile(args.dataset, args.formats.split(",")[0])
        return
    env = dict(os.environ)
    exe = str(Path(sys.executable).parent / "agentcost")
    size = sum(f.stat().st_size for f in args.dataset.rglob("*.parquet"))
    expected = json.loads((args.dataset / "expected.json").read_text())
    results = []
    for engine in args.engines.split(","):
        if engine == "spark":
            cmd = [sys.executable, "-c", SPARK, str(args.dataset), args.spark_memory]
            results.append({"engine": "spark", "format": "-", **measure(cmd, env)})
            continue
        for fmt in args.formats.split(","):
            cmd = [exe, "analyze", str(args.dataset), "--engine", engine, "-f", fmt,
                   "-o", "/dev/null"]
            results.append({"engine": engine, "format": fmt, **measure(cmd, env)})
    print(f"dataset {args.dataset}: {size / (1 << 20):.0f} MiB, {expected['steps']:,} steps, "
          f"{expected['tasks']:,} tasks")
    for r in results:
        print(f"  {r['engine']:7} {r['format']:6} {r['wall_s']:8.1f} s  {r['peak_rss_mib']:8.0f} MiB"
              f"  {r['note']}")
    if args.json_out:
        args.json_out.write_text(json.dumps({"bytes": size, **expected, "results": results},
                                            indent=2) + "\n")


if __name__ == "__main__":
    main()
