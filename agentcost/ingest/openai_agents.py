"""OpenAI Agents SDK native trace export (``Trace.export()`` / ``Span.export()`` JSON lines).

One JSON object per line, as a ``TracingProcessor`` that writes ``export()`` results produces it
(and as the SDK's backend exporter batches it: a line ``{"data": [item, ...]}`` is also accepted):

* ``{"object": "trace", "id", "workflow_name", "group_id", "metadata"}`` when a trace starts;
* ``{"object": "trace.span", "id", "trace_id", "parent_id", "started_at", "ended_at",
  "span_data": {"type": ...}, "error"}`` as each span *ends* (children before parents).

Mapping (provider-rules §F4):

* ``response`` (Responses API) and ``generation`` (Chat Completions / LiteLLM) spans are the model
  calls: one ``llm`` step each, tokens from their ``usage`` (same keys as the Responses API:
  ``input_tokens`` includes cached and written tokens).
* ``custom`` spans named ``turn`` / ``task`` repeat that usage (per turn, and run totals). They
  become token-less ``agent`` steps and each repeated usage is counted in the ingest report's
  ``duplicates_dropped``. Only when a turn carries usage but no model-call span below it (model
  spans filtered out of the export) is the turn's usage kept, as the ``llm`` step of that turn.
* ``function`` spans are ``tool`` steps: ``name``, ``tool_input_hash`` (SHA-1 of the arguments'
  canonical JSON — sorted keys, compact — first 16 hex digits), ``tool_call_id`` where the
  generation span's output names the call. ``agent``, ``handoff``, ``guardrail``, ``mcp_tools``
  and other ``custom`` spans are ``agent`` steps. ``transcription`` / ``speech`` spans are
  ``llm`` steps without token figures (the SDK records none).
* Task = trace (``task_id`` = trace id); ``session_id`` = the trace's ``group_id``.

Figures the SDK does not really carry are left unknown, not 0:

* ``response`` spans name no model. The model is taken from ``span_data.model`` if a future SDK
  adds it, else from a ``model`` field of the enclosing turn / agent span data, else from the
  trace ``metadata`` (``model``, ``llm.model`` or ``gen_ai.request.model``); otherwise it stays
  unknown and the ingest report says how many calls are affected (they are unpriced).
* ``generation`` spans always show ``cache_write_tokens: 0`` because the SDK fills a default;
  Chat Completions usually reports no writes, so a 0 there is taken as "not reported".
* A model-call span whose usage is all zero (the SDK's empty default, e.g. Chat Completions
  streaming without ``stream_options.include_usage``) never counts as zero tokens. When the
  span holds the messages and the output (``generation`` spans do unless sensitive data is
  not traced), its tokens are *estimated* from that content as OpenAI counts them
  (:mod:`agentcost.ingest.estimate`; the enclosing agent span's tool names stand for the part
  of the tool definitions they give, so the input is a lower bound) and the step is
  ``cost_source = "estimated"``; when the input also holds calls of the same agent (same model
  and system prompt) with real usage, the estimates are calibrated against them (median input
  difference, output ratio). Without content the tokens stay unknown. The ingest report says
  which applied to how many calls.
* ``response_model`` (the served snapshot) and ``stop_reason`` are not in the export.

The text of prompts and outputs is never kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from agentcost.ingest import usage as U
from agentcost.ingest.base import (
    IngestContext,
    Source,
    first_json_object,
    iter_json_objects,
)
from agentcost.ingest.common import args_hash, as_list
from agentcost.ingest.estimate import (
    Estimate,
    calibrate_rows,
    estimate_chat,
    lower_bound_clause,
    with_tool_names,
)
from agentcost.steps import to_utc_ns

_MODEL_TYPES = ("response", "generation")
_ROLLUP_REASON_TURN = "openai-agents: turn span usage (repeats its model call)"
_ROLLUP_REASON_TASK = "openai-agents: task span usage (run totals of its model calls)"


def provider_for_model(model: str | None, default: str | None = "openai") -> str | None:
    """Provider implied by a model name (LiteLLM-style ``provider/model`` prefixes included)."""
    if not model:
        return default
    m = model.lower()
    if "/" in m:
        prefix = m.split("/", 1)[0]
        if prefix in ("anthropic", "openai", "gemini", "vertex_ai", "bedrock", "azure",
                      "mistral", "deepseek", "groq", "openrouter", "xai"):
            return {"gemini": "google", "vertex_ai": "google", "bedrock": "aws.bedrock",
                    "azure": "azure.ai.openai", "xai": "x_ai"}.get(prefix, prefix)
        m = m.rsplit("/", 1)[1]
    if m.startswith("claude"):
        return "anthropic"
    if m.startswith("gemini"):
        return "google"
    if m.startswith("deepseek"):
        return "deepseek"
    if m.startswith(("mistral", "codestral", "magistral")):
        return "mistral"
    if m.startswith("grok"):
        return "x_ai"
    return default


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _model_from(d: Any) -> str | None:
    if not isinstance(d, dict):
        return None
    for k in ("model", "llm.model", "gen_ai.request.model", "model_name"):
        m = _str(d.get(k))
        if m:
            return m
    return None


class _Span:
    """The few fields of an exported span that the reader needs (no prompt text)."""

    __slots__ = ("id", "trace_id", "parent_id", "line", "type", "name", "start", "end",
                 "error", "usage", "model", "tool_calls", "tool_input_hash", "turn",
                 "agent_name", "is_rollup", "extra_model", "estimate", "agent_key", "agent_tools")

    def __init__(self) -> None:
        self.id: str = ""
        self.trace_id: str = ""
        self.parent_id: str | None = None
        self.line = 0
        self.type = ""
        self.name: str | None = None
        self.start: int | None = None
        self.end: int | None = None
        self.error = False
        self.usage: dict[str, Any] | None = None
        self.model: str | None = None
        self.tool_calls: list[tuple[str, str | None]] | None = None
        self.tool_input_hash: str | None = None
        self.turn: int | None = None
        self.agent_name: str | None = None
        self.is_rollup: str | None = None  # "turn" | "task" for custom roll-up spans
        self.extra_model: str | None = None  # model named by a turn/agent span's data
        self.estimate: Estimate | None = None  # tokens counted from the recorded content
        self.agent_key: str | None = None  # model + system prompt fingerprint (calibration)
        self.agent_tools: list[str] | None = None  # an agent span's tools, by name


def _tool_calls_from_output(output: Any) -> list[tuple[str, str | None]] | None:
    """(name, call id) of the tool calls in a generation span's ``output``.

    Non-streaming Chat Completions: a list of assistant messages with ``tool_calls``.
    Streaming (and LiteLLM): a list holding a Responses-shaped object with ``output`` items of
    type ``function_call``. ``None`` when the output is absent (sensitive data not traced).
    """
    if output is None:
        return None
    items = output if isinstance(output, list) else [output]
    calls: list[tuple[str, str | None]] = []
    seen_any = False
    for item in items:
        if not isinstance(item, dict):
            continue
        seen_any = True
        for tc in as_list(item.get("tool_calls")):
            if isinstance(tc, dict):
                fn = _dict(tc.get("function"))
                name = _str(fn.get("name")) or _str(tc.get("name"))
                if name:
                    calls.append((name, _str(tc.get("id"))))
        fc = item.get("function_call")
        if isinstance(fc, dict) and _str(fc.get("name")):
            calls.append((fc["name"], None))
        sub = item.get("output") if item.get("object") == "response" else None
        if item.get("type") in ("function_call", "custom_tool_call"):
            sub = [item]
        for o in as_list(sub):
            if isinstance(o, dict) and o.get("type") in ("function_call", "custom_tool_call"):
                name = _str(o.get("name"))
                if name:
                    calls.append((name, _str(o.get("call_id"))))
    return calls if seen_any else None


class OpenAIAgentsReader:
    name = "openai-agents"
    description = "OpenAI Agents SDK trace export (Trace.export() / Span.export() JSON lines)"

    def sniff(self, source: Source) -> int:
        obj = first_json_object(source.head)
        if obj is None:
            return 0
        if not isinstance(obj, dict):
            return 0
        if isinstance(obj.get("data"), list) and obj["data"]:
            obj = obj["data"][0] if isinstance(obj["data"][0], dict) else {}
        kind = obj.get("object")
        if kind == "trace" and isinstance(obj.get("id"), str) and "workflow_name" in obj:
            return 95
        if kind == "trace.span" and isinstance(obj.get("span_data"), dict):
            return 95
        return 0

    # -- reading -------------------------------------------------------------------------

    _calibration_budget: dict[str, int]

    def read_many(self, sources: list[Source], ctx: IngestContext) -> Iterator[dict[str, Any]]:
        """Every file, then the estimated calls calibrated against known calls of the same
        agent anywhere in the input (see the module docstring)."""
        self._calibration_budget = {}
        rows: list[dict[str, Any]] = []
        for src in sources:
            for row in self._read(src, ctx):
                row["source"] = src.name
                rows.append(row)
            ctx.advance(src.size)
        _calibrate_estimates(rows, ctx)
        yield from rows

    def read(self, source: Source, ctx: IngestContext) -> Iterator[dict[str, Any]]:
        yield from self.read_many([source], ctx)

    def _read(self, source: Source, ctx: IngestContext) -> Iterator[dict[str, Any]]:
        traces: dict[str, dict[str, Any]] = {}
        spans: dict[str, list[_Span]] = {}
        stats = dict.fromkeys(("no_model", "zero_usage", "estimated", "est_in_low",
                               "est_out_low"), 0)
        for n, obj in iter_json_objects(source, ctx):
            items = obj["data"] if isinstance(obj.get("data"), list) else [obj]
            for item in items:
                if not isinstance(item, dict):
                    ctx.malformed(source, n, "expected a trace or span object")
                    continue
                kind = item.get("object")
                if kind == "trace":
                    tid = item.get("id")
                    if not isinstance(tid, str) or not tid:
                        ctx.malformed(source, n, "trace without an id")
                        continue
                    traces[tid] = {"workflow_name": _str(item.get("workflow_name")),
                                   "group_id": _str(item.get("group_id")),
                                   "model": _model_from(item.get("metadata"))}
                elif kind == "trace.span":
                    sp = self._span(item, source, n, ctx)
                    if sp is None:
                        continue
                    spans.setdefault(sp.trace_id, []).append(sp)
                    if sp.parent_id is None:  # the root ends last: the trace is complete
                        yield from self._emit(source, ctx, traces.get(sp.trace_id, {}),
                                              spans.pop(sp.trace_id), stats)
                else:
                    ctx.malformed(source, n, f"unknown object type {kind!r} "
                                             "(expected 'trace' or 'trace.span')")
        for tid, group in spans.items():  # traces whose root span never arrived
            yield from self._emit(source, ctx, traces.get(tid, {}), group, stats)
        _read_notes(source, ctx, stats)

    def _span(self, item: dict[str, Any], source: Source, n: int,
              ctx: IngestContext) -> _Span | None:
        sp = _span_head(item, source, n, ctx)
        if sp is None:
            return None
        sd = item["span_data"]
        if sp.type in _MODEL_TYPES:
            u = sd.get("usage")
            if u is not None and not isinstance(u, dict):
                ctx.malformed(source, n, "span_data.usage must be an object")
                return None
            sp.usage = u
            sp.model = _str(sd.get("model")) or _model_from(sd.get("response"))
            if sp.type == "generation":
                sp.tool_calls = _tool_calls_from_output(sd.get("output"))
                _content_estimate(sp, sd, self._calibration_budget)
        elif sp.type == "custom":
            _fill_custom(sp, sd)
        else:
            _fill_other(sp, sd)
        return sp

    # -- turning one trace's spans into steps ---------------------------------------------

    def _emit(self, source: Source, ctx: IngestContext, trace: dict[str, Any],
              group: list[_Span], stats: dict[str, int]) -> Iterator[dict[str, Any]]:
        tree = _Tree(group)
        llm_tools, tool_ids = _link_tool_calls(tree.children)
        session = trace.get("group_id")
        for s in group:
            row: dict[str, Any] = {
                "task_id": s.trace_id, "span_id": s.id, "parent_id": s.parent_id,
                "started_at": s.start, "ended_at": s.end, "is_error": s.error,
                "session_id": session, "line": s.line,
            }
            agent = tree.agent_of(s)
            if s.type in _MODEL_TYPES or s.type in ("transcription", "speech"):
                if not self._llm_row(row, s, tree, agent, trace, source, ctx, stats):
                    continue
                if s.type in _MODEL_TYPES:
                    calls = s.tool_calls if s.tool_calls is not None else llm_tools.get(s.id)
                    row["tool_calls"] = [c[0] for c in calls] if calls is not None else None
            elif s.type == "function":
                row.update(kind="tool", name=s.name or "function",
                           tool_input_hash=s.tool_input_hash, tool_call_id=tool_ids.get(s.id))
            else:
                row["kind"] = "agent"
                row["name"] = s.name or s.type
                if s.is_rollup and s.usage and any(
                        isinstance(v, int) and v for k, v in s.usage.items() if k != "requests"):
                    if s.is_rollup == "turn" and not tree.has_model_descendant(s):
                        # model spans were not exported: the turn's usage is the only record
                        yield from self._turn_as_llm(source, ctx, s, row, agent, trace, stats)
                        continue
                    ctx.dropped(_ROLLUP_REASON_TURN if s.is_rollup == "turn"
                                else _ROLLUP_REASON_TASK)
            if not ctx.in_window(row["started_at"]):
                continue
            yield row

    def _llm_row(self, row: dict[str, Any], s: _Span, tree: _Tree, agent: str | None,
                 trace: dict[str, Any], source: Source, ctx: IngestContext,
                 stats: dict[str, int]) -> bool:
        """Fill a model call's row; ``False`` when its usage is malformed (no step)."""
        row["kind"] = "llm"
        model = s.model
        if model is None and s.type != "speech":
            model = next((a.extra_model for a in tree.ancestors(s) if a.extra_model),
                         None) or trace.get("model")
        if model is None:
            stats["no_model"] += 1
        row["model"] = model
        row["provider"] = provider_for_model(model)
        row["name"] = agent or s.type
        if s.type not in _MODEL_TYPES:
            return True
        if s.estimate is not None and not s.estimate.tools_counted:
            names = next((a.agent_tools for a in tree.ancestors(s) if a.agent_tools), None)
            if names:  # the agent's tools, by name: part of their definitions (a lower bound)
                s.estimate = with_tool_names(s.estimate, names, s.model, row["provider"])
        return self._usage_into(row, s, source, ctx, stats)

    def _usage_into(self, row: dict[str, Any], s: _Span, source: Source, ctx: IngestContext,
                    stats: dict[str, int]) -> bool:
        u = s.usage
        if not u or all(u.get(k) in (0, None) for k in ("input_tokens", "output_tokens")):
            # all zero is the SDK's empty default, not a measurement: estimate or unknown
            if s.estimate is not None:
                row.update(input_tokens=s.estimate.input_tokens,
                           output_tokens=s.estimate.output_tokens, cost_source="estimated",
                           _est=s.estimate, _agent=s.agent_key)
                stats["estimated"] += 1
                stats["est_in_low"] += s.estimate.input_lower_bound
                stats["est_out_low"] += s.estimate.output_lower_bound
            elif u:
                stats["zero_usage"] += 1
            return True
        try:
            norm = U.openai_responses(u)
        except ValueError as exc:
            ctx.malformed(source, s.line, str(exc))
            return False
        if s.type == "generation" and norm.get("cache_write_tokens") == 0:
            norm.pop("cache_write_tokens")  # the SDK's default, not a reported figure
        row.update(norm)
        if s.estimate is not None:  # a known call that can calibrate estimated ones
            row.update(_est=s.estimate, _agent=s.agent_key)
        return True

    def _turn_as_llm(self, source: Source, ctx: IngestContext, s: _Span, row: dict[str, Any],
                     agent: str | None, trace: dict[str, Any],
                     stats: dict[str, int]) -> Iterator[dict[str, Any]]:
        u = s.usage or {}
        try:
            norm = U.openai_responses({
                "input_tokens": u.get("input_tokens"), "output_tokens": u.get("output_tokens"),
                "input_tokens_details": {"cached_tokens": u.get("cached_input_tokens"),
                                         "cache_write_tokens": u.get("cache_write_input_tokens")},
            })
        except ValueError as exc:
            ctx.malformed(source, s.line, str(exc))
            return
        model = s.extra_model or trace.get("model")
        if model is None:
            stats["no_model"] += 1
        row.update(norm, kind="llm", name=s.agent_name or agent or "turn", model=model,
                   provider=provider_for_model(model))
        ctx.note("openai-agents: a turn without model-call spans was counted from its turn usage")
        if ctx.in_window(row["started_at"]):
            yield row


