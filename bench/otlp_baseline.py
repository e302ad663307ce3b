"""The floor to compare the OTLP reader with: a bare parse-and-sum loop.

Every line of every ``*.jsonl`` / ``*.json`` trace file under the given folders (``manifest.json``
left out) is decoded with orjson as one OTLP/JSON ``ExportTraceServiceRequest``; the loop walks
``resourceSpans`` → ``scopeSpans`` → ``spans`` and sums the ``gen_ai.usage.input_tokens`` /
``gen_ai.usage.output_tokens`` attributes it finds — no classification, no roll-up or
duplicate handling, no other conventions, no table — in one process. Prints one JSON object
with the sums, spans, bytes, lines and seconds.

    python bench/otlp_baseline.py bench/data/otlp-100M
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import orjson

IN_KEY = "gen_ai.usage.input_tokens"
OUT_KEY = "gen_ai.usage.output_tokens"


def trace_files(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_file():
            out.append(p)
            continue
        out += [f for f in p.rglob("*") if f.is_file() and f.suffix in (".jsonl", ".json")
                and f.name != "manifest.json"]
    return sorted(out)


def run(paths: list[str]) -> dict[str, float | int]:
    t0 = time.perf_counter()
    files = trace_files(paths)
    n_in = n_out = n_spans = n_usage = n_bytes = n_lines = 0
    for f in files:
        with open(f, "rb", buffering=1 << 20) as fh:
            for line in fh:
                n_bytes += len(line)
                n_lines += 1
                req = orjson.loads(line)
                for rs in req.get("resourceSpans") or ():
                    for ss in rs.get("scopeSpans") or ():
                        for sp in ss.get("spans") or ():
                            n_spans += 1
                            found = False
                            for a in sp.get("attributes") or ():
                                k = a["key"]
                                if k == IN_KEY:
                                    n_in += int(a["value"]["intValue"])
                                    found = True
                                elif k == OUT_KEY:
                                    n_out += int(a["value"]["intValue"])
                                    found = True
                            n_usage += found
    return {"input_tokens": n_in, "output_tokens": n_out, "spans": n_spans,
            "gen_ai_usage_spans": n_usage, "files": len(files), "bytes": n_bytes,
            "lines": n_lines, "seconds": time.perf_counter() - t0}


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1:] or ["."])))
