"""Codex CLI rollout files (``~/.codex/sessions/**/rollout-*.jsonl``).

One JSON object per line: ``{"timestamp", "type", "payload"}`` with ``type`` one of
``session_meta`` (session id, ``model_provider``), ``turn_context`` (``model``, ``effort``),
``response_item`` (model output and tool results: ``reasoning``, ``message``,
``function_call`` / ``function_call_output``, ``custom_tool_call`` / ``_output``,
``local_shell_call``, ``web_search_call``) and ``event_msg`` (``task_started``,
``token_count``, ``exec_command_end``, ``patch_apply_end``, ``task_complete``, ...).

Steps
-----
* **llm** — one per ``token_count`` event, from ``info.last_token_usage`` (the usage of that one
  model request). A ``token_count`` whose running total ``info.total_token_usage`` equals the
  previous one is a re-emission (Codex repeats the event, e.g. after a rate-limit refresh) and is
  dropped (counted). ``info: null`` events carry only rate limits and are skipped.
* **tool** — one per ``function_call`` / ``custom_tool_call`` / ``local_shell_call``, from the
  call's timestamp to its ``*_output`` (matched by ``call_id``); ``tool_input_hash`` fingerprints
  the arguments. ``is_error`` comes from ``exec_command_end.exit_code`` /
  ``patch_apply_end.success`` (or an output's ``metadata.exit_code``) where present. Hosted
  ``web_search_call`` items run inside the model request: they appear in the llm step's
  ``tool_calls`` but get no tool step of their own (their time is part of the llm step).
* **agent** — one per turn (``task_started`` … ``task_complete``), named ``turn``, with Codex's
  own ``duration_ms`` and ``time_to_first_token_ms``; llm and tool steps point at it via
  ``parent_id``.

Token semantics (checked against codex-rs and the real rollout in the shared traces)
------------------------------------------------------------------------------------
Codex copies the Responses API ``usage`` field by field into its ``TokenUsage``:
``input_tokens`` = ``usage.input_tokens`` (**includes** cached input),
``cached_input_tokens`` = ``input_tokens_details.cached_tokens``,
``output_tokens`` = ``usage.output_tokens`` (**includes** reasoning),
``reasoning_output_tokens`` = ``output_tokens_details.reasoning_tokens`` (a subset),
``total_tokens`` = ``input_tokens + output_tokens``. The real rollout confirms it: on all 66
events ``total_tokens == input_tokens + output_tokens`` with reasoning *not* added again.
Tools that bill ``output_tokens + reasoning_output_tokens`` double-count reasoning. So the
canonical fields map one to one: input = ``input_tokens``, cache read = ``cached_input_tokens``,
output = ``output_tokens``, reasoning = ``reasoning_output_tokens``. Newer Codex versions add
``cache_write_input_tokens`` (GPT-5.6+ bill cache writes); it is read when present and the cache
write is otherwise unknown (``None``) — pre-5.6 OpenAI models have no write charge.

Timing
------
Rollout lines are written when an item is complete, so request boundaries are inferred:
an llm step *ends* at its ``token_count`` line and *starts* at the last model *input* written
before its first output item (the user message, ``task_started``, or the last tool output it
answers); when no such input was seen since the previous request, it starts where the previous
request ended. ``ttft_ms`` is set on the first llm step of a turn from ``task_complete``'s
``time_to_first_token_ms`` (Codex measures it from the turn start); other steps have none.

Subagent rollouts (``session_meta.source`` naming a ``parent_thread_id``) set
``parent_task_id``.

Copies across files: a forked or resumed session may repeat earlier events with their original
timestamps in another rollout file. Across the files of one run, an llm step is identified by its
``token_count`` timestamp and running total, a tool step by its ``call_id``; repeats are dropped
and counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from agentcost.ingest.base import (
    IngestContext,
    Source,
    first_json_object,
    iter_json_objects,
)
from agentcost.ingest.common import args_hash as _args_hash
from agentcost.ingest.common import as_str
from agentcost.steps import to_utc_ns

_ENVELOPE_TYPES = {"session_meta", "turn_context", "response_item", "event_msg", "compacted"}
_TOOL_ITEMS = {"function_call", "custom_tool_call", "local_shell_call"}
_TOOL_OUTPUTS = {"function_call_output", "custom_tool_call_output", "local_shell_call_output"}
_OUTPUT_ITEMS = {"reasoning", "function_call", "custom_tool_call", "local_shell_call",
                 "web_search_call"}
_OUTPUT_EVENTS = {"agent_message", "agent_reasoning", "agent_reasoning_raw_content"}
_INPUT_EVENTS = {"user_message", "task_started", "turn_started"}

# the running-total fields, in the order of a total's key
_TOTAL_FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens",
                 "reasoning_output_tokens", "total_tokens")
# every usage field read (total_tokens is input + output, so it is known and not needed)
_USAGE_FIELDS = frozenset({*_TOTAL_FIELDS, "cache_write_input_tokens"})
DROP_REEMITTED = "codex: re-emitted token_count (running total unchanged)"
DROP_COPIED = "codex: event repeated from another rollout (resumed/forked session)"


def _int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return None


def _tier(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    v = value.lower()
    if v in ("flex", "priority", "batch", "standard"):
        return v
    if v == "fast":
        return "priority"
    if v in ("default", "auto"):
        return "standard"
    return None


@dataclass
class _State:
    """Per-file reading state."""

    source: Source
    session_id: str | None = None
    parent_session: str | None = None
    provider: str | None = None
    model: str | None = None
    service_tier: str | None = None
    turn_id: str | None = None
    turn_row: dict[str, Any] | None = None
    turn_first_llm: dict[str, Any] | None = None
    last_total: tuple[int, ...] | None = None
    prev_end_ns: int | None = None
    req_start_ns: int | None = None  # last model input seen before the current request's output
    outputs_started: bool = False
    pending_calls: list[str] = field(default_factory=list)
    buffer: list[dict[str, Any]] = field(default_factory=list)
    tools: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, bool] = field(default_factory=dict)  # call_id -> is_error
    saw_token_count: bool = False
    totals_only: int = 0  # token_count events with a running total but no last usage
    conv: Any = None  # CodexConversation when ctx.conversations (agentcost.ingest.codex_context)


class CodexReader:
    name = "codex"
    description = "Codex CLI rollout JSONL (~/.codex/sessions/**/rollout-*.jsonl)"

    def sniff(self, source: Source) -> int:
        obj = first_json_object(source.head)
        if obj is None:
            return 0
        if not isinstance(obj, dict) or not isinstance(obj.get("payload"), dict):
            return 0
        typ = as_str(obj.get("type"))
        if typ == "session_meta" and "id" in obj["payload"]:
            return 100
        if typ in _ENVELOPE_TYPES and "timestamp" in obj:
            return 85
        return 0

    def read(self, source: Source, ctx: IngestContext) -> Iterator[dict[str, Any]]:
        yield from self.read_many([source], ctx)

    def read_many(self, sources: Iterable[Source], ctx: IngestContext
                  ) -> Iterator[dict[str, Any]]:
        if not ctx.conversations:
            yield from self._deduped(sources, ctx)
            return
        from agentcost.ingest.codex_context import attach

        rows = list(self._deduped(sources, ctx))  # segments are calibrated per task
        attach(rows, ctx)
        yield from rows

    def _deduped(self, sources: Iterable[Source], ctx: IngestContext
                 ) -> Iterator[dict[str, Any]]:
        seen_llm: set[tuple[Any, ...]] = set()
        seen_tools: set[str] = set()
        for source in sources:
            for row in self._read_one(source, ctx):
                if row["kind"] == "llm":
                    key = row.pop("_key")
                    if key is not None:
                        if key in seen_llm:
                            ctx.dropped(DROP_COPIED)
                            continue
                        seen_llm.add(key)
                elif row["kind"] == "tool" and row.get("tool_call_id"):
                    tkey = f"{row['tool_call_id']}@{row.get('started_at')}"
                    if tkey in seen_tools:
                        ctx.dropped(DROP_COPIED)
                        continue
                    seen_tools.add(tkey)
                if not ctx.in_window(row.get("started_at")):
                    continue
                yield row
            ctx.advance(source.size)

    # ------------------------------------------------------------------ per file

    def _read_one(self, source: Source, ctx: IngestContext) -> Iterator[dict[str, Any]]:
        st = _State(source=source)
        if ctx.conversations:
            from agentcost.ingest.codex_context import CodexConversation

            st.conv = CodexConversation()
        for n, obj in iter_json_objects(source, ctx):
            payload = obj.get("payload")
            typ = as_str(obj.get("type"))
            if not isinstance(payload, dict):
                if typ in _ENVELOPE_TYPES:
                    ctx.malformed(source, n, f"{typ} line without a payload object")
                continue  # old-format or unknown lines carry nothing we use
            ts = to_utc_ns(obj.get("timestamp"))
            if typ == "session_meta":
                self._session_meta(st, payload)
            elif typ == "compacted" and st.conv is not None:
                st.conv.reset(payload.get("message"))
            elif typ == "turn_context":
                self._turn_context(st, payload)
            elif typ == "response_item":
                self._response_item(st, payload, ts, n, ctx)
                if st.conv is not None:
                    st.conv.item(payload)
            elif typ == "event_msg":
                yield from self._event(st, payload, ts, n, ctx)
        yield from self._flush(st)
        if st.totals_only:
            ctx.note(f"codex: {source.name}: {st.totals_only} token_count event(s) carry only "
                     "total_token_usage; each call's usage is the difference to the previous "
                     "total (the first from zero)")
        if not st.saw_token_count:
            ctx.note(f"{source.name}: no token_count events (Codex before ~0.3x wrote no "
                     "usage): tool steps only")

    @staticmethod
    def _session_meta(st: _State, payload: dict[str, Any]) -> None:
        sid = payload.get("id")
        if isinstance(sid, str) and sid:
            st.session_id = sid
        prov = payload.get("model_provider")
        if isinstance(prov, str) and prov:
            st.provider = prov.lower()
        st.parent_session = _find_key(payload.get("source"), "parent_thread_id")
        if st.conv is not None:
            st.conv.instructions(payload.get("base_instructions"))

    def _turn_context(self, st: _State, p: dict[str, Any]) -> None:
        model = p.get("model")
        if isinstance(model, str) and model:
            st.model = model
        tier = _tier(p.get("service_tier"))
        if tier:
            st.service_tier = tier
        tid = p.get("turn_id")
        if isinstance(tid, str) and tid and st.turn_id is None:
            st.turn_id = tid

    def _task_id(self, st: _State) -> str:
        return st.session_id or st.source.name

    def _response_item(self, st: _State, p: dict[str, Any], ts: int | None, n: int,
                       ctx: IngestContext) -> None:
        it = as_str(p.get("type"))
        if it == "message":
            if p.get("role") == "assistant":
                self._output_seen(st)
            elif p.get("role") in ("user", "developer"):
                self._input_seen(st, ts)
            return
        if it in _OUTPUT_ITEMS:
            self._output_seen(st)
        if it in _TOOL_ITEMS:
            call_id = p.get("call_id") or p.get("id")
            if it == "local_shell_call":
                name: Any = "local_shell"
                args: Any = p.get("action")
            else:
                name = p.get("name")
                args = p.get("arguments") if it == "function_call" else p.get("input")
            if not isinstance(name, str) or not name:
                ctx.malformed(st.source, n, f"{it} without a name")
                return
            st.pending_calls.append(name)
            row: dict[str, Any] = {
                "kind": "tool", "name": name, "task_id": self._task_id(st),
                "session_id": st.session_id, "parent_task_id": st.parent_session,
                "parent_id": st.turn_id,
                "tool_call_id": call_id if isinstance(call_id, str) else None,
                "tool_input_hash": _args_hash(args), "started_at": ts, "line": n,
                "source": st.source.name,
            }
            st.buffer.append(row)
            if isinstance(call_id, str) and call_id:
                st.tools[call_id] = row
        elif it in _TOOL_OUTPUTS:
            self._input_seen(st, ts)
            call_id = p.get("call_id")
            trow = st.tools.get(call_id) if isinstance(call_id, str) else None
            if trow is None:
                return  # output of a call recorded before this file began
            trow["ended_at"] = ts
            err = _output_error(p.get("output"))
            if err is not None and trow.get("is_error") is None:
                trow["is_error"] = err
        elif it == "web_search_call":
            st.pending_calls.append("web_search")

    def _event(self, st: _State, p: dict[str, Any], ts: int | None, n: int,
               ctx: IngestContext) -> Iterator[dict[str, Any]]:
        et = as_str(p.get("type"))
        if et == "token_count":
            row = self._token_count(st, p, ts, n, ctx)
            if row is not None:
                if st.conv is not None:
                    row["_prompt"] = st.conv.prompt()
                st.buffer.append(row)
        elif et in ("task_started", "turn_started"):
            yield from self._flush(st)
            self._turn_started(st, p, ts, n)
        elif et in ("task_complete", "turn_complete"):
            if st.turn_row is not None:
                self._turn_complete(st, st.turn_row, p, ts)
            yield from self._flush(st)
        elif et == "turn_aborted":
            if st.turn_row is not None:
                st.turn_row["ended_at"] = ts
                st.turn_row["is_error"] = True
            yield from self._flush(st)
        elif et == "user_message":
            self._input_seen(st, ts)
        elif et in _OUTPUT_EVENTS:
            self._output_seen(st)
        else:
            self._tool_end(st, et, p)

    def _turn_started(self, st: _State, p: dict[str, Any], ts: int | None, n: int) -> None:
        tid = p.get("turn_id")
        st.turn_id = tid if isinstance(tid, str) and tid else None
        start = ts if ts is not None else to_utc_ns(p.get("started_at"))
        st.turn_row = {
            "kind": "agent", "name": "turn", "task_id": self._task_id(st),
            "session_id": st.session_id, "parent_task_id": st.parent_session,
            "span_id": st.turn_id, "started_at": start,
            "line": n, "source": st.source.name,
        }
        st.turn_first_llm = None
        self._input_seen(st, ts)

    @staticmethod
    def _turn_complete(st: _State, turn: dict[str, Any], p: dict[str, Any],
                       ts: int | None) -> None:
        """End, duration and time to first token of the open turn (the TTFT also goes to the
        turn's first model call)."""
        turn["ended_at"] = ts if ts is not None else to_utc_ns(p.get("completed_at"))
        d = p.get("duration_ms")
        if isinstance(d, (int, float)) and not isinstance(d, bool) and d >= 0:
            turn["duration_ms"] = float(d)
            if turn.get("started_at") is not None:
                turn["ended_at"] = turn["started_at"] + int(d * 1e6)
        tt = p.get("time_to_first_token_ms")
        if isinstance(tt, (int, float)) and not isinstance(tt, bool) and tt >= 0:
            turn["ttft_ms"] = float(tt)
            if st.turn_first_llm is not None:
                st.turn_first_llm["ttft_ms"] = float(tt)

    def _tool_end(self, st: _State, et: str | None, p: dict[str, Any]) -> None:
        """A shell command's exit code or a patch's success marks its tool call's outcome."""
        if et == "exec_command_end":
            call_id, code = p.get("call_id"), p.get("exit_code")
            if isinstance(call_id, str) and _int(code) is not None:
                self._set_error(st, call_id, _int(code) != 0)
        elif et == "patch_apply_end":
            call_id, ok = p.get("call_id"), p.get("success")
            if isinstance(call_id, str) and isinstance(ok, bool):
                self._set_error(st, call_id, not ok)

    def _set_error(self, st: _State, call_id: str, err: bool) -> None:
        row = st.tools.get(call_id)
        if row is not None:
            row["is_error"] = err

    def _input_seen(self, st: _State, ts: int | None) -> None:
        if ts is None:
            return
        if st.outputs_started:
            return  # a late write while the model is already answering: not this request's input
        st.req_start_ns = ts if st.req_start_ns is None else max(st.req_start_ns, ts)

    def _output_seen(self, st: _State) -> None:
        st.outputs_started = True

    @staticmethod
    def _fields(st: _State, usage: dict[str, Any], n: int, ctx: IngestContext
                ) -> dict[str, Any] | None:
        """The canonical token fields of one call's usage (module docstring), or ``None``
        (counted as malformed) when a figure is not a whole number or none is there."""
        fields: dict[str, Any] = {}
        for src_key, dst in (("input_tokens", "input_tokens"),
                             ("cached_input_tokens", "cache_read_tokens"),
                             ("cache_write_input_tokens", "cache_write_tokens"),
                             ("output_tokens", "output_tokens"),
                             ("reasoning_output_tokens", "reasoning_tokens")):
            v = usage.get(src_key)
            if v is None:
                continue
            iv = _int(v)
            if iv is None:
                ctx.malformed(st.source, n, f"{src_key} is not a whole number: {v!r}")
                return None
            fields[dst] = iv
        if "input_tokens" not in fields and "output_tokens" not in fields:
            ctx.malformed(st.source, n, "token_count usage has no input or output tokens")
            return None
        return fields

    @staticmethod
    def _from_totals(st: _State, total_key: tuple[int, ...] | None, n: int,
                     ctx: IngestContext) -> dict[str, Any] | None:
        """A call's usage when its event carries only the running total: the difference to
        the previous total (the first one in a file counts from zero)."""
        if total_key is None:
            return None
        prev = st.last_total or (0,) * len(total_key)
        diff = [a - b for a, b in zip(total_key, prev, strict=True)]
        if min(diff) < 0:
            ctx.malformed(st.source, n, "total_token_usage went down (not a running total)")
            return None
        st.totals_only += 1
        return dict(zip(_TOTAL_FIELDS, diff, strict=True))

    def _token_count(self, st: _State, p: dict[str, Any], ts: int | None, n: int,
                     ctx: IngestContext) -> dict[str, Any] | None:
        info = p.get("info")
        if info is None:
            return None  # rate-limit snapshot only
        st.saw_token_count = True
        if not isinstance(info, dict):
            ctx.malformed(st.source, n, "token_count info is not an object")
            return None
        last, total = info.get("last_token_usage"), info.get("total_token_usage")
        if not isinstance(last, dict) and not isinstance(total, dict):
            ctx.malformed(st.source, n, "token_count without last_token_usage or "
                                        "total_token_usage")
            return None
        total_key: tuple[int, ...] | None = None
        if isinstance(total, dict):
            total_key = tuple(_int(total.get(k)) or 0 for k in _TOTAL_FIELDS)
            if total_key == st.last_total:
                ctx.dropped(DROP_REEMITTED)
                return None
        usage = last if isinstance(last, dict) else self._from_totals(st, total_key, n, ctx)
        st.last_total = total_key
        if usage is None:
            return None
        unread = [k for k in usage if k not in _USAGE_FIELDS]
        if unread:
            ctx.unread_usage(st.source, unread)
        fields = self._fields(st, usage, n, ctx)
        if fields is None:
            return None
        start = st.req_start_ns if st.req_start_ns is not None else st.prev_end_ns
        if start is not None and ts is not None and start > ts:
            start = ts
        row: dict[str, Any] = {
            "kind": "llm", "task_id": self._task_id(st),
            "session_id": st.session_id, "parent_task_id": st.parent_session,
            "parent_id": st.turn_id,
            "provider": st.provider or "openai", "model": st.model,
            "service_tier": st.service_tier, "started_at": start, "ended_at": ts,
            "tool_calls": list(st.pending_calls), "line": n, "source": st.source.name,
            "_key": (ts, total_key) if total_key is not None else None,
            **fields,
        }
        if st.turn_first_llm is None and st.turn_row is not None:
            st.turn_first_llm = row
        st.pending_calls = []
        st.prev_end_ns = ts
        st.req_start_ns = None
        st.outputs_started = False
        return row

    def _flush(self, st: _State) -> Iterator[dict[str, Any]]:
        if st.turn_row is not None:
            yield st.turn_row
            st.turn_row = None
        yield from st.buffer
        st.buffer = []
        st.tools = {}


def _find_key(v: Any, key: str, depth: int = 0) -> str | None:
    """The first string value of ``key`` in a nested dict (subagent ``source`` objects)."""
    if depth > 4 or not isinstance(v, dict):
        return None
    if isinstance(v.get(key), str) and v[key]:
        return str(v[key])
    for sub in v.values():
        found = _find_key(sub, key, depth + 1)
        if found:
            return found
    return None


def _output_error(output: Any) -> bool | None:
    """``metadata.exit_code`` of a JSON tool output (older Codex and ``apply_patch``)."""
    if isinstance(output, str) and output.startswith("{"):
        try:
            output = orjson.loads(output)
        except orjson.JSONDecodeError:
            return None
    if isinstance(output, dict):
        md = output.get("metadata")
        if isinstance(md, dict):
            code = _int(md.get("exit_code"))
            if code is not None:
                return code != 0
    return None


READER = CodexReader()
