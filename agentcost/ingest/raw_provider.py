"""Raw provider request/response logs: Anthropic Messages, OpenAI Chat Completions and Responses.

One JSON object per line, one line per API call. Accepted shapes:

* ``{"request": {...body...}, "response": {...body...}}`` — the response may also be a JSON
  string, or the raw SSE text of a streamed call;
* ``{"request": ..., "response_sse": "event: ...\\ndata: ...\\n\\n"}`` for streamed calls;
* wire captures with ``request_body`` / ``response_body`` / ``response_sse``, ``path``,
  ``request_headers``, ``status``, ``started_unix`` / ``ended_unix``;
* HTTP envelopes: ``{"request": {"url", "headers", "body"}, "response": {"status", "headers",
  "body"}}`` (bodies as objects or strings).

Optional per line: ``started_at`` / ``ended_at`` / ``timestamp`` (taken as the start) /
``started_unix`` / ``ended_unix`` / ``start_time`` / ``end_time`` (any form ``to_utc_ns``
reads), ``duration_ms``, ``ttft_ms`` or a first-token time (``first_token_at``,
``first_chunk_at``, ``first_byte_at``), ``task_id`` / ``conversation_id`` / ``session_id`` /
``trace_id``, ``provider``, ``model``.

The API is told from the path (``/v1/messages``, ``/chat/completions``, ``/responses``), then
the headers (``anthropic-version``), then the response shape, then the request shape.

Usage (provider-rules §A5, §B3): Anthropic ``input_tokens`` excludes cache reads and writes and
is converted to the inclusive meaning; streamed, the ``message_start`` usage is updated by each
``message_delta`` usage, whose counts are cumulative (the last value wins, deltas are never
summed). Chat Completions streamed usage is the final chunk's ``usage`` (only present when the
request set ``stream_options.include_usage``; otherwise tokens are unknown and the report says
so). Responses streamed usage is the ``response.completed`` (or ``.incomplete`` / ``.failed``)
event's ``response.usage``. Chat Completions without ``prompt_tokens_details.cache_write_tokens``
leaves cache writes unknown.

Tasks. A line's own task id (first of ``task_id``, ``conversation_id``, ``session_id``,
``trace_id``; or the request's ``metadata`` task/conversation/session id, or the Responses
``conversation``) wins. A Responses request whose ``previous_response_id`` names an earlier
response of the file joins that response's task. Otherwise calls are grouped by the usual
append-only agent loop: a call continues an open task when that task's latest request had the
same system prompt / instructions and its messages (``input`` items), compared without
``cache_control`` markers, are a prefix of this call's messages. Interleaved conversations are
told apart this way too. A call that continues nothing starts a task named
``<file>:<line>``.

Each call is one ``llm`` step named after the endpoint (``messages``, ``chat.completions``,
``responses``) with ``segments`` derived from the request body. No prompt text is kept.

Pieces: unpacking a line and telling its API in :mod:`~agentcost.ingest.raw_call`, reading
the response per API (bodies and streams) in :mod:`~agentcost.ingest.raw_extract`, SSE
parsing in :mod:`~agentcost.ingest.raw_sse`; times, tasks and the row here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from agentcost.ingest import bedrock
from agentcost.ingest import usage as U
from agentcost.ingest.base import IngestContext, Source, first_json_line, iter_json_objects
from agentcost.ingest.common import iteration_steps
from agentcost.ingest.raw_call import (
    ANTHROPIC,
    CHAT,
    CONVERSE,
    REQ_KEYS,
    RESP_KEYS,
    RESPONSES,
    Call,
    as_text,
    detect_api,
    json_or_text,
    unpack,
)
from agentcost.ingest.raw_extract import extract, service_tier
from agentcost.ingest.raw_extract import responses_tool_names as responses_tool_names
from agentcost.ingest.raw_sse import parse_sse as parse_sse
from agentcost.ingest.segments import from_request, is_request_body
from agentcost.steps import to_utc_ns

_START_KEYS = ("started_at", "started_unix", "start_time", "timestamp", "request_time")
_END_KEYS = ("ended_at", "ended_unix", "end_time", "response_time")
_FIRST_TOKEN_KEYS = ("first_token_at", "first_chunk_at", "first_byte_at", "first_token_unix")
_TASK_KEYS = ("task_id", "conversation_id", "session_id", "trace_id")
_OPEN_TASKS_CHECKED = 64  # open tasks a call is compared with (most recent first)
_OPEN_TASKS_KEPT = 256


# -- a call's times and request fingerprints --------------------------------------------------


def _fp(obj: Any) -> str:
    return hashlib.sha1(orjson.dumps(_strip_cc(obj), option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def _strip_cc(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_cc(v) for k, v in obj.items() if k != "cache_control"}
    if isinstance(obj, list):
        return [_strip_cc(v) for v in obj]
    return obj


def _time_of(obj: dict[str, Any], keys: tuple[str, ...]) -> tuple[int | None, str | None]:
    """(ns, None) from the first of ``keys`` the line has, or (None, why it is not a time)."""
    for k in keys:
        if obj.get(k) is not None:
            ns = to_utc_ns(obj[k])
            return (ns, None) if ns is not None else (
                None, f"{k} is not a valid time: {str(obj[k])[:40]!r}")
    return None, None


def _times(obj: dict[str, Any], row: dict[str, Any]) -> str | None:
    """Start, end, duration and time to first token of a logged call into ``row``; the reason
    when one of them is malformed."""
    start, bad = _time_of(obj, _START_KEYS)
    end, bad_end = _time_of(obj, _END_KEYS)
    if bad or bad_end:
        return bad or bad_end
    row["started_at"], row["ended_at"] = start, end
    for k in ("duration_ms", "ttft_ms"):
        v = obj.get(k)
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            return f"{k} must be a non-negative number"
        row[k] = float(v)
    if row.get("ttft_ms") is None and start is not None:
        for k in _FIRST_TOKEN_KEYS:
            ft = to_utc_ns(obj.get(k))
            if ft is not None and ft >= start:
                row["ttft_ms"] = (ft - start) / 1e6
                break
    return None


def _messages(api: str, req: dict[str, Any]) -> tuple[str, list[str]]:
    """(system fingerprint, message fingerprints) of a request, for task continuation."""
    if api == RESPONSES:
        system = req.get("instructions")
        inp = req.get("input")
        msgs = [{"role": "user", "content": inp}] if isinstance(inp, str) else (inp or [])
    else:
        system = req.get("system")
        msgs = req.get("messages") or []
    if not isinstance(msgs, list):
        msgs = []
    return _fp(system), [_fp(m) for m in msgs]


# -- the reader -------------------------------------------------------------------------------


class RawProviderReader:
    name = "raw"
    description = ("raw provider request/response logs (Anthropic Messages, OpenAI Chat "
                   "Completions / Responses; JSON or SSE)")

    def sniff(self, source: Source) -> int:
        line = first_json_line(source.head)
        if not line.startswith(b"{"):
            return 0
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            return 0
        if not isinstance(obj, dict):
            return 0
        if not any(k in obj for k in REQ_KEYS) or not any(k in obj for k in RESP_KEYS):
            return 0
        req = json_or_text(obj.get("request", obj.get("request_body")))
        if isinstance(req, dict) and (is_request_body(req) or "model" in req
                                      or "body" in req):
            return 85
        return 0

    def read(self, source: Source, ctx: IngestContext) -> Iterator[dict[str, Any]]:
        yield from read_calls(iter_json_objects(source, ctx), source, ctx)

    def read_calls(self, objs: Iterable[tuple[int, dict[str, Any]]], source: Source,
                   ctx: IngestContext) -> Iterator[dict[str, Any]]:
        # open tasks for append-only grouping: [task_id, system fp, message fps] (latest last)
        open_tasks: list[list[Any]] = []
        by_response: dict[str, str] = {}
        no_usage = 0
        for n, obj in objs:
            c = unpack(obj)
            if isinstance(c, str):
                ctx.malformed(source, n, c)
                continue
            if "count_tokens" in c.path or "/embeddings" in c.path:
                ctx.dropped("raw: requests that are not model calls (count_tokens, embeddings)")
                continue
            c.api = detect_api(c, as_text(obj.get("provider")))
            if c.api is None:
                ctx.malformed(source, n, "cannot tell the API (Anthropic Messages, OpenAI Chat "
                                         "Completions or Responses) from path, headers or bodies")
                continue
            row = self._row(obj, c, source, n, ctx)
            if row is None:
                continue
            if row.get("input_tokens") is None and not row.get("is_error"):
                no_usage += 1

            row["task_id"] = self._task(obj, c, f"{source.name}:{n}", open_tasks, by_response,
                                        row.pop("_response_id", None))

            if not ctx.in_window(row.get("started_at")):
                continue
            extras = row.pop("_iterations", None)
            yield row
            if extras:
                yield from iteration_steps(row, extras)
        if no_usage:
            ctx.note(f"raw: {no_usage} call(s) of {source.name} carry no usage (e.g. a Chat "
                     "Completions stream without stream_options.include_usage); their tokens "
                     "are unknown")

    def _task(self, obj: dict[str, Any], c: Call, fallback: str, open_tasks: list[list[Any]],
              by_response: dict[str, str], resp_id: str | None) -> str:
        """The call's task: stated by the line or the request, else the task whose request
        this one extends (previous_response_id, or the same system prompt with its messages
        as a prefix), else a task of its own. ``open_tasks`` and ``by_response`` are updated."""
        task = self._explicit_task(obj, c.request)
        sys_fp, msg_fps = _messages(c.api or "", c.request)
        prev = c.request.get("previous_response_id")
        if task is None and isinstance(prev, str) and prev in by_response:
            task = by_response[prev]
        if task is None:
            for tid, s_fp, m_fps in reversed(open_tasks[-_OPEN_TASKS_CHECKED:]):
                if s_fp == sys_fp and m_fps and len(m_fps) <= len(msg_fps) \
                        and msg_fps[: len(m_fps)] == m_fps:
                    task = tid
                    break
        if task is None:
            task = fallback
        open_tasks[:] = [e for e in open_tasks[-_OPEN_TASKS_KEPT:] if e[0] != task]
        open_tasks.append([task, sys_fp, msg_fps])
        if resp_id:
            by_response[resp_id] = task
        return task

    @staticmethod
    def _explicit_task(obj: dict[str, Any], req: dict[str, Any]) -> str | None:
        for k in _TASK_KEYS:
            v = as_text(obj.get(k))
            if v:
                return v
        meta = req.get("metadata")
        if isinstance(meta, dict):
            for k in ("task_id", "conversation_id", "session_id"):
                v = as_text(meta.get(k))
                if v:
                    return v
        conv = req.get("conversation")
        if isinstance(conv, dict):
            conv = conv.get("id")
        return as_text(conv)

    def _row(self, obj: dict[str, Any], c: Call, source: Source, n: int,
             ctx: IngestContext) -> dict[str, Any] | None:
        """The call's llm row (task still to be assigned), or ``None`` (reported as
        malformed)."""
        api = c.api
        ex = extract(c)
        provider, on_bedrock = _provider(obj, c)
        row: dict[str, Any] = {
            "kind": "llm", "name": api, "provider": provider,
            "model": as_text(c.request.get("model")) or as_text(obj.get("model"))
            or (on_bedrock[0] if on_bedrock else None),
            "response_model": ex["response_model"], "stop_reason": ex["stop_reason"],
            "tool_calls": ex["tool_calls"], "is_error": ex["is_error"],
            "service_tier": ex["service_tier"] or service_tier(c.request.get("service_tier")),
            "session_id": as_text(obj.get("session_id")), "line": n,
            "_response_id": ex["response_id"],
        }
        bad = _usage(api, ex["usage"], row, source, ctx) if ex["usage"] is not None else None
        if bad is None:
            bad = _times(obj, row)
        if bad is not None:
            ctx.malformed(source, n, bad)
            return None
        if row.get("duration_ms") is None and ex.get("latency_ms") is not None:
            row["duration_ms"] = ex["latency_ms"]  # Bedrock's own metrics.latencyMs
        inp = row.get("input_tokens")
        if ctx.segments and is_request_body(c.request):
            row["segments"] = from_request(c.request, inp if isinstance(inp, int) else None)
        return row


def _provider(obj: dict[str, Any], c: Call) -> tuple[str, tuple[str, str] | None]:
    """The call's provider (the line's own ``provider`` unless it says openai for an Anthropic
    call; ``aws.bedrock`` for Bedrock paths and Converse), and the Bedrock (model, operation)
    of its path, if any."""
    provider = "anthropic" if c.api == ANTHROPIC else "openai"
    hint = as_text(obj.get("provider"))
    if hint and not (hint.lower() == "openai" and c.api == ANTHROPIC):
        provider = hint
    on_bedrock = bedrock.model_from_path(c.path)
    if on_bedrock is not None or c.api == CONVERSE:
        provider = hint or "aws.bedrock"
    return provider, on_bedrock


def _usage(api: str | None, usage: Any, row: dict[str, Any], source: Source,
           ctx: IngestContext) -> str | None:
    """The response's usage in canonical meaning into ``row`` (Anthropic's extra iterations
    kept aside, unread fields reported); the reason when a figure is malformed."""
    try:
        if api == ANTHROPIC:
            norm = U.anthropic(usage)
            norm.pop("service_tier", None)
            extras, why = U.extra_iterations(usage)
            if why:
                ctx.note(f"raw: {source.name}: {why}")
            if extras:
                row["_iterations"] = extras
        elif api == CONVERSE:
            norm = U.bedrock_converse_usage(usage)
        elif api == CHAT:
            norm = U.openai_chat(usage)
        else:
            norm = U.openai_responses(usage)
    except ValueError as exc:
        return str(exc)
    row.update(norm)
    unread = U.unread_fields(usage)
    if unread:
        ctx.unread_usage(source, unread)
    return None


READER = RawProviderReader()


def read_calls(objs: Iterable[tuple[int, dict[str, Any]]], source: Source,
               ctx: IngestContext) -> Iterator[dict[str, Any]]:
    """Step rows of HTTP calls given as ``(line, object)`` pairs in any shape this module
    reads (see the module docstring; the HTTP envelope ``{"request": {"url", "headers",
    "body"}, "response": {"status", "headers", "body"}}`` is what the cassette and HAR readers
    hand over). Tasks are grouped as for a raw log."""
    yield from READER.read_calls(objs, source, ctx)
