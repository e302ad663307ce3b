"""One scenario over a prepared :class:`~agentcost.simulation.workload.Workload`.

Levers are applied in a fixed order — loop caps, tool-result caching, cascade, output cap,
prompt edits (trimming, capped answers, reused tool results, and the context levers of
:mod:`agentcost.simulation.context`: capped or pruned tool results, compaction), the response
cache, prompt-cache replay, latency, pricing (compaction's summarising calls included) — and
everything that can be is computed column-wise. The only per-call Python loops are
building the prompts of a replay and the replay itself (a single pass in time order).

Exactness: when a scenario changes no prompt, no model and no call, cache reads and writes are the
ones the trace reports and every figure is computed by the same code as the baseline, so a
scenario that changes nothing reproduces the baseline bit for bit.

Rules the levers follow (also stated in every report's assumptions):

* Loop caps: a task keeps its first ``max_iterations`` llm calls, or its calls until the one at
  which input+output tokens reach ``token_budget`` (that call completes); the tools the last kept
  call requested do not run. Cut tasks keep their spend so far and count as needing escalation.
* Tool-result caching: a tool call with the same name and argument fingerprint as an earlier call
  of its task returns the earlier result instantly, and the result is not put into the context a
  second time (the agent refers back to it): its latency and its tokens in every later prompt are
  saved. With a TTL, identical calls of other tasks within the TTL also return instantly
  (latency only: the other task's model still needs to read the result).
* Cascade role rule, per llm step: a step whose name is listed under ``roles`` takes that role;
  otherwise a step that ends in tool calls (a routing or tool decision) → cheap; the last llm
  step of the task without tool calls (the user-facing final synthesis) → strong; any other step
  whose output is at most ``short_output_tokens`` (64) tokens (short and classifying) → cheap;
  the rest → strong. ``escalation_rate`` re-runs that share of the cheap steps on the strong model right
  after the cheap call, paying both. Which steps escalate follows one fixed, seeded ranking of
  the steps, so the steps escalated at a rate are a subset of those at any higher rate and cost
  never falls as the rate rises.
* Latency (:mod:`.latency`): an llm call's duration changes with its prefill (TTFT scaled by the change in
  prefill work, a cached token counting a tenth of an uncached one; no TTFT → no prefill change)
  and its generation (scaled with output tokens). A call moved to another model takes that
  model's observed median TTFT and time per output token when the trace has it, else its own
  duration scaled by tier (cheap 0.5x, mid 1x, strong 1.5x). Batched calls take the batch window.
  Task latency = observed wall time + the changes of its calls and tool turns.
"""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING

from agentcost.simulation.cache import replay
from agentcost.simulation.calls import build_calls
from agentcost.simulation.costs import call_costs
from agentcost.simulation.latency import durations, task_latency
from agentcost.simulation.levers import loop_caps, model_cascade, output_cap, tool_result_cache
from agentcost.simulation.notes import cache_notes, unknown_simulated
from agentcost.simulation.prompts import prompt_edits, response_cache
from agentcost.simulation.scenario import Scenario
from agentcost.simulation.shared import Context, Figures, Plan

if TYPE_CHECKING:
    import numpy as np

def run(ctx: Context, sc: Scenario, variant: str = "expected",
        force_replay: bool = False, raw: bool = False) -> Figures:
    """Simulate ``sc``. ``force_replay`` replays the cache even when nothing changed;
    ``raw`` skips the calibration to observed figures (see :func:`reference`).
    The levers apply in the order of the module docstring, one stage each."""
    p = Plan(ctx, sc, variant, force_replay, raw)
    for stage in (loop_caps, tool_result_cache, model_cascade, output_cap, prompt_edits,
                  response_cache, _calls, _cache, task_latency):
        stage(p)
    return call_costs(p)



