"""Langfuse trace exports: ``{"trace": {...}, "observations": [...]}`` (the UI's trace download
merged with its observations), a trace object with an embedded ``observations`` list (public
API ``GET /traces/{id}``), a JSON array of such traces, or a bare array of observations.

Every observation is ``{id, traceId, parentObservationId, type, name, startTime, endTime,
completionStartTime, model, usageDetails, costDetails, level, metadata, input, output, …}``.
The task is the trace (``task_id`` = trace id, ``session_id`` = the trace's ``sessionId``).

Kinds
-----
* ``GENERATION`` → **llm**; ``TOOL`` → **tool**; ``SPAN`` / ``AGENT`` / ``CHAIN`` / other types
  → **agent** (structure and timing, no tokens). A ``SPAN`` whose raw attributes say it is a tool
  (OpenInference ``openinference.span.kind = TOOL``, GenAI ``gen_ai.operation.name =
  execute_tool`` or a ``gen_ai.tool.name``) is a tool: older Langfuse versions stored such spans
  as ``SPAN``. ``EVENT`` observations are not steps.
* **Roll-ups are counted once.** Usage on a span/agent observation (e.g. an ``invoke_agent`` span
  summing its calls, pydantic-ai's ``agent run`` span) is dropped — its children carry the calls
  (counted). A ``GENERATION`` that contains other ``GENERATION`` observations (two
  instrumentations wrapping one call, e.g. an agno ``OpenAIChat.invoke`` span around the langfuse
  OpenAI wrapper's generation, or a generation summing several calls) becomes an agent step and
  its descendants are kept — unless only the outer one has reported usage, then the outer one is
  the llm step and the inner ones become agent steps.
* BeeAI's OpenInference instrumentation emits one observation per emitter event
  (``….start-N``, ``….success-N``, ``….finish-N``, ``….error-N``) and ends them all when the
  process exits. The ``start`` one is the step; the others are dropped (counted) and give its end
  time (their start); without them the end is unknown.

Tokens
------
``metadata`` holds the span's original OTel ``attributes`` (a dict, JSON, or a Python ``repr``
read with ``ast.literal_eval``). The raw attributes win over ``usageDetails`` because
``usageDetails`` follows the instrumentation's convention:

1. OpenInference ``llm.token_count.prompt`` (total prompt incl. cache reads/writes),
   ``…prompt_details.cache_read`` / ``.cache_write``, ``llm.token_count.completion`` (incl.
   reasoning), ``…completion_details.reasoning``;
2. GenAI ``gen_ai.usage.input_tokens`` (incl. cache) / legacy ``prompt_tokens``,
   ``gen_ai.usage.cache_read.input_tokens`` (or ``cache_read_input_tokens``),
   ``gen_ai.usage.cache_creation.input_tokens``, ``gen_ai.usage.output_tokens``,
   ``gen_ai.usage.reasoning.output_tokens`` / ``reasoning_tokens``;
3. ``usageDetails``: the Langfuse SDK integrations (LangChain, OpenAI) *subtract* every
   ``input_*`` detail (``input_cache_read``, ``input_audio``, …) from ``input`` and every
   ``output_*`` detail from ``output``; Anthropic-style ``cache_read_input_tokens`` /
   ``cache_creation_input_tokens`` keys are also outside ``input``; OpenInference-named keys
   (``prompt_details.cache_read``) come from spans whose ``input`` is the full prompt. When
   ``total`` is present it decides (``input + output == total`` → inclusive, details added back
   only if that makes the sum match), otherwise the key family does.

In every case, reads + writes above the prompt count mean the instrumentation reported an
exclusive count (Anthropic's raw ``input_tokens``); they are added to it (noted). Likewise
reasoning above the completion count is taken as reported outside it and added.

Usage Langfuse *inferred* is not used: when an observation's raw attributes are present
(ingested over OTel, not from a Langfuse SDK) but carry no token counts, Langfuse filled
``usageDetails`` by running a tokenizer over the logged input/output — an estimate of the visible
text, not the provider's count. Such steps get unknown tokens and no reported cost (noted).

Costs: ``costDetails.total`` → ``reported_cost_usd`` (``calculatedTotalCost`` / ``totalCost`` in
older exports); a zero cost next to non-zero tokens means Langfuse had no price and is ignored.
Times: ``startTime`` / ``endTime`` (``latency`` in ms when the end is missing);
``completionStartTime`` → ``ttft_ms``. ``level == "ERROR"`` → ``is_error``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from agentcost.ingest.base import IngestContext, Source
from agentcost.ingest.common import args_hash as _args_hash
from agentcost.steps import int_text, to_utc_ns

DROP_ROLLUP = "langfuse: usage on a span/agent observation (roll-up of its children)"
DROP_WRAPPER = "langfuse: generation wrapping another generation (one call counted once)"
DROP_EVENT_MARKER = "langfuse: BeeAI event-marker observation (success/finish of a step)"

_MARKER = re.compile(r"^(?P<base>.+)\.(?P<ev>[a-z_]+)-(?P<n>\d+)$")
_END_EVENTS = {"success", "finish", "error"}
_OI_TOOL_NAME = re.compile(
    r"^llm\.output_messages\.\d+\.message\.tool_calls\.\d+\.tool_call\.function\.name$")
_KNOWN_PROVIDERS = {"openai", "anthropic", "google", "gcp.gemini", "gcp.vertex_ai", "gcp.gen_ai",
                    "aws.bedrock", "azure.ai.openai", "azure", "deepseek", "mistral_ai", "x_ai",
                    "groq", "openrouter", "cohere", "ollama"}
_PROVIDER_ALIASES = {"vertex_ai": "gcp.vertex_ai", "gemini": "google", "google_genai": "google",
                     "bedrock": "aws.bedrock", "mistral": "mistral_ai", "xai": "x_ai",
                     "azure_openai": "azure.ai.openai"}


# ---------------------------------------------------------------------------- small helpers


def _num(v: Any) -> int | None:
    """A token count from an int, an integral float or a numeric string; else ``None``."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int):
        return v if v >= 0 else None
    if isinstance(v, float):
        return int(v) if v.is_integer() and v >= 0 else None
    if isinstance(v, str):
        n = int_text(v)
        return n if n is not None and n >= 0 else None
    return None


