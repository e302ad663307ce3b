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
* Latency: an llm call's duration changes with its prefill (TTFT scaled by the change in
  prefill work, a cached token counting a tenth of an uncached one; no TTFT → no prefill change)
  and its generation (scaled with output tokens). A call moved to another model takes that
  model's observed median TTFT and time per output token when the trace has it, else its own
  duration scaled by tier (cheap 0.5x, mid 1x, strong 1.5x). Batched calls take the batch window.
  Task latency = observed wall time + the changes of its calls and tool turns.
"""

from __future__ import annotations

import fnmatch
import math
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from agentcost.simulation.cache import Calls, Mechanics, mechanics_for, replay
from agentcost.simulation.context import Blocks
from agentcost.simulation.scenario import Scenario, Settings
from agentcost.simulation.tokenizers import ratio as tok_ratio
from agentcost.simulation.workload import (
    HOUR_NS,
    R_ASSISTANT,
    R_TOOL,
    R_TURN,
    Ints,
    Workload,
    chain_ids,
    stable_end,
)

if TYPE_CHECKING:
    import numpy as np

    from agentcost.config import Config

PREFILL_CACHED_WEIGHT = 0.1
TIER_SPEED = {"cheap": 0.5, "mid": 1.0, "strong": 1.5}
VARIANTS = ("expected", "optimistic", "pessimistic")
ESCALATION_SEED = 20_260_414  # fixed: the same steps escalate in every run of the same trace


@dataclass
class Figures:
    """Result of one scenario run (totals plus per-task vectors and lever details)."""

    cost_usd: float
    cost_is_lower_bound: bool
    unpriced_calls: int
    cache_unknown_calls: int  # calls whose trace reports no cache figures (counted as 0 reads)
    partial_usage_calls: int  # calls reporting only input or only output tokens
    no_usage_calls: int  # calls without any usage (unknown cost; failed calls excluded)
    input_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cache_write_1h_tokens: int
    output_tokens: int
    llm_calls: int
    tasks: int
    task_cost: np.ndarray
    task_latency_s: np.ndarray
    tasks_cut: int = 0
    cut_cost_usd: float = 0.0
    replayed: bool = False
    details: dict[str, Any] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def cache_hit_ratio(self) -> float | None:
        """Cache reads / input; None when no call's cache reads are known."""
        if not self.input_tokens or self.cache_unknown_calls >= self.llm_calls:
            return None
        return self.cache_read_tokens / self.input_tokens

    def latency(self, q: float) -> float | None:
        import numpy as np

        v = self.task_latency_s[~np.isnan(self.task_latency_s)]
        return float(np.quantile(v, q)) if len(v) else None


