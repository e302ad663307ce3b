"""tau2-bench simulation results (``data/simulations/*.json``).

One JSON object ``{timestamp, info, tasks, simulations}``. ``info.agent_info.llm`` names the
agent's model, ``info.user_info.llm`` the user simulator's. Each simulation is one task
(``task_id`` = the simulation ``id``; the benchmark task id becomes the name of an ``agent`` step
spanning ``start_time``…``end_time``). Its ``messages`` are the conversation in order:

* ``assistant`` messages with ``usage`` are the agent's model calls → **llm** steps.
  ``usage{prompt_tokens, completion_tokens}`` (litellm, OpenAI meaning: prompt includes any cached
  part) carries no cache fields, so ``cache_read_tokens`` / ``cache_write_tokens`` are unknown
  (``None``, not 0) and ``reasoning_tokens`` too. ``cost`` → ``reported_cost_usd``;
  ``raw_data.finish_reason`` → ``stop_reason``. An assistant message without usage (the fixed
  opening greeting) is not a model call and is skipped (noted).
* ``user`` messages come from the **user-simulator LLM** and carry usage and cost as well; they
  are not the agent's and are left out (with a note giving their count, tokens and cost), as are
  tool calls the simulated user makes on its own device (``requestor: "user"``).
* ``tool`` messages with ``requestor: "assistant"`` answer the agent's tool calls → **tool**
  steps (matched by call id; ``error`` → ``is_error``).

Timing: messages carry their creation ``timestamp`` (local time without a zone in the files
seen; read as UTC). An llm step runs from the previous message's timestamp to its own; a tool step
from the requesting assistant message to the tool message.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from agentcost.ingest.base import IngestContext, Source
from agentcost.ingest.common import args_hash as _args_hash
from agentcost.ingest.common import as_list
from agentcost.ingest.common import nonneg_int as _nonneg_int
from agentcost.steps import to_utc_ns

_LITELLM_PREFIXES = {
    "openai": "openai", "azure": "azure", "anthropic": "anthropic", "gemini": "google",
    "vertex_ai": "gcp.vertex_ai", "bedrock": "aws.bedrock", "openrouter": "openrouter",
    "deepseek": "deepseek", "mistral": "mistral_ai", "groq": "groq", "xai": "x_ai",
    "together_ai": "together_ai", "fireworks_ai": "fireworks_ai", "ollama": "ollama",
}


def provider_for_model(model: str | None) -> tuple[str | None, str | None]:
    """(provider, model without a litellm route prefix) for a litellm-style model string."""
    if not model:
        return None, model
    head, sep, rest = model.partition("/")
    if sep and head.lower() in _LITELLM_PREFIXES:
        return _LITELLM_PREFIXES[head.lower()], rest
    m = model.lower()
    if m.startswith(("gpt-", "o1", "o3", "o4", "chatgpt", "codex")):
        return "openai", model
    if "claude" in m:
        return "anthropic", model
    if m.startswith("gemini"):
        return "google", model
    if m.startswith("deepseek"):
        return "deepseek", model
    if m.startswith(("mistral", "codestral", "magistral")):
        return "mistral_ai", model
    if m.startswith("grok"):
        return "x_ai", model
    return None, model


def _cost(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        return None
    return float(v)


def _agent_llm(doc: dict[str, Any]) -> str | None:
    """``info.agent_info.llm``: the agent's model as the results file names it."""
    info = doc.get("info")
    agent_info = info.get("agent_info") if isinstance(info, dict) else None
    if not isinstance(agent_info, dict):
        agent_info = {}
    return agent_info.get("llm") if isinstance(agent_info.get("llm"), str) else None