def _float(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def _parse_struct(v: Any) -> Any:
    """A dict given as a dict, a JSON string or a Python ``repr`` string."""
    if not isinstance(v, str):
        return v
    s = v.strip()
    if not s or s[0] not in "{[":
        return v
    try:
        return orjson.loads(s)
    except orjson.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(s)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return v


def _metadata(obs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None, str | None]:
    """(metadata, raw OTel attributes or None, instrumentation scope name)."""
    md = _parse_struct(obs.get("metadata"))
    if not isinstance(md, dict):
        return {}, None, None
    attrs = _parse_struct(md.get("attributes"))
    scope = _parse_struct(md.get("scope"))
    scope_name = None
    if isinstance(scope, dict) and isinstance(scope.get("name"), str):
        scope_name = scope["name"]
    elif isinstance(scope, str):
        scope_name = scope
    return md, attrs if isinstance(attrs, dict) else None, scope_name


def _first(d: dict[str, Any], *keys: str) -> int | None:
    for k in keys:
        v = _num(d.get(k))
        if v is not None:
            return v
    return None


def _finish_tokens(p: int | None, cr: int | None, cw: int | None, out: int | None,
                   rs: int | None) -> tuple[dict[str, Any], bool]:
    fixed = False
    if p is not None and (cr or 0) + (cw or 0) > p:
        p += (cr or 0) + (cw or 0)
        fixed = True
    if out is not None and rs is not None and rs > out:
        out += rs  # reasoning reported outside the completion count
    fields = {"input_tokens": p, "cache_read_tokens": cr, "cache_write_tokens": cw,
              "output_tokens": out, "reasoning_tokens": rs}
    return fields, fixed


def _has_token_attrs(attrs: dict[str, Any]) -> bool:
    for k in attrs:
        if k.startswith("llm.token_count.") or k.startswith("langfuse.observation.usage"):
            return True
        if k.startswith("gen_ai.usage.") and "cost" not in k:
            return True
    return False


def _attr_usage(attrs: dict[str, Any]) -> tuple[dict[str, Any], bool] | None:
    p = _first(attrs, "llm.token_count.prompt")
    c = _first(attrs, "llm.token_count.completion")
    if p is not None or c is not None:
        return _finish_tokens(
            p, _first(attrs, "llm.token_count.prompt_details.cache_read"),
            _first(attrs, "llm.token_count.prompt_details.cache_write"), c,
            _first(attrs, "llm.token_count.completion_details.reasoning"))
    p = _first(attrs, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
    c = _first(attrs, "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
    if p is not None or c is not None:
        return _finish_tokens(
            p, _first(attrs, "gen_ai.usage.cache_read.input_tokens",
                      "gen_ai.usage.cache_read_input_tokens"),
            _first(attrs, "gen_ai.usage.cache_creation.input_tokens",
                   "gen_ai.usage.cache_creation_input_tokens"), c,
            _first(attrs, "gen_ai.usage.reasoning.output_tokens",
                   "gen_ai.usage.reasoning_tokens"))
    return None


_CR_KEYS = ("input_cache_read", "input_cached_tokens", "input_cache_read_tokens",
            "prompt_details.cache_read", "cache_read_input_tokens")
_CW_KEYS = ("input_cache_creation", "input_cache_write", "input_cache_creation_tokens",
            "prompt_details.cache_write", "cache_creation_input_tokens")
_RS_KEYS = ("output_reasoning", "output_reasoning_tokens", "completion_details.reasoning")


def _details_usage(obs: dict[str, Any]) -> tuple[dict[str, Any], bool] | None:
    ud = obs.get("usageDetails")
    if not isinstance(ud, dict) or not ud:
        ud = obs.get("usage") if isinstance(obs.get("usage"), dict) else None
    if not isinstance(ud, dict) or not ud:
        legacy = {"input": obs.get("inputUsage", obs.get("promptTokens")),
                  "output": obs.get("outputUsage", obs.get("completionTokens")),
                  "total": obs.get("totalUsage", obs.get("totalTokens"))}
        ud = {k: v for k, v in legacy.items() if v is not None}
    if not ud:
        return None
    inp = _first(ud, "input", "promptTokens", "input_tokens", "prompt_tokens")
    out = _first(ud, "output", "completionTokens", "output_tokens", "completion_tokens")
    total = _first(ud, "total", "totalTokens", "total_tokens")
    if inp is None and out is None:
        return None
    excl_in = sum(_num(v) or 0 for k, v in ud.items()
                  if (k.startswith("input_") and k != "input_tokens")
                  or k in ("cache_read_input_tokens", "cache_creation_input_tokens"))
    amb_in = sum(_num(v) or 0 for k, v in ud.items() if k.startswith("prompt_details."))
    excl_out = sum(_num(v) or 0 for k, v in ud.items()
                   if k.startswith("output_") and k != "output_tokens")
    amb_out = sum(_num(v) or 0 for k, v in ud.items() if k.startswith("completion_details."))
    add_in, add_out = excl_in, excl_out  # default by key family
    if total is not None and inp is not None and out is not None:
        if inp + out == total:
            add_in = add_out = 0
        elif inp + excl_in + amb_in + out + excl_out + amb_out == total:
            add_in, add_out = excl_in + amb_in, excl_out + amb_out
    cr, cw, rs = _first(ud, *_CR_KEYS), _first(ud, *_CW_KEYS), _first(ud, *_RS_KEYS)
    p = inp + add_in if inp is not None else None
    o = out + add_out if out is not None else None
    return _finish_tokens(p, cr, cw, o, rs)


def _provider(attrs: dict[str, Any] | None, model: str | None) -> str | None:
    raw = None
    if attrs:
        for k in ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"):
            v = attrs.get(k)
            if isinstance(v, str) and v:
                raw = v.lower()
                break
    if raw:
        raw = _PROVIDER_ALIASES.get(raw, raw)
        if raw in _KNOWN_PROVIDERS:
            return raw
    m = (model or "").lower()
    if m.startswith(("gpt-", "o1", "o3", "o4", "chatgpt", "text-embedding")):
        return "openai"
    if "claude" in m:
        return "anthropic"
    if m.startswith("gemini"):
        return "google"
    if m.startswith(("mistral", "codestral")):
        return "mistral_ai"
    if m.startswith("deepseek"):
        return "deepseek"
    return raw


def _tool_names(attrs: dict[str, Any] | None, output: Any) -> list[str]:
    names: list[str] = []
    if attrs:
        keys = sorted(k for k in attrs if _OI_TOOL_NAME.match(k))
        names = [str(attrs[k]) for k in keys if isinstance(attrs[k], str)]
        if names:
            return names
    out = _parse_struct(output) if isinstance(output, str) else output
    _walk_tool_calls(out, names, 0)
    return names


def _walk_tool_calls(v: Any, names: list[str], depth: int) -> None:
    if depth > 6:
        return
    if isinstance(v, dict):
        fn = v.get("function")
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            names.append(fn["name"])
            return
        if v.get("type") in ("function_call", "tool_call", "tool_use", "tool-call") \
                and isinstance(v.get("name"), str):
            names.append(v["name"])
            return
        for k, sub in v.items():
            if k in ("arguments", "args", "input", "parameters"):
                continue
            _walk_tool_calls(sub, names, depth + 1)
    elif isinstance(v, list):
        for sub in v:
            _walk_tool_calls(sub, names, depth + 1)


def _stop_reason(attrs: dict[str, Any] | None) -> str | None:
    if not attrs:
        return None
    v = _parse_struct(attrs.get("gen_ai.response.finish_reasons"))
    if isinstance(v, (list, tuple)) and v and isinstance(v[0], str):
        return v[0]
    if isinstance(v, str) and v:
        return v
    v = attrs.get("llm.finish_reason")
    return v if isinstance(v, str) and v else None


# ---------------------------------------------------------------------------- one trace's tree


def _typed_observations(source: Source, observations: list[Any], ctx: IngestContext,
                        rec: int) -> tuple[list[tuple[int, dict[str, Any]]], int]:
    """(record number, observation) for each observation with a type; others are malformed."""
    obs_list: list[tuple[int, dict[str, Any]]] = []
    for o in observations:
        rec += 1
        ctx.report.lines_read += 1
        if not isinstance(o, dict) or not isinstance(o.get("type"), str):
            ctx.malformed(source, rec, "observation without a type")
            continue
        obs_list.append((rec, o))
    return obs_list, rec


def _trace_ids(source: Source, trace: dict[str, Any],
               obs_list: list[tuple[int, dict[str, Any]]]) -> tuple[str, str | None]:
    """The task id (trace id, else an observation's traceId, else the file) and session id."""
    tid = trace.get("id")
    if not isinstance(tid, str) or not tid:
        tid = next((o.get("traceId") for _, o in obs_list
                    if isinstance(o.get("traceId"), str)), None) or source.name
    session = trace.get("sessionId") if isinstance(trace.get("sessionId"), str) else None
    return tid, session


@dataclass
class _Tree:
    """A trace's observations by id, their children, and the ids dropped as event markers."""

    by_id: dict[str, dict[str, Any]]
    children: dict[str, list[str]]
    dropped: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, obs_list: list[tuple[int, dict[str, Any]]]) -> _Tree:
        by_id: dict[str, dict[str, Any]] = {}
        children: dict[str, list[str]] = {}
        for _, o in obs_list:
            oid = o.get("id")
            if isinstance(oid, str):
                by_id[oid] = o
                parent = o.get("parentObservationId")
                if isinstance(parent, str):
                    children.setdefault(parent, []).append(oid)
        return cls(by_id, children)

    def gen_descendants(self, oid: str) -> list[str]:
        """The GENERATION observations below ``oid`` (dropped markers left out)."""
        out: list[str] = []
        stack = list(self.children.get(oid, []))
        while stack:
            c = stack.pop()
            if c in self.dropped:
                continue
            if self.by_id.get(c, {}).get("type") == "GENERATION":
                out.append(c)
            stack.extend(self.children.get(c, []))
        return out


def _event_markers(obs_list: list[tuple[int, dict[str, Any]]], tree: _Tree,
                   ctx: IngestContext) -> dict[str, int | None]:
    """BeeAI event markers: keep `start-N`, end it at the first success/finish/error marker.

    The end markers are added to ``tree.dropped`` (counted); returns start id -> end time."""
    marker_end: dict[str, int | None] = {}
    starts: dict[tuple[str, str], str] = {}
    for _, o in obs_list:
        m = _MARKER.match(str(o.get("name") or ""))
        if m and m.group("ev") == "start" and isinstance(o.get("id"), str):
            starts[(m.group("base"), m.group("n"))] = o["id"]
            marker_end.setdefault(o["id"], None)
    for _, o in obs_list:
        m = _MARKER.match(str(o.get("name") or ""))
        if not m or m.group("ev") == "start" or not isinstance(o.get("id"), str):
            continue
        sid = starts.get((m.group("base"), m.group("n")))
        if sid is None:
            continue
        if m.group("ev") in _END_EVENTS and o.get("type") == tree.by_id[sid].get("type"):
            tree.dropped.add(o["id"])
            ctx.dropped(DROP_EVENT_MARKER)
            t = to_utc_ns(o.get("startTime"))
            cur = marker_end.get(sid)
            if t is not None and (cur is None or t < cur):
                marker_end[sid] = t
    return marker_end


def _wrappers(tree: _Tree, parsed: dict[str, dict[str, Any]], ctx: IngestContext) -> set[str]:
    """Generations that wrap other generations (counted): agent steps, not llm steps."""
    wrappers: set[str] = set()
    for oid, o in tree.by_id.items():
        if o.get("type") != "GENERATION" or oid in tree.dropped or oid in wrappers:
            continue
        desc = tree.gen_descendants(oid)
        if not desc:
            continue
        if parsed[oid]["reported"] and not any(parsed[d]["reported"] for d in desc):
            wrappers.update(desc)
        else:
            wrappers.add(oid)
    for _ in wrappers:
        ctx.dropped(DROP_WRAPPER)
    return wrappers


def _spans_as_requested_tools(rows: list[dict[str, Any]], tree: _Tree) -> None:
    """A plain SPAN named like a tool an llm step of this trace requested is that tool's run
    (the LangChain callback of older Langfuse SDKs records tools as spans)."""
    requested = {t for r in rows if r["kind"] == "llm" for t in (r.get("tool_calls") or ())}
    for row in rows:
        o = tree.by_id.get(row.get("span_id") or "")
        if (row["kind"] == "agent" and o is not None and o.get("type") == "SPAN"
                and row.get("name") in requested and not tree.gen_descendants(row["span_id"])):
            row["kind"] = "tool"
            row["tool_input_hash"] = _args_hash(o.get("input"))


# ---------------------------------------------------------------------------- one observation


def _kind(typ: str, a: dict[str, Any], wrapper: bool) -> str:
    """llm for a (non-wrapping) GENERATION, tool for a TOOL or a tool-like SPAN, else agent."""
    oi_kind = str(a.get("openinference.span.kind") or "").upper()
    op = a.get("gen_ai.operation.name")
    if typ == "GENERATION" and not wrapper:
        return "llm"
    if typ == "TOOL" or (typ == "SPAN" and (
            oi_kind == "TOOL" or op == "execute_tool"
            or (a.get("gen_ai.tool.name") and oi_kind not in ("AGENT", "CHAIN", "LLM")))):
        return "tool"
    return "agent"


def _tool_fields(row: dict[str, Any], o: dict[str, Any], a: dict[str, Any]) -> None:
    """Tool name, call id and argument fingerprint of a tool row."""
    tname = a.get("gen_ai.tool.name") or a.get("tool.name")
    if isinstance(tname, str) and tname:
        row["name"] = tname
    elif row["name"]:
        nm = row["name"]
        m = _MARKER.match(nm)
        if m:
            nm = m.group("base")
        for prefix in ("execute_tool ", "running tool: ", "tool."):
            if nm.startswith(prefix):
                nm = nm[len(prefix):]
        row["name"] = nm
    cid = a.get("gen_ai.tool.call.id") or a.get("tool_call.id")
    row["tool_call_id"] = str(cid) if cid else None
    args = a.get("gen_ai.tool.call.arguments") or a.get("tool.parameters") \
        or a.get("tool_arguments")
    row["tool_input_hash"] = _args_hash(args if args is not None else o.get("input"))


# ---------------------------------------------------------------------------- reader


class LangfuseReader:
    name = "langfuse"
    description = "Langfuse trace export ({trace, observations}) with usageDetails/costDetails"

    def sniff(self, source: Source) -> int:
        head = source.head.lstrip()
        if not head.startswith((b"{", b"[")):
            return 0
        if b'"parentObservationId"' in head and (b'"usageDetails"' in head
                                                 or b'"observations"' in head
                                                 or b'"traceId"' in head):
            return 90
        start = head[:2048]
        if start.startswith(b"{") and b'"trace"' in start[:64] and b'"projectId"' in start:
            return 70
        return 0

    def read(self, source: Source, ctx: IngestContext) -> Iterator[dict[str, Any]]:
        try:
            doc = orjson.loads(source.read_bytes())
        except orjson.JSONDecodeError as exc:
            ctx.report.lines_read += 1
            ctx.malformed(source, None, f"invalid JSON ({exc.args[0].split(':')[0]})")
            return
        traces = self._traces(doc)
        if traces is None:
            ctx.report.lines_read += 1
            ctx.malformed(source, None, "not a Langfuse export (no observations)")
            return
        stats = {"inferred": 0, "fixed": 0}
        rec = 0
        for trace, observations in traces:
            rows, rec = self._trace_steps(source, trace, observations, ctx, stats, rec)
            for row in rows:
                if ctx.in_window(row.get("started_at")):
                    yield row
        if stats["inferred"]:
            ctx.note(f"{source.name}: {stats['inferred']} generation(s) carry only usage that "
                     "Langfuse inferred with a tokenizer (the instrumentation reported none): "
                     "tokens left unknown")
        if stats["fixed"]:
            ctx.note(f"{source.name}: {stats['fixed']} generation(s) reported cache tokens "
                     "outside the prompt count; added to input_tokens")

    def _traces(self, doc: Any) -> list[tuple[dict[str, Any], list[Any]]] | None:
        if isinstance(doc, dict):
            if isinstance(doc.get("observations"), list):
                tr = doc.get("trace")
                trace: dict[str, Any] = tr if isinstance(tr, dict) else {
                    k: v for k, v in doc.items() if k != "observations"}
                return [(trace, doc["observations"])]
            return None
        if isinstance(doc, list):
            if doc and all(isinstance(x, dict) and isinstance(x.get("observations"), list)
                           for x in doc):
                out = []
                for x in doc:
                    tr = x.get("trace") if isinstance(x.get("trace"), dict) else {
                        k: v for k, v in x.items() if k != "observations"}
                    out.append((tr, x["observations"]))
                return out
            if doc and all(isinstance(x, dict) and "type" in x and "id" in x for x in doc):
                by_trace: dict[str, list[Any]] = {}
                for x in doc:
                    by_trace.setdefault(str(x.get("traceId")), []).append(x)
                return [({"id": t}, obs) for t, obs in by_trace.items()]
        return None

    # ------------------------------------------------------------------ one trace

    def _trace_steps(self, source: Source, trace: dict[str, Any], observations: list[Any],
                     ctx: IngestContext, stats: dict[str, int], rec: int
                     ) -> tuple[list[dict[str, Any]], int]:
        obs_list, rec = _typed_observations(source, observations, ctx, rec)
        tid, session = _trace_ids(source, trace, obs_list)
        tree = _Tree.build(obs_list)
        marker_end = _event_markers(obs_list, tree, ctx)
        parsed = {o["id"]: self._usage_info(o, stats) for _, o in obs_list
                  if isinstance(o.get("id"), str)}
        wrappers = _wrappers(tree, parsed, ctx)
        rows: list[dict[str, Any]] = []
        for n, o in obs_list:
            oid = o.get("id") if isinstance(o.get("id"), str) else None
            if oid in tree.dropped:
                continue
            info = parsed.get(oid) if oid else None
            row = self._row(source, o, n, tid, session,
                            info if info is not None else self._usage_info(o, stats),
                            wrapper=oid in wrappers, stats=stats, ctx=ctx)
            if row is None:
                continue
            if oid in marker_end:
                row["ended_at"] = marker_end[oid]
                row["duration_ms"] = None
            rows.append(row)
        _spans_as_requested_tools(rows, tree)
        return rows, rec

    def _usage_info(self, o: dict[str, Any], stats: dict[str, int]) -> dict[str, Any]:
        _, attrs, scope = _metadata(o)
        res = _attr_usage(attrs) if attrs else None
        inferred = False
        if res is None:
            otel = attrs is not None and not (scope or "").startswith("langfuse")
            if otel and not _has_token_attrs(attrs or {}):
                inferred = o.get("type") == "GENERATION" and _details_usage(o) is not None
                res = None
            else:
                res = _details_usage(o)
        fields, fixed = res if res is not None else ({}, False)
        return {"attrs": attrs, "fields": fields, "fixed": fixed, "inferred": inferred,
                "reported": res is not None}

    def _row(self, source: Source, o: dict[str, Any], n: int, tid: str, session: str | None,
             info: dict[str, Any], *, wrapper: bool, stats: dict[str, int],
             ctx: IngestContext) -> dict[str, Any] | None:
        typ = o["type"].upper()
        if typ == "EVENT":
            return None
        attrs: dict[str, Any] | None = info["attrs"]
        a = attrs or {}
        kind = _kind(typ, a, wrapper)
        start = to_utc_ns(o.get("startTime"))
        end = to_utc_ns(o.get("endTime"))
        row: dict[str, Any] = {
            "kind": kind, "task_id": tid, "session_id": session,
            "span_id": o.get("id") if isinstance(o.get("id"), str) else None,
            "parent_id": o.get("parentObservationId")
            if isinstance(o.get("parentObservationId"), str) else None,
            "name": o.get("name") if isinstance(o.get("name"), str) and o.get("name") else None,
            "started_at": start, "ended_at": end,
            "is_error": True if o.get("level") == "ERROR" else None,
            "line": n, "source": source.name,
        }
        if end is None and start is not None:
            lat = _float(o.get("latency"))
            if lat is not None and lat >= 0:
                row["duration_ms"] = lat
        if kind == "llm":
            self._llm_fields(row, o, attrs, info, stats)
        elif kind == "tool":
            _tool_fields(row, o, a)
        else:
            if info["reported"] and any(info["fields"].values()) and typ != "GENERATION":
                ctx.dropped(DROP_ROLLUP)
        return row

    def _llm_fields(self, row: dict[str, Any], o: dict[str, Any], attrs: dict[str, Any] | None,
                    info: dict[str, Any], stats: dict[str, int]) -> None:
        """Model, provider, tool calls, TTFT and usage/cost of a generation's llm row."""
        a = attrs or {}
        start = row["started_at"]
        model = o.get("model") if isinstance(o.get("model"), str) and o.get("model") else None
        req = a.get("gen_ai.request.model") or a.get("llm.request.model_name") \
            or a.get("llm.model_name") or model
        resp = a.get("gen_ai.response.model") or a.get("llm.response.model_name")
        row["model"] = str(req) if req else None
        row["response_model"] = str(resp) if resp else None
        row["provider"] = _provider(attrs, row["model"] or row["response_model"])
        row["tool_calls"] = _tool_names(attrs, o.get("output"))
        row["stop_reason"] = _stop_reason(attrs)
        cst = to_utc_ns(o.get("completionStartTime"))
        if cst is not None and start is not None and cst >= start:
            row["ttft_ms"] = (cst - start) / 1e6
        if info["inferred"]:
            stats["inferred"] += 1
        else:
            row.update({k: v for k, v in info["fields"].items()})
            stats["fixed"] += int(info["fixed"])
            has_tokens = any(v for v in info["fields"].values())
            cost = self._cost(o)
            if cost is not None and not (cost == 0 and has_tokens):
                row["reported_cost_usd"] = cost

    def _cost(self, o: dict[str, Any]) -> float | None:
        if "costDetails" in o:
            cd = o.get("costDetails")
            if not isinstance(cd, dict) or not cd:
                return None
            v = _float(cd.get("total"))
            if v is None:
                parts = [_float(x) for x in cd.values()]
                v = sum(p for p in parts if p is not None) if any(
                    p is not None for p in parts) else None
            return v if v is None or v >= 0 else None
        for k in ("calculatedTotalCost", "totalCost"):
            v = _float(o.get(k))
            if v is not None and v >= 0:
                return v
        return None


READER = LangfuseReader()