class Context:
    """Per-run caches shared by every scenario of one :func:`simulate` call."""

    def __init__(self, w: Workload, settings: Settings, config: Config | None) -> None:
        from agentcost.pricing import Pricer

        self.w = w
        self.st = settings
        self.pricer = Pricer(config)
        self._mech: dict[tuple[str | None, str | None], Mechanics] = {}
        self._rule: dict[str, Any] = {}
        self._ws: list[Any] | None = None
        self._ws_codes: np.ndarray | None = None
        self._ref: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._ref_steps: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._ref_fig: Figures | None = None
        self._esc_rank: np.ndarray | None = None

    def reference(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cache reads and 5m/1h writes per llm step when the unchanged trace is replayed with
        its observed breakpoint placement. A scenario call whose simulated figures equal these
        keeps the figures the trace reports: the simulator's error on calls a scenario does not
        touch cancels out, and only the calls it changes are simulated."""
        if self._ref is None:
            self._ref_fig = run(self, Scenario(name="reference"), force_replay=True, raw=True)
            self._ref = self._ref_steps
        assert self._ref is not None
        return self._ref

    def reference_figures(self) -> Figures:
        self.reference()
        assert self._ref_fig is not None
        return self._ref_fig

    def escalation_rank(self) -> np.ndarray:
        """A fixed pseudo-random rank of every llm step (seed ``ESCALATION_SEED``): which
        cheap steps a cascade escalates, the same for every rate and every run."""
        import numpy as np

        if self._esc_rank is None:
            rng = np.random.default_rng(ESCALATION_SEED)
            self._esc_rank = rng.permutation(self.w.n_llm)
        return self._esc_rank

    def mech(self, model: str | None, provider: str | None) -> Mechanics:
        k = (model, provider)
        m = self._mech.get(k)
        if m is None:
            m = self._mech[k] = mechanics_for(model, provider, self.st.provider_rules)
        return m

    def rule(self, model: str | None) -> Any:
        if not model:
            return None
        if model not in self._rule:
            from agentcost.rules import rule_for

            self._rule[model] = rule_for(model)
        return self._rule[model]

    def workspace_codes(self) -> np.ndarray:
        """Workspace of each task as an integer code (tasks of one code share caches)."""
        import numpy as np
        import pandas as pd

        if self._ws_codes is None:
            codes, _ = pd.factorize(pd.Series([self.workspace(t) for t in range(self.w.n_tasks)],
                                              dtype=object), use_na_sentinel=False)
            self._ws_codes = np.asarray(codes, dtype="int64")
        return self._ws_codes

    def workspace(self, task: int) -> Any:
        if self._ws is None:
            w = self.w
            mode = self.st.workspace
            if mode == "shared":
                self._ws = [0] * w.n_tasks
            elif mode == "source":
                self._ws = [str(s) for s in w.task_source]
            elif mode == "session":
                self._ws = [str(s) if s is not None and s == s else w.task_ids[t]
                            for t, s in enumerate(w.task_session)]
            else:
                self._ws = list(w.task_ids)
        return self._ws[task]


# ---------------------------------------------------------------------------------- pricing


def _hour_iso(h: int) -> str | None:
    if h < 0:
        return None
    from datetime import UTC, datetime

    return datetime.fromtimestamp(h * HOUR_NS / 1e9, tz=UTC).isoformat()


def _str_or_none(v: Any) -> str | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def _price_groups(model: np.ndarray, provider: np.ndarray, tier: np.ndarray, hour: np.ndarray
                  ) -> tuple[np.ndarray, list[tuple[str, str | None, str | None, str | None] | None]]:
    """Each call's group of equal (model, provider, tier, hour) and per group those values as
    the pricer takes them (None: no model)."""
    import numpy as np
    import pandas as pd

    n = len(model)
    cm, um = pd.factorize(pd.Series(model, dtype=object), use_na_sentinel=False)
    cp, up = pd.factorize(pd.Series(provider, dtype=object), use_na_sentinel=False)
    ct, ut = pd.factorize(pd.Series(tier, dtype=object), use_na_sentinel=False)
    ch, uh = pd.factorize(hour)
    key = ((cm.astype("int64") * (len(up) + 1) + cp) * (len(ut) + 1) + ct) * (len(uh) + 1) + ch
    uk, inv = np.unique(key, return_inverse=True)
    inv = inv.reshape(-1)
    first = np.zeros(len(uk), dtype="int64")
    first[inv[::-1]] = np.arange(n)[::-1]
    groups: list[tuple[str, str | None, str | None, str | None] | None] = []
    for r0 in first:
        m = _str_or_none(um[cm[r0]])
        groups.append(None if m is None else
                      (m, _str_or_none(up[cp[r0]]), _str_or_none(ut[ct[r0]]),
                       _hour_iso(int(uh[ch[r0]]))))
    return inv, groups


def _group_rates(ctx: Context, groups: list[tuple[str, str | None, str | None, str | None] | None],
                 notes: list[str] | None) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """Per group: the rates (uncached, read, 5m write, 1h write, output; NaN: unknown), the
    long-context threshold and the rates to price over it with (None: no threshold)."""
    import numpy as np

    from agentcost.pricing import Rates

    G = len(groups)
    rates_g = np.full((5, G), np.nan)
    thr = np.full(G, np.iinfo(np.int64).max, dtype="int64")
    meta: list[Rates | None] = [None] * G
    for g, grp in enumerate(groups):
        if grp is None:
            continue
        rates = ctx.pricer.rates(*grp)
        if rates is None:
            continue
        if notes is not None and rates.tier_note and rates.tier_note not in notes:
            notes.append(rates.tier_note)
        rates_g[:, g] = (rates.uncached, rates.cache_read, rates.cache_write_5m,
                         rates.cache_write_1h, rates.output)
        if rates.tier_threshold is not None and rates.source == "genai-prices":
            thr[g] = rates.tier_threshold
            meta[g] = rates
    return rates_g, thr, meta


def price_calls(ctx: Context, model: np.ndarray, provider: np.ndarray, tier: np.ndarray,
                hour: np.ndarray, unc: np.ndarray, rd: np.ndarray, w5: np.ndarray,
                w1: np.ndarray, out: np.ndarray, reported: np.ndarray, usage: np.ndarray,
                notes: list[str] | None = None) -> np.ndarray:
    """Cost per call at the prices of (model, provider, tier, hour) — the same rates and
    long-context handling as :func:`agentcost.pricing.price_frame`. Unknown model: the trace's
    reported cost (scaled by the caller) or NaN. How a service tier was priced before the price
    data's tier dates is appended to ``notes``."""
    import numpy as np

    from agentcost.pricing import exact_cost

    n = len(model)
    cost = np.full(n, np.nan)
    if n == 0:
        return cost
    inv, groups = _price_groups(model, provider, tier, hour)
    rates_g, thr, meta = _group_rates(ctx, groups, notes)
    ru, rr, r5, r1, ro = rates_g
    cost = (unc * ru[inv] + rd * rr[inv] + w5 * r5[inv] + w1 * r1[inv] + out * ro[inv])
    inp = unc + rd + w5 + w1
    for r in np.flatnonzero(inp > thr[inv]):
        mt = meta[inv[r]]
        assert mt is not None
        total, _ = exact_cost(mt, {
            "input": int(inp[r]), "output": int(out[r]), "read": int(rd[r]),
            "w5": int(w5[r]), "w1": int(w1[r])})
        cost[r] = total
    unknown = np.isnan(ru[inv])
    cost = np.where(unknown, reported, cost)
    cost = np.where(usage, cost, np.nan)
    return np.asarray(cost, dtype="float64")


# ------------------------------------------------------------------------------- the run


def escalation_rate_for(sc: Scenario, variant: str) -> float:
    r = sc.escalation_rate
    if variant == "expected" or sc.cascade is None:
        return r
    lo, hi = sc.escalation_range or (r / 2.0, min(1.0, r + max(r, 0.1)))
    return lo if variant == "optimistic" else hi


@dataclass
class Plan:
    """What one scenario run builds up, stage by stage (:func:`run`). Per llm step (1-5):
    ``keep``, ``model``, ``provider``, ``ratio``, ``esc``, ``strong_ratio``, ``out_new``,
    ``cut_src``; per tool step: ``tool_keep``, ``t_cached``, ``t_dropped``; per task: ``cut``,
    ``last_kept``; prompts edited: ``edited``; per simulated call (6-8): the ``c_*`` arrays."""

    ctx: Context
    sc: Scenario
    variant: str = "expected"
    force_replay: bool = False
    raw: bool = False
    det: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warns: list[str] = field(default_factory=list)
    N: Any = None
    NT: Any = None
    batch_task: Any = None
    c_batch: Any = None
    c_dur: Any = None
    c_esc: Any = None
    c_inp: Any = None
    c_model: Any = None
    c_out: Any = None
    c_provider: Any = None
    c_ratio: Any = None
    strategy: str = "observed"
    c_rd: Any = None
    c_step: Any = None
    c_task: Any = None
    c_unc: Any = None
    c_unknown: Any = None
    c_w1: Any = None
    c_w5: Any = None
    cut: Any = None
    cut_src: Any = None
    edited: Any = None
    esc: Any = None
    keep: Any = None
    last_kept: Any = None
    lat: Any = None
    model: Any = None
    out_new: Any = None
    passthrough: Any = None
    provider: Any = None
    ratio: Any = None
    strong_ratio: Any = None
    t_cached: Any = None
    t_dropped: Any = None
    tool_keep: Any = None
    served: Any = None  # llm steps a response cache answers (context levers)
    summaries: Any = None  # summarising calls compaction adds

    @property
    def vi(self) -> int:
        """Index of the variant into (optimistic, expected, pessimistic) ratio triples."""
        return {"optimistic": 0, "expected": 1, "pessimistic": 2}[self.variant]


def run(ctx: Context, sc: Scenario, variant: str = "expected",
        force_replay: bool = False, raw: bool = False) -> Figures:
    """Simulate ``sc``. ``force_replay`` replays the cache even when nothing changed;
    ``raw`` skips the calibration to observed figures (see :meth:`Context.reference`).
    The levers apply in the order of the module docstring, one stage each."""
    p = Plan(ctx, sc, variant, force_replay, raw)
    for stage in (_loop_caps, _tool_cache, _cascade, _output_cap, _prompt_edits,
                  _response_cache, _calls, _cache, _latency):
        stage(p)
    return _pricing(p)


def _loop_caps(p: Plan) -> None:
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


def _tool_cache(p: Plan) -> None:
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


def _cascade(p: Plan) -> None:
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


def _output_cap(p: Plan) -> None:
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


def _prompt_edits(p: Plan) -> None:
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


def _response_cache(p: Plan) -> None:
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
    p.c_dur = _durations(ctx, p.c_step, p.c_esc, p.c_model, p.c_out, model_changed or nE > 0)

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
    calls = _build_calls(ctx, sc, strategy, p.c_step, p.c_esc, p.c_model, p.c_provider,
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
        ctx._ref_steps = (p.c_rd.copy(), p.c_w5.copy(), p.c_w1.copy())
    _cache_notes(ctx, calls, strategy, sc, p.notes, det)
    if not raw and st.calibrate and strategy != "off":
        ref_rd, ref_w5, ref_w1 = ctx.reference()
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
    _unknown_simulated(det, was_unknown & ~p.c_unknown & (strategy != "off"), p.c_model,
                       p.c_rd, w.l_inp[p.c_step])


def _latency(p: Plan) -> None:
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


def _pricing(p: Plan) -> Figures:
    """8. pricing."""
    import numpy as np

    w, sc, ctx = p.ctx.w, p.sc, p.ctx
    T, det, notes = p.ctx.w.n_tasks, p.det, p.notes
    warns = p.warns
    tier = w.l_tier[p.c_step].copy()
    if sc.batch:
        tier = np.where(p.c_batch, "batch", tier).astype(object)
    if p.passthrough:
        scale = np.ones(p.N)
    else:
        o_tot = (w.l_inp + w.l_out)[p.c_step].astype("float64")
        scale = np.where(o_tot > 0, (p.c_inp + p.c_out) / np.maximum(o_tot, 1), 1.0)
    reported = np.where(p.c_esc, np.nan, w.l_reported[p.c_step] * scale)
    tier_notes: list[str] = []
    c_cost = price_calls(ctx, p.c_model, p.c_provider, tier, w.l_hour[p.c_step], p.c_unc, p.c_rd, p.c_w5,
                         p.c_w1, p.c_out, reported, w.l_usage[p.c_step], tier_notes)
    if sc.batch and "batch" in det:
        _batch_prices(ctx, det["batch"], p.c_batch, c_cost, p.c_model, p.c_provider,
                      w.l_tier[p.c_step], w.l_hour[p.c_step], (p.c_unc, p.c_rd, p.c_w5, p.c_w1, p.c_out),
                      reported, w.l_usage[p.c_step])
    notes.extend(n for n in tier_notes if n not in notes)
    priced = ~np.isnan(c_cost)
    unpriced = int((~priced & w.l_usage[p.c_step]).sum())
    no_usage = int((~w.l_usage[p.c_step]).sum())
    partial = int(w.l_partial[p.c_step].sum())
    task_cost = np.bincount(p.c_task[priced], weights=c_cost[priced], minlength=T).astype("float64")
    total = float(c_cost[priced].sum())
    extra_in = extra_out = extra_calls = 0
    if p.summaries:
        extra_in, extra_out, extra_calls, unpriced_s, extra_cost = _summary_costs(p, task_cost)
        unpriced += unpriced_s
        total += extra_cost
    cut_n = int(p.cut.sum())
    if sc.max_iterations is not None or sc.token_budget is not None:
        cut_ids = [w.task_ids[t] for t in np.flatnonzero(p.cut)]
        det["loop_caps"] = {
            "tasks_cut": cut_n, "cut_tasks_cost_usd": round(float(task_cost[p.cut].sum()), 8),
            "llm_calls_dropped": int((~p.keep).sum()), "cut_task_ids": cut_ids[:10],
        }
    return Figures(
        cost_usd=total, cost_is_lower_bound=bool(unpriced or no_usage or partial),
        unpriced_calls=unpriced, partial_usage_calls=partial, no_usage_calls=no_usage,
        cache_unknown_calls=int((p.c_unknown & w.l_usage[p.c_step]).sum()),
        input_tokens=int(p.c_inp.sum()) + extra_in, cache_read_tokens=int(p.c_rd.sum()),
        cache_write_tokens=int((p.c_w5 + p.c_w1).sum()), cache_write_1h_tokens=int(p.c_w1.sum()),
        output_tokens=int(p.c_out.sum()) + extra_out, llm_calls=p.N + extra_calls, tasks=T,
        task_cost=task_cost,
        task_latency_s=p.lat, tasks_cut=cut_n, cut_cost_usd=float(task_cost[p.cut].sum()),
        replayed=not p.passthrough, details=det, assumptions=notes, warnings=warns,
    )


def _summary_costs(p: Plan, task_cost: np.ndarray) -> tuple[int, int, int, int, float]:
    """Price the summarising calls of compaction (uncached input, the summary as output) at
    the summary model — the scenario's, else the cascade's cheap model, else the call's own —
    at the compacted call's hour; add them to ``task_cost``. Returns (input tokens, output
    tokens, calls, unpriced calls, cost)."""
    import numpy as np

    w, sc = p.ctx.w, p.sc
    steps = np.array([s.step for s in p.summaries], dtype="int64")
    inp = np.array([s.input_tokens for s in p.summaries], dtype="int64")
    out = np.array([s.output_tokens for s in p.summaries], dtype="int64")
    fixed = sc.summary_model or (sc.cascade[0] if sc.cascade else None)
    model = np.array([fixed or w.l_model[i] for i in steps.tolist()], dtype=object)
    rule = p.ctx.rule(fixed) if fixed else None
    provider = np.array([rule.provider if rule is not None else w.l_provider[i]
                         for i in steps.tolist()], dtype=object)
    n = len(steps)
    zero = np.zeros(n, dtype="int64")
    cost = price_calls(p.ctx, model, provider, np.full(n, None, dtype=object),
                       w.l_hour[steps], inp, zero, zero, zero, out, np.full(n, np.nan),
                       np.ones(n, dtype=bool))
    ok = ~np.isnan(cost)
    task_cost += np.bincount(w.l_task[steps][ok], weights=cost[ok], minlength=len(task_cost))
    c = p.det.setdefault("context", {})
    c["summary_calls"] = n
    c["summary_models"] = sorted({str(m) for m in model if m is not None})
    c["summary_cost_usd"] = round(float(cost[ok].sum()), 8) if ok.any() else None
    c["summary_input_tokens"] = int(inp.sum())
    return int(inp.sum()), int(out.sum()), n, int((~ok).sum()), float(cost[ok].sum())


def _batch_prices(ctx: Context, det: dict[str, Any], c_batch: np.ndarray, c_cost: np.ndarray,
                  c_model: np.ndarray, c_provider: np.ndarray, std_tier: np.ndarray,
                  hour: np.ndarray, tokens: tuple[np.ndarray, ...], reported: np.ndarray,
                  usage: np.ndarray) -> None:
    """What the batched calls cost at the batch prices applied and at their own tier, so the
    batch sentence states the discount that was applied rather than one assumed."""
    import numpy as np

    sel = np.flatnonzero(c_batch)
    unc, rd, w5, w1, out = (t[sel] for t in tokens)
    own = price_calls(ctx, c_model[sel], c_provider[sel], std_tier[sel], hour[sel], unc, rd, w5,
                      w1, out, reported[sel], usage[sel])
    batched = c_cost[sel]
    ok = ~np.isnan(own) & ~np.isnan(batched)
    det["priced_calls"] = int(ok.sum())
    det["batch_cost_usd"] = round(float(batched[ok].sum()), 8)
    det["own_tier_cost_usd"] = round(float(own[ok].sum()), 8)


def duration_label(s: float) -> str:
    if s >= 3600:
        return f"{s / 3600:g}h"
    if s >= 60:
        return f"{s / 60:g}m"
    return f"{s:g}s"


def _durations(ctx: Context, c_step: np.ndarray, c_esc: np.ndarray, c_model: np.ndarray,
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
               mechs: list[Mechanics], variant: str) -> tuple[array[int], list[bool]]:
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
    cinv = cinv.reshape(-1)
    return int_array(ttl_ns_u[cinv]), is1h_u[cinv].tolist()


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
        bps_l.append(bps)
    return pids, cums, nbs, roles_l, bps_l


def _build_calls(ctx: Context, sc: Scenario, strategy: str, c_step: np.ndarray,
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


def _unknown_simulated(det: dict[str, Any], sel: np.ndarray, c_model: np.ndarray,
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


def _cache_notes(ctx: Context, calls: Calls, strategy: str, sc: Scenario, notes: list[str],
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