def _span_head(item: dict[str, Any], source: Source, n: int, ctx: IngestContext) -> _Span | None:
    """A span's ids, type, times and error flag; ``None`` (reported malformed) without them."""
    sd = item.get("span_data")
    sid, tid = item.get("id"), item.get("trace_id")
    if not isinstance(sid, str) or not isinstance(tid, str) or not sid or not tid:
        ctx.malformed(source, n, "span without 'id' or 'trace_id'")
        return None
    if not isinstance(sd, dict) or not isinstance(sd.get("type"), str):
        ctx.malformed(source, n, "span without 'span_data.type'")
        return None
    sp = _Span()
    sp.id, sp.trace_id, sp.line = sid, tid, n
    sp.parent_id = _str(item.get("parent_id"))
    sp.type = sd["type"]
    for attr in ("started_at", "ended_at"):
        v = item.get(attr)
        ns = to_utc_ns(v)
        if v is not None and ns is None:
            ctx.malformed(source, n, f"{attr} is not a valid time: {str(v)[:40]!r}")
            return None
        setattr(sp, "start" if attr == "started_at" else "end", ns)
    sp.error = bool(item.get("error"))
    return sp


def _fill_custom(sp: _Span, sd: dict[str, Any]) -> None:
    """A ``custom`` span: the ``turn`` / ``task`` roll-ups (their usage repeats the model
    calls'), or any other custom span by name."""
    data = _dict(sd.get("data"))
    cname = _str(sd.get("name")) or _str(data.get("sdk_span_type"))
    sp.agent_name = _str(data.get("agent_name"))
    sp.extra_model = _model_from(data)
    if cname not in ("turn", "task") or data.get("sdk_span_type") not in (None, cname):
        sp.name = cname or "custom"
        return
    sp.is_rollup = cname
    u = data.get("usage")
    sp.usage = u if isinstance(u, dict) else None
    if cname == "turn":
        turn = data.get("turn")
        sp.turn = turn if isinstance(turn, int) else None
        sp.name = f"turn {turn}" if sp.turn is not None else "turn"
    else:
        sp.name = _str(data.get("name")) or "task"


