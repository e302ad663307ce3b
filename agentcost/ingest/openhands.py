"""OpenHands trajectories and evaluation output.

Two shapes are read:

* **Trajectory** — a JSON array of events (``save_trajectory_path``, the runtime replay
  fixtures): ``{id, timestamp, source: user|agent|environment, action | observation, args |
  content | extras, cause, tool_call_metadata?}``. The task id is the file name.
* **Evaluation output** — ``output.jsonl``, one benchmark instance per line: ``{instance_id,
  metadata: {llm_config: {model, …}}, history: [events as above], metrics: {token_usages[],
  response_latencies[], costs[], …}, error, …}``. The task id is ``instance_id``. Older resolver
  output (``{issue: {owner, repo, number}, history, metrics: {costs: [..]}}``) is read too: it has
  only a cost per call, so its llm steps carry ``reported_cost_usd`` and no tokens.

LLM steps
---------
An agent action carrying ``tool_call_metadata.model_response`` (the litellm response that
produced it) is one model call. The same ``model_response`` is repeated on the action's
observation and on every action of a multi-tool response, so calls are **deduplicated by
``model_response.id``** (counted). An agent ``message`` action without that metadata is a model
answer whose usage the trajectory does not record: an llm step with unknown tokens. (A
``model_response`` seen first on an observation is taken from there.)

Usage is litellm's Chat-Completions shape: ``prompt_tokens`` **includes** cache reads and writes
(for Anthropic litellm adds ``cache_read_input_tokens`` + ``cache_creation_input_tokens`` to the
provider's exclusive ``input_tokens``; verified on the trajectories: 3,486 = 4 uncached + 3,482
written). Cache reads = ``prompt_tokens_details.cached_tokens`` or ``cache_read_input_tokens``,
writes = ``cache_creation_input_tokens``. Should reads + writes exceed ``prompt_tokens`` (an older
litellm that kept Anthropic's exclusive count) they are added to it, with a note.

In evaluation output, ``metrics.token_usages[]`` (OpenHands' own per-call accounting:
``prompt_tokens`` inclusive, ``cache_read_tokens``, ``cache_write_tokens``, ``response_id``) is the
source of tokens; it is joined with ``response_latencies[]`` by ``response_id`` (latency → the
step's duration, start = end − latency) and with the history's ``model_response.id`` for times,
tool calls and the served model. A latency without a usage entry (a failed or unparsable
response) is an llm step with unknown tokens; it ends at the history's ``error`` observation
without a cause (the agent's "could not parse" event) when those match one to one, else its time
is unknown.

Tool steps: an action produced by a tool call runs from its timestamp to its observation (matched
by ``cause``); ``is_error`` from an ``error`` observation, ``success: false`` or a non-zero exit
code. Actions without an observation (``finish``) and non-tool actions (``message``, ``system``,
``recall``) get no tool step. An llm step starts at the last input event before it (user message
or observation) and ends at the first action it produced.

Event timestamps have no zone; they are read as UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from agentcost.ingest.base import IngestContext, Source, first_json_line
from agentcost.ingest.common import args_hash as _args_hash
from agentcost.ingest.common import as_list, as_str
from agentcost.ingest.common import nonneg_int as _nonneg_int
from agentcost.steps import to_utc_ns

DROP_REPEATED = "openhands: model_response repeated on another event (deduplicated by id)"
_NON_TOOL_ACTIONS = {"message", "system", "recall", "change_agent_state", "null", "finish",
                     "reject", "delegate_observation"}

_LITELLM_PREFIXES = {
    "openai": "openai", "azure": "azure", "anthropic": "anthropic", "gemini": "google",
    "vertex_ai": "gcp.vertex_ai", "bedrock": "aws.bedrock", "openrouter": "openrouter",
    "deepseek": "deepseek", "mistral": "mistral_ai", "groq": "groq", "xai": "x_ai",
    "litellm_proxy": None,
}


def provider_for_model(model: str | None) -> tuple[str | None, str | None]:
    """(provider, model name) for a litellm model string; the route prefix is split off.

    ``openai/<name>`` is litellm's "any OpenAI-compatible endpoint": the provider is OpenAI
    only when the name looks like an OpenAI model."""
    if not model:
        return None, model
    head, sep, rest = model.partition("/")
    if sep and head.lower() in _LITELLM_PREFIXES:
        prov = _LITELLM_PREFIXES[head.lower()]
        by_name = _provider_by_name(rest)
        if head.lower() in ("openai", "litellm_proxy"):
            return by_name, rest
        return prov or by_name, rest
    return _provider_by_name(model), model


def _provider_by_name(model: str) -> str | None:
    m = model.lower().rsplit("/", 1)[-1]
    if m.startswith(("gpt-", "o1", "o3", "o4", "chatgpt")):
        return "openai"
    if "claude" in m:
        return "anthropic"
    if m.startswith("gemini"):
        return "google"
    if m.startswith("deepseek"):
        return "deepseek"
    if m.startswith(("mistral", "codestral", "devstral")):
        return "mistral_ai"
    return None


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


class _BadUsage(ValueError):
    pass


def _tokens(prompt: Any, completion: Any, read: Any, write: Any, reasoning: Any = None,
            ) -> tuple[dict[str, Any], bool]:
    """Canonical token fields from litellm-style figures; the bool says reads + writes exceeded
    the prompt count and were added to it."""
    out: dict[str, Any] = {}
    vals = {"prompt": prompt, "completion": completion, "read": read, "write": write,
            "reasoning": reasoning}
    ints: dict[str, int | None] = {}
    for k, v in vals.items():
        iv = _nonneg_int(v)
        if v is not None and iv is None:
            raise _BadUsage(f"{k} tokens is not a whole number: {v!r}")
        ints[k] = iv
    fixed = False
    p = ints["prompt"]
    r, w = ints["read"], ints["write"]
    if p is not None:
        if (r or 0) + (w or 0) > p:
            p += (r or 0) + (w or 0)
            fixed = True
        out["input_tokens"] = p
    if r is not None:
        out["cache_read_tokens"] = r
    if w is not None:
        out["cache_write_tokens"] = w
    if ints["completion"] is not None:
        out["output_tokens"] = ints["completion"]
    if ints["reasoning"] is not None:
        out["reasoning_tokens"] = ints["reasoning"]
    return out, fixed


def _usage_fields(u: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """litellm ``usage`` of a ``model_response``."""
    details = u.get("prompt_tokens_details")
    read = details.get("cached_tokens") if isinstance(details, dict) else None
    if not read and u.get("cache_read_input_tokens") is not None:
        read = u.get("cache_read_input_tokens")
    write = details.get("cache_write_tokens") if isinstance(details, dict) else None
    if not write and u.get("cache_creation_input_tokens") is not None:
        write = u.get("cache_creation_input_tokens")
    cdet = u.get("completion_tokens_details")
    reasoning = cdet.get("reasoning_tokens") if isinstance(cdet, dict) else None
    return _tokens(u.get("prompt_tokens"), u.get("completion_tokens"), read, write, reasoning)


def _event_id(v: Any) -> int | str | None:
    """An event's ``id`` or ``cause``: a number or a string; anything else links nothing."""
    return v if isinstance(v, int | str) and not isinstance(v, bool) else None


