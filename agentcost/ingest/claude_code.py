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
* a ``user`` tool_result line is read with a few byte searches (:meth:`_Scanner._fast_result`,
  one pass over the content), falling back to decoding on any surprise;
* an ``assistant`` line without a ``tool_use`` block is decoded with its ``content`` array cut
  out (one byte search over it instead of a decode);
* ``agent_progress`` mirror lines of a subagent whose own file is among the inputs are skipped
  (counted as dropped progress copies); others are decoded.

Files are read with a 1 MiB buffer, the cycle collector is paused while scanning (no cycles
are made), only small per-call records are kept, and several files are scanned by a process
pool (``AGENTCOST_JOBS`` sets the number of workers, ``1`` scans in-process). The workers also
convert and validate each call's usage (:func:`agentcost.steps.check_tokens`), so the
cross-file dedupe that follows in this process hands the step table its columns directly
(:meth:`ClaudeCodeReader.read_table`), with no per-row dict. ``bench/`` measures it against a
bare orjson loop.

Prompt segments are not derived here: with ``ctx.conversations`` (``analyze --anatomy``) a
second pass over the files whose calls won decodes every line and rebuilds them
(:mod:`agentcost.ingest.claude_code_context`); without it, the fast path above is all there is.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import PurePath
from typing import IO, Any

import orjson

from agentcost.errors import InputError
from agentcost.ingest import usage as U
from agentcost.ingest.base import HEAD_BYTES, READ_ERRORS, IngestContext, Source, skip_bom
from agentcost.ingest.claude_code_context import call_key
from agentcost.ingest.common import args_hash
from agentcost.perf import no_gc
from agentcost.steps import MAX_NS, MAX_TOKENS_PER_CALL, check_tokens, to_utc_ns

FORMAT = "claude-code"
_USAGE = b'"usage"'
_RESULT = b'"tool_result"'
_LINE_TYPES = frozenset({"user", "assistant", "system", "progress", "summary",
                         "file-history-snapshot", "queue-operation", "attachment"})
_CHAIN_TYPES = frozenset({"user", "assistant", "system", "progress"})

# copy ranks: which copy of a call wins
_RANK_MAIN, _RANK_SIDECHAIN, _RANK_PROGRESS = 2, 1, 0
_DROP_PARTIAL = "claude-code: streamed partial line"
_DROP_RESUMED = "claude-code: resumed-session copy"
_DROP_SIDECHAIN = "claude-code: sidechain copy"
_DROP_PROGRESS = "claude-code: subagent progress copy"
_DROP_SYNTHETIC = "claude-code: synthetic message (not an API call)"

_BUFFER = 1 << 20
# pool only when it pays for its start-up
_POOL_MIN_BYTES = 16 * 1024 * 1024

# the step-table columns this reader fills, in the order of the row tuples it builds
_USAGE_COLS = ("service_tier", "input_tokens", "cache_read_tokens", "cache_write_tokens",
               "cache_write_5m_tokens", "cache_write_1h_tokens", "output_tokens",
               "reasoning_tokens")
ROW_COLUMNS = ("source", "format", "task_id", "session_id", "parent_task_id", "span_id",
               "parent_id", "kind", "name", "provider", "model", "response_model",
               "started_at", "ended_at", "ttft_ms", "stop_reason", "tool_calls",
               "tool_call_id", "tool_input_hash", "is_error", "line", "reported_cost_usd",
               "labels", *_USAGE_COLS, "segments")
_NO_USAGE = (None,) * len(_USAGE_COLS)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_MINUTES: dict[str, int] = {}  # "YYYY-MM-DDTHH:MM" -> ns


