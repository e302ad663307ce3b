"""Generate a step-table dataset (what `agentcost export` writes) of a given size, for the
scale benchmark (bench/scale_bench.py, docs/scale.md).

The shape follows an agent fleet: tasks of 1-200 llm calls (geometric, mean ~12), each llm call
followed by 0-3 tool calls, prompts growing through the task with cache reads, a few cache
writes, three real models, a day of traffic per partition. Steps are priced by agentcost's
own pricing (genai-prices, the bundled data) chunk by chunk, and written with the versioned
Arrow schema, hive-partitioned by day, with a manifest, as `agentcost export` does.

    python bench/gen_steps.py --size 1G --out bench/data/steps-1G

`--copies N --base DIR` writes N copies of an existing dataset instead (task ids, span ids
and step keys suffixed per copy, so every copy is new tasks; Arrow only, no pricing): how the
10 GiB set of docs/scale.md was made from a 512 MiB one, in minutes rather than hours.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

MODELS = [("claude-sonnet-4-5", "anthropic"), ("claude-haiku-4-5", "anthropic"),
          ("gpt-5-mini", "openai")]
TOOLS = ["read_file", "bash", "search", "edit_file", "web_fetch"]
DAY_NS = 86_400 * 1_000_000_000
START_NS = 1_772_323_200 * 1_000_000_000  # 2026-03-01T00:00:00Z


def parse_size(s: str) -> int:
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(float(s[:-1]) * mult[s[-1].upper()]) if s[-1].upper() in mult else int(s)


def chunk(rng: np.random.Generator, first_task: int, n_tasks: int, day: int):  # type: ignore[no-untyped-def]
    import pandas as pd

    from agentcost.steps import COLUMNS, finalize

    calls = np.clip(rng.geometric(1 / 12, n_tasks), 1, 200)
    tools_per = [rng.integers(0, 4, c) for c in calls]
    kinds, task, _turn_tool, call_no, tool_no = [], [], [], [], []
    for t, (c, tp) in enumerate(zip(calls, tools_per, strict=True)):
        for i in range(c):
            kinds.append("llm")
            task.append(t)
            call_no.append(i)
            tool_no.append(-1)
            for j in range(tp[i]):
                kinds.append("tool")
                task.append(t)
                call_no.append(i)
                tool_no.append(j)
    n = len(kinds)
    kind = np.array(kinds, dtype=object)
    task_a = np.array(task)
    call_a = np.array(call_no)
    is_llm = kind == "llm"
    model_ix = rng.choice(3, n_tasks, p=[0.55, 0.3, 0.15])[task_a]
    t0 = START_NS + day * DAY_NS + rng.integers(0, DAY_NS - 3_600_000_000_000, n_tasks)
    dur = np.where(is_llm, rng.lognormal(7.6, 0.6, n), rng.lognormal(6.0, 1.2, n))
    offs = np.zeros(n)
    # steps of a task run one after another
    for_task_start = np.r_[True, task_a[1:] != task_a[:-1]]
    csum = np.cumsum(dur)
    base = csum[np.maximum.accumulate(np.where(for_task_start, np.arange(n), 0))] - dur[
        np.maximum.accumulate(np.where(for_task_start, np.arange(n), 0))]
    offs = csum - dur - base
    started = t0[task_a] + (offs * 1e6).astype(np.int64)
    system = rng.integers(2_000, 12_000, n_tasks)[task_a]
    inp = system + call_a * rng.integers(600, 2_400, n)
    cache_read = np.where(call_a > 0, (inp * rng.uniform(0.6, 0.95, n)).astype(np.int64), 0)
    cache_write = np.where((call_a == 0) & (model_ix < 2), system, 0)
    cache_write = np.minimum(cache_write, inp - cache_read)
    out = rng.integers(20, 1_200, n)
    model = np.array([m for m, _ in MODELS], dtype=object)[model_ix]
    provider = np.array([p for _, p in MODELS], dtype=object)[model_ix]
    names = np.array(TOOLS, dtype=object)[rng.integers(0, len(TOOLS), n)]
    tool_calls = [("[]" if i == calls[t] - 1 else None) for t, i in zip(task, call_no,
                                                                        strict=True)]
    def tokens(values):  # type: ignore[no-untyped-def]
        return pd.arrays.IntegerArray(np.asarray(values, dtype=np.int64), ~is_llm)

    data = {c: pd.Series([None] * n, dtype=d if d != "object" else "object")
            for c, d in COLUMNS.items() if not d.startswith("datetime")}
    tid = np.char.add("fleet-", (first_task + task_a).astype(str))
    data.update(
        source=pd.Series("fleet.jsonl", index=range(n), dtype="string"),
        format=pd.Series("agentcost", index=range(n), dtype="string"),
        task_id=pd.Series(tid, dtype="string"),
        kind=pd.Series(kind, dtype="string"),
        name=pd.Series(np.where(is_llm, "turn", names), dtype="string"),
        model=pd.Series(np.where(is_llm, model, None), dtype="string"),
        provider=pd.Series(np.where(is_llm, provider, None), dtype="string"),
        duration_ms=pd.Series(dur, dtype="Float64"),
        ttft_ms=pd.Series(np.where(is_llm, dur * 0.2, np.nan), dtype="Float64"),
        input_tokens=tokens(inp),
        cache_read_tokens=tokens(cache_read),
        cache_write_tokens=tokens(cache_write),
        cache_write_5m_tokens=tokens(cache_write),
        cache_write_1h_tokens=tokens(np.zeros(n, dtype=np.int64)),
        output_tokens=tokens(out),
        reasoning_tokens=tokens(np.zeros(n, dtype=np.int64)),
        line=pd.array(np.arange(n) + 1, dtype="Int64"),
        span_id=pd.Series(np.char.add(tid, np.char.add(":", np.arange(n).astype(str))),
                          dtype="string"),
    )
    data["tool_calls"] = pd.Series([None if v is None else () for v in tool_calls],
                                   dtype="object")
    frame = pd.DataFrame(data)
    frame["started_at"] = pd.to_datetime(started, unit="ns", utc=True)
    frame["ended_at"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    return finalize(frame[list(COLUMNS)])


def copies(base: Path, out: Path, n: int) -> None:
    """``n`` copies of the dataset ``base`` in ``out`` (see the module docstring)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    parts = sorted(base.rglob("*.parquet"))
    written = 0
    t0 = time.time()
    for k in range(n):
        for src in parts:
            table = pq.read_table(src, partitioning=None)
            for col in ("task_id", "span_id", "step_key"):
                i = table.schema.get_field_index(col)
                table = table.set_column(i, table.schema.field(i), pc.binary_join_element_wise(
                    table.column(col), f"~c{k}", ""))
            target = out / src.parent.name / f"c{k:03d}-{src.name}"
            target.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, target, compression="zstd")
            written += target.stat().st_size
        print(f"\rcopy {k + 1}/{n}: {written / (1 << 20):8.0f} MiB {time.time() - t0:6.0f}s",
              end="", flush=True)
    manifest = json.loads((base / "manifest.json").read_text())
    gen = manifest["generated"]
    gen.update(steps=gen["steps"] * n, tasks=gen["tasks"] * n, bytes=written, copies=n)
    for r in manifest["runs"]:
        r["steps"] *= n
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (out / "expected.json").write_text(json.dumps(gen) + "\n")
    print(f"\n{out}: {gen['steps']:,} steps, {gen['tasks']:,} tasks, {written / (1 << 20):.0f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", default="256M", help="target dataset size (e.g. 256M, 1G)")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--tasks-per-chunk", type=int, default=20_000)
    ap.add_argument("--copies", type=int, help="write this many copies of --base instead")
    ap.add_argument("--base", type=Path, help="the dataset --copies copies")
    args = ap.parse_args()
    if args.copies:
        if args.base is None or args.out is None:
            raise SystemExit("--copies needs --base and --out")
        copies(args.base, args.out, args.copies)
        return

    from agentcost.columnar.export import run_record, save_manifest, write_parts
    from agentcost.columnar.schema import to_arrow
    from agentcost.pricing import price_frame

    target = parse_size(args.size)
    out = args.out or Path(__file__).parent / "data" / f"steps-{args.size}"
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    written = steps = tasks = 0
    day = 0
    t0 = time.time()
    info = None
    while written < target:
        frame = chunk(rng, tasks, args.tasks_per_chunk, day)
        info = price_frame(frame)
        arrow = to_arrow(frame, info.data_fingerprint)
        parts = write_parts(arrow, out, "parquet", f"{day:05d}")
        written += sum(Path(p).stat().st_size for p in parts)
        steps += arrow.num_rows
        tasks += args.tasks_per_chunk
        day += 1
        print(f"\r{written / (1 << 20):8.0f} MiB {steps:>12,} steps {time.time() - t0:6.0f}s",
              end="", flush=True)
    assert info is not None
    manifest = {"files": [], "runs": [run_record("bench", 0, steps, info)],
                "generated": {"steps": steps, "tasks": tasks, "bytes": written,
                              "seed": args.seed}}
    save_manifest(out, manifest, "parquet")
    (out / "expected.json").write_text(json.dumps(manifest["generated"]) + "\n")
    print(f"\n{out}: {steps:,} steps, {tasks:,} tasks, {written / (1 << 20):.0f} MiB")


if __name__ == "__main__":
    main()
