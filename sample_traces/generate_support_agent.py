"""Writes ``support_agent.jsonl``: a synthetic, deterministic support-agent workload in agentcost
JSONL with ``segments`` (no prompt text), built to show every analyze finding.

Run: ``python sample_traces/generate_support_agent.py``. Token counts follow the append-only
agent loop; cache figures follow Anthropic's rules (a breakpoint after the system prompt and one
on the last message, 5-minute TTL, 1,024-token minimum for Sonnet 4.6).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).with_name("support_agent.jsonl")
T0 = datetime(2026, 11, 3, 14, 0, 0, tzinfo=UTC)
TOOLS_TOK, SYSTEM_TOK = 1_200, 2_600


def iso(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def task(tid: str, start: datetime, turns: list[list[tuple[str, int, int, str]]],
         final_out: int, *, system_hash: str = "support-system-v3", volatile_system: bool = False,
         model: str = "claude-sonnet-4-6", parallel: bool = False) -> list[dict]:
    """turns: per llm call, the tools it requests: (name, duration_ms, result_tokens, args)."""
    rows: list[dict] = []
    t = start
    history: list[dict] = [{"role": "user", "tokens": 180, "hash": f"{tid}-user0"}]
    prev_total = 0
    cached_upto = 0  # tokens of the prefix written by the previous call
    for k, tools in enumerate([*turns, []]):
        sys_hash = f"{system_hash}-{iso(t)}" if volatile_system else system_hash
        segs = [{"role": "tools", "tokens": TOOLS_TOK, "hash": "support-tools-v3"},
                {"role": "system", "tokens": SYSTEM_TOK, "hash": sys_hash}] + history
        total = sum(s["tokens"] for s in segs)
        if volatile_system:
            read = TOOLS_TOK if k > 0 else 0
        else:
            read = cached_upto
        write = total - read
        out = 60 + 25 * len(tools) if tools else final_out
        dur = 900 + out * 12 + (total - read) // 40
        row = {"task_id": tid, "kind": "llm", "name": "agent", "provider": "anthropic",
               "model": model, "started_at": iso(t), "duration_ms": dur,
               "ttft_ms": 350 + (total - read) // 60, "input_tokens": total,
               "cache_read_tokens": read, "cache_write_tokens": write,
               "cache_write_5m_tokens": write, "cache_write_1h_tokens": 0, "output_tokens": out,
               "stop_reason": "tool_use" if tools else "end_turn",
               "tool_calls": [n for n, *_ in tools], "segments": segs}
        rows.append(row)
        cached_upto = total
        prev_total = total
        t += timedelta(milliseconds=dur + 40)
        history = history + [{"role": "assistant", "tokens": out, "hash": f"{tid}-a{k}"}]
        tool_start = t
        longest = 0
        for j, (name, tdur, res_tok, args) in enumerate(tools):
            rows.append({"task_id": tid, "kind": "tool", "name": name,
                         "started_at": iso(tool_start), "duration_ms": tdur,
                         "tool_call_id": f"{tid}-c{k}-{j}", "tool_input_hash": args})
            if parallel:
                longest = max(longest, tdur)
            else:
                tool_start += timedelta(milliseconds=tdur + 5)
            history = history + [{"role": "tool", "tokens": res_tok, "hash": f"{tid}-r{k}-{j}"}]
        t = tool_start + timedelta(milliseconds=longest + 30)
    del prev_total
    return rows


def main() -> None:
    rows: list[dict] = []
    rows += task("ticket-4711", T0, [[("lookup_order", 420, 600, "order-88121")],
                                     [("get_shipping_status", 650, 300, "ship-88121"),
                                      ("get_refund_policy", 380, 900, "policy-eu")]], 240)
    rows += task("ticket-4712", T0 + timedelta(minutes=1),
                 [[("lookup_order", 410, 580, "order-99310")],
                  [("lookup_order", 405, 580, "order-99310")]], 180)
    rows += task("ticket-4713", T0 + timedelta(minutes=2),
                 [[("search_kb", 900, 1_400, f"kb-q{i}")] for i in range(24)], 320)
    rows += task("ticket-4714", T0 + timedelta(minutes=3),
                 [[("lookup_order", 430, 610, "order-10422")]], 200, volatile_system=True)
    rows += task("ticket-4715", T0 + timedelta(minutes=4),
                 [[("lookup_order", 400, 590, "order-10999")],
                  [("get_shipping_status", 640, 320, "ship-10999"),
                   ("get_invoice", 700, 450, "inv-10999")]], 260, parallel=True)
    rows += task("ticket-4716", T0 + timedelta(minutes=5),
                 [[("lookup_order", 415, 600, "order-11002")]], 150)
    with OUT.open("w") as fh:
        for r in rows:
            fh.write(json.dumps(r, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