def _ns(ts: Any) -> int | None:
    """ISO timestamp → UTC ns (fast path for Claude Code's ``2026-02-12T16:02:25.227Z``)."""
    if type(ts) is not str:
        return None
    if len(ts) == 24 and ts[23] == "Z" and ts[19] == "." and ts[16] == ":":
        minute = ts[:16]
        base = _MINUTES.get(minute)
        if base is None:
            try:
                dt = datetime.fromisoformat(minute).replace(tzinfo=UTC)
            except ValueError:
                return to_utc_ns(ts)
            if len(_MINUTES) > 65536:
                _MINUTES.clear()
            base = _MINUTES[minute] = ((dt - _EPOCH) // _US) * 1000
        sec, ms = ts[17:19], ts[20:23]
        if (sec.isascii() and sec.isdigit() and ms.isascii() and ms.isdigit()
                and -MAX_NS <= base < MAX_NS):
            return base + int(sec) * 1_000_000_000 + int(ms) * 1_000_000
    return to_utc_ns(ts)


class _Call:
    """One API response as seen in one file (all its lines merged). No content is kept."""

    __slots__ = ("key", "rank", "task", "session", "parent_task", "model", "request_id",
                 "message_id", "usage", "out", "line", "first_ts", "last_ts", "start_ts",
                 "stop", "tools", "nlines", "cost", "seq", "extras", "labels")

    def __init__(self, key: str, rank: int, task: str, session: str, parent_task: str | None,
                 seq: int) -> None:
        self.key = key
        self.rank = rank
        self.task = task
        self.session = session
        self.parent_task = parent_task
        self.seq = seq
        self.model: str | None = None
        self.request_id: str | None = None
        self.message_id: str | None = None
        self.usage: Any = None  # raw usage while scanning; _USAGE_COLS values once finished
        self.out = -1
        self.line = 0
        self.first_ts: Any = None  # ISO strings while scanning, ns once finished
        self.last_ts: Any = None
        self.start_ts: Any = None
        self.stop: str | None = None
        # (tool_use id, name, input hash, started (ISO → ns), line)
        self.tools: list[tuple[str, str, str | None, Any, int]] = []
        self.nlines = 0
        self.cost: float | None = None
        # sampling iterations billed on top of the usage (server-side compaction), normalised
        self.extras: list[dict[str, Any]] | None = None
        self.labels: dict[str, str] | None = None  # git branch and project folder

    def __getstate__(self) -> tuple[Any, ...]:
        return tuple(getattr(self, s) for s in self.__slots__)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for s, v in zip(self.__slots__, state, strict=True):
            setattr(self, s, v)


class _Scan:
    """What one file yields: call records, tool results, counts, malformed lines."""

    __slots__ = ("name", "lines", "first_ts", "last_ts", "calls", "results", "malformed",
                 "synthetic", "mirrored", "order", "untyped", "unread", "notes")

    def __init__(self, name: str, order: int) -> None:
        self.name = name
        self.order = order
        self.lines = 0
        self.first_ts: str | None = None  # earliest and latest line timestamps (ISO strings)
        self.last_ts: str | None = None
        self.calls: list[_Call] = []
        self.results: dict[str, tuple[int | None, bool]] = {}  # tool_use_id -> (ended, is_error)
        self.malformed: list[tuple[int, str]] = []
        self.synthetic = 0
        self.mirrored = 0  # progress mirror lines skipped: their subagent file is read
        self.untyped = 0  # responses on lines without type/uuid (read as assistant lines)
        self.unread: dict[str, int] = {}  # usage keys not read -> calls
        self.notes: list[str] = []

    def __getstate__(self) -> tuple[Any, ...]:
        return tuple(getattr(self, s) for s in self.__slots__)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for s, v in zip(self.__slots__, state, strict=True):
            setattr(self, s, v)


def _file_agent_id(name: str) -> str | None:
    base = PurePath(name).name
    for suffix in (".jsonl.gz", ".jsonl"):
        if base.startswith("agent-") and base.endswith(suffix):
            return base[len("agent-"):-len(suffix)] or None
    return None


def _file_session(name: str) -> str:
    base = PurePath(name).name
    for suffix in (".gz", ".jsonl", ".json", ".ndjson", ".log"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    return base or name


def _json_ts(raw: bytes) -> tuple[Any, Any]:
    """(uuid, timestamp) of a raw line decoded lazily; (None, None) when it does not decode."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(obj, dict):
        return None, None
    return obj.get("uuid"), obj.get("timestamp")


_SKIP, _DECODE, _TOOL_RESULT, _DECODE_ASSISTANT, _AGENT_PROGRESS = 0, 1, 2, 3, 4
_SKIP_TYPES = (b'system"', b'summary"', b'file-history-snapshot"', b'queue-operation"')


def _kind(line: bytes) -> int:
    """What a line needs, from its top-level ``type`` (the first ``"type":"`` of the line in
    every known layout; anything unexpected falls back to a substring test)."""
    p = line.find(b'"type":"')
    if p >= 0:
        w = line[p + 8 : p + 32]
        # an assistant line's first "type" is usually its message's ("message"): the
        # top-level "type":"assistant" comes after the message object
        if w.startswith(b'message"') or w.startswith(b'assistant"'):
            return _DECODE_ASSISTANT
        if w.startswith(b'user"'):
            return _TOOL_RESULT if line.find(b'"tool_use_id":"', p) >= 0 else _SKIP
        if w.startswith(b'progress"'):
            d = line.find(b'"data":{', p)
            if d >= 0 and line.startswith(b'"type":"', d + 8):
                return _SKIP  # hook/bash/... progress: data starts with its own type
            if b'"agent_progress"' in line and (_USAGE in line or _RESULT in line):
                return _AGENT_PROGRESS
            return _SKIP
        if w.startswith(_SKIP_TYPES):
            return _SKIP
    return _DECODE if (_USAGE in line or _RESULT in line) else _SKIP


class _Scanner:
    """Reads one file line by line into a :class:`_Scan`."""

    def __init__(self, source: Source, order: int,
                 covered: frozenset[bytes] = frozenset(), fast: bool = True) -> None:
        self.source = source
        # the two byte-level shortcuts (tool_result lines read undecoded, assistant lines
        # decoded without their text blocks); fast=False decodes every line in full, which
        # gives the same scan (a test holds them equal on the real logs)
        self.fast = fast
        # agent ids whose own subagent file is being read too: their progress mirrors in
        # this (parent) file are skipped undecoded, and counted as dropped copies
        self.covered = covered
        self.scan = _Scan(source.name, order)
        self.file_agent = _file_agent_id(source.name)
        self.file_session = _file_session(source.name)
        # last lines, newest last: (uuid, ts) for decoded lines, raw bytes for skipped ones
        self.prev: deque[Any] = deque(maxlen=8)
        self.calls: dict[tuple[str, int], _Call] = {}
        self.agent_prev: dict[str, str] = {}  # progress mirrors: agentId -> last nested ts
        self.seq = 0
        self.labels: dict[tuple[str | None, str | None], dict[str, str] | None] = {}  # per pair

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> _Scan:  # noqa: C901 (split pending)
        scan = self.scan
        prev_append = self.prev.append
        malformed = scan.malformed.append
        decode = orjson.loads
        decode_error = orjson.JSONDecodeError
        fast = self.fast
        n = 0
        lines = 0
        first_ts: str | None = None
        last_ts: str | None = None
        with _open(self.source) as fh:
            try:
                for n, line in enumerate(fh, 1):  # noqa: B007 - n is used after the loop
                    if not line.startswith(b"{"):
                        if not line.strip():
                            continue
                        lines += 1
                        malformed((n, "not a JSON object"))
                        prev_append(None)
                        continue
                    lines += 1
                    if line.endswith(b"}\n") or (line.endswith(b"\n")
                                                  and line.rstrip().endswith(b"}")):
                        what = _kind(line)
                        if what == _SKIP:
                            prev_append(line)
                            continue
                        if what == _TOOL_RESULT and fast:
                            rec = self._fast_result(line)
                            if rec is not None:
                                rts = rec[1]
                                if first_ts is None or rts < first_ts:
                                    first_ts = rts
                                if last_ts is None or rts > last_ts:
                                    last_ts = rts
                                prev_append(rec)
                                continue
                        elif what == _AGENT_PROGRESS and self.covered:
                            a = line.rfind(b'"agentId":"')
                            if a >= 0 and line[a + 11 : line.find(b'"', a + 11)] in self.covered:
                                d = line.find(b'"data":{')
                                if line.startswith(b'"message":{"type":"assistant"', d + 8):
                                    scan.mirrored += 1
                                prev_append(line)
                                continue
                        elif what == _DECODE_ASSISTANT and fast:
                            # content-free copy of the line when no block is a tool_use: the
                            # thinking/text blocks are most of its bytes and never needed
                            c0 = line.find(b'"content":[')
                            c1 = line.rfind(b'],"stop_reason":')
                            if 0 < c0 < c1 and line.find(b'"tool_use"', c0, c1) < 0:
                                line = line[: c0 + 11] + line[c1:]
                    elif line.endswith(b"\n"):
                        malformed((n, "malformed line (does not end with '}')"))
                        prev_append(None)
                        continue
                    # else: the last line, without a newline: decoded to tell a truncated line
                    try:
                        obj = decode(line)
                    except decode_error as exc:
                        if not line.endswith(b"\n"):
                            malformed((n, "truncated line at end of file (invalid JSON)"))
                        else:
                            malformed((n, f"invalid JSON ({str(exc).split(':')[0]})"))
                        prev_append(None)
                        continue
                    if type(obj) is not dict:
                        malformed((n, f"expected a JSON object, got {type(obj).__name__}"))
                        prev_append(None)
                        continue
                    t = obj.get("type")
                    if t == "assistant":
                        self._assistant(obj, n)
                    elif t == "user":
                        self._user(obj.get("message"), obj.get("timestamp"))
                    elif t == "progress":
                        self._progress(obj, n)
                    elif t is None and _untyped_response(obj):
                        scan.untyped += 1
                        self._assistant(obj, n)
                    ts = obj.get("timestamp")
                    if type(ts) is str:
                        if first_ts is None or ts < first_ts:
                            first_ts = ts
                        if last_ts is None or ts > last_ts:
                            last_ts = ts
                    prev_append((obj.get("uuid"), ts))
            except READ_ERRORS as exc:
                raise InputError(f"cannot read (truncated or corrupt file?): {exc}",
                                 self.source.name) from None
        scan.lines = lines
        scan.first_ts, scan.last_ts = first_ts, last_ts
        self._finish()
        return scan

    def _fast_result(self, line: bytes) -> tuple[str, str] | None:
        """A ``user`` line with one tool_result, read without decoding its (bulky) JSON.

        Relies on the layout every known Claude Code version writes (checked on the real
        logs by a test): one result block ``{"tool_use_id", "type", "content", "is_error"}``
        (any key order; ``is_error`` may be absent) inside ``message``, then the top-level
        ``"uuid":"…","timestamp":"…"`` pair, then ``toolUseResult``. JSON strings escape
        their quotes, so these key patterns cannot occur inside text. One scan over the
        content finds the next ``…id":"`` key: the top-level uuid, or a second result (then
        ``None``: the line is decoded, as for any other surprise).
        """
        i = line.find(b'"tool_use_id":"')
        j = line.find(b'"', i + 15)
        k = line.find(b'id":"', j)
        if k < 3 or line[k - 3 : k] != b'"uu':
            return None
        u = k - 3
        ue = line.find(b'"', u + 8)
        if not line.startswith(b',"timestamp":"', ue + 1):
            return None
        te = line.find(b'"', ue + 15)
        if te < 0:
            return None
        tid = line[i + 15 : j]
        uuid = line[u + 8 : ue]
        ts = line[ue + 15 : te]
        if b"\\" in tid or b"\\" in uuid or b"\\" in ts:
            return None
        tid_s, ts_s = tid.decode(), ts.decode()
        results = self.scan.results
        if tid_s not in results:
            # the block's small keys sit next to its start or its end, the content between
            err = (line.find(b'"is_error":true', max(0, i - 160), i + 160) >= 0
                   or line.find(b'"is_error":true', max(0, u - 64), u) >= 0)
            results[tid_s] = (_ns(ts_s), err)
        return uuid.decode(), ts_s

    # -- line kinds -----------------------------------------------------------------------
    def _assistant(self, obj: dict[str, Any], n: int) -> None:
        msg = obj.get("message")
        if type(msg) is not dict:
            self.scan.malformed.append((n, "assistant line without a message object"))
            return
        if msg.get("model") == "<synthetic>":
            self.scan.synthetic += 1
            return
        usage = msg.get("usage")
        if type(usage) is not dict:
            return  # "usage" appeared only inside content: no call to count on this line
        rank = _RANK_SIDECHAIN if obj.get("isSidechain") else _RANK_MAIN
        call = self._call(msg, obj.get("requestId"), obj.get("uuid"), n, rank)
        if not call.nlines:  # the response's first line
            sid = obj.get("sessionId")
            call.session = sid if type(sid) is str and sid else self.file_session
            if rank == _RANK_SIDECHAIN:
                aid = obj.get("agentId") or self.file_agent
                call.task = (f"{call.session}/agent-{aid}" if aid
                             else f"{call.session}/sidechain")
                call.parent_task = call.session
            else:
                call.task = call.session
            call.first_ts = obj.get("timestamp")
            call.start_ts = self._prev_ts(obj.get("parentUuid"))
            call.labels = self._labels(obj.get("gitBranch"), obj.get("cwd"))
        self._merge(call, msg, usage, obj.get("requestId"), obj.get("timestamp"), n,
                    obj.get("costUSD"))

    def _labels(self, branch: Any, cwd: Any) -> dict[str, str] | None:
        """``{"git_branch", "project"}`` of a line (the session's branch and working folder),
        one shared dict per distinct pair."""
        key = (branch if type(branch) is str else None, cwd if type(cwd) is str else None)
        if key not in self.labels:
            d = {}
            if key[0]:
                d["git_branch"] = key[0]
            if key[1]:
                d["project"] = key[1]
            self.labels[key] = d or None
        return self.labels[key]

    def _user(self, msg: Any, ts: Any) -> None:
        if type(msg) is not dict:
            return
        content = msg.get("content")
        if type(content) is not list:
            return
        results = self.scan.results
        for block in content:
            if type(block) is dict and block.get("type") == "tool_result":
                tid = block.get("tool_use_id")
                if type(tid) is str and tid not in results:
                    results[tid] = (_ns(ts), bool(block.get("is_error")))

    def _progress(self, obj: dict[str, Any], n: int) -> None:
        data = obj.get("data")
        if type(data) is not dict or data.get("type") != "agent_progress":
            return
        nested = data.get("message")
        if type(nested) is not dict:
            return
        aid = data.get("agentId")
        nts = nested.get("timestamp") or obj.get("timestamp")
        kind = nested.get("type")
        if kind == "assistant":
            msg = nested.get("message")
            if type(msg) is dict and msg.get("model") != "<synthetic>" and type(
                    msg.get("usage")) is dict:
                call = self._call(msg, nested.get("requestId"), nested.get("uuid"), n,
                                  _RANK_PROGRESS)
                if not call.nlines:
                    sid = obj.get("sessionId")
                    session = sid if type(sid) is str and sid else self.file_session
                    call.session = call.parent_task = session
                    call.task = f"{session}/agent-{aid}" if aid else f"{session}/sidechain"
                    call.first_ts = nts
                    start = self.agent_prev.get(aid) if isinstance(aid, str) else None
                    call.start_ts = start if start is not None else self._prev_ts(None)
                    call.labels = self._labels(obj.get("gitBranch"), obj.get("cwd"))
                self._merge(call, msg, msg["usage"], nested.get("requestId"), nts, n, None)
        elif kind == "user":
            self._user(nested.get("message"), nts)
        if isinstance(aid, str) and type(nts) is str:
            self.agent_prev[aid] = nts

    def _call(self, msg: dict[str, Any], request_id: Any, uuid: Any, n: int,
              rank: int) -> _Call:
        """The record of this line's response in this file (created on its first line)."""
        mid = msg.get("id")
        key = call_key(mid, request_id, uuid, self.scan.name, n)
        call = self.calls.get((key, rank))
        if call is None:
            self.seq += 1
            call = self.calls[(key, rank)] = _Call(key, rank, "", "", None, self.seq)
            call.message_id = mid if type(mid) is str else None
            self.scan.calls.append(call)
        return call

    @staticmethod
    def _merge(call: _Call, msg: dict[str, Any], usage: dict[str, Any], request_id: Any,
               ts: Any, n: int, cost: Any) -> None:
        """Fold one line of a response into its record: the copy with the largest output
        wins (the last of equals), tool_use blocks are collected once."""
        call.nlines += 1
        if type(request_id) is str and request_id:
            call.request_id = request_id
        model = msg.get("model")
        if type(model) is str and model:
            call.model = model
        out = usage.get("output_tokens")
        out_i = out if type(out) is int else -1
        if out_i >= call.out or call.usage is None:
            call.usage = usage
            call.out = out_i
            call.line = n
            if cost is not None:
                call.cost = cost
        stop = msg.get("stop_reason")
        if stop and type(stop) is str:
            call.stop = stop
        if type(ts) is str:
            call.last_ts = ts
        content = msg.get("content")
        if content and type(content) is list:
            for block in content:
                if type(block) is dict and block.get("type") == "tool_use":
                    tid = block.get("id")
                    if type(tid) is not str or any(t[0] == tid for t in call.tools):
                        continue
                    name = block.get("name")
                    call.tools.append((tid, name if type(name) is str else "unknown",
                                       args_hash(block.get("input")), ts, n))

    def _unusual(self, call: _Call, raw: dict[str, Any]) -> None:
        """Usage keys not read, and iterations billed on top of the usage, of one call."""
        unread = self.scan.unread
        for k in U.unread_fields(raw):
            unread[k] = unread.get(k, 0) + 1
        try:
            extras, why = U.extra_iterations(raw)
        except ValueError as exc:
            extras, why = [], f"usage.iterations: {exc}"
        for ex in extras:
            bad = check_tokens(ex, self.scan.name)
            if bad:
                extras, why = [], f"usage.iterations entry not counted: {bad}"
                break
        if why and why not in self.scan.notes:
            self.scan.notes.append(why)
        call.extras = extras or None

    def _prev_ts(self, parent_uuid: Any) -> Any:
        """Timestamp of the response's parent line, else of the previous timestamped line."""
        prev = self.prev
        if type(parent_uuid) is str and parent_uuid:
            needle = b'"uuid":"' + parent_uuid.encode() + b'"'
            for i in range(len(prev) - 1, -1, -1):
                e = prev[i]
                if type(e) is tuple:
                    if e[0] == parent_uuid:
                        return e[1]
                elif type(e) is bytes and needle in e:
                    u, ts = _json_ts(e)
                    prev[i] = (u, ts)
                    if u == parent_uuid:
                        return ts
        for i in range(len(prev) - 1, -1, -1):
            e = prev[i]
            if type(e) is bytes:
                e = prev[i] = _json_ts(e)
            if type(e) is tuple and type(e[1]) is str:
                return e[1]
        return None

    def _finish(self) -> None:
        """Canonical tokens and integer times, once per call, while still in the worker; the
        strings repeated from call to call (model, session, task, tool names, tier) shared, so
        that they are sent and kept once."""
        kept: list[_Call] = []
        strs: dict[Any, Any] = {None: None}
        for call in self.scan.calls:
            raw = call.usage
            if type(raw) is dict and ("server_tool_use" in raw or "iterations" in raw
                                      or not raw.keys() <= U.UNDERSTOOD_KEYS):
                self._unusual(call, raw)
            usage = _usage_fast(raw)
            if usage is None:  # anything unusual: the general conversion and checks
                try:
                    u = U.anthropic(call.usage)
                except ValueError as exc:
                    self.scan.malformed.append((call.line, str(exc)))
                    continue
                reason = check_tokens(u, self.scan.name)
                if reason:
                    self.scan.malformed.append((call.line, reason))
                    continue
                usage = tuple(u.get(k) for k in _USAGE_COLS)
            tier = usage[0]
            if tier is not None:
                tier = strs.setdefault(tier, tier)
                usage = (tier, *usage[1:])
            call.usage = usage
            call.model = strs.setdefault(call.model, call.model)
            call.session = strs.setdefault(call.session, call.session)
            call.task = strs.setdefault(call.task, call.task)
            call.parent_task = strs.setdefault(call.parent_task, call.parent_task)
            first, last, start = _ns(call.first_ts), _ns(call.last_ts), _ns(call.start_ts)
            if first is None:
                first = last
            if last is None:
                last = first
            if start is None or (first is not None and start > first):
                start = first
            call.first_ts, call.last_ts, call.start_ts = first, last, start
            call.tools = [(t[0], strs.setdefault(t[1], t[1]), t[2], _ns(t[3]), t[4])
                          for t in call.tools]
            if call.cost is not None and (type(call.cost) not in (int, float)
                                          or call.cost < 0):
                call.cost = None
            kept.append(call)
        self.scan.calls = kept


def _untyped_response(obj: dict[str, Any]) -> bool:
    """A line without ``type`` and ``uuid`` that still holds one API response: a
    ``message`` with ``usage`` and an id (message id or ``requestId``), as some exporters of
    Claude Code transcripts write them."""
    msg = obj.get("message")
    return ("uuid" not in obj and type(msg) is dict and type(msg.get("usage")) is dict
            and bool(msg.get("id") or obj.get("requestId")))


def _usage_fast(u: Any) -> tuple[Any, ...] | None:
    """:data:`_USAGE_COLS` values of an Anthropic usage object in the shape Claude Code always
    writes (plain non-negative ints, an optional consistent 5m/1h split, no thinking-token
    details) — what :func:`agentcost.ingest.usage.anthropic` plus
    :func:`agentcost.steps.check_tokens` give, at a fraction of the cost; ``None`` for
    anything else (which then takes that general path, errors included)."""
    if type(u) is not dict or "output_tokens_details" in u:
        return None
    raw, cr, cw, out = (u.get("input_tokens"), u.get("cache_read_input_tokens", 0),
                        u.get("cache_creation_input_tokens", 0), u.get("output_tokens"))
    if type(raw) is not int or type(cr) is not int or type(cw) is not int \
            or type(out) is not int or raw < 0 or cr < 0 or cw < 0 or out < 0:
        return None
    inp = raw + cr + cw
    if inp > MAX_TOKENS_PER_CALL or out > MAX_TOKENS_PER_CALL:
        return None
    w5, w1 = cw, 0
    split = u.get("cache_creation")
    if type(split) is dict:
        s5, s1 = split.get("ephemeral_5m_input_tokens"), split.get("ephemeral_1h_input_tokens")
        if s5 is not None or s1 is not None:
            if (s5 is not None and type(s5) is not int) or (s1 is not None and type(s1) is not int):
                return None
            w5, w1 = s5 or 0, s1 or 0
            if w5 < 0 or w1 < 0 or w5 + w1 != cw:
                return None
    elif split is not None:
        return None
    if not cw:
        w5 = w1 = 0
    tier = u.get("service_tier")
    return (tier if type(tier) is str and tier else None, inp, cr, cw, w5, w1, out, None)


def _open(source: Source) -> IO[bytes]:
    """The source's bytes with a large read buffer: line iteration over multi-KB lines is
    several times faster with 1 MiB than with the default 8 KiB."""
    if source.path is not None and source.data is None:
        try:
            fh = open(source.path, "rb", buffering=_BUFFER)  # noqa: SIM115 - caller closes
        except OSError:
            return source.open()  # raises the usual InputError
        if fh.read(2) != b"\x1f\x8b":
            fh.seek(0)
            return skip_bom(fh)
        fh.close()
    return source.open()  # gzip or stdin


def _scan_source(source: Source, order: int, covered: frozenset[bytes] = frozenset()
                 ) -> _Scan:
    with no_gc():
        return _Scanner(source, order, covered).run()


def _covered_agents(sources: Sequence[Source]) -> list[frozenset[bytes]]:
    """Per source, the agent ids of its ``<session>/subagents/agent-<id>.jsonl`` files that
    are among the sources."""
    by_session: dict[str, set[bytes]] = {}
    for s in sources:
        p = PurePath(s.name)
        aid = _file_agent_id(s.name)
        if aid and p.parent.name == "subagents":
            by_session.setdefault(str(p.parent.parent), set()).add(aid.encode())
    if not by_session:
        return [frozenset()] * len(sources)
    out = []
    for s in sources:
        p = PurePath(s.name)
        stem = p.name[: -len(".jsonl")] if p.name.endswith(".jsonl") else p.name
        out.append(frozenset(by_session.get(str(p.parent / stem), ())))
    return out


_BATCH_BYTES = 8 * 1024 * 1024


def _batches(sizes: list[int], jobs: int) -> list[list[int]]:
    """File indexes in batches of about ``_BATCH_BYTES``, or less so that each worker gets
    about four (the last ones then finish together), biggest files first."""
    order = sorted(range(len(sizes)), key=lambda i: -sizes[i])
    target = max(1, min(_BATCH_BYTES, sum(sizes) // (4 * max(jobs, 1))))
    batches: list[list[int]] = []
    cur: list[int] = []
    acc = 0
    for i in order:
        cur.append(i)
        acc += sizes[i]
        if acc >= target:
            batches.append(cur)
            cur, acc = [], 0
    if cur:
        batches.append(cur)
    return batches


def _scan_batch(items: list[tuple[Source, int, frozenset[bytes]]]) -> list[tuple[int, _Scan]]:
    return [(i, _scan_source(src, i, cov)) for src, i, cov in items]


def _scan_all(sources: Sequence[Source], ctx: IngestContext | None = None) -> list[_Scan]:
    """Scan every file, in a process pool when there is enough work for it."""
    jobs_env = os.environ.get("AGENTCOST_JOBS", "").strip()
    jobs = int(jobs_env) if jobs_env.isdigit() else (os.cpu_count() or 1)
    sizes = []
    for s in sources:
        try:
            sizes.append(s.size)
        except OSError:
            sizes.append(0)
    covered = _covered_agents(sources)
    use_pool = (jobs > 1 and len(sources) > 1 and sum(sizes) >= _POOL_MIN_BYTES
                and all(s.data is None for s in sources))
    if not use_pool:
        scans = []
        for i, s in enumerate(sources):
            scans.append(_scan_source(s, i, covered[i]))
            if ctx is not None:
                ctx.advance(sizes[i])
        return scans
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    methods = mp.get_all_start_methods()
    mp_ctx = mp.get_context("fork" if "fork" in methods else None)
    out: list[_Scan | None] = [None] * len(sources)
    with ProcessPoolExecutor(max_workers=min(jobs, len(sources)), mp_context=mp_ctx) as pool:
        # files go in batches (fewer round trips through the pool's pipes, which compete with
        # the workers for the CPU); plain copies of the sources: the sniffed heads stay here
        futures = {pool.submit(_scan_batch, [(Source(name=sources[i].name,
                                                     path=sources[i].path), i, covered[i])
                                             for i in batch]): batch
                   for batch in _batches(sizes, jobs)}
        for fut in as_completed(futures):
            for i, scan in fut.result():
                out[i] = scan
            if ctx is not None:
                ctx.advance(sum(sizes[i] for i in futures[fut]))
    return [s for s in out if s is not None]


class ClaudeCodeReader:
    name = FORMAT
    description = "Claude Code session logs (~/.claude/projects/*/*.jsonl, subagents included)"

    def sniff(self, source: Source) -> int:
        head = source.head
        if b'"sessionId"' not in head:
            return 0
        lines = head.split(b"\n")
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
            scans = _scan_all(srcs, ctx)
            for scan in scans:
                ctx.report.lines_read += scan.lines
                for line, reason in scan.malformed:
                    ctx.malformed(scan.name, line, reason)
                if scan.synthetic:
                    ctx.dropped(_DROP_SYNTHETIC, scan.synthetic)
                if scan.mirrored:
                    ctx.dropped(_DROP_PROGRESS, scan.mirrored)
                _report_scan(scan, ctx)
            winners = _resolve(scans, ctx)
            prompts = _prompts(srcs, scans, winners, ctx) if ctx.conversations else {}
            results: dict[str, tuple[int | None, bool]] = {}
            for scan in scans:
                for k, v in scan.results.items():
                    results.setdefault(k, v)
            columns: list[list[Any]] = [[] for _ in ROW_COLUMNS]
            rows: list[tuple[Any, ...]] = []
            progress_only = 0
            windowed = ctx.since_ns is not None or ctx.until_ns is not None
            for scan in scans:
                for call in scan.calls:
                    if winners.get(call.key) is not call:
                        continue
                    if call.rank == _RANK_PROGRESS:
                        progress_only += 1
                    _rows(call, scan.name, results, ctx if windowed else None, rows,
                          prompts.get(call.key))
                    if len(rows) >= _CHUNK_ROWS:  # row tuples → columns, a chunk at a time
                        _to_columns(rows, columns)
                        rows = []
            _to_columns(rows, columns)
        if progress_only:
            ctx.note(f"claude-code: {progress_only} subagent call(s) known only from progress "
                     "lines of the parent session (subagent file not given; its last call may "
                     "be missing)")
        return ROW_COLUMNS, columns


def _report_scan(scan: _Scan, ctx: IngestContext) -> None:
    """The per-file notes of a scan: untyped lines read, usage keys not read, iterations."""
    if scan.untyped:
        ctx.note(f"claude-code: {scan.name}: {scan.untyped} line(s) without type/uuid read as "
                 "assistant responses (message.usage with a message id or requestId)")
    for k, c in scan.unread.items():
        ctx.unread_usage(scan.name, [k], c)
    for why in scan.notes:
        ctx.note(f"claude-code: {scan.name}: {why}")


def _prompts(srcs: list[Source], scans: list[_Scan], winners: dict[str, _Call],
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
            with _open(srcs[scan.order]) as fh:
                logged = ccx.prompts_of_file(fh, scan.name, set(won))
        except READ_ERRORS:
            continue  # the fast pass already reported an unreadable file
        for key, segs in logged.items():
            c = won[key]
            calls.append((c.task, key, int(c.usage[1] or 0), segs))
    return ccx.calibrate(calls, ctx)


def _resolve(scans: list[_Scan], ctx: IngestContext) -> dict[str, _Call]:
    """Pick the copy of each call that counts; report the others."""
    best: dict[str, tuple[tuple[int, str, str, int, int], _Call]] = {}
    losers: list[tuple[_Call, _Call]] = []
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
        ctx.dropped(_DROP_PARTIAL, partial)
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
            reason = _DROP_RESUMED
        elif loser.rank == _RANK_PROGRESS:
            reason = _DROP_PROGRESS
        else:
            reason = _DROP_SIDECHAIN
        ctx.dropped(reason, loser.nlines)
    if fuller:
        ctx.note(f"claude-code: {fuller} call(s) whose copies in different files differ: the "
                 "fuller usage (the copy with the most output tokens) was kept")
    return {k: c for k, (_, c) in best.items()}


_CHUNK_ROWS = 8192


def _to_columns(rows: list[tuple[Any, ...]], columns: list[list[Any]]) -> None:
    if rows:
        for col, values in zip(columns, zip(*rows, strict=True), strict=True):
            col.extend(values)


def _rows(call: _Call, source_name: str, results: dict[str, tuple[int | None, bool]],
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
                    tuple(t[1] for t in call.tools), None, None, None, call.line,
                    None if call.cost is None else float(call.cost), call.labels, *call.usage,
                    segments))
    if call.extras and (ctx is None or ctx.in_window(start)):
        for i, ex in enumerate(call.extras, 1):
            model = ex.get("model") or call.model
            out.append((source_name, FORMAT, task, session, parent,
                        f"{span}#{ex['type']}-{i}" if span else None, span, "llm",
                        ex["type"], "anthropic", model, model, start, start, None, None, (),
                        None, None, None, call.line, None, call.labels,
                        call.usage[0], *(ex.get(k) for k in _USAGE_COLS[1:]), None))
    for tid, name, h, started, line in call.tools:
        if ctx is not None and not ctx.in_window(started):
            continue
        ended, is_error = results.get(tid, (None, None))
        if ended is not None and started is not None and ended < started:
            ended = started
        out.append((source_name, FORMAT, task, session, parent, tid, span, "tool", name,
                    None, None, None, started, ended, None, None, None, tid, h, is_error,
                    line, None, call.labels, *_NO_USAGE, None))


READER = ClaudeCodeReader()