@dataclass
class _Tally:
    """The record counter of one file and what was left out of it (for the notes)."""

    rec: int = 0
    greetings: int = 0
    user_calls: int = 0
    user_tools: int = 0
    user_tokens: int = 0
    user_cost: float = 0.0

    def user_message(self, msg: dict[str, Any]) -> None:
        """A user-simulator message: its model call is counted, not kept."""
        u = msg.get("usage")
        if u is not None or msg.get("cost"):
            self.user_calls += 1
            if isinstance(u, dict):
                self.user_tokens += sum(_nonneg_int(u.get(k)) or 0
                                        for k in ("prompt_tokens", "completion_tokens"))
            self.user_cost += _cost(msg.get("cost")) or 0.0

    def notes(self, ctx: IngestContext) -> None:
        if self.user_calls or self.user_tools:
            ctx.note(f"tau2: left out the user simulator's {self.user_calls} model call(s) "
                     f"({self.user_tokens:,} tokens, ${self.user_cost:.4f} reported) and "
                     f"{self.user_tools} tool call(s) it made on its own device: they are not "
                     "the agent's")
        if self.greetings:
            ctx.note(f"tau2: {self.greetings} assistant message(s) without usage (the fixed "
                     "greeting, not a model call) skipped")


class Tau2Reader:
    name = "tau2"
    description = "tau2-bench simulation results (data/simulations/*.json)"

    def sniff(self, source: Source) -> int:
        head = source.head.lstrip()
        if not head.startswith(b"{"):
            return 0
        start = head[:16384]
        if (b'"agent_info"' in start and b'"user_info"' in start
                and (b'"num_trials"' in start or b'"environment_info"' in start)):
            return 90
        if b'"simulations"' in head and b'"termination_reason"' in head:
            return 80
        return 0

    def read(self, source: Source, ctx: IngestContext) -> Iterator[dict[str, Any]]:
        ctx.report.lines_read += 1
        try:
            doc = orjson.loads(source.read_bytes())
        except orjson.JSONDecodeError as exc:
            ctx.malformed(source, None, f"invalid JSON ({exc.args[0].split(':')[0]})")
            return
        if not isinstance(doc, dict) or not isinstance(doc.get("simulations"), list):
            ctx.malformed(source, None, "not a tau2 results file (no 'simulations' list)")
            return
        provider_model = provider_for_model(_agent_llm(doc))
        tally = _Tally()
        for si, sim in enumerate(doc["simulations"], 1):
            tally.rec += 1
            ctx.report.lines_read += 1
            if not isinstance(sim, dict) or not isinstance(sim.get("messages"), list):
                ctx.malformed(source, tally.rec, f"simulation {si} has no messages list")
                continue
            yield from self._simulation(source, ctx, si, sim, provider_model, tally)
        tally.notes(ctx)

    def _simulation(self, source: Source, ctx: IngestContext, si: int, sim: dict[str, Any],
                    provider_model: tuple[str | None, str | None], tally: _Tally
                    ) -> Iterator[dict[str, Any]]:
        """One simulation: its agent step, then the agent's llm and tool steps in order."""
        sim_id = sim.get("id")
        task_id = str(sim_id) if sim_id not in (None, "") else f"{source.name}#{si}"
        start = to_utc_ns(sim.get("start_time"))
        agent_row: dict[str, Any] = {
            "kind": "agent", "task_id": task_id, "span_id": task_id,
            "name": str(sim.get("task_id")) if sim.get("task_id") is not None else None,
            "started_at": start, "ended_at": to_utc_ns(sim.get("end_time")), "line": tally.rec,
            "source": source.name,
        }
        dur = sim.get("duration")
        if isinstance(dur, (int, float)) and not isinstance(dur, bool) and dur >= 0:
            agent_row["duration_ms"] = float(dur) * 1000.0
        if ctx.in_window(start):
            yield agent_row
        prev_ts: int | None = start
        calls: dict[str, tuple[str, Any, int | None]] = {}  # id -> (name, args, ts)
        for msg in sim["messages"]:
            tally.rec += 1
            rec = tally.rec
            ctx.report.lines_read += 1
            if not isinstance(msg, dict):
                ctx.malformed(source, rec, "message is not an object")
                continue
            role = msg.get("role")
            ts = to_utc_ns(msg.get("timestamp"))
            if role == "assistant":
                row = self._llm(msg, source, rec, ctx, task_id, prev_ts, ts, calls)
                if row is None:
                    if msg.get("usage") is None:
                        tally.greetings += 1
                elif ctx.in_window(row.get("started_at")):
                    row.update(provider=provider_model[0], model=provider_model[1])
                    yield row
            elif role == "user":
                tally.user_message(msg)
            elif role == "tool":
                if msg.get("requestor") not in (None, "assistant"):
                    tally.user_tools += 1
                else:
                    trow = self._tool(msg, rec, task_id, ts, calls, source)
                    if ctx.in_window(trow.get("started_at")):
                        yield trow
            if ts is not None:
                prev_ts = ts

    def _llm(self, msg: dict[str, Any], source: Source, rec: int, ctx: IngestContext,
             task_id: str, prev_ts: int | None, ts: int | None,
             calls: dict[str, tuple[str, Any, int | None]]) -> dict[str, Any] | None:
        usage = msg.get("usage")
        if usage is None:
            return None
        if not isinstance(usage, dict):
            ctx.malformed(source, rec, "usage is not an object")
            return None
        p, c = usage.get("prompt_tokens"), usage.get("completion_tokens")
        pi, ci = _nonneg_int(p), _nonneg_int(c)
        if (p is not None and pi is None) or (c is not None and ci is None):
            ctx.malformed(source, rec, f"usage token counts are not whole numbers: {usage!r}"[:160])
            return None
        names: list[str] = []
        for tc in as_list(msg.get("tool_calls")):
            if not isinstance(tc, dict):
                continue
            name = tc.get("name")
            if not isinstance(name, str) and isinstance(tc.get("function"), dict):
                name = tc["function"].get("name")
            if not isinstance(name, str):
                continue
            names.append(name)
            args = tc.get("arguments")
            if args is None and isinstance(tc.get("function"), dict):
                args = tc["function"].get("arguments")
            if isinstance(tc.get("id"), str):
                calls[tc["id"]] = (name, args, ts)
        stop = None
        raw = msg.get("raw_data")
        if isinstance(raw, str):
            try:
                raw = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raw = None
        if isinstance(raw, dict) and isinstance(raw.get("finish_reason"), str):
            stop = raw["finish_reason"]
        start = prev_ts
        if start is not None and ts is not None and start > ts:
            start = ts
        row: dict[str, Any] = {
            "kind": "llm", "task_id": task_id, "parent_id": task_id,
            "started_at": start, "ended_at": ts, "input_tokens": pi, "output_tokens": ci,
            "cache_read_tokens": None, "cache_write_tokens": None,
            "reported_cost_usd": _cost(msg.get("cost")), "stop_reason": stop,
            "tool_calls": names, "line": rec, "source": source.name,
        }
        return row

    def _tool(self, msg: dict[str, Any], rec: int, task_id: str, ts: int | None,
              calls: dict[str, tuple[str, Any, int | None]], source: Source) -> dict[str, Any]:
        cid = msg.get("id") if isinstance(msg.get("id"), str) else msg.get("tool_call_id")
        name, args, started = calls.get(cid, (None, None, None)) if isinstance(cid, str) \
            else (None, None, None)
        if name is None and isinstance(msg.get("name"), str):
            name = msg["name"]
        err = msg.get("error")
        return {
            "kind": "tool", "task_id": task_id, "parent_id": task_id, "name": name,
            "tool_call_id": cid if isinstance(cid, str) else None,
            "tool_input_hash": _args_hash(args),
            "started_at": started if started is not None else ts,
            "ended_at": ts if started is not None else None,
            "is_error": err if isinstance(err, bool) else None,
            "line": rec, "source": source.name,
        }


READER = Tau2Reader()