def _tool_call_names(mr: dict[str, Any]) -> tuple[list[str], dict[str, Any], str | None]:
    """(names, id -> arguments, finish_reason) of a litellm response's first choice."""
    names: list[str] = []
    args: dict[str, Any] = {}
    finish = None
    choices = mr.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        ch = choices[0]
        if isinstance(ch.get("finish_reason"), str):
            finish = ch["finish_reason"]
        msg = ch.get("message")
        if isinstance(msg, dict):
            for tc in as_list(msg.get("tool_calls")):
                if not isinstance(tc, dict):
                    continue
                fn = tc.get("function")
                if isinstance(fn, dict) and isinstance(fn.get("name"), str):
                    names.append(fn["name"])
                    if isinstance(tc.get("id"), str):
                        args[tc["id"]] = fn.get("arguments")
    return names, args, finish


@dataclass
class _Task:
    task_id: str
    source: Source
    line: int | None
    rows: list[dict[str, Any]] = field(default_factory=list)
    llm_by_response: dict[str, dict[str, Any]] = field(default_factory=dict)
    unmatched_llm: list[dict[str, Any]] = field(default_factory=list)  # llm steps without an id
    orphan_errors: list[int] = field(default_factory=list)  # error observations without a cause
    fixed_prompt: int = 0
    no_usage: int = 0


@dataclass
class _Cursor:
    """Where a history walk is: the last input's time and the tool steps awaiting a result."""

    last_input: int | None = None
    pending_tools: dict[Any, dict[str, Any]] = field(default_factory=dict)  # event id -> row
    pending_anon: list[dict[str, Any]] = field(default_factory=list)  # old format, id-less