def _fill_other(sp: _Span, sd: dict[str, Any]) -> None:
    """``function``, ``agent``, ``handoff``, ``guardrail``, ``mcp_tools``, ``transcription``
    / ``speech`` and unknown span types."""
    t = sp.type
    if t == "function":
        sp.name = _str(sd.get("name"))
        sp.tool_input_hash = args_hash(sd.get("input"))
    elif t == "agent":
        sp.name = _str(sd.get("name"))
        sp.agent_name = sp.name
        sp.extra_model = _model_from(sd)
        tools = [x for x in as_list(sd.get("tools")) if isinstance(x, str) and x]
        sp.agent_tools = tools or None
    elif t == "handoff":
        fa, ta = _str(sd.get("from_agent")), _str(sd.get("to_agent"))
        sp.name = f"handoff {fa or '?'} -> {ta or '?'}"
    elif t == "guardrail":
        sp.name = f"guardrail {_str(sd.get('name')) or ''}".strip()
    elif t == "mcp_tools":
        sp.name = f"mcp_tools {_str(sd.get('server')) or ''}".strip()
    elif t in ("transcription", "speech"):
        sp.model = _str(sd.get("model"))
        sp.name = t
    else:
        sp.name = _str(sd.get("name")) or t


class _Tree:
    """One trace's spans by id and by parent."""

    def __init__(self, group: list[_Span]) -> None:
        self.by_id = {s.id: s for s in group}
        self.children: dict[str | None, list[_Span]] = {}
        for s in group:
            self.children.setdefault(s.parent_id, []).append(s)

    def ancestors(self, s: _Span) -> Iterator[_Span]:
        seen: set[str] = set()
        p = self.by_id.get(s.parent_id) if s.parent_id else None
        while p is not None and p.id not in seen:
            seen.add(p.id)
            yield p
            p = self.by_id.get(p.parent_id) if p.parent_id else None

    def agent_of(self, s: _Span) -> str | None:
        return next((a.agent_name for a in self.ancestors(s) if a.agent_name), None)

    def has_model_descendant(self, s: _Span) -> bool:
        stack = list(self.children.get(s.id, []))
        while stack:
            c = stack.pop()
            if c.type in _MODEL_TYPES:
                return True
            stack.extend(self.children.get(c.id, []))
        return False