def reference(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cache reads and 5m/1h writes per llm step when the unchanged trace is replayed with
    its observed breakpoint placement (computed once per context). A scenario call whose
    simulated figures equal these keeps the figures the trace reports: the simulator's error on
    calls a scenario does not touch cancels out, and only the calls it changes are simulated."""
    if ctx.ref is None:
        ctx.ref_fig = run(ctx, Scenario(name="reference"), force_replay=True, raw=True)
        ctx.ref = ctx.ref_steps
    assert ctx.ref is not None
    return ctx.ref


def reference_figures(ctx: Context) -> Figures:
    """The figures of the :func:`reference` replay."""
    reference(ctx)
    assert ctx.ref_fig is not None
    return ctx.ref_fig


def _calls(p: Plan) -> None:
    """6. The calls to simulate: every kept llm step plus the escalated re-runs."""
    import numpy as np

    w, sc, ctx, T = p.ctx.w, p.sc, p.ctx, p.ctx.w.n_tasks
    model_changed = sc.cascade is not None and bool(np.any(p.model != w.l_model))
    scaled = bool(np.any(p.ratio != 1.0))
    p.strategy = strategy = sc.cache or "observed"
    p.passthrough = (strategy == "observed" and sc.ttl is None and not model_changed
                     and not scaled and not p.edited and not p.esc.any() and not p.force_replay
                     and not p.served.any())
    K = np.flatnonzero(p.keep & ~p.served)
    E = np.flatnonzero(p.esc)
    nK, nE = len(K), len(E)
    p.c_step = np.concatenate([K, E])  # originating llm step of each call
    p.c_esc = np.r_[np.zeros(nK, dtype=bool), np.ones(nE, dtype=bool)]
    p.c_model = np.concatenate([p.model[K], np.full(nE, sc.cascade[1] if sc.cascade else None,
                                                    dtype=object)])
    p.c_provider = np.concatenate([p.provider[K], p.provider[E]]) if nE else p.provider[K]
    if nE and sc.cascade is not None:
        r = ctx.rule(sc.cascade[1])
        if r is not None:
            p.c_provider[nK:] = r.provider
    p.c_ratio = np.concatenate([p.ratio[K], p.strong_ratio[E]])
    p.c_out = np.concatenate([p.out_new[K], np.minimum(
        np.rint(w.l_out[E] * p.strong_ratio[E]).astype("int64"),
        sc.max_output_tokens if sc.max_output_tokens is not None else np.iinfo(np.int64).max)])
    p.c_task = w.l_task[p.c_step]
    p.batch_task = np.zeros(T, dtype=bool)
    if sc.batch:
        if sc.batch_tasks:
            p.batch_task = np.array([fnmatch.fnmatchcase(t, sc.batch_tasks)
                                     for t in w.task_ids], dtype=bool)
        else:
            p.batch_task[:] = True
    p.c_batch = p.batch_task[p.c_task]

    # durations of the new calls (needed for escalation start times and visibility)
    p.c_dur = durations(ctx, p.c_step, p.c_esc, p.c_model, p.c_out, model_changed or nE > 0)

    p.N = len(p.c_step)


def _cache(p: Plan) -> None:
    """6. Cache reads and writes of every call: as observed, or replayed."""
    import numpy as np

    w = p.ctx.w
    # calls whose cache figures are the trace's unknown taken as 0 (no simulation replaced them)
    p.c_unknown = ~w.l_cache_known[p.c_step] & ~p.c_esc
    if p.passthrough:
        _cache_as_observed(p)
    else:
        _cache_replayed(p)
    p.c_unc = np.maximum(p.c_inp - p.c_rd - p.c_w5 - p.c_w1, 0)


def _cache_as_observed(p: Plan) -> None:
    import numpy as np

    w, st, ctx = p.ctx.w, p.ctx.st, p.ctx
    p.c_inp = w.l_inp[p.c_step].copy()
    p.c_rd = w.l_rd[p.c_step].copy()
    p.c_w5 = w.l_w5[p.c_step].copy()
    p.c_w1 = w.l_w1[p.c_step].copy()
    if p.variant == "pessimistic" and p.c_batch.any():
        keep_share = st.batch_hit_share_pessimistic
        lost = np.where(p.c_batch, p.c_rd - np.rint(p.c_rd * keep_share).astype("int64"), 0)
        charged = np.array([ctx.mech(m, pv).write_charged for m, pv in
                            zip(p.c_model, p.c_provider, strict=True)], dtype=bool)
        p.c_rd = p.c_rd - lost
        p.c_w5 = p.c_w5 + np.where(charged, lost, 0)
    p.notes.append("Cache reads and writes as the trace reports them (no prompt, model or "
                   "call changes, so the observed caching stands).")


def _cache_replayed(p: Plan) -> None:
    import numpy as np

    w, st, sc, ctx = p.ctx.w, p.ctx.st, p.sc, p.ctx
    variant, strategy, det = p.variant, p.strategy, p.det
    raw, force_replay = p.raw, p.force_replay
    calls = build_calls(ctx, sc, strategy, p.c_step, p.c_esc, p.c_model, p.c_provider,
                         p.c_ratio, p.c_dur, p.c_batch, p.edited, variant)
    pess = variant == "pessimistic"
    p.c_rd, p.c_w5, p.c_w1, norule = replay(
        calls, strategy, variant, st.eviction_share if pess else 0.0,
        st.batch_hit_share_pessimistic if pess else 1.0)
    p.c_inp = np.array([calls.cum[i][calls.nb[i] - 1] if calls.nb[i] else 0
                        for i in range(p.N)], dtype="int64")

    if norule.any():
        o_inp = w.l_inp[p.c_step]
        f = np.where(o_inp > 0, p.c_inp / np.maximum(o_inp, 1), 0.0)
        if strategy == "off":
            f = np.zeros(p.N)
        p.c_rd = np.where(norule, np.rint(w.l_rd[p.c_step] * f), p.c_rd).astype("int64")
        p.c_w5 = np.where(norule, np.rint(w.l_w5[p.c_step] * f), p.c_w5).astype("int64")
        p.c_w1 = np.where(norule, np.rint(w.l_w1[p.c_step] * f), p.c_w1).astype("int64")
    if raw and force_replay:
        ctx.ref_steps = (p.c_rd.copy(), p.c_w5.copy(), p.c_w1.copy())
    cache_notes(ctx, calls, strategy, sc, p.notes, det)
    if not raw and st.calibrate and strategy != "off":
        ref_rd, ref_w5, ref_w1 = reference(ctx)
        same = (~p.c_esc & (p.c_model == w.l_model[p.c_step]) & (p.c_inp == w.l_inp[p.c_step])
                & (p.c_rd == ref_rd[p.c_step]) & (p.c_w5 == ref_w5[p.c_step])
                & (p.c_w1 == ref_w1[p.c_step]) & w.l_cache_known[p.c_step])
        p.c_rd = np.where(same, w.l_rd[p.c_step], p.c_rd)
        p.c_w5 = np.where(same, w.l_w5[p.c_step], p.c_w5)
        p.c_w1 = np.where(same, w.l_w1[p.c_step], p.c_w1)
        det["cache"]["calls_as_observed"] = int(same.sum())
        det["cache"]["calls_simulated"] = int((~same).sum())
    was_unknown = p.c_unknown.copy()
    p.c_unknown &= norule & (strategy != "off")
    unknown_simulated(det, was_unknown & ~p.c_unknown & (strategy != "off"), p.c_model,
                       p.c_rd, w.l_inp[p.c_step])
