"""Claude Code session logs (``~/.claude/projects/<project>/<session>.jsonl``).

Layout read
-----------
* ``<session>.jsonl`` — one JSON object per line: ``user`` / ``assistant`` / ``system`` /
  ``progress`` / ``summary`` / ``file-history-snapshot`` / ``queue-operation`` lines, each with
  ``sessionId``, ``uuid`` / ``parentUuid`` and an ISO ``timestamp``.
* Subagents: ``<session>/subagents/agent-<id>.jsonl`` (2.1.x) or ``agent-<id>.jsonl`` beside the
  session file (2.0.x). Their lines carry the parent's ``sessionId``, ``isSidechain: true`` and
  ``agentId``. Each subagent is a task of its own, ``<sessionId>/agent-<agentId>``, with
  ``parent_task_id`` = the session's task id (``<sessionId>``) and ``session_id`` = the session.
  Sidechain lines without an ``agentId`` (old in-file sidechains) go to ``<sessionId>/sidechain``.
* ``progress`` lines of type ``agent_progress`` mirror a running subagent's messages inside the
  parent session file. They are used only for calls that no subagent file provides (a session
  copied without its ``subagents`` folder); the ingest report notes it, since such a mirror may
  lack the subagent's last call.

Counting each API call once
---------------------------
One response is written as several ``assistant`` lines (one per content block) sharing
``message.id`` and ``requestId``; early lines carry a streaming placeholder ``output_tokens``.
A call is keyed by ``message.id`` (else ``requestId``, else the line's ``uuid``: Bedrock
"converse" subagent lines of 2.0.64 have neither ``requestId`` nor cache fields) and counted
once, with the usage of its copy with the largest ``output_tokens`` (the last such line);
input and cache fields are the same on every copy. When several *copies* of a call exist, one
wins: a main-chain line beats a sidechain line, which beats a progress mirror; between equals
(a resumed session copies earlier lines into a new file) the file whose first timestamp is
earliest wins, then the one whose last timestamp is earliest (the resumed session holds the
copies with their timestamps unchanged, and goes on after them), then input order.
Everything not counted is reported with ``ctx.dropped``: ``claude-code: streamed partial
line``, ``claude-code: resumed-session copy``, ``claude-code: sidechain copy``,
``claude-code: subagent progress copy`` and ``claude-code: synthetic message (not an API
call)`` (``model == "<synthetic>"``: locally made error/interrupt messages). Counts are of log
lines, so ``kept calls + dropped lines`` accounts for every line that carries a usage.

Tokens are Anthropic's: raw ``input_tokens`` excludes cache reads and writes, converted with
:func:`agentcost.ingest.usage.anthropic`; the 5m/1h write split is kept. ``service_tier`` comes
from the usage, ``model`` (and ``response_model``) from ``message.model`` unchanged (Bedrock ids
included), ``provider`` is ``anthropic``, ``reported_cost_usd`` from ``costUSD`` (1.0.x logs).

Latency (an approximation — Claude Code logs no request timings)
-----------------------------------------------------------------
* An llm step starts at the timestamp of the line that preceded the request in the chain: the
  line whose ``uuid`` is the first response line's ``parentUuid`` (the user prompt or the
  ``tool_result`` that triggered the call), else the previous timestamped line in the file.
  Time spent by Claude Code itself between that line and the request is counted as model time.
* It ends at the timestamp of the response's last line (written when the last content block
  finished streaming). ``ttft_ms`` is first line minus start: the time until the first
  *complete* content block, an upper bound on the time to first token; it is left empty for
  single-line responses, where it would equal the duration.
* A tool step (one per ``tool_use`` block) starts at the timestamp of the assistant line that
  requested it and ends at the ``user`` line carrying its ``tool_result`` (``is_error`` from
  it); no result (interrupted session) leaves the end unknown. ``parent_id`` is the llm step's
  ``span_id`` (``requestId``, else the message id). No prompt or tool text enters the table;
  ``tool_input_hash`` is the first 16 hex digits of the SHA-1 of the tool input as canonical
  JSON (sorted keys), via the shared :func:`agentcost.ingest.common.args_hash`.

Speed
-----
Most bytes of a Claude Code log are tool output (twice: ``message.content`` and
``toolUseResult``), thinking blocks and progress lines, none of which a cost profile needs.
Each line is classified by its first ``"type":"…"`` key before any decoding — the line's own
type in every known layout, except on assistant lines, where the message object (with its
``"type":"message"``) comes first:

* ``user`` lines without a ``tool_use_id`` key, ``system``, ``summary``, snapshots and
  non-agent ``progress`` lines are not decoded at all (a cheap ``{`` … ``}`` shape check still
  reports a damaged line; a skipped line is decoded later only if it turns out to be the
  parent of a response, for its timestamp);
* a ``user`` tool_result line is read with a few byte searches (one pass over the content,
  :meth:`agentcost.ingest.claude_code_scan.Scanner._fast_result`), falling back to decoding
  on any surprise;
* an ``assistant`` line without a ``tool_use`` block is decoded with its ``content`` array cut
  out (one byte search over it instead of a decode);
* ``agent_progress`` mirror lines of a subagent whose own file is among the inputs are skipped
  (counted as dropped progress copies); others are decoded.

The scan of one file is :mod:`agentcost.ingest.claude_code_scan` (its per-call records and
their usage conversion :mod:`agentcost.ingest.claude_code_records`), the pool
:mod:`agentcost.ingest.claude_code_pool`, the choice of the copy that counts and the step rows
:mod:`agentcost.ingest.claude_code_rows`. Files are read with a 1 MiB buffer, the cycle
collector is paused while scanning (no cycles are made), only small per-call records are kept,
and several files are scanned by a process pool (``AGENTCOST_JOBS`` sets the number of
workers, ``1`` scans in-process). The workers also convert and validate each call's usage
(:func:`agentcost.steps.check_tokens`), so the cross-file dedupe that follows in this process
hands the step table its columns directly (:meth:`ClaudeCodeReader.read_table`), with no
per-row dict. ``bench/`` measures it against a bare orjson loop and ccusage.

Prompt segments are not derived here: with ``ctx.conversations`` (``analyze --anatomy``) a
second pass over the files whose calls won decodes every line and rebuilds them
(:mod:`agentcost.ingest.claude_code_context`); without it, the fast path above is all there is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from agentcost.ingest.base import HEAD_BYTES, READ_ERRORS, IngestContext, Source
from agentcost.ingest.claude_code_pool import scan_all
from agentcost.ingest.claude_code_rows import (
    DROP_PROGRESS,
    DROP_SYNTHETIC,
    ROW_COLUMNS,
    report_scan,
    resolve,
    winner_columns,
)
from agentcost.ingest.claude_code_scan import FORMAT, Call, Scan, open_source
from agentcost.perf import no_gc

__all__ = ["FORMAT", "READER", "ROW_COLUMNS", "ClaudeCodeReader"]

_LINE_TYPES = frozenset({"user", "assistant", "system", "progress", "summary",
                         "file-history-snapshot", "queue-operation", "attachment"})
_CHAIN_TYPES = frozenset({"user", "assistant", "system", "progress"})


class ClaudeCodeReader:
    name = FORMAT
    description = "Claude Code session logs (~/.claude/projects/*/*.jsonl, subagents included)"

    def sniff(self, source: Source) -> int:
        head = source.head
        if b'"sessionId"' not in head:
            return 0
        lines = head.split(b"\n", 64)  # the first 64 lines (and the rest in one piece)
        if len(head) >= HEAD_BYTES:
            lines = lines[:-1]  # the last one is cut
        score = 0
        for raw in lines[:64]:
            raw = raw.strip()
            if not raw:
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue  # a broken line is the reader's to report
            if type(obj) is not dict:
                return 0
            t = obj.get("type")
            if t not in _LINE_TYPES:
                continue  # a line type newer than this reader
            if "sessionId" in obj and t in _CHAIN_TYPES and "uuid" in obj:
                if t in ("user", "assistant") and type(obj.get("message")) is dict:
                    return 95
                score = max(score, 85)
        if score:
            return score
        # first lines larger than the head: look at the bytes
        if b'"parentUuid"' in head and (b'"type":"user"' in head
                                         or b'"type":"assistant"' in head):
            return 80
        return 0

    def read(self, source: Source, ctx: IngestContext) -> Iterator[dict[str, Any]]:
        return self.read_many([source], ctx)

    def read_many(self, sources: Iterable[Source], ctx: IngestContext
                  ) -> Iterator[dict[str, Any]]:
        names, columns = self.read_table(sources, ctx)
        for row in zip(*columns, strict=True):
            yield {k: v for k, v in zip(names, row, strict=True) if v is not None}

    def read_table(self, sources: Iterable[Source], ctx: IngestContext
                   ) -> tuple[tuple[str, ...], list[list[Any]]]:
        """Every step of the files as columns of :data:`ROW_COLUMNS`, already canonical and
        validated (the table is built from them without a per-row dict)."""
        srcs = list(sources)
        with no_gc():
            scans = scan_all(srcs, ctx)
            for scan in scans:
                ctx.report.lines_read += scan.lines
                for line, reason in scan.malformed:
                    ctx.malformed(scan.name, line, reason)
                if scan.synthetic:
                    ctx.dropped(DROP_SYNTHETIC, scan.synthetic)
                if scan.mirrored:
                    ctx.dropped(DROP_PROGRESS, scan.mirrored)
                report_scan(scan, ctx)
            winners = resolve(scans, ctx)
            prompts = _prompts(srcs, scans, winners, ctx) if ctx.conversations else {}
            columns, progress_only = winner_columns(scans, winners, prompts, ctx)
            del scans, winners
        if progress_only:
            ctx.note(f"claude-code: {progress_only} subagent call(s) known only from progress "
                     "lines of the parent session (subagent file not given; its last call may "
                     "be missing)")
        return ROW_COLUMNS, columns


def _prompts(srcs: list[Source], scans: list[Scan], winners: dict[str, Call],
             ctx: IngestContext) -> dict[str, list[dict[str, Any]]]:
    """Calibrated prompt segments of the winning calls, from a second, full decode of their
    files (``ctx.conversations``; :mod:`agentcost.ingest.claude_code_context`)."""
    from agentcost.ingest import claude_code_context as ccx
    from agentcost.ingest import conversation

    calls: list[tuple[str, str, int, list[conversation.Seg]]] = []
    for scan in scans:
        won = {c.key: c for c in scan.calls if winners.get(c.key) is c}
        if not won:
            continue
        try:
            with open_source(srcs[scan.order]) as fh:
                logged = ccx.prompts_of_file(fh, scan.name, set(won))
        except READ_ERRORS:
            continue  # the fast pass already reported an unreadable file
        for key, segs in logged.items():
            c = won[key]
            calls.append((c.task, key, int(c.usage[1] or 0), segs))
    return ccx.calibrate(calls, ctx)


READER = ClaudeCodeReader()