def _link_tool_calls(children: dict[str | None, list[_Span]]) -> tuple[
        dict[str, list[tuple[str, str | None]]], dict[str, str]]:
    """Tool calls of model spans that do not list them (Responses spans: taken from the
    ``function`` spans that follow), and the call id of each ``function`` span that a
    generation span's output names."""
    llm_tools: dict[str, list[tuple[str, str | None]]] = {}
    tool_ids: dict[str, str] = {}
    for kids in children.values():
        current: _Span | None = None
        pending: list[tuple[str, str | None]] = []
        for k in sorted(kids, key=lambda s: (s.start is None, s.start or 0, s.line)):
            if k.type in _MODEL_TYPES:
                current = k
                pending = list(k.tool_calls or [])
                llm_tools.setdefault(k.id, [])
            elif k.type == "function" and current is not None:
                if current.tool_calls is None:
                    llm_tools[current.id].append((k.name or "function", None))
                for i, (nm, cid) in enumerate(pending):
                    if nm == k.name:
                        if cid:
                            tool_ids[k.id] = cid
                        del pending[i]
                        break
    return llm_tools, tool_ids


def _read_notes(source: Source, ctx: IngestContext, stats: dict[str, int]) -> None:
    if stats["no_model"]:
        ctx.note(f"openai-agents: {stats['no_model']} model call(s) of {source.name} name no "
                 "model (the SDK's Responses span omits it; set trace metadata "
                 "{'model': ...} to fix); they stay unpriced")
    if stats["zero_usage"]:
        ctx.note(f"openai-agents: {stats['zero_usage']} model call(s) of {source.name} "
                 "recorded no usage (all zero, e.g. Chat Completions streaming without "
                 "stream_options.include_usage) and no content to count; their tokens "
                 "are unknown")
    if stats["estimated"]:
        ctx.note(f"openai-agents: {stats['estimated']} model call(s) of {source.name} "
                 "recorded no usage (all zero); their tokens were estimated from the "
                 "recorded messages and output as OpenAI counts them (cost_source estimated"
                 + lower_bound_clause(
                     stats["est_in_low"], stats["est_out_low"],
                     "the trace names their tools but holds no definitions") + ")")


