"""One Claude Code log file scanned into call records (:class:`Scan`), in a pool worker or
in-process: the line loop and its byte-level shortcuts; the records and their per-call
conversion are :mod:`agentcost.ingest.claude_code_records`. What is read and why is told in
:mod:`agentcost.ingest.claude_code`."""

from __future__ import annotations

from collections import deque
from pathlib import PurePath
from typing import IO, Any

import orjson

from agentcost.errors import InputError
from agentcost.ingest.base import READ_ERRORS, Source, skip_bom
from agentcost.ingest.claude_code_context import call_key
from agentcost.ingest.claude_code_records import (
    RANK_MAIN,
    RANK_PROGRESS,
    RANK_SIDECHAIN,
    USAGE_COLS,
    Call,
    Scan,
    finish_calls,
    ns,
)
from agentcost.ingest.common import args_hash
from agentcost.perf import no_gc

__all__ = ["FORMAT", "RANK_MAIN", "RANK_PROGRESS", "RANK_SIDECHAIN", "USAGE_COLS", "Call",
           "Scan", "Scanner", "file_agent_id", "open_source", "scan_source"]

FORMAT = "claude-code"
_USAGE = b'"usage"'
_RESULT = b'"tool_result"'
_BUFFER = 1 << 20


def file_agent_id(name: str) -> str | None:
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
_LAST = -1  # the last line, without a newline: decoded as it is
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


class Scanner:
    """Reads one file line by line into a :class:`Scan`."""

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
        self.scan = Scan(source.name, order)
        self.file_agent = file_agent_id(source.name)
        self.file_session = _file_session(source.name)
        # last lines, newest last: (uuid, ts) for decoded lines, raw bytes for skipped ones
        self.prev: deque[Any] = deque(maxlen=8)
        self.calls: dict[tuple[str, int], Call] = {}
        self.agent_prev: dict[str, str] = {}  # progress mirrors: agentId -> last nested ts
        self.seq = 0
        self.labels: dict[tuple[str | None, str | None], dict[str, str] | None] = {}  # per pair

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> Scan:
        """Every line: the shape check and :func:`_kind` here (most lines need nothing
        more), the rest in :meth:`_line`."""
        scan = self.scan
        prev_append = self.prev.append
        malformed = scan.malformed.append
        n = 0
        lines = 0
        first_ts: str | None = None
        last_ts: str | None = None
        with open_source(self.source) as fh:
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
                    elif line.endswith(b"\n"):
                        malformed((n, "malformed line (does not end with '}')"))
                        prev_append(None)
                        continue
                    else:  # the last line, without a newline: decoded to tell a truncated line
                        what = _LAST
                    entry = self._line(line, n, what)
                    prev_append(entry)
                    if type(entry) is tuple:
                        ts = entry[1]
                        if type(ts) is str:
                            if first_ts is None or ts < first_ts:
                                first_ts = ts
                            if last_ts is None or ts > last_ts:
                                last_ts = ts
            except READ_ERRORS as exc:
                raise InputError(f"cannot read (truncated or corrupt file?): {exc}",
                                 self.source.name) from None
        scan.lines = lines
        scan.first_ts, scan.last_ts = first_ts, last_ts
        finish_calls(self.scan)
        return scan

    def _line(self, line: bytes, n: int, what: int) -> Any:
        """A line that needs reading: what the last-lines memory keeps of it ((uuid,
        timestamp) when read, the raw line when skipped after all, ``None`` when
        malformed)."""
        if what == _TOOL_RESULT and self.fast:
            rec = self._fast_result(line)
            if rec is not None:
                return rec
        elif what == _AGENT_PROGRESS and self.covered:
            a = line.rfind(b'"agentId":"')
            if a >= 0 and line[a + 11 : line.find(b'"', a + 11)] in self.covered:
                d = line.find(b'"data":{')
                if line.startswith(b'"message":{"type":"assistant"', d + 8):
                    self.scan.mirrored += 1
                return line
        elif what == _DECODE_ASSISTANT and self.fast:
            # content-free copy of the line when no block is a tool_use: the thinking/text
            # blocks are most of its bytes and never needed
            c0 = line.find(b'"content":[')
            c1 = line.rfind(b'],"stop_reason":')
            if 0 < c0 < c1 and line.find(b'"tool_use"', c0, c1) < 0:
                line = line[: c0 + 11] + line[c1:]
        return self._decoded(line, n)

    def _decoded(self, line: bytes, n: int) -> tuple[Any, Any] | None:
        """Decode a line and fold it in: its (uuid, timestamp), ``None`` when malformed."""
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            if not line.endswith(b"\n"):
                self.scan.malformed.append((n, "truncated line at end of file (invalid JSON)"))
            else:
                self.scan.malformed.append((n, f"invalid JSON ({str(exc).split(':')[0]})"))
            return None
        if type(obj) is not dict:
            self.scan.malformed.append(
                (n, f"expected a JSON object, got {type(obj).__name__}"))
            return None
        t = obj.get("type")
        if t == "assistant":
            self._assistant(obj, n)
        elif t == "user":
            self._user(obj.get("message"), obj.get("timestamp"))
        elif t == "progress":
            self._progress(obj, n)
        elif t is None and _untyped_response(obj):
            self.scan.untyped += 1
            self._assistant(obj, n)
        return obj.get("uuid"), obj.get("timestamp")

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
            results[tid_s] = (ns(ts_s), err)
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
        rank = RANK_SIDECHAIN if obj.get("isSidechain") else RANK_MAIN
        call = self._call(msg, obj.get("requestId"), obj.get("uuid"), n, rank)
        if not call.nlines:  # the response's first line
            sid = obj.get("sessionId")
            call.session = sid if type(sid) is str and sid else self.file_session
            if rank == RANK_SIDECHAIN:
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
                    results[tid] = (ns(ts), bool(block.get("is_error")))

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
                                  RANK_PROGRESS)
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
              rank: int) -> Call:
        """The record of this line's response in this file (created on its first line)."""
        mid = msg.get("id")
        key = call_key(mid, request_id, uuid, self.scan.name, n)
        call = self.calls.get((key, rank))
        if call is None:
            self.seq += 1
            call = self.calls[(key, rank)] = Call(key, rank, "", "", None, self.seq)
            call.message_id = mid if type(mid) is str else None
            self.scan.calls.append(call)
        return call

    @staticmethod
    def _merge(call: Call, msg: dict[str, Any], usage: dict[str, Any], request_id: Any,
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

def _untyped_response(obj: dict[str, Any]) -> bool:
    """A line without ``type`` and ``uuid`` that still holds one API response: a
    ``message`` with ``usage`` and an id (message id or ``requestId``), as some exporters of
    Claude Code transcripts write them."""
    msg = obj.get("message")
    return ("uuid" not in obj and type(msg) is dict and type(msg.get("usage")) is dict
            and bool(msg.get("id") or obj.get("requestId")))


def open_source(source: Source) -> IO[bytes]:
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


def scan_source(source: Source, order: int, covered: frozenset[bytes] = frozenset()
                 ) -> Scan:
    with no_gc():
        return Scanner(source, order, covered).run()
