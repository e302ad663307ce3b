"""Prompt edits (stage 5 of :func:`agentcost.simulation.engine.run`): trimming, capped answers,
tool results reused from a tool-result cache and the context levers of
:mod:`agentcost.simulation.context`, applied block by block to each kept step's prompt; and the
response cache (5b), which needs the edited prompts' final prefix ids.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from agentcost.simulation.context import Blocks
from agentcost.simulation.shared import Plan
from agentcost.simulation.workload import R_ASSISTANT, R_TOOL, R_TURN, Ints, Workload, chain_ids

if TYPE_CHECKING:
    import numpy as np


def _dropped_tools(w: Workload, t_dropped: np.ndarray) -> tuple[dict[int, dict[int, set[int]]],
                                                                  dict[int, dict[int, int]]]:
    """Per task and turn: the ordinals of the tool results not put into the context again, and
    their tokens (the turn's growth shared evenly by its tool results)."""
    import numpy as np

    drop_by: dict[int, dict[int, set[int]]] = {}
    drop_tok: dict[int, dict[int, int]] = {}
    n_in_turn: dict[tuple[int, int], int] = {}
    for tt_, kk_ in zip(w.t_task.tolist(), w.t_turn.tolist(), strict=True):
        n_in_turn[(tt_, kk_)] = n_in_turn.get((tt_, kk_), 0) + 1
    for j in np.flatnonzero(t_dropped):
        t, k = int(w.t_task[j]), int(w.t_turn[j])
        drop_by.setdefault(t, {}).setdefault(k, set()).add(int(w.t_ord[j]))
        base = int(w.task_llm_offset[t]) + k
        if k + 1 < int(w.task_n_llm[t]):
            grow = int(w.l_inp[base + 1] - w.l_inp[base] - w.l_out[base])
            per = max(grow, 0) // max(n_in_turn.get((t, k), 1), 1)
            d = drop_tok.setdefault(t, {})
            d[k] = d.get(k, 0) + per
    return drop_by, drop_tok


def _edit_tasks(p: Plan, ce: Any) -> np.ndarray:
    """Tasks whose prompts an edit may change."""
    import numpy as np

    w, sc, T = p.ctx.w, p.sc, p.ctx.w.n_tasks
    edit_tasks = np.zeros(T, dtype=bool)
    if sc.max_output_tokens is not None:
        edit_tasks |= np.bincount(w.l_task[p.cut_src > 0], minlength=T) > 0
    if p.t_dropped.any():
        edit_tasks |= np.bincount(w.t_task[p.t_dropped], minlength=T) > 0
    if sc.trim_history is not None or ce is not None:
        edit_tasks[:] = True
    return edit_tasks


def _apply_edits(p: Plan, edit_tasks: np.ndarray, ce: Any) -> tuple[int, int]:
    """Edit the prompts of the kept steps of ``edit_tasks`` into ``p.edited``; returns the
    tokens removed and the steps trimmed."""
    import numpy as np

    w, trim_n = p.ctx.w, p.sc.trim_history
    cut_by: dict[int, dict[int, int]] = {}
    for ci in np.flatnonzero((p.cut_src > 0) & edit_tasks[w.l_task]).tolist():
        cut_by.setdefault(int(w.l_task[ci]), {})[int(w.l_k[ci])] = int(p.cut_src[ci])
    drop_by, drop_tok = _dropped_tools(w, p.t_dropped) if p.t_dropped.any() else ({}, {})
    tokens_removed = 0
    steps_trimmed = 0
    chains, nblocks = w.chains, w.nblocks
    for i in np.flatnonzero(p.keep & edit_tasks[w.l_task]).tolist():
        t = int(w.l_task[i])
        cb, db, dt = cut_by.get(t), drop_by.get(t), drop_tok.get(t)
        if cb is None and db is None and dt is None and ce is None:
            # trimming only: nothing to do while the prompt holds at most N turns
            n = nblocks[i]
            if not n or trim_n is None or chains[i].turn[n - 1] - trim_n < 1:
                continue
        res = _edit_prompt(w, i, trim_n, cb, db, dt, ce.edit if ce is not None else None)
        if res is None:
            continue
        pid, cum, roles, trimmed = res
        ch, n, ocum = w.prompt(i)
        if pid == ch.pid[:n] and cum == ocum[:n]:
            continue
        p.edited[i] = (pid, cum, roles)
        tokens_removed += (ocum[n - 1] if n else 0) - (cum[-1] if cum else 0)
        steps_trimmed += trimmed
    return tokens_removed, steps_trimmed


def prompt_edits(p: Plan) -> None:
    """5. prompt edits."""
    import numpy as np

    from agentcost.simulation.context import ContextEditor, edits_context

    w, sc, det = p.ctx.w, p.sc, p.det
    p.cut_src = np.where(w.l_last, 0, p.cut_src)  # a final answer is in no later prompt
    ce = ContextEditor(w, sc) if edits_context(sc) else None
    edit_tasks = _edit_tasks(p, ce)
    p.edited = {}  # llm step -> (prompt ids, cumulative tokens, roles)
    tokens_removed = steps_trimmed = 0
    if edit_tasks.any():
        tokens_removed, steps_trimmed = _apply_edits(p, edit_tasks, ce)
    if sc.trim_history is not None:
        det["trim_history"] = {"turns_kept": sc.trim_history, "steps_trimmed": steps_trimmed}
    if p.edited:
        det["prompt_tokens_removed"] = int(tokens_removed)
    if ce is not None:
        det["context"] = ce.details(int((~w.l_has_segments & p.keep).sum()))
        p.summaries = ce.summaries


def response_cache(p: Plan) -> None:
    """5b. response cache: requests answered before are not sent (context levers)."""
    import numpy as np

    w, sc = p.ctx.w, p.sc
    p.served = np.zeros(w.n_llm, dtype=bool)
    if not sc.response_cache:
        return
    from agentcost.simulation.context import served_from_cache

    final: list[int | None] = []
    for i in range(w.n_llm):
        ed = p.edited.get(i)
        n = w.nblocks[i]
        final.append(None if not w.l_has_segments[i] or not n else
                     (ed[0][-1] if ed is not None and ed[0] else w.chains[i].pid[n - 1]))
    near = None
    if sc.similarity == "near":
        from agentcost.simulation.near import near_groups

        near, p.det["response_cache_near"] = near_groups(w, sc.near_threshold)
    p.served = served_from_cache(w, sc, p.keep, final, p.ctx.workspace_codes(), near)
    p.det["response_cache"] = {
        "similarity": sc.similarity, "calls_served": int(p.served.sum()),
        "input_tokens_not_sent": int(w.l_inp[p.served].sum()),
        "output_tokens_not_generated": int(w.l_out[p.served].sum()),
        "seconds_saved": round(float(w.l_dur[p.served].sum()) / 1000.0, 3),
        "calls_without_segments": int((~w.l_has_segments & p.keep).sum()),
    }


def _edited_block(seg: bool, r: int, t: int, h: int, tk: int, step_k: int,
                  cut: dict[int, int] | None, drop_tok: dict[int, int] | None) -> tuple[int, int]:
    """(tokens, content hash) of one block after capped answers and, without segments, the
    tokens of reused tool results."""
    if seg:
        if r == R_ASSISTANT and cut and step_k in cut:
            c = min(cut[step_k], tk)
            if c:
                return tk - c, hash((h, "cap", c))
        return tk, h
    if r == R_TURN and t >= 1:
        c = (cut.get(step_k, 0) if cut else 0) + (drop_tok.get(step_k, 0) if drop_tok else 0)
        c = min(c, tk)
        if c:
            return tk - c, hash((h, "edit", c))
    return tk, h


def _trim(blocks: Blocks, trim_n: int | None) -> tuple[list[int], list[int], list[int], int]:
    """Blocks after keeping the stable prefix and the last ``trim_n`` turns: (hashes, tokens,
    roles, 1 if blocks were removed)."""
    hs, toks, roles, turns = blocks
    if trim_n is not None and turns:
        tmax = turns[-1]
        if tmax - trim_n >= 1:
            keep = [j for j in range(len(turns)) if turns[j] == 0 or turns[j] > tmax - trim_n]
            if len(keep) < len(turns):
                return ([hs[j] for j in keep], [toks[j] for j in keep],
                        [roles[j] for j in keep], 1)
    return hs, toks, roles, 0


def _edit_prompt(w: Workload, i: int, trim_n: int | None, cut: dict[int, int] | None,
                 drops: dict[int, set[int]] | None, drop_tok: dict[int, int] | None,
                 ctx_edit: Callable[[int, Blocks], Blocks] | None = None
                 ) -> tuple[Ints, Ints, Ints, int] | None:
    """The prompt of llm step ``i`` after trimming / capped answers / reused tool results /
    the context levers (``ctx_edit``, before trimming): (prefix ids, cumulative tokens, roles,
    1 if trimming removed blocks)."""
    ch, n, cum = w.prompt(i)
    if n == 0:
        return None
    k0 = ch.k0
    hs: list[int] = []
    toks: list[int] = []
    roles: list[int] = []
    turns: list[int] = []
    tool_ord = -1
    cur_turn = -1
    prev = 0
    for j in range(n):
        tk = cum[j] - prev
        prev = cum[j]
        r = ch.role[j]
        t = ch.turn[j]
        if t != cur_turn:
            cur_turn = t
            tool_ord = -1
        step_k = k0 + t - 1  # the llm call whose output opens this turn
        if ch.seg and r == R_TOOL:
            tool_ord += 1
            if drops and step_k in drops and tool_ord in drops[step_k]:
                continue
        tk, h = _edited_block(ch.seg, r, t, ch.h[j], tk, step_k, cut, drop_tok)
        hs.append(h)
        toks.append(tk)
        roles.append(r)
        turns.append(t)
    blocks: Blocks = (hs, toks, roles, turns)
    if ctx_edit is not None:
        blocks = ctx_edit(i, blocks)
    hs, toks, roles, trimmed = _trim(blocks, trim_n)
    return (array("q", chain_ids(hs)), array("q", accumulate(toks)), array("b", roles),
            trimmed)
