"""Latency of a scenario run (stage 7 of :func:`agentcost.simulation.engine.run`): projected
durations of calls moved to another model, each call's change against the observed step, tool
turns run in parallel or served from a tool-result cache, and the tasks' wall times.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentcost.simulation.scenario import Scenario
from agentcost.simulation.shared import Context, Plan
from agentcost.simulation.workload import Workload

if TYPE_CHECKING:
    import numpy as np

PREFILL_CACHED_WEIGHT = 0.1
TIER_SPEED = {"cheap": 0.5, "mid": 1.0, "strong": 1.5}


def duration_label(s: float) -> str:
    if s >= 3600:
        return f"{s / 3600:g}h"
    if s >= 60:
        return f"{s / 60:g}m"
    return f"{s:g}s"


def durations(ctx: Context, c_step: np.ndarray, c_esc: np.ndarray, c_model: np.ndarray,
               c_out: np.ndarray, any_change: bool) -> np.ndarray:
    """Projected duration (ms) of calls on another model than observed (observed otherwise)."""
    import numpy as np

    w = ctx.w
    dur = w.l_dur[c_step].astype("float64").copy()
    if not any_change:
        return np.asarray(dur)
    moved = np.flatnonzero((c_model != w.l_model[c_step]) | c_esc)
    for j in moved:
        i = int(c_step[j])
        tgt = c_model[j]
        prof = ctx.w.speed.get(str(tgt)) if tgt is not None else None
        if prof is not None:
            dur[j] = prof[0] + prof[1] * float(c_out[j])
        else:
            rs, rt = ctx.rule(w.l_model[i]), ctx.rule(tgt)
            fs = TIER_SPEED.get(rs.tier if rs is not None and rs.tier else "mid", 1.0)
            ft = TIER_SPEED.get(rt.tier if rt is not None and rt.tier else "mid", 1.0)
            dur[j] = float(w.l_dur[i]) * ft / fs
    return np.asarray(dur)


def _latency_changes(w: Workload, c_step: np.ndarray, c_esc: np.ndarray, c_model: np.ndarray,
                     c_out: np.ndarray, c_inp: np.ndarray, c_rd: np.ndarray, c_w: np.ndarray,
                     c_dur: np.ndarray) -> np.ndarray:
    """Change of each call's duration (ms) against the observed step (escalations: all of it)."""
    import numpy as np

    o_dur = w.l_dur[c_step]
    ttft = w.l_ttft[c_step]
    o_inp, o_rd, o_out = w.l_inp[c_step], w.l_rd[c_step], w.l_out[c_step]
    o_eff = (o_inp - o_rd) + PREFILL_CACHED_WEIGHT * o_rd
    n_eff = (c_inp - c_rd) + PREFILL_CACHED_WEIGHT * c_rd
    has_ttft = ~np.isnan(ttft)
    t0 = np.nan_to_num(ttft)
    d_pre = np.where(has_ttft & (o_eff > 0), t0 * (n_eff / np.maximum(o_eff, 1e-9) - 1.0), 0.0)
    gen = np.where(has_ttft, np.maximum(o_dur - t0, 0.0), o_dur)
    d_gen = np.where(o_out > 0, gen * (c_out / np.maximum(o_out, 1) - 1.0), 0.0)
    same = (c_model == w.l_model[c_step]) & ~c_esc
    d = np.where(same, d_pre + d_gen, c_dur - np.where(c_esc, 0.0, o_dur))
    return np.asarray(d, dtype="float64")