def _latencies(metrics: dict[str, Any]) -> dict[str, float]:
    """``metrics.response_latencies[]``: response id -> latency in seconds."""
    lat_by_id: dict[str, float] = {}
    for lat in as_list(metrics.get("response_latencies")):
        if isinstance(lat, dict) and isinstance(lat.get("response_id"), str):
            v = lat.get("latency")
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0:
                lat_by_id[lat["response_id"]] = float(v)
    return lat_by_id


def _place_extra_usages(task: _Task, extra: list[dict[str, Any]]) -> None:
    """Usage entries the history does not show (e.g. plain messages): give them the times of
    the history's id-less llm steps, in order, when the counts agree; else new llm steps."""
    if extra and len(extra) == len(task.unmatched_llm):
        for hist, ex in zip(task.unmatched_llm, extra, strict=True):
            for k, v in ex.items():
                if k not in ("line", "kind", "task_id", "source", "tool_calls"):
                    hist[k] = v
            if hist.get("span_id"):
                task.llm_by_response[hist["span_id"]] = hist
    else:
        task.rows.extend(extra)
        for ex in extra:
            if ex.get("span_id"):
                task.llm_by_response[ex["span_id"]] = ex


def _apply_latencies(task: _Task, lat_by_id: dict[str, float]) -> None:
    """Latencies: durations; a latency without usage is a call with unknown tokens, placed at
    the history's error observations without a cause (unparsable responses) when their
    numbers agree."""
    orphans = [rid for rid in lat_by_id if rid not in task.llm_by_response]
    ends = task.orphan_errors if len(task.orphan_errors) == len(orphans) else []
    for i, rid in enumerate(orphans):
        row: dict[str, Any] = {"kind": "llm", "task_id": task.task_id, "span_id": rid,
                               "ended_at": ends[i] if ends else None, "line": task.line,
                               "source": task.source.name}
        task.rows.append(row)
        task.llm_by_response[rid] = row
    for rid, lat in lat_by_id.items():
        row = task.llm_by_response[rid]
        row["duration_ms"] = lat * 1000.0
        if row.get("ended_at") is not None:
            row["started_at"] = row["ended_at"] - int(lat * 1e9)


