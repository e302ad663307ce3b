"""The calls a prompt-cache replay needs (:class:`~agentcost.simulation.cache.Calls`): start
and visibility times, cache store, mechanics and lifetime of every simulated call, its prompt
(prefix ids, cumulative tokens in its model's tokenizer, roles) and its breakpoints.
"""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, Any

from agentcost.simulation.cache import Calls, Mechanics
from agentcost.simulation.scenario import Scenario
from agentcost.simulation.shared import Context
from agentcost.simulation.workload import Ints, Workload, stable_end

if TYPE_CHECKING:
    import numpy as np


def int_array(a: np.ndarray) -> array[int]:
    """An int64 numpy array as an ``array('q')`` (indexing gives plain ints)."""
    import numpy as np

    out = array("q")
    out.frombytes(np.ascontiguousarray(a, dtype="int64").tobytes())
    return out


def _call_starts(w: Workload, c_step: np.ndarray, c_esc: np.ndarray,
                 c_dur: np.ndarray) -> np.ndarray:
    """Start (ns) of each call. An escalation starts when its cheap call has finished, and
    every later call of its task starts that much later (the agent waited for the strong
    answer), so later calls can read what the escalation wrote to the cache."""
    import numpy as np

    start = w.l_start[c_step].copy()
    esc = np.flatnonzero(c_esc)
    if len(esc):
        kept = np.flatnonzero(~c_esc)
        pos = np.searchsorted(c_step[kept], c_step[esc])
        start[esc] = start[esc] + (c_dur[kept[pos]] * 1e6).astype("int64")
        delay = np.zeros(w.n_llm, dtype="int64")
        np.add.at(delay, c_step[esc], (c_dur[esc] * 1e6).astype("int64"))
        cs = np.cumsum(delay)
        first = w.task_llm_offset[w.l_task]
        before = cs - delay - (cs[first] - delay[first])  # earlier escalations of the task
        start = start + before[c_step]
    return np.asarray(start)


