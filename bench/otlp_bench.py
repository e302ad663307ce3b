"""Benchmark: ingest of OTLP/JSON traces vs a bare parse-and-sum loop over the same bytes.

    python bench/otlp_bench.py --size 100M            # generates bench/data/otlp-100M if missing
    python bench/otlp_bench.py --size 1G --repeat 3
    python bench/otlp_bench.py --data DIR             # your own OTLP files (totals checked only
                                                      # if DIR/manifest.json exists)

Each measurement runs in a child process, after one warm-up read of every file (so all runs
read from the page cache), ``--repeat`` times, interleaved; the best and the median wall time
are shown.

* ``baseline`` — ``bench/otlp_baseline.py``: orjson on every line, resourceSpans → scopeSpans
  → spans walked, ``gen_ai.usage.input_tokens`` / ``output_tokens`` summed (roll-ups and
  duplicates included), one process;
* ``reader`` — the OTLP reader alone (``READER.read_many``: decoding, classification,
  attribute mapping, roll-up and duplicate handling; rows as dicts, no pandas);
* ``ingest`` — ``agentcost.ingest.read_sources`` (sniffing, reader, step table; pandas import
  included);
* ``cli`` — ``agentcost analyze DIR --format json`` (import, ingest, pricing, analysis,
  rendering).

Optional, in the same interleaved rounds: ``--one-job`` (``reader-1job``, ``cli-1job``: the
same with ``AGENTCOST_JOBS=1``, no worker processes), ``--tree DIR`` (``reader@tree``,
``cli@tree``: the source tree ``DIR``, e.g. ``git archive <commit> | tar -x -C DIR``) and
``--startup`` (``cli-startup``: ``analyze`` of one line of the data, i.e. start-up).

Peak memory as in ``bench/run.py`` (whose ``measure`` and ``machine`` are reused): ``maxrss`` of
the child, and ``tree``, the sampled PSS sum over the child and any workers.
Totals (tasks, llm and tool calls, input / cache read / cache write / output tokens, DESIGN.md
§2 meaning) are checked against the generator's ``manifest.json``; the baseline's naive sums
against the manifest's ``baseline_expected``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run  # noqa: E402
from run import machine, result_row, run_interleaved  # noqa: E402

# CPU seconds of each measured child and its reaped descendants (the reader's workers), by
# command line: os.times() children deltas around run.measure
_CPU: dict[tuple[str, ...], list[float]] = {}  # by command line and extra environment
_measure = run.measure


def _measure_cpu(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    t0 = os.times()
    m = _measure(cmd, env)
    t1 = os.times()
    _CPU.setdefault(_key(cmd, env), []).append(t1.children_user - t0.children_user
                                    + t1.children_system - t0.children_system)
    return m


def _key(cmd: list[str], env: dict[str, str] | None) -> tuple[str, ...]:
    return (*cmd, *(f"{k}={v}" for k, v in sorted((env or {}).items())))


run.measure = _measure_cpu

TOTAL_KEYS = ("tasks", "llm_calls", "tool_calls", "input_tokens", "cache_read_tokens",
              "cache_write_tokens", "output_tokens")


def _sums(rows: Any) -> dict[str, int]:
    out = dict.fromkeys(TOTAL_KEYS, 0)
    tasks: set[str] = set()
    for row in rows:
        kind = row["kind"]
        tasks.add(str(row["task_id"]))
        if kind == "tool":
            out["tool_calls"] += 1
        elif kind == "llm":
            out["llm_calls"] += 1
            for k in ("input_tokens", "cache_read_tokens", "cache_write_tokens",
                      "output_tokens"):
                out[k] += row.get(k) or 0
    out["tasks"] = len(tasks)
    return out


def child_reader(path: str) -> None:
    """The OTLP reader alone: rows as dicts, no table, no pandas."""
    from agentcost.ingest import resolve_sources
    from agentcost.ingest.base import IngestContext
    from agentcost.ingest.otlp import READER

    sources = [s for s, _ in resolve_sources([path]) if READER.sniff(s)]
    print(json.dumps(_sums(READER.read_many(sources, IngestContext()))))


def child_ingest(path: str) -> None:
    from agentcost.ingest import read_sources

    df = read_sources([path]).frame
    llm = df[df["kind"] == "llm"]
    out = {"tasks": int(df["task_id"].nunique()), "llm_calls": int(len(llm)),
           "tool_calls": int((df["kind"] == "tool").sum())}
    for k in ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens"):
        out[k] = int(llm[k].fillna(0).sum())
    print(json.dumps({k: out[k] for k in TOTAL_KEYS}))


def cli_totals(stdout: bytes) -> dict[str, Any]:
    doc = json.loads(stdout)
    t = doc["totals"]
    out = {k: t.get(k) for k in TOTAL_KEYS}
    ing, pr = doc.get("ingest") or {}, doc.get("pricing") or {}
    out["_malformed"] = ing.get("malformed_lines")
    out["_unpriced"] = [m.get("model") for m in pr.get("unpriced_models") or []]
    return out


def cli_cmd(data: Path, tree: Path | None = None) -> list[str]:
    """``agentcost analyze DATA --format json`` as a child command, of this checkout or of the
    source tree ``tree`` (put first on ``sys.path``)."""
    pre = f"import sys; sys.path.insert(0, {str(tree)!r}); " if tree else ""
    return [sys.executable, "-c", pre + "from agentcost.cli import main; main()", "analyze",
            str(data), "--format", "json"]


def measurements(data: Path, tree: Path | None, one_job: bool
                 ) -> dict[str, tuple[list[str], dict[str, str]]]:
    """The child commands (and their extra environment) by measurement name."""
    py = sys.executable
    me = str(HERE / "otlp_bench.py")
    reader = [py, me, "--child-reader", str(data)]
    runs: dict[str, tuple[list[str], dict[str, str]]] = {
        "baseline": ([py, str(HERE / "otlp_baseline.py"), str(data)], {}),
        "reader": (reader, {}),
        "ingest": ([py, me, "--child-ingest", str(data)], {}),
        "cli": (cli_cmd(data), {}),
    }
    if one_job:
        runs["reader-1job"] = (reader, {"AGENTCOST_JOBS": "1"})
        runs["cli-1job"] = (cli_cmd(data), {"AGENTCOST_JOBS": "1"})
    if tree is not None:
        tree = tree.resolve()
        # the child reader runs as a script: sys.path[0] is bench/, then PYTHONPATH
        runs["reader@tree"] = (reader, {"PYTHONPATH": str(tree)})
        runs["cli@tree"] = (cli_cmd(data, tree), {})
    return runs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="OTLP ingest benchmark")
    ap.add_argument("--size", default="100M")
    ap.add_argument("--data", type=Path, default=None,
                    help="folder of OTLP/JSON files (default bench/data/otlp-<size>)")
    ap.add_argument("--seed", type=int, default=1, help="generator seed (new data only)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip", default="", help="comma-separated measurements to skip "
                                                "(baseline, reader, ingest, cli)")
    ap.add_argument("--tree", type=Path, default=None,
                    help="also run `reader` and `cli` of another source tree (e.g. a checkout "
                         "of an earlier commit), as reader@tree and cli@tree")
    ap.add_argument("--one-job", action="store_true",
                    help="also run `reader` and `cli` with AGENTCOST_JOBS=1 (no worker "
                         "processes), as reader-1job and cli-1job")
    ap.add_argument("--startup", action="store_true",
                    help="also run `cli` on one line of the data (start-up and a trivial "
                         "ingest), as cli-startup")
    ap.add_argument("--json-out", type=Path, default=None)
    ap.add_argument("--child-ingest", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--child-reader", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_ingest:
        child_ingest(args.child_ingest)
        return 0
    if args.child_reader:
        child_reader(args.child_reader)
        return 0

    if args.data is None:
        data = HERE / "data" / f"otlp-{args.size}"
        if not (data / "manifest.json").exists():
            import gen_otlp

            shutil.rmtree(data, ignore_errors=True)
            gen_otlp.main(["--size", args.size, "--seed", str(args.seed), "--out", str(data)])
    else:
        data = args.data.expanduser()
    mf = data / "manifest.json"
    manifest: dict[str, Any] | None = json.loads(mf.read_text()) if mf.exists() else None
    files = sorted(f for f in data.rglob("*") if f.is_file()
                   and f.suffix in (".jsonl", ".json") and f.name != "manifest.json")
    n_bytes = sum(f.stat().st_size for f in files)
    for f in files:  # warm the page cache
        with open(f, "rb") as fh:
            while fh.read(1 << 24):
                pass

    runs = measurements(data, args.tree, args.one_job)
    tiny_dir = None
    if args.startup and files:
        # start-up: the same command on one export request (the first line of the data)
        import tempfile

        tiny_dir = Path(tempfile.mkdtemp(prefix="otlp-startup-"))
        with open(files[0], "rb") as fh:
            (tiny_dir / "one-line.jsonl").write_bytes(fh.readline())
        runs["cli-startup"] = (cli_cmd(tiny_dir / "one-line.jsonl"), {})
    skip = {s for s in args.skip.split(",") if s}
    skip |= {k for k in runs if k.split("@")[0].split("-")[0] in skip}

    info = machine()
    results, base, base_med = run_interleaved(runs, args.repeat, skip, data, n_bytes,
                                              len(files), info)
    print(f"\n{'run':12s} {'best s':>8s} {'median s':>9s} {'MiB/s':>8s} {'maxrss MiB':>11s} "
          f"{'tree MiB':>9s} {'x base best':>11s} {'x base med':>10s}  totals")
    expected = (manifest or {}).get("expected")
    report: dict[str, Any] = {"data": str(data), "bytes": n_bytes, "files": len(files),
                              "machine": info, "expected": expected, "runs": {}}
    ok = True
    for name, r in results.items():
        check = ""
        try:
            if name == "baseline":
                got = json.loads(r["stdout"])
                want_b = (manifest or {}).get("baseline_expected")
                if want_b:
                    got_b = {k: got[k] for k in want_b}
                    check = "ok" if got_b == want_b else f"MISMATCH {got_b} != {want_b}"
            elif name.startswith(("reader", "ingest")) and expected:
                got = json.loads(r["stdout"])
                check = "ok" if got == expected else f"MISMATCH {got} != {expected}"
            elif name == "cli-startup":
                check = ""
            elif name.startswith("cli"):
                got = cli_totals(r["stdout"])
                extra = []
                if got.pop("_malformed"):
                    extra.append("malformed lines")
                unpriced = got.pop("_unpriced")
                if unpriced:
                    extra.append(f"unpriced models {unpriced}")
                if expected:
                    check = "ok" if got == expected else f"MISMATCH {got} != {expected}"
                check = "; ".join([check, *extra]) if extra else check
        except (ValueError, KeyError) as exc:
            check = f"unreadable output ({exc})"
        ok = ok and check in ("", "ok")
        line, report["runs"][name] = result_row(name, r, n_bytes, base, base_med, check,
                                                width=12)
        cmd, env = runs[name]
        cpu = _CPU.get(_key(cmd, env), [])
        if cpu:
            report["runs"][name]["cpu_s"] = cpu
            line += f"  cpu {min(cpu):.2f}-{max(cpu):.2f} s"
        print(line)
    if tiny_dir is not None:
        shutil.rmtree(tiny_dir, ignore_errors=True)
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
