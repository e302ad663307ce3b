"""The assumption sentences of a prompt-cache replay: how prefixes are known, the workspaces,
each provider mechanism's rules, minimum cacheable prompts, TTLs; and the calls whose trace
reports no cache figures but whose caching was simulated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentcost.simulation.cache import Calls, Mechanics
from agentcost.simulation.scenario import Scenario
from agentcost.simulation.shared import Context
from agentcost.simulation.workload import Workload

if TYPE_CHECKING:
    import numpy as np


def unknown_simulated(det: dict[str, Any], sel: np.ndarray, c_model: np.ndarray,
                       c_rd: np.ndarray, o_inp: np.ndarray) -> None:
    """Record the calls whose trace gave no cache figures and whose caching was simulated."""
    if not sel.any():
        return
    models = sorted({str(m) for m in c_model[sel] if m is not None})
    det.setdefault("cache", {})["unknown_in_trace_simulated"] = {
        "calls": int(sel.sum()), "models": models,
        "cache_read_tokens": int(c_rd[sel].sum()), "input_tokens": int(o_inp[sel].sum()),
    }


def _prefix_note(w: Workload) -> str:
    """How the replay knows the prompts' prefixes."""
    seg = int(w.l_has_segments.sum())
    n = w.n_llm
    if seg == n:
        return "Prompt prefixes from the requests' segments (exact)."
    if seg == 0:
        return ("No request content in the trace: the usual append-only agent loop is "
                "assumed (each prompt = the previous prompt + its output + the new tool "
                "results); without content, tasks share no prefix unless the trace shows "
                "a first call reading from the cache.")
    return (f"Prompt prefixes exact for {seg:,} of {n:,} llm calls (segments); the "
            "others assume the append-only agent loop.")


def _mechanism_notes(m: Mechanics, strategy: str) -> list[str]:
    """The sentences stating one provider mechanism's caching rules."""
    if m.kind == "anthropic":
        return [
            "Anthropic caching: entries only at breakpoints (exact prefix, per model), "
            f"lookup walks back at most {m.lookback} blocks from each breakpoint, reads up "
            "to the highest hit, writes from there to the last breakpoint at the TTL's "
            "rate (5m 1.25x, 1h 2x); lifetime from the request's start, refreshed on a "
            "hit; a new entry serves only requests that start after the writer's response "
            "began (TTFT, or the writer's end when TTFT is unknown)."]
    if m.kind == "openai_explicit":
        return ["OpenAI GPT-5.6+: implicit caching at the latest eligible message "
                "ending (up to 20 earlier endings looked up); stable/stable+last use "
                "explicit breakpoints; writes billed 1.25x; exact counts."]
    if m.kind != "implicit":
        return []
    out = [f"{m.provider} {m.model}: implicit prefix caching (every block "
           "boundary cached, longest cached prefix read"
           + (f", reads in {m.granularity}-token steps" if m.granularity > 1
              else "") + ", no write charge); explicit placement is not "
           "available, so any strategy but off means implicit."]
    if strategy == "off" and m.provider == "openai":
        out.append("OpenAI caching cannot be switched off; 'off' shows what the "
                   "calls would cost without it.")
    return out


def _mechanisms_notes(calls: Calls, strategy: str, notes: list[str]) -> None:
    """Per mechanism used: its rules' sentences (once per kind), its own notes, and the
    models' minimum cacheable prompts."""
    kinds: dict[str, Mechanics] = {}
    for m in calls.mechs:
        kinds.setdefault(m.kind + ":" + m.model, m)
    seen_kind: set[str] = set()
    mins = []
    for m in kinds.values():
        if m.kind != "none":
            mins.append(f"{m.model} {m.min_tokens:,}")
        for note in m.notes:
            if note not in notes:
                notes.append(note)
        if m.kind in seen_kind:
            continue
        seen_kind.add(m.kind)
        notes.extend(_mechanism_notes(m, strategy))
    if mins:
        notes.append("Minimum cacheable prompt: " + ", ".join(sorted(set(mins))) + " tokens.")


def cache_notes(ctx: Context, calls: Calls, strategy: str, sc: Scenario, notes: list[str],
                 det: dict[str, Any]) -> None:
    """Assumption sentences for a replay (one per provider mechanism actually used)."""
    notes.append(_prefix_note(ctx.w))
    ws = {"shared": "all tasks of the input are taken as one workspace (caches shared across "
                    "tasks)",
          "source": "each source file is its own workspace",
          "session": "each session is its own workspace",
          "task": "no cache sharing between tasks"}[ctx.st.workspace]
    notes.append(f"Prompt-cache replay in time order, caches per model; {ws}.")
    _mechanisms_notes(calls, strategy, notes)
    ttl_used = sc.ttl or ("1h where the trace wrote 1h, else default" if any(calls.is1h)
                          else "default")
    det["cache"] = {"strategy": strategy, "ttl": ttl_used}
    if sc.ttl:
        bad = sorted({m.model for m in calls.mechs if m.kind != "none"
                      and not any(t[0].lower() == sc.ttl for t in m.ttls)})
        if bad:
            notes.append(f"TTL {sc.ttl} does not exist for {', '.join(bad)}: their default "
                         "TTL is used.")
