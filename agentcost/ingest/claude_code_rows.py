"""Claude Code call records of all files into step rows: the per-file notes, the copy of each
call that counts (cross-session dedupe, :func:`resolve`), and the rows of the winners as
columns (:func:`call_rows`, :func:`to_columns`)."""

from __future__ import annotations

from typing import Any

from agentcost.ingest.base import IngestContext
from agentcost.ingest.claude_code_scan import (
    FORMAT,
    RANK_PROGRESS,
    USAGE_COLS,
    Call,
    Scan,
)

DROP_PARTIAL = "claude-code: streamed partial line"
DROP_RESUMED = "claude-code: resumed-session copy"
DROP_SIDECHAIN = "claude-code: sidechain copy"
DROP_PROGRESS = "claude-code: subagent progress copy"
DROP_SYNTHETIC = "claude-code: synthetic message (not an API call)"

# the step-table columns this reader fills, in the order of the row tuples it builds
ROW_COLUMNS = ("source", "format", "task_id", "session_id", "parent_task_id", "span_id",
               "parent_id", "kind", "name", "provider", "model", "response_model",
               "started_at", "ended_at", "ttft_ms", "stop_reason", "tool_calls",
               "tool_call_id", "tool_input_hash", "is_error", "line", "reported_cost_usd",
               "labels", *USAGE_COLS, "segments")
_NO_USAGE = (None,) * len(USAGE_COLS)


def report_scan(scan: Scan, ctx: IngestContext) -> None:
    """The per-file notes of a scan: untyped lines read, usage keys not read, iterations."""
    if scan.untyped:
        ctx.note(f"claude-code: {scan.name}: {scan.untyped} line(s) without type/uuid read as "
                 "assistant responses (message.usage with a message id or requestId)")
    for k, c in scan.unread.items():
        ctx.unread_usage(scan.name, [k], c)
    for why in scan.notes:
        ctx.note(f"claude-code: {scan.name}: {why}")


def resolve(scans: list[Scan], ctx: IngestContext) -> dict[str, Call]:
    """Pick the copy of each call that counts; report the others."""
    best: dict[str, tuple[tuple[int, str, str, int, int], Call]] = {}
    losers: list[tuple[Call, Call]] = []
    for scan in scans:
        # the original session started first; a session resumed from it (holding copies of
        # its lines, timestamps unchanged) started at the same time but ends later
        first, last = scan.first_ts or "~", scan.last_ts or "~"
        for call in scan.calls:
            prio = (-call.rank, first, last, scan.order, call.seq)
            cur = best.get(call.key)
            if cur is None:
                best[call.key] = (prio, call)
            elif prio < cur[0]:
                losers.append((cur[1], call))
                best[call.key] = (prio, call)
            else:
                losers.append((call, cur[1]))
    partial = sum(c.nlines - 1 for _, c in best.values())
    if partial:
        ctx.dropped(DROP_PARTIAL, partial)
    fuller = 0
    for loser, _ in losers:
        # the final winner decides the reason (the pair's winner may itself lose later)
        winner = best[loser.key][1]
        if loser.out > winner.out and loser.usage is not None:
            # a copy in another file saw more of the stream: its usage counts, as in a file
            winner.usage, winner.out, winner.extras = loser.usage, loser.out, loser.extras
            if loser.cost is not None:
                winner.cost = loser.cost
            fuller += 1
        if loser.rank == winner.rank:
            reason = DROP_RESUMED
        elif loser.rank == RANK_PROGRESS:
            reason = DROP_PROGRESS
        else:
            reason = DROP_SIDECHAIN
        ctx.dropped(reason, loser.nlines)
    if fuller:
        ctx.note(f"claude-code: {fuller} call(s) whose copies in different files differ: the "
                 "fuller usage (the copy with the most output tokens) was kept")
    return {k: c for k, (_, c) in best.items()}


CHUNK_ROWS = 8192


def winner_columns(scans: list[Scan], winners: dict[str, Call],
                   prompts: dict[str, list[dict[str, Any]]], ctx: IngestContext
                   ) -> tuple[list[list[Any]], int]:
    """The steps of the winning calls as columns of :data:`ROW_COLUMNS`, and how many of
    them are known only from progress mirrors. The scans' records are let go of as their
    rows are made (the columns grow while the records shrink: the peak stays near one of
    them)."""
    # a tool result seen in several files: the first file's (updates in reverse order, so
    # the earliest file's entry is the one left)
    results: dict[str, tuple[int | None, bool]] = {}
    for scan in reversed(scans):
        results.update(scan.results)
        scan.results = {}
    columns: list[list[Any]] = [[] for _ in ROW_COLUMNS]
    rows: list[tuple[Any, ...]] = []
    progress_only = 0
    window = ctx if ctx.since_ns is not None or ctx.until_ns is not None else None
    for scan in scans:
        for call in scan.calls:
            if winners.get(call.key) is not call:
                continue
            del winners[call.key]  # each winner makes its rows once
            if call.rank == RANK_PROGRESS:
                progress_only += 1
            call_rows(call, scan.name, results, window, rows, prompts.get(call.key))
            if len(rows) >= CHUNK_ROWS:  # row tuples → columns, a chunk at a time
                to_columns(rows, columns)
                rows = []
        scan.calls = []
    to_columns(rows, columns)
    return columns, progress_only


def to_columns(rows: list[tuple[Any, ...]], columns: list[list[Any]]) -> None:
    if rows:
        for col, values in zip(columns, zip(*rows, strict=True), strict=True):
            col.extend(values)


def call_rows(call: Call, source_name: str, results: dict[str, tuple[int | None, bool]],
          ctx: IngestContext | None, out: list[tuple[Any, ...]],
          segments: list[dict[str, Any]] | None = None) -> None:
    """Append the call's llm step and its tool steps as :data:`ROW_COLUMNS` tuples (``ctx``
    only when a --since/--until window applies)."""
    start, first, last = call.start_ts, call.first_ts, call.last_ts
    span = call.request_id or call.message_id
    task, session, parent = call.task, call.session, call.parent_task
    if ctx is None or ctx.in_window(start):
        ttft = None
        if call.nlines > 1 and start is not None and first is not None and last is not None \
                and start <= first <= last:
            ttft = (first - start) / 1e6
        out.append((source_name, FORMAT, task, session, parent, span, None, "llm", None,
                    "anthropic", call.model, call.model, start, last, ttft, call.stop,
                    tuple([t[1] for t in call.tools]) if call.tools else (), None, None,
                    None, call.line,
                    None if call.cost is None else float(call.cost), call.labels, *call.usage,
                    segments))
    if call.extras and (ctx is None or ctx.in_window(start)):
        for i, ex in enumerate(call.extras, 1):
            model = ex.get("model") or call.model
            out.append((source_name, FORMAT, task, session, parent,
                        f"{span}#{ex['type']}-{i}" if span else None, span, "llm",
                        ex["type"], "anthropic", model, model, start, start, None, None, (),
                        None, None, None, call.line, None, call.labels,
                        call.usage[0], *(ex.get(k) for k in USAGE_COLS[1:]), None))
    for tid, name, h, started, line in call.tools:
        if ctx is not None and not ctx.in_window(started):
            continue
        ended, is_error = results.get(tid, (None, None))
        if ended is not None and started is not None and ended < started:
            ended = started
        out.append((source_name, FORMAT, task, session, parent, tid, span, "tool", name,
                    None, None, None, started, ended, None, None, None, tid, h, is_error,
                    line, None, call.labels, *_NO_USAGE, None))
