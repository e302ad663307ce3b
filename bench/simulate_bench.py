"""Benchmark: ``agentcost.simulate`` over 100,000 tasks × 5 scenarios (target: under 30 s on a
2-core machine), and a linear-growth check (time per llm call at 1/4, 1/2 and all of the tasks).

    python bench/simulate_bench.py                  # 100,000 tasks, 5 scenarios
    python bench/simulate_bench.py --tasks 20000 --no-growth
    python bench/simulate_bench.py --segments 0.5   # half the calls without request content
    python bench/simulate_bench.py --tasks 20000 --no-growth --json out.json  # report JSON

The workload is a synthetic support agent in the shape of ``sample_traces/support_agent.jsonl``:
2-6 llm calls per task with 1-2 tool calls per turn (some repeated, some sequential), every call
with ``segments`` (shared tool definitions, one of three shared system prompts, the task's
messages) unless ``--segments`` says otherwise, 80 % claude-sonnet-4-6 and 20 % gpt-4.1-mini,
cache figures as Anthropic/OpenAI would report them, tasks starting every 0.6 s (~17 h). The
table is built and priced once, outside the timing; ``simulate`` is timed end to end (preparing
the workload, the baseline, every scenario, the calibration replay).

Memory: the peak of the whole process tree (this process and its worker processes) while
``simulate`` runs, sampled from ``/proc/PID/smaps_rollup`` every 20 ms: PSS (each shared page
counted once, split between the processes sharing it: the honest total) and RSS (shared
copy-on-write pages counted in every process), plus ``ru_maxrss`` of this process and of its
largest worker. The table itself (built before) is part of the figure; its size is printed.

Scenarios: cache auto; cascade haiku,sonnet at escalation rate 0.1; batch; trim-history 4 +
max-output-tokens 400; parallel-tools + max-iterations 4 + tool-cache.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

T0_NS = 1_793_700_000_000_000_000  # 2026-11-03T...Z
TOOLS = [("lookup_order", 420, 600), ("get_shipping_status", 650, 300),
         ("get_refund_policy", 380, 900), ("search_kb", 900, 1400), ("get_invoice", 700, 450)]


def build_table(n_tasks: int, seg_share: float = 1.0, seed: int = 7, share: bool = True) -> Any:
    """A priced StepTable of ``n_tasks`` synthetic tasks. Each call's segments are built as
    a reader parses them (dicts of its own) and then, with ``share``, pooled as the readers'
    rows are (:class:`~agentcost.ingest.segments.SegmentPool`: one dict per distinct segment);
    ``tool_calls`` are tuples, one per distinct list, as the readers' rows carry them."""
    from agentcost.ingest.base import IngestReport
    from agentcost.ingest.segments import SegmentPool
    from agentcost.pricing import price_frame
    from agentcost.steps import StepBuilder, build_frame
    from agentcost.table import StepTable

    rnd = random.Random(seed)
    b = StepBuilder()
    pool = SegmentPool()
    calls: dict[tuple[str, ...], tuple[str, ...]] = {}  # tool_calls, shared as readers share them
    for t in range(n_tasks):
        tid = f"task-{t:07d}"
        model, provider = (("gpt-4.1-mini", "openai") if rnd.random() < 0.2
                           else ("claude-sonnet-4-6", "anthropic"))
        with_seg = rnd.random() < seg_share
        sys_hash = f"system-v{rnd.randrange(3)}"
        history = [{"role": "user", "tokens": rnd.randrange(120, 400), "hash": f"{tid}-u0"}]
        now = T0_NS + t * 600_000_000
        cached_upto = 0
        n_llm = rnd.randrange(2, 7)
        for k in range(n_llm):
            segs = [{"role": "tools", "tokens": 1200, "hash": "tools-v3"},
                    {"role": "system", "tokens": 2600, "hash": sys_hash}] + history
            total = sum(s["tokens"] for s in segs)
            read = cached_upto if model.startswith("claude") else (cached_upto // 128) * 128
            write = total - read if model.startswith("claude") else 0
            last = k == n_llm - 1
            tools = [] if last else rnd.sample(TOOLS, rnd.choice((1, 1, 2)))
            out = rnd.randrange(250, 700) if last else 60 + 25 * len(tools)
            dur = 900 + out * 12 + (total - read) // 40
            b.add({"task_id": tid, "kind": "llm", "name": "agent", "provider": provider,
                   "model": model, "started_at": now, "duration_ms": float(dur),
                   "ttft_ms": float(350 + (total - read) // 60), "input_tokens": total,
                   "cache_read_tokens": read, "cache_write_tokens": write,
                   "cache_write_5m_tokens": write, "cache_write_1h_tokens": 0,
                   "output_tokens": out, "stop_reason": "end_turn" if last else "tool_use",
                   "tool_calls": calls.setdefault(tc := tuple(n for n, *_ in tools), tc),
                   "segments": _parsed(segs, pool if share else None) if with_seg else None,
                   "source": "bench",
                   "format": "agentcost"})
            cached_upto = total
            now += (dur + 40) * 1_000_000
            history = history + [{"role": "assistant", "tokens": out, "hash": f"{tid}-a{k}"}]
            for j, (name, tdur, res) in enumerate(tools):
                arg = f"{name}-{rnd.randrange(3)}"
                b.add({"task_id": tid, "kind": "tool", "name": name, "started_at": now,
                       "duration_ms": float(tdur), "tool_call_id": f"{tid}-{k}-{j}",
                       "tool_input_hash": arg, "source": "bench", "format": "agentcost"})
                now += (tdur + 5) * 1_000_000
                history = history + [{"role": "tool", "tokens": res, "hash": f"{tid}-r{k}-{j}"}]
            now += 30_000_000
    df = build_frame(b)
    pricing = price_frame(df)
    return StepTable(frame=df, ingest=IngestReport(), pricing=pricing)


def _parsed(segs: list[dict[str, Any]], pool: Any) -> list[dict[str, Any]]:
    """The call's segments as a reader hands them over: copies of its own, pooled."""
    out = [dict(s) for s in segs]
    return pool.share(out) if pool is not None else out


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (from ``/proc/PID/task/TID/children``)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:  # the process ended meanwhile
            continue
    return out


def _rollup(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in bytes (0, 0 when it is gone)."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return pss, rss


class TreeMemory:
    """Peak PSS and RSS summed over this process and its descendants, sampled in a thread."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.peak_pss = self.peak_rss = self.peak_procs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        pids = _tree(os.getpid())
        figs = [_rollup(p) for p in pids]
        self.peak_pss = max(self.peak_pss, sum(f[0] for f in figs))
        self.peak_rss = max(self.peak_rss, sum(f[1] for f in figs))
        self.peak_procs = max(self.peak_procs, len(pids))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> TreeMemory:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def _mib(b: float) -> str:
    return f"{b / 2**20:,.0f} MiB"


def scenarios() -> list[Any]:
    from agentcost.simulation import Scenario
    from agentcost.simulation.scenario import parse_cascade

    casc, given = parse_cascade("haiku,sonnet", "bench")
    return [
        Scenario(name="cache auto", cache="auto"),
        Scenario(name="cascade", cascade=casc, cascade_given=given, escalation_rate=0.1),
        Scenario(name="batch", batch=True),
        Scenario(name="lean context", trim_history=4, max_output_tokens=400),
        Scenario(name="loop", parallel_tools=True, max_iterations=4, tool_cache=True),
    ]


def timed(table: Any, n_runs: int = 1) -> tuple[float, Any, TreeMemory]:
    from agentcost.simulation import simulate

    best = float("inf")
    rep = None
    with TreeMemory() as mem:
        for _ in range(n_runs):
            t0 = time.perf_counter()
            rep = simulate(table, scenarios())
            best = min(best, time.perf_counter() - t0)
    return best, rep, mem


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--segments", type=float, default=1.0, help="share of tasks with segments")
    ap.add_argument("--no-growth", action="store_true", help="skip the linear-growth check")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", metavar="FILE", help="write the report's JSON to FILE")
    ap.add_argument("--segment-copies", action="store_true",
                    help="keep every call's segment dicts apart (readers before the pool)")
    args = ap.parse_args()

    t0 = time.perf_counter()
    table = build_table(args.tasks, args.segments, share=not args.segment_copies)
    t_build = time.perf_counter() - t0
    df = table.frame
    n_llm = int((df["kind"] == "llm").sum())
    print(f"workload: {args.tasks:,} tasks, {n_llm:,} llm calls, {len(df) - n_llm:,} tool calls "
          f"(built and priced in {t_build:.1f}s, not timed)")
    before = TreeMemory()
    before.sample()
    secs, rep, mem = timed(table, args.repeat)
    print(f"simulate, 5 scenarios: {secs:.2f}s  ({secs / n_llm * 1e6:.1f} µs per llm call)  "
          f"target < 30s: {'OK' if secs < 30 else 'MISSED'}")
    print(f"memory, process tree: peak PSS {_mib(mem.peak_pss)} (before simulate "
          f"{_mib(before.peak_pss)}), peak RSS sum {_mib(mem.peak_rss)}, up to "
          f"{mem.peak_procs} processes; ru_maxrss self "
          f"{_mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)}, largest worker "
          f"{_mib(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)}  "
          f"target < 600 MiB: {'OK' if mem.peak_pss < 600 * 2**20 else 'MISSED'}")
    d = rep.to_dict()
    if args.json:
        Path(args.json).write_text(json.dumps(d, indent=1, sort_keys=True) + "\n")
    print(f"  baseline ${d['baseline']['cost_usd']:,.2f}")
    for s in d["scenarios"]:
        print(f"  {s['name']:<14} ${s['cost_usd']:>12,.2f}  {s['delta_pct']:+7.1f}%  "
              f"hit {s['cache_hit_ratio']:.3f}  p50 {s['latency_p50_s']}s")
    if args.no_growth:
        return
    print("linear growth (time per llm call should stay flat):")
    rows = []
    for frac in (0.25, 0.5, 1.0):
        n = max(1, int(args.tasks * frac))
        tb = table if frac == 1.0 else build_table(n, args.segments, share=not args.segment_copies)
        nl = int((tb.frame["kind"] == "llm").sum())
        s = timed(tb, args.repeat)[0] if frac != 1.0 else secs
        rows.append((n, nl, s))
        print(f"  {n:>8,} tasks  {nl:>9,} llm calls  {s:7.2f}s  {s / nl * 1e6:6.1f} µs/call")
    per = [s / nl for _, nl, s in rows]
    print(f"  µs/call ratio largest/smallest: {per[-1] / per[0]:.2f} "
          f"({'linear' if per[-1] / per[0] < 1.5 else 'NOT linear'})")


if __name__ == "__main__":
    main()
