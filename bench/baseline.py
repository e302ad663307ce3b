"""The floor to compare the Claude Code reader with: a bare parse-and-sum loop.

Every ``*.jsonl`` line under the given folders is decoded with orjson and the usage fields of
``assistant`` lines are summed — no dedupe, no tool steps, no latency, no table — in one
process. Prints one JSON object with the sums, bytes, lines and seconds.

    python bench/baseline.py bench/data/cc-100M/projects
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import orjson


def run(paths: list[str]) -> dict[str, float | int]:
    t0 = time.perf_counter()
    files = sorted(f for p in paths for f in Path(p).rglob("*.jsonl"))
    sums = {"input_tokens": 0, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0,
            "output_tokens": 0}
    n_bytes = n_lines = n_usage = 0
    for f in files:
        with open(f, "rb") as fh:
            for line in fh:
                n_bytes += len(line)
                n_lines += 1
                obj = orjson.loads(line)
                if obj.get("type") != "assistant":
                    continue
                usage = obj["message"].get("usage")
                if usage:
                    n_usage += 1
                    for k in sums:
                        sums[k] += usage.get(k) or 0
    return {**sums, "usage_lines": n_usage, "files": len(files), "bytes": n_bytes,
            "lines": n_lines, "seconds": time.perf_counter() - t0}


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1:] or ["."])))