def _tool_turn_changes(w: Workload, sc: Scenario, tool_keep: np.ndarray, t_cached: np.ndarray,
                       det: dict[str, Any]) -> np.ndarray:
    """Latency change (ms) per task from parallel dispatch and cached tool results."""
    import numpy as np
    import pandas as pd

    sel = np.flatnonzero(tool_keep & (w.t_turn >= 0))
    T = w.n_tasks
    if not len(sel):
        return np.zeros(T)
    dur = w.t_dur[sel]
    new = np.where(t_cached[sel], 0.0, dur)
    sc_set = set(sc.state_changing_tools)
    is_sc = np.array([n in sc_set for n in w.t_name[sel]], dtype=bool) if sc_set else \
        np.zeros(len(sel), dtype=bool)
    f = pd.DataFrame({
        "task": w.t_task[sel], "turn": w.t_turn[sel], "s": w.t_start[sel], "e": w.t_end[sel],
        "dur": dur, "new": new, "sc_new": np.where(is_sc, new, 0.0),
        "par_new": np.where(is_sc, 0.0, new), "cached": t_cached[sel],
        "cached_dur": np.where(t_cached[sel], dur, 0.0),
    })
    g = f.groupby(["task", "turn"], sort=False).agg(
        s=("s", "min"), e=("e", "max"), total=("dur", "sum"), n=("dur", "size"),
        new_max=("new", "max"), sc_sum=("sc_new", "sum"), par_max=("par_new", "max"),
        any_cached=("cached", "any"), cached_dur=("cached_dur", "sum"))
    span = ((g["e"] - g["s"]) / 1e6).to_numpy()
    total = g["total"].to_numpy()
    span = np.where(span > 0, span, total)
    overlapped = span < total - 1.0
    if sc.parallel_tools:
        new_t = g["sc_sum"].to_numpy() + g["par_max"].to_numpy()
        changed = (g["n"].to_numpy() > 1) | g["any_cached"].to_numpy()
    else:
        new_t = np.where(overlapped, g["new_max"].to_numpy(),
                         np.maximum(span - g["cached_dur"].to_numpy(), 0.0))
        changed = g["any_cached"].to_numpy()
    delta = np.where(changed, np.minimum(new_t - span, 0.0) if sc.parallel_tools
                     else new_t - span, 0.0)
    tasks = g.index.get_level_values(0).to_numpy()
    if sc.parallel_tools:
        det["parallel_tools"] = {
            "turns_with_several_tools": int((g["n"].to_numpy() > 1).sum()),
            "seconds_saved": round(-float(delta.sum()) / 1000.0, 3),
            "state_changing_tools": list(sc.state_changing_tools),
        }
    return np.bincount(tasks, weights=delta, minlength=T).astype("float64")


def task_latency(p: Plan) -> None:
    """7. latency."""
    import numpy as np

    w, st, sc = p.ctx.w, p.ctx.st, p.sc
    variant, T, det = p.variant, p.ctx.w.n_tasks, p.det
    warns = p.warns
    o_dur = w.l_dur[p.c_step]
    ttft = w.l_ttft[p.c_step]
    if p.passthrough:
        d_llm = np.where(p.c_esc, p.c_dur, 0.0)
        same = p.c_model == w.l_model[p.c_step]
        gen_change = (p.c_out != w.l_out[p.c_step]) & same & ~p.c_esc
        if gen_change.any():
            gen = np.where(np.isnan(ttft), o_dur, o_dur - np.nan_to_num(ttft))
            o_out = w.l_out[p.c_step]
            d_llm = d_llm + np.where(gen_change & (o_out > 0),
                                     gen * (p.c_out / np.maximum(o_out, 1) - 1.0), 0.0)
    else:
        d_llm = _latency_changes(w, p.c_step, p.c_esc, p.c_model, p.c_out, p.c_inp, p.c_rd, p.c_w5 + p.c_w1,
                                 p.c_dur)
    if sc.batch:
        window = (st.batch_window_pessimistic_s if variant == "pessimistic"
                  else st.batch_window_s) * 1000.0
        d_llm = np.where(p.c_batch, window - np.where(p.c_esc, 0.0, o_dur), d_llm)
        interactive = int((p.batch_task & w.task_interactive).sum())
        plural = "" if interactive == 1 else "s"
        det["batch"] = {"tasks": int(p.batch_task.sum()), "calls": int(p.c_batch.sum()),
                        "window_s": window / 1000.0}
        if interactive:
            warns.append(f"batch applied to {interactive:,} task{plural} that "
                         f"look{'s' if interactive == 1 else ''} interactive "
                         "(streamed responses or multi-step agent loops): every llm call of "
                         f"such a task would wait for the batch window "
                         f"(~{duration_label(window / 1000.0)} each)")
    d_task = np.bincount(p.c_task, weights=d_llm, minlength=T).astype("float64")
    if p.served.any():  # answered from the response cache: no model time
        d_task -= np.bincount(w.l_task[p.served], weights=w.l_dur[p.served], minlength=T)

    # tool turns
    if (sc.parallel_tools or p.t_cached.any()) and p.NT:
        d_task += _tool_turn_changes(w, sc, p.tool_keep, p.t_cached, det)

    wall = w.task_wall_ms.astype("float64").copy()
    if p.cut.any():
        idx = np.flatnonzero(p.cut)
        last_i = w.task_llm_offset[idx] + np.maximum(p.last_kept[idx], 0)
        new_end = np.where(p.last_kept[idx] >= 0, w.l_end[last_i], w.task_start[idx])
        wall[idx] = (new_end - w.task_start[idx]) / 1e6
    p.lat = (wall + d_task) / 1000.0
