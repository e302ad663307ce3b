"""Gemini CLI chat recordings (``~/.gemini/tmp/<project hash>/chats/session-*.json``).

One JSON object ``{sessionId, projectHash, startTime, lastUpdated, messages[]}``; newer CLI
versions write the same records as JSONL (line 1 the session metadata, then one message record
per line, re-appended whenever it changes — the last write of an ``id`` wins — plus
``{"$set": {...}}`` metadata patches and ``{"$rewindTo": id}`` markers). Both are read.

Messages: ``user`` (a prompt), ``gemini`` (model output: ``tokens``, ``model``, ``toolCalls``,
``thoughts``), and ``info`` / ``error`` / ``warning`` notices (skipped).

Token semantics (``tokens`` is the API's ``usageMetadata``, copied by the CLI's
``recordMessageTokens``): ``input`` = ``promptTokenCount`` (includes the cached part),
``cached`` = ``cachedContentTokenCount`` (a subset of ``input``), ``output`` =
``candidatesTokenCount`` (excludes thinking), ``thoughts`` = ``thoughtsTokenCount`` (billed as
output), ``tool`` = ``toolUsePromptTokenCount`` (prompt-side, billed as input), ``total`` =
``input + output + thoughts + tool``. Canonical: ``input_tokens = input + tool``,
``cache_read_tokens = cached``, ``cache_write_tokens = 0`` (implicit caching has no write charge;
explicit cache creation is not part of a generate call), ``output_tokens = output + thoughts``,
``reasoning_tokens = thoughts``.

One record, several model calls
-------------------------------
The CLI appends the tool calls of a model response that has no thoughts to the *previous*
``gemini`` record, and the usage of such a response is queued and overwritten before it is
attached: one record can hold the tool calls of several consecutive model calls but the usage of
the first only. The calls are told apart by time: a tool call's id embeds the time it was
scheduled (``<name>-<epoch ms>-<random>``) and its ``timestamp`` is when it finished; a tool call
scheduled after every earlier call of the record had finished answers a new model response.
The first such group gets the record's ``tokens``; each later group becomes an llm step with
unknown usage (``None``), counted in a note, so totals from these files are lower bounds.

Timing: an llm step ends when its first tool call was scheduled (or, for a text answer, at the
record's timestamp) and starts at the previous input: the user prompt, the last tool result, or
the end of the previous model call. Tool steps run from their scheduling to their ``timestamp``.

``logs.json`` in the same folder is the CLI's prompt log (``[{sessionId, messageId, type,
message, timestamp}]``) — no usage; it is recognised and skipped with a note.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from agentcost.ingest.base import IngestContext, Source, first_json_line, json_objects
from agentcost.ingest.common import args_hash as _args_hash
from agentcost.ingest.common import nonneg_int as _nonneg_int
from agentcost.steps import to_utc_ns

_CALL_ID_TIME = re.compile(r"-(\d{12,14})-[0-9a-z]+$")

NOTE_MERGED = ("gemini-cli: {n} model call(s) recorded without usage (the CLI merged their tool "
               "calls into the previous message and lost their token counts); token totals are "
               "a lower bound")


# the ``tokens`` keys read (``total`` is checked against the parts)
_TOKEN_KEYS = frozenset({"input", "output", "cached", "thoughts", "tool", "total"})


def _token_fields(tokens: dict[str, Any]) -> dict[str, Any]:
    """Canonical fields of a message's ``tokens`` (module docstring), with ``_total_off``
    set when the file's own ``total`` disagrees with input + output + thoughts + tool."""
    fields: dict[str, Any] = {}
    inp = _nonneg_int(tokens.get("input"))
    tool = _nonneg_int(tokens.get("tool")) or 0
    out = _nonneg_int(tokens.get("output"))
    th = _nonneg_int(tokens.get("thoughts")) or 0
    if inp is not None:
        fields["input_tokens"] = inp + tool
        fields["cache_read_tokens"] = _nonneg_int(tokens.get("cached")) or 0
        fields["cache_write_tokens"] = 0
    if out is not None:
        fields["output_tokens"] = out + th
        fields["reasoning_tokens"] = th
    total = _nonneg_int(tokens.get("total"))
    if total is not None and inp is not None and out is not None \
            and total != inp + tool + out + th:
        fields["_total_off"] = True
    return fields