def _call_mechanics(ctx: Context, c_model: np.ndarray, c_provider: np.ndarray
                    ) -> tuple[list[Mechanics], np.ndarray, np.ndarray]:
    """The caching mechanics of each distinct (model, provider) of the calls, each call's index
    into them and each call's model code."""
    import numpy as np
    import pandas as pd

    mcode, muniq = pd.factorize(pd.Series(c_model, dtype=object), use_na_sentinel=False)
    prcode, pruniq = pd.factorize(pd.Series(c_provider, dtype=object), use_na_sentinel=False)
    pu, mi = np.unique(mcode.astype("int64") * (len(pruniq) + 1) + prcode, return_inverse=True)
    mi = mi.reshape(-1).astype("int64")
    mechs = []
    for k in pu.tolist():
        m, p = muniq[k // (len(pruniq) + 1)], pruniq[k% (len(pruniq) + 1)]
        mechs.append(ctx.mech(m if isinstance(m, str) else None,
                              p if isinstance(p, str) else None))
    return mechs, mi, mcode


def _call_ttls(ctx: Context, sc: Scenario, strategy: str, c_step: np.ndarray, mi: np.ndarray,
               mechs: list[Mechanics], variant: str) -> tuple[list[int], list[bool]]:
    """Each call's cache lifetime (ns) and whether it is Anthropic's 1h."""
    import numpy as np
    import pandas as pd

    from agentcost.simulation.cache import FOREVER_NS

    N = len(c_step)
    ttl_name = np.full(N, None, dtype=object)
    if sc.ttl is not None:
        ttl_name[:] = sc.ttl
    elif strategy == "observed":
        ttl_name[ctx.w.l_w1[c_step] > 0] = "1h"
    tcode, tuniq = pd.factorize(pd.Series(ttl_name, dtype=object), use_na_sentinel=False)
    combo = mi * (len(tuniq) + 1) + tcode
    cu, cinv = np.unique(combo, return_inverse=True)
    ttl_ns_u = np.zeros(len(cu), dtype="int64")
    is1h_u = np.zeros(len(cu), dtype=bool)
    for g, k in enumerate(cu):
        mech = mechs[int(k) // (len(tuniq) + 1)]
        tname = tuniq[int(k)% (len(tuniq) + 1)]
        used, secs = mech.ttl_seconds(tname if isinstance(tname, str) else None, variant)
        ttl_ns_u[g] = FOREVER_NS if secs is None else int(secs * 1e9)
        is1h_u[g] = used == "1h"
    # a list of the few distinct lifetimes' int objects: every cache entry shares them
    lifetimes = ttl_ns_u.tolist()
    return [lifetimes[g] for g in cinv.reshape(-1).tolist()], is1h_u[cinv.reshape(-1)].tolist()


def _observed_breakpoints(ob: tuple[int, ...], n: int, on: int, o_s: int, s_end: int) -> tuple[int, ...]:
    """The trace's breakpoint pattern (stable end, last block) carried to an edited prompt or
    another model."""
    last = n - 1
    pat = set()
    for b in ob:
        if b == on - 1:
            pat.add(last)
        elif b == o_s and s_end >= 0:
            pat.add(s_end)
    return tuple(sorted(pat)) or (last,)


def _breakpoints(w: Workload, strategy: str, i: int, n: int, roles: Ints, edited: bool,
                 same_model: bool, maxbp: int, cache_used: bool) -> tuple[int, ...]:
    """Breakpoints of a call (Anthropic / OpenAI explicit) under ``strategy``."""
    last = n - 1
    if strategy == "auto":
        return (last,)
    s_end = w.l_stable[i] if not edited else stable_end(roles, n)
    if strategy == "stable":
        return (s_end,) if s_end >= 0 else ()
    if strategy == "stable+last":
        return (s_end, last) if 0 <= s_end < last else (last,)
    if strategy == "observed":
        ob = w.obs_bps[i]
        if ob is not None and not edited and same_model:
            return tuple(b for b in ob if b < n)[-maxbp:]
        if ob is not None:
            return _observed_breakpoints(ob, n, w.nblocks[i], w.l_stable[i], s_end)
        if cache_used:
            return (last,)
    return ()


def _call_prompts(w: Workload, strategy: str, c_step: np.ndarray, c_model: np.ndarray,
                  c_ratio: np.ndarray, kinds: list[int], mil: list[int], mechs: list[Mechanics],
                  edited: dict[int, tuple[Ints, Ints, Ints]]) -> tuple[list[Any], ...]:
    """Each call's prompt (prefix ids, cumulative tokens in its model's tokens, block count,
    roles) and breakpoints. The arrays are the workload's own (or the edited prompt's), not
    copies; a prompt in another tokenizer is scaled once per (token array, ratio) and shared by
    every call whose prompt is a prefix of it."""
    pids: list[Ints] = []
    cums: list[Ints] = []
    nbs: list[int] = []
    roles_l: list[Ints] = []
    bps_l: list[tuple[int, ...]] = []
    scaled: dict[tuple[int, float], Ints] = {}
    shared_bps: dict[tuple[int, ...], tuple[int, ...]] = {}
    models = c_model.tolist()
    used = w.task_cache_used[w.l_task[c_step]].tolist()
    maxbp = [m.max_breakpoints for m in mechs]
    for j, (i, r) in enumerate(zip(c_step.tolist(), c_ratio.tolist(), strict=True)):
        ed = edited.get(i) if edited else None
        if ed is not None:
            pid, cum, roles = ed
            n = len(pid)
        else:
            ch, n, cum = w.prompt(i)
            pid, roles = ch.pid, ch.role
        if r != 1.0:
            key = (id(cum), r)
            sc = scaled.get(key)
            if sc is None:
                sc = scaled[key] = array("q", [int(x * r + 0.5) for x in cum])
            cum = sc
        pids.append(pid)
        cums.append(cum)
        nbs.append(n)
        roles_l.append(roles)
        bps: tuple[int, ...] = ()
        if n and (kinds[j] == 1 or kinds[j] == 2):
            bps = _breakpoints(w, strategy, i, n, roles, ed is not None,
                               models[j] == w.l_model[i], maxbp[mil[j]], used[j])
            bps = shared_bps.setdefault(bps, bps)  # one tuple per distinct placement
        bps_l.append(bps)
    return pids, cums, nbs, roles_l, bps_l


def build_calls(ctx: Context, sc: Scenario, strategy: str, c_step: np.ndarray,
                 c_esc: np.ndarray, c_model: np.ndarray, c_provider: np.ndarray,
                 c_ratio: np.ndarray, c_dur: np.ndarray, c_batch: np.ndarray,
                 edited: dict[int, tuple[Ints, Ints, Ints]],
                 variant: str) -> Calls:
    """Everything the replay needs per call, as plain lists and int arrays (the replay loop is
    pure Python; an array holds a number in 8 bytes, a list of ints ~40)."""
    import numpy as np

    from agentcost.simulation.cache import KIND_CODES

    w = ctx.w
    N = len(c_step)
    mechs, mi, mcode = _call_mechanics(ctx, c_model, c_provider)
    ws_code = ctx.workspace_codes()[w.l_task[c_step]]
    store_key = ws_code * (int(mcode.max()) + 2 if N else 1) + mcode
    ttl_ns, is1h = _call_ttls(ctx, sc, strategy, c_step, mi, mechs, variant)
    kinds = np.array([KIND_CODES[m.kind] for m in mechs], dtype="int64")[mi] if N else \
        np.zeros(0, dtype="int64")
    # times
    starts = _call_starts(w, c_step, c_esc, c_dur)
    tt = w.l_ttft[c_step]
    moved = c_esc | (c_model != w.l_model[c_step]) | np.isnan(tt)
    vis = starts + (np.where(moved, c_dur, np.nan_to_num(tt)) * 1e6).astype("int64")
    kl = kinds.tolist()
    mil = mi.tolist()
    pids, cums, nbs, roles_l, bps_l = _call_prompts(w, strategy, c_step, c_model, c_ratio, kl,
                                                    mil, mechs, edited)
    return Calls(
        start=int_array(starts), vis=int_array(vis), store=int_array(store_key), mechs=mechs,
        mi=mil, kind=kl, min_tokens=[mechs[k].min_tokens for k in mil],
        ttl_ns=ttl_ns, is1h=is1h, pid=pids, cum=cums,
        nb=nbs, roles=roles_l, bps=bps_l, batch=np.asarray(c_batch, dtype=bool).tolist())
