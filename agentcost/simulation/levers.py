"""The levers that decide which calls run and on which model (stages 1-4 of
:func:`agentcost.simulation.engine.run`): loop caps, tool-result caching, the model cascade
(role rule, tokenizer ratios, escalations) and the output cap. The rules are stated in the
docstring of :mod:`agentcost.simulation.engine`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentcost.simulation.shared import Plan, escalation_rate_for
from agentcost.simulation.tokenizers import ratio as tok_ratio

if TYPE_CHECKING:
    import numpy as np


def loop_caps(p: Plan) -> None:
    """1. loop caps."""
    import numpy as np

    w, sc, L = p.ctx.w, p.sc, p.ctx.w.n_llm
    T = p.ctx.w.n_tasks
    p.keep = np.ones(L, dtype=bool)
    if sc.max_iterations is not None:
        p.keep &= w.l_k < sc.max_iterations
    if sc.token_budget is not None and L:
        tok = w.l_inp + w.l_out
        cs = np.cumsum(tok)
        off = w.task_llm_offset[w.l_task]
        before_task = cs[off] - tok[off]
        spent_before = cs - tok - before_task
        p.keep &= spent_before < sc.token_budget
    n_kept = np.bincount(w.l_task[p.keep], minlength=T)
    p.cut = n_kept < w.task_n_llm
    p.last_kept = n_kept - 1
    p.tool_keep = ~p.cut[w.t_task] | (w.t_turn < p.last_kept[w.t_task])


def tool_result_cache(p: Plan) -> None:
    """2. tool-result caching."""
    import numpy as np
    import pandas as pd

    w, sc, det = p.ctx.w, p.sc, p.det
    p.NT = len(w.t_task)
    p.t_cached = np.zeros(p.NT, dtype=bool)  # served from the cache (latency saved)
    p.t_dropped = np.zeros(p.NT, dtype=bool)  # ... within its task (tokens saved too)
    if sc.tool_cache and p.NT:
        has = np.array([h is not None for h in w.t_hash], dtype=bool) & p.tool_keep
        sel = np.flatnonzero(has)
        if len(sel):
            kdf = pd.DataFrame({"t": w.t_task[sel], "n": w.t_name[sel], "h": w.t_hash[sel]})
            dup = kdf.duplicated(keep="first").to_numpy()
            p.t_dropped[sel[dup]] = True
            p.t_cached[sel[dup]] = True
            if sc.tool_cache_ttl_s is not None:
                ttl_ns = int(sc.tool_cache_ttl_s * 1e9)
                avail: dict[tuple[Any, Any], int] = {}
                for j in sel[np.argsort(w.t_start[sel], kind="stable")]:
                    key = (w.t_name[j], w.t_hash[j])
                    s0 = int(w.t_start[j])
                    a = avail.get(key)
                    if a is not None and a <= s0 <= a + ttl_ns and not p.t_cached[j]:
                        p.t_cached[j] = True
                        continue
                    if not p.t_cached[j]:
                        avail[key] = int(w.t_end[j])
        det["tool_cache"] = {
            "repeated_in_task": int(p.t_dropped.sum()),
            "reused_across_tasks": int((p.t_cached & ~p.t_dropped).sum()),
            "seconds_saved": round(float(w.t_dur[p.t_cached].sum()) / 1000.0, 3),
            "tool_calls_without_fingerprint": int((np.array(
                [h is None for h in w.t_hash], dtype=bool) & p.tool_keep).sum()),
        }


def _cascade_roles(p: Plan) -> np.ndarray:
    """Steps the cascade gives the cheap model (the role rule of the module docstring)."""
    import numpy as np

    w, st, sc = p.ctx.w, p.ctx.st, p.sc
    role_cheap = w.l_has_tools.copy()
    short = (w.l_out <= st.short_output_tokens) & ~w.l_last & ~w.l_has_tools
    role_cheap |= short
    rm = sc.role_map
    if rm:
        for nm, role in rm.items():
            hit = w.l_name == nm
            role_cheap = np.where(hit, role == "cheap", role_cheap)
    return np.asarray(role_cheap)


def _tokenizer_ratios(p: Plan, strong_m: str) -> tuple[dict[tuple[Any, str], float], set[str]]:
    """Token-count ratios from each step's model to its cascade model and to the strong model
    (``p.ratio``, ``p.strong_ratio``); returns the pairs used and those without tokenizer data."""
    import numpy as np

    w, ctx, vi = p.ctx.w, p.ctx, p.vi
    pair_ratio: dict[tuple[Any, str], float] = {}
    unknown_tok: set[str] = set()

    def rat(src: Any, dst: str) -> float:
        k = (src, dst)
        if k not in pair_ratio:
            rs, rdst = ctx.rule(src), ctx.rule(dst)
            ts = rs.tokenizer if rs is not None else None
            td = rdst.tokenizer if rdst is not None else None
            rr = tok_ratio(ts, td) if src != dst else (1.0, 1.0, 1.0)
            if rr is None:
                unknown_tok.add(f"{src} → {dst}")
                pair_ratio[k] = 1.0
            else:
                pair_ratio[k] = rr[vi]
        return pair_ratio[k]

    p.ratio = np.array([rat(s, d) for s, d in zip(w.l_model, p.model, strict=True)])
    p.strong_ratio = np.array([rat(s, strong_m) for s in w.l_model])
    return pair_ratio, unknown_tok


def _escalate(p: Plan, role_cheap: np.ndarray) -> float:
    """Mark the escalated cheap steps (``p.esc``); returns the escalation rate used."""
    import numpy as np

    rate = escalation_rate_for(p.sc, p.variant)
    cheap_kept = np.flatnonzero(role_cheap & p.keep)
    if rate > 0 and len(cheap_kept):
        # the first rate x n cheap steps of one fixed ranking: the steps escalated at a
        # rate are a subset of those escalated at any higher rate
        n_esc = int(np.floor(len(cheap_kept) * rate + 1e-9))
        order = np.argsort(p.ctx.escalation_rank()[cheap_kept], kind="stable")
        p.esc[cheap_kept[order[:n_esc]]] = True
    return rate


def model_cascade(p: Plan) -> None:
    """3. cascade."""
    import numpy as np

    w, sc, ctx = p.ctx.w, p.sc, p.ctx
    L = w.n_llm
    p.model = w.l_model
    p.provider = w.l_provider
    p.ratio = np.ones(L)
    p.esc = np.zeros(L, dtype=bool)
    p.strong_ratio = np.ones(L)
    if sc.cascade is None or not L:
        return
    cheap_m, strong_m = sc.cascade
    role_cheap = _cascade_roles(p)
    p.model = np.where(role_cheap, cheap_m, strong_m).astype(object)
    prov_of = {}
    for m in (cheap_m, strong_m):
        r = ctx.rule(m)
        prov_of[m] = r.provider if r is not None else None
    p.provider = np.array([prov_of[m] or pv for m, pv in zip(p.model, w.l_provider, strict=True)],
                          dtype=object)
    pair_ratio, unknown_tok = _tokenizer_ratios(p, strong_m)
    rate = _escalate(p, role_cheap)
    used = {f"{s} → {d}": round(r, 3) for (s, d), r in pair_ratio.items()
            if s is not None and s != d}
    p.det["cascade"] = {
        "cheap": cheap_m, "strong": strong_m,
        "aliases": {g: m for g, m in zip(sc.cascade_given or (), sc.cascade, strict=False)
                    if g != m},
        "cheap_steps": int((role_cheap & p.keep).sum()),
        "strong_steps": int((~role_cheap & p.keep).sum()),
        "escalation_rate": rate, "escalated_steps": int(p.esc.sum()),
        "escalation_source": sc.escalation_source,
        "tokenizer_ratios": used,
    }
    if unknown_tok:
        p.notes.append("No tokenizer data for " + ", ".join(sorted(unknown_tok))
                       + ": token counts carried over unchanged.")


def output_cap(p: Plan) -> None:
    """4. output cap."""
    import numpy as np

    w, sc, L = p.ctx.w, p.sc, p.ctx.w.n_llm
    det = p.det
    p.out_new = np.rint(w.l_out * p.ratio).astype("int64") if sc.cascade else w.l_out.copy()
    p.cut_src = np.zeros(L, dtype="int64")  # output tokens (source tokenizer) cut from each step
    if sc.max_output_tokens is not None:
        cap = sc.max_output_tokens
        capped = p.out_new > cap
        p.cut_src = np.where(capped, np.maximum(w.l_out - np.floor(cap / p.ratio), 0),
                           0).astype("int64")
        det["max_output_tokens"] = {"steps_capped": int((capped & p.keep).sum()),
                                    "output_tokens_saved": int(
                                        (p.out_new - np.minimum(p.out_new, cap))[p.keep].sum())}
        p.out_new = np.minimum(p.out_new, cap)