def _is_session_meta(obj: Any) -> bool:
    return isinstance(obj, dict) and "sessionId" in obj and "projectHash" in obj


@dataclass
class _JsonlLog:
    """The state of a JSONL recording as its records are applied in order."""

    meta: dict[str, Any] | None = None
    by_id: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    rewinds: int = 0

    def apply(self, n: int, rec: dict[str, Any]) -> bool:
        """Apply record ``n``; False for a message record without id/type (malformed)."""
        if self.meta is None and _is_session_meta(rec) and "type" not in rec:
            self.meta = rec
            return True
        if "$set" in rec:
            if self.meta is not None and isinstance(rec["$set"], dict):
                self.meta.update(rec["$set"])
            return True
        if "$rewindTo" in rec:
            self.rewinds += 1
            return True
        mid = rec.get("id")
        if not isinstance(mid, str) or "type" not in rec:
            return False
        if mid not in self.by_id:
            self.order.append(mid)
        self.by_id[mid] = (n, rec)  # the last write of a record wins
        return True


@dataclass
class _Walk:
    """Where a walk through a session's messages is, and what it counted for the notes."""

    last_input: int | None = None
    lost: int = 0  # model calls whose usage the CLI lost (merged tool-call groups)
    total_off: int = 0  # records whose tokens.total disagrees with the parts