class OpenHandsReader:
    name = "openhands"
    description = "OpenHands trajectory (JSON array of events) or evaluation output.jsonl"

    def sniff(self, source: Source) -> int:
        head = source.head.lstrip()
        start = head[:8192]
        if head.startswith(b"["):
            if (b'"source"' in start and b'"timestamp"' in start
                    and (b'"action"' in start or b'"observation"' in start)):
                return 90 if (b'"tool_call_metadata"' in head or b'"cause"' in head) else 75
            return 0
        if head.startswith(b"{"):
            line = first_json_line(head)
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                obj = None
            if isinstance(obj, dict):
                if isinstance(obj.get("history"), list) and isinstance(obj.get("metrics"), dict) \
                        and ("instance_id" in obj or "issue" in obj):
                    return 95
                return 0
            # first line longer than the head: look at its opening keys
            if head.startswith(b'{"instance_id"') and b'"history"' in head and (
                    b'"llm_config"' in head or b'"agent_class"' in head):
                return 90
            if head.startswith(b'{"issue"') and b'"issue_type"' in start \
                    and b'"history"' in head:
                return 85
        return 0

    def read(self, source: Source, ctx: IngestContext) -> Iterator[dict[str, Any]]:
        head = source.head.lstrip()
        if head.startswith(b"["):
            yield from self._read_trajectory(source, ctx)
        else:
            yield from self._read_eval(source, ctx)

    # ------------------------------------------------------------------ trajectory file

    def _read_trajectory(self, source: Source, ctx: IngestContext) -> Iterator[dict[str, Any]]:
        try:
            events = orjson.loads(source.read_bytes())
        except orjson.JSONDecodeError as exc:
            ctx.report.lines_read += 1
            ctx.malformed(source, None, f"invalid JSON ({exc.args[0].split(':')[0]})")
            return
        if not isinstance(events, list):
            ctx.report.lines_read += 1
            ctx.malformed(source, None, "expected a JSON array of events")
            return
        stem = source.path.stem if source.path is not None else source.name
        task = _Task(task_id=stem, source=source, line=None)
        self._history(task, events, ctx, record_base=0)
        yield from self._finish(task, ctx, model=None)
        self._notes(source, [task], ctx)

    # ------------------------------------------------------------------ eval output.jsonl

    def _read_eval(self, source: Source, ctx: IngestContext) -> Iterator[dict[str, Any]]:
        tasks: list[_Task] = []
        for n, raw in source.lines():
            ctx.report.lines_read += 1
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                ctx.malformed(source, n, f"invalid JSON ({exc.args[0].split(':')[0]})")
                continue
            if not isinstance(obj, dict) or not isinstance(obj.get("history"), list):
                ctx.malformed(source, n, "expected an instance object with a 'history' list")
                continue
            task_id = self._instance_id(obj, source, n)
            task = _Task(task_id=task_id, source=source, line=n)
            self._history(task, obj["history"], ctx, record_base=n)
            cfg = _dict(_dict(obj.get("metadata")).get("llm_config"))
            model = cfg.get("model") if isinstance(cfg.get("model"), str) else None
            metrics = _dict(obj.get("metrics"))
            self._apply_metrics(task, metrics, model, ctx)
            err = obj.get("error")
            times = [r["started_at"] for r in task.rows if r.get("started_at") is not None]
            ends = [r["ended_at"] for r in task.rows if r.get("ended_at") is not None]
            task.rows.insert(0, {
                "kind": "agent", "task_id": task_id, "span_id": task_id, "name": task_id,
                "started_at": min(times) if times else None,
                "ended_at": max(ends + times) if (ends or times) else None,
                "is_error": bool(err) if err not in (None, "None") else False,
                "line": n, "source": source.name,
            })
            yield from self._finish(task, ctx, model=model)
            tasks.append(task)
        self._notes(source, tasks, ctx)

    def _instance_id(self, obj: dict[str, Any], source: Source, n: int) -> str:
        iid = obj.get("instance_id")
        if isinstance(iid, (str, int)) and not isinstance(iid, bool):
            return str(iid)
        issue = obj.get("issue")
        if isinstance(issue, dict) and issue.get("repo") is not None:
            return f"{issue.get('owner')}/{issue.get('repo')}#{issue.get('number')}"
        return f"{source.name}:{n}"

    # ------------------------------------------------------------------ events

    def _history(self, task: _Task, events: list[Any], ctx: IngestContext,
                 record_base: int) -> None:
        cur = _Cursor()
        for i, ev in enumerate(events, 1):
            if record_base == 0:
                ctx.report.lines_read += 1
            line = record_base or i
            if not isinstance(ev, dict):
                ctx.malformed(task.source, line, f"event {i} is not an object")
                continue
            ts = to_utc_ns(ev.get("timestamp"))
            if ev.get("observation") is not None:
                self._observation(task, ev, ts, cur, line, ctx)
            elif as_str(ev.get("action")) is not None:
                self._action(task, ev, ts, cur, line, ctx, old_format=bool(record_base))

    def _observation(self, task: _Task, ev: dict[str, Any], ts: int | None, cur: _Cursor,
                     line: int, ctx: IngestContext) -> None:
        """An observation: a model_response it carries, and the end of the tool it answers."""
        obs = ev.get("observation")
        tcm = ev.get("tool_call_metadata")
        if isinstance(tcm, dict) and isinstance(tcm.get("model_response"), dict):
            self._llm_from_response(task, tcm["model_response"], ts, cur.last_input, line, ctx)
        elif obs == "error" and ev.get("cause") is None and ts is not None:
            task.orphan_errors.append(ts)  # a response the agent could not parse
        cause = _event_id(ev.get("cause"))
        trow = cur.pending_tools.pop(cause, None) if cause is not None else None
        if trow is None and cause is None and cur.pending_anon \
                and cur.pending_anon[0]["name"] == obs:
            trow = cur.pending_anon.pop(0)
        if trow is not None:
            trow["ended_at"] = ts
            trow["is_error"] = _obs_error(ev)
        if ts is not None:
            cur.last_input = ts

    def _action(self, task: _Task, ev: dict[str, Any], ts: int | None, cur: _Cursor,
                line: int, ctx: IngestContext, *, old_format: bool) -> None:
        """An action: a user input, a model call (and its tool step), or an agent message."""
        src = ev.get("source")
        action = as_str(ev.get("action"))
        tcm = ev.get("tool_call_metadata")
        if src not in (None, "agent"):
            if ts is not None and src == "user":
                cur.last_input = ts
            return
        if isinstance(tcm, dict):
            mr = tcm.get("model_response")
            if isinstance(mr, dict):
                self._llm_from_response(task, mr, ts, cur.last_input, line, ctx)
            if action not in _NON_TOOL_ACTIONS:
                trow = self._tool_row(task, ev, tcm, ts, line)
                task.rows.append(trow)
                if _event_id(ev.get("id")) is not None:
                    cur.pending_tools[ev["id"]] = trow
        elif action == "message" and src == "agent":
            row: dict[str, Any] = {
                "kind": "llm", "task_id": task.task_id, "started_at": cur.last_input,
                "ended_at": ts, "tool_calls": [], "line": line, "source": task.source.name,
            }
            task.rows.append(row)
            task.unmatched_llm.append(row)
            if ts is not None:
                cur.last_input = ts
        elif action not in _NON_TOOL_ACTIONS and old_format:
            # pre-function-calling history (old resolver output): no ids, no times
            trow = {"kind": "tool", "task_id": task.task_id, "name": str(action),
                    "tool_input_hash": _args_hash(ev.get("args") or {
                        k: v for k, v in ev.items() if k not in ("action", "thought")}),
                    "started_at": ts, "line": line, "source": task.source.name}
            task.rows.append(trow)
            if _event_id(ev.get("id")) is not None:
                cur.pending_tools[ev["id"]] = trow
            else:
                cur.pending_anon.append(trow)

    def _llm_from_response(self, task: _Task, mr: dict[str, Any], ts: int | None,
                           last_input: int | None, line: int, ctx: IngestContext) -> None:
        rid = mr.get("id")
        if isinstance(rid, str) and rid in task.llm_by_response:
            ctx.dropped(DROP_REPEATED)
            return
        names, _, finish = _tool_call_names(mr)
        row: dict[str, Any] = {
            "kind": "llm", "task_id": task.task_id, "span_id": rid if isinstance(rid, str)
            else None, "response_model": mr.get("model") if isinstance(mr.get("model"), str)
            else None, "started_at": last_input if last_input is None or ts is None
            else min(last_input, ts), "ended_at": ts, "tool_calls": names,
            "stop_reason": finish, "line": line, "source": task.source.name,
        }
        u = mr.get("usage")
        if isinstance(u, dict):
            try:
                fields, fixed = _usage_fields(u)
            except _BadUsage as exc:
                ctx.malformed(task.source, line, str(exc))
                fields, fixed = {}, False
            row.update(fields)
            task.fixed_prompt += fixed
        task.rows.append(row)
        if isinstance(rid, str):
            task.llm_by_response[rid] = row

    def _tool_row(self, task: _Task, ev: dict[str, Any], tcm: dict[str, Any], ts: int | None,
                  line: int) -> dict[str, Any]:
        name = tcm.get("function_name") if isinstance(tcm.get("function_name"), str) \
            else str(ev.get("action"))
        call_id = tcm.get("tool_call_id") if isinstance(tcm.get("tool_call_id"), str) else None
        args: Any = None
        mr = tcm.get("model_response")
        if isinstance(mr, dict) and call_id:
            args = _tool_call_names(mr)[1].get(call_id)
        if args is None:
            args = ev.get("args")
        rid = mr.get("id") if isinstance(mr, dict) else None
        return {"kind": "tool", "task_id": task.task_id, "name": name, "tool_call_id": call_id,
                "tool_input_hash": _args_hash(args), "started_at": ts,
                "parent_id": rid if isinstance(rid, str) else None,
                "line": line, "source": task.source.name}

    # ------------------------------------------------------------------ metrics

    def _apply_metrics(self, task: _Task, metrics: dict[str, Any], model: str | None,
                       ctx: IngestContext) -> None:
        lat_by_id = _latencies(metrics)
        usages = metrics.get("token_usages")
        if isinstance(usages, list):
            self._token_usages(task, usages, ctx)
        _apply_latencies(task, lat_by_id)
        self._apply_costs(task, metrics.get("costs"), ctx)

    def _token_usages(self, task: _Task, usages: list[Any], ctx: IngestContext) -> None:
        """``metrics.token_usages[]``: tokens onto the history's llm steps (by response id)."""
        source, n = task.source, task.line
        seen: set[str] = set()
        extra: list[dict[str, Any]] = []
        for tu in usages:
            if not isinstance(tu, dict):
                ctx.malformed(source, n, "token_usages entry is not an object")
                continue
            rid = tu.get("response_id") if isinstance(tu.get("response_id"), str) else None
            if rid and rid in seen:
                ctx.dropped(DROP_REPEATED)
                continue
            try:
                fields, fixed = _tokens(tu.get("prompt_tokens"), tu.get("completion_tokens"),
                                        tu.get("cache_read_tokens"),
                                        tu.get("cache_write_tokens"))
            except _BadUsage as exc:
                ctx.malformed(source, n, str(exc))
                continue
            task.fixed_prompt += fixed
            if rid:
                seen.add(rid)
            row = task.llm_by_response.get(rid) if rid else None
            if row is None:
                row = {"kind": "llm", "task_id": task.task_id, "span_id": rid,
                       "tool_calls": None, "line": n, "source": source.name}
                extra.append(row)
            for k in ("input_tokens", "cache_read_tokens", "cache_write_tokens",
                      "output_tokens"):
                row[k] = fields.get(k)
            if isinstance(tu.get("model"), str):
                row["_model"] = tu["model"]
        _place_extra_usages(task, extra)

    def _apply_costs(self, task: _Task, costs: Any, ctx: IngestContext) -> None:
        """``metrics.costs[]``: a reported cost per call (by response id, or cost-only output)."""
        if not task.llm_by_response and not any(r["kind"] == "llm" and r.get("input_tokens")
                                                is not None for r in task.rows) \
                and isinstance(costs, list) and costs:
            # cost-only output (old resolver): one llm step per recorded call cost
            for c in costs:
                v = c.get("cost") if isinstance(c, dict) else c
                if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0:
                    task.rows.append({"kind": "llm", "task_id": task.task_id,
                                      "reported_cost_usd": float(v), "line": task.line,
                                      "source": task.source.name})
            ctx.note(f"{task.source.name}: OpenHands output with per-call costs only (no "
                     "tokens, no model): llm steps carry the reported cost")
        elif isinstance(costs, list):
            by_id = {c.get("response_id"): c.get("cost") for c in costs
                     if isinstance(c, dict) and isinstance(c.get("response_id"), str)}
            for cid, v in by_id.items():
                row = task.llm_by_response.get(cid) if isinstance(cid, str) else None
                if row is not None and isinstance(v, (int, float)) and not isinstance(v, bool):
                    row["reported_cost_usd"] = float(v)

    # ------------------------------------------------------------------ output

    def _finish(self, task: _Task, ctx: IngestContext, model: str | None
                ) -> Iterator[dict[str, Any]]:
        for row in task.rows:
            if row["kind"] == "llm":
                req = row.pop("_model", None) or model
                served = row.get("response_model")
                prov, name = provider_for_model(req) if req else provider_for_model(served)
                if prov is None and served:
                    prov = provider_for_model(served)[0]
                row["model"], row["provider"] = name, prov
                if row.get("input_tokens") is None and row.get("output_tokens") is None \
                        and row.get("reported_cost_usd") is None:
                    task.no_usage += 1
            if ctx.in_window(row.get("started_at")):
                yield row

    def _notes(self, source: Source, tasks: list[_Task], ctx: IngestContext) -> None:
        fixed = sum(t.fixed_prompt for t in tasks)
        no_usage = sum(t.no_usage for t in tasks)
        if fixed:
            ctx.note(f"{source.name}: {fixed} call(s) reported cache reads + writes above "
                     "prompt_tokens (an exclusive count); they were added to the prompt count")
        if no_usage:
            ctx.note(f"{source.name}: {no_usage} model call(s) without recorded usage (plain "
                     "agent messages or failed responses) kept with unknown tokens")


def _obs_error(ev: dict[str, Any]) -> bool | None:
    if ev.get("observation") == "error":
        return True
    if isinstance(ev.get("success"), bool):
        return not ev["success"]
    extras = ev.get("extras")
    if isinstance(extras, dict):
        md = extras.get("metadata")
        if isinstance(md, dict) and isinstance(md.get("exit_code"), int) \
                and not isinstance(md.get("exit_code"), bool):
            return md["exit_code"] not in (0, -1)
        if isinstance(extras.get("exit_code"), int):
            return bool(extras["exit_code"] != 0)
    if isinstance(ev.get("exit_code"), int) and not isinstance(ev.get("exit_code"), bool):
        return bool(ev["exit_code"] != 0)
    return None


READER = OpenHandsReader()