# known calls per agent that are counted for calibration (tokenizing costs time)
CALIBRATION_SAMPLE = 50


def _agent_key(model: str | None, messages: Any) -> str | None:
    import hashlib

    first = messages[0] if isinstance(messages, list) and messages else None
    if not isinstance(first, dict) or first.get("role") not in ("system", "developer"):
        return None
    blob = orjson.dumps([model, first.get("content")])
    return hashlib.sha1(blob).hexdigest()[:16]


def _content_estimate(sp: _Span, sd: dict[str, Any], budget: dict[str, int]) -> None:
    """Count the content of a generation span whose usage is all zero (to estimate it), and
    of a sample of known ones (to calibrate the estimates)."""
    u = sp.usage or {}
    zero = all(u.get(k) in (0, None) for k in ("input_tokens", "output_tokens"))
    key = _agent_key(sp.model, sd.get("input"))
    sp.agent_key = key
    if not zero:
        if key is None or budget.get(key, 0) >= CALIBRATION_SAMPLE:
            return
        budget[key] = budget.get(key, 0) + 1
    try:
        sp.estimate = estimate_chat(sd.get("input"), sd.get("output"), sp.model,
                                    provider_for_model(sp.model))
    except (TypeError, ValueError):
        sp.estimate = None


def _calibrate_estimates(rows: list[dict[str, Any]], ctx: IngestContext) -> None:
    """Shift estimated calls by what known calls of the same agent show (module docstring)."""
    shifted = calibrate_rows(rows)
    if shifted:
        ctx.note(f"openai-agents: {shifted} estimated call(s) calibrated against calls of the "
                 "same agent (model and system prompt) whose usage is known: input shifted by "
                 "the median difference, output scaled by the measured ratio")


READER = OpenAIAgentsReader()