class GeminiCliReader:
    name = "gemini-cli"
    description = "Gemini CLI chat recording (~/.gemini/tmp/*/chats/session-*.json[l])"

    def sniff(self, source: Source) -> int:
        head = source.head.lstrip()
        if head.startswith(b"{"):
            line = first_json_line(head)
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                obj = None
            if obj is not None:
                if _is_session_meta(obj):
                    return 95  # whole session on one line, or the JSONL metadata line
                return 0
            # a pretty-printed session: look at its first keys
            start = head[:4096]
            if b'"sessionId"' in start and b'"projectHash"' in start and (
                    b'"messages"' in head or b'"startTime"' in start):
                return 95
            return 0
        if head.startswith(b"["):
            start = head[:4096]
            if (b'"sessionId"' in start and b'"messageId"' in start and b'"message"' in start
                    and b'"type"' in start and b'"usage"' not in start
                    and b'"tokens"' not in start):
                return 40  # the CLI's prompt log (logs.json): recognised, skipped
        return 0

    def read(self, source: Source, ctx: IngestContext) -> Iterator[dict[str, Any]]:
        data = source.read_bytes()
        stripped = data.lstrip()
        if stripped.startswith(b"["):
            ctx.report.lines_read += 1
            try:
                arr = orjson.loads(data)
            except orjson.JSONDecodeError as exc:
                ctx.malformed(source, None, f"invalid JSON ({exc.args[0].split(':')[0]})")
                return
            if isinstance(arr, list) and all(isinstance(x, dict) and "messageId" in x
                                             for x in arr):
                ctx.note(f"skipped {source.name}: Gemini CLI prompt log (logs.json), no usage")
                return
            ctx.malformed(source, None, "not a Gemini CLI session (a JSON array)")
            return
        meta, messages = self._load(source, data, ctx)
        if meta is None:
            return
        yield from self._steps(source, meta, messages, ctx)

    # ------------------------------------------------------------------ loading

    def _load(self, source: Source, data: bytes, ctx: IngestContext
              ) -> tuple[dict[str, Any] | None, list[tuple[int, dict[str, Any]]]]:
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError:
            obj = None
        if isinstance(obj, dict) and isinstance(obj.get("messages"), list):
            msgs: list[tuple[int, dict[str, Any]]] = []
            for i, m in enumerate(obj["messages"], 1):
                ctx.report.lines_read += 1
                if not isinstance(m, dict):
                    ctx.malformed(source, i, f"message {i} is not an object")
                    continue
                msgs.append((i, m))
            return obj, msgs
        if isinstance(obj, dict) and not _is_session_meta(obj):
            ctx.report.lines_read += 1
            ctx.malformed(source, None, "JSON object without sessionId/messages: not a Gemini "
                                        "CLI session")
            return None, []
        return self._load_jsonl(source, data, ctx)  # (or a broken whole-file JSON)

    def _load_jsonl(self, source: Source, data: bytes, ctx: IngestContext
                    ) -> tuple[dict[str, Any] | None, list[tuple[int, dict[str, Any]]]]:
        """The JSONL form: metadata line, message records (last write wins), patches."""
        lines = data.splitlines()
        try:
            first = orjson.loads(first_json_line(data))
        except orjson.JSONDecodeError:
            first = None
        if len(lines) <= 1 or not _is_session_meta(first):
            ctx.report.lines_read += 1
            ctx.malformed(source, None, "invalid JSON: not a complete Gemini CLI session")
            return None, []
        log = _JsonlLog()
        for n, rec in json_objects(enumerate(lines, 1), source, ctx):
            if not log.apply(n, rec):
                ctx.malformed(source, n, "record without id/type")
        if log.meta is None:
            ctx.malformed(source, None, "no session metadata line (sessionId, projectHash)")
            return None, []
        if log.rewinds:
            ctx.note(f"{source.name}: {log.rewinds} rewind marker(s); the rewound model calls "
                     "were billed and are kept")
        return log.meta, [log.by_id[i] for i in log.order]

    # ------------------------------------------------------------------ steps

    def _steps(self, source: Source, meta: dict[str, Any],
               messages: list[tuple[int, dict[str, Any]]], ctx: IngestContext
               ) -> Iterator[dict[str, Any]]:
        sid = meta.get("sessionId")
        task_id = sid if isinstance(sid, str) and sid else source.name
        walk = _Walk(last_input=to_utc_ns(meta.get("startTime")))
        for n, m in messages:
            typ = m.get("type")
            ts = to_utc_ns(m.get("timestamp"))
            if typ == "user":
                if ts is not None:
                    walk.last_input = ts
                continue
            if typ not in ("gemini", "model"):
                continue
            fields = self._fields(source, n, m.get("tokens"), ctx, walk)
            if fields is None:
                continue
            model = m.get("model") if isinstance(m.get("model"), str) else None
            groups = self._groups(m.get("toolCalls"), source, n, ctx)
            base = {"task_id": task_id, "session_id": sid if isinstance(sid, str) else None,
                    "provider": "google", "model": model, "line": n, "source": source.name}
            if not groups:
                row = {**base, "kind": "llm", "started_at": walk.last_input, "ended_at": ts,
                       "tool_calls": [], "span_id": m.get("id"), **fields}
                if ts is not None:
                    walk.last_input = ts
                if ctx.in_window(row["started_at"]):
                    yield row
                continue
            yield from self._group_steps(base, m, ts, groups, fields, walk, ctx)
        if walk.lost:
            ctx.note(NOTE_MERGED.format(n=walk.lost))
        if walk.total_off:
            ctx.note(f"gemini-cli: {source.name}: {walk.total_off} call(s) whose tokens.total "
                     "differs from input + output + thoughts + tool; the parts were used")

    def _fields(self, source: Source, n: int, tokens: Any, ctx: IngestContext,
                walk: _Walk) -> dict[str, Any] | None:
        """Token fields of a model record ({} without ``tokens``; None when malformed)."""
        if tokens is None:
            return {}
        if not isinstance(tokens, dict):
            ctx.malformed(source, n, "tokens is not an object")
            return None
        bad = next((k for k in ("input", "output", "cached", "thoughts", "tool")
                    if tokens.get(k) is not None and _nonneg_int(tokens.get(k)) is None),
                   None)
        if bad:
            ctx.malformed(source, n, f"tokens.{bad} is not a whole number: "
                                     f"{tokens.get(bad)!r}")
            return None
        fields = _token_fields(tokens)
        if fields.pop("_total_off", False):
            walk.total_off += 1
        unread = [k for k in tokens if k not in _TOKEN_KEYS]
        if unread:
            ctx.unread_usage(source, unread)
        return fields

    def _group_steps(self, base: dict[str, Any], m: dict[str, Any], ts: int | None,
                     groups: list[list[dict[str, Any]]], fields: dict[str, Any], walk: _Walk,
                     ctx: IngestContext) -> Iterator[dict[str, Any]]:
        """One llm step per tool-call group of a record (the first gets its tokens), each
        followed by its tool steps."""
        for gi, group in enumerate(groups):
            sched = [t["started_at"] for t in group if t["started_at"] is not None]
            end = min(sched) if sched else ts
            start = walk.last_input
            if start is not None and end is not None and start > end:
                start = end
            row = {**base, "kind": "llm", "started_at": start, "ended_at": end,
                   "tool_calls": [t["name"] for t in group],
                   "span_id": m.get("id") if gi == 0 else f"{m.get('id')}#{gi + 1}",
                   **(fields if gi == 0 else {})}
            if gi:
                walk.lost += 1
            if ctx.in_window(row["started_at"]):
                yield row
            done = [t["ended_at"] for t in group if t["ended_at"] is not None]
            if done:
                walk.last_input = max(done)
            for t in group:
                trow = {**base, "kind": "tool", "parent_id": row["span_id"],
                        "provider": None, "model": None, **t}
                if ctx.in_window(trow.get("started_at")):
                    yield trow

    def _groups(self, calls: Any, source: Source, n: int, ctx: IngestContext
                ) -> list[list[dict[str, Any]]]:
        """Tool calls of one record as tool-step dicts, grouped by the model call that made
        them (see the module docstring)."""
        if not calls:
            return []
        if not isinstance(calls, list):
            ctx.malformed(source, n, "toolCalls is not a list")
            return []
        tools: list[dict[str, Any]] = []
        for tc in calls:
            if not isinstance(tc, dict) or not isinstance(tc.get("name"), str):
                ctx.malformed(source, n, "tool call without a name")
                continue
            cid = tc.get("id") if isinstance(tc.get("id"), str) else None
            done = to_utc_ns(tc.get("timestamp"))
            sched: int | None = None
            if cid:
                mt = _CALL_ID_TIME.search(cid)
                if mt:
                    sched = int(mt.group(1)) * 1_000_000  # epoch ms, exact
            if sched is not None and done is not None and sched > done:
                sched = done
            status = tc.get("status")
            tools.append({
                "name": tc["name"], "tool_call_id": cid,
                "tool_input_hash": _args_hash(tc.get("args")),
                "started_at": sched if sched is not None else done,
                "ended_at": done if sched is not None else None,
                "is_error": (status != "success") if isinstance(status, str) else None,
                "_order": sched if sched is not None else (done or 0),
            })
        tools.sort(key=lambda t: t["_order"])
        groups: list[list[dict[str, Any]]] = []
        group_done: int | None = None
        for t in tools:
            sched = t["started_at"] if t["ended_at"] is not None else None
            if groups and (sched is None or group_done is None or sched < group_done):
                groups[-1].append(t)
            else:
                groups.append([t])
                group_done = None
            if t["ended_at"] is not None:
                group_done = t["ended_at"] if group_done is None else max(group_done,
                                                                           t["ended_at"])
        for g in groups:
            for t in g:
                t.pop("_order", None)
        return groups


READER = GeminiCliReader()
