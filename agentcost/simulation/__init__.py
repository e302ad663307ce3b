"""``agentcost.simulate``: replay the tasks of a trace under what-if scenarios (DESIGN.md §6).

Pure functions over a priced :class:`~agentcost.table.StepTable`; no typer, no rich.

* The **baseline** is the trace as observed, re-priced with the same price data (the prices in
  force at each step's hour, exactly as ``analyze`` prices it).
* Each :class:`Scenario` pulls levers — prompt caching (``off|observed|auto|stable|stable+last``,
  TTL / retention), a model cascade with an escalation rate, batch, context trimming, output caps,
  parallel tool calls, loop caps, tool-result caching, and the context levers (capped or pruned
  tool results, compaction, a response cache; :mod:`.context`) — and is compared with the
  baseline: cost,
  Δ and Δ%, tokens by class, cache hit ratio, p50/p95 task latency, per-lever contributions when
  several levers are combined (adding them one at a time in the canonical order of
  :data:`~agentcost.simulation.scenario.LEVERS`), optional optimistic/pessimistic figures, and
  the assumptions it rests on.
* A scenario that changes nothing reproduces the baseline exactly.

Layout: :mod:`.scenario` (options, YAML), :mod:`.workload` (the table as arrays and prompt
blocks), :mod:`.cache` (the prompt-cache replay), :mod:`.engine` (one scenario),
:mod:`.tokenizers` (cross-family token ratios), :mod:`.context` and :mod:`.near` (the context
levers; near-duplicate requests).

Example::

    import agentcost
    from agentcost.simulation import Scenario

    table = agentcost.load(["traces/"])
    report = agentcost.simulate(table, [Scenario(name="auto", cache="auto"),
                                        Scenario(name="lean", trim_history=6)])
    print(report.to_dict()["scenarios"][0]["delta_usd"])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentcost.simulation.scenario import (
    LEVER_LABELS,
    Scenario,
    Settings,
    auto_name,
    from_config,
    load_scenarios_doc,
    load_scenarios_file,
)

if TYPE_CHECKING:
    from agentcost.config import Config
    from agentcost.simulation.shared import Figures
    from agentcost.table import StepTable

__all__ = [
    "Scenario",
    "ScenarioResult",
    "Settings",
    "SimulationReport",
    "auto_name",
    "from_config",
    "load_scenarios_doc",
    "load_scenarios_file",
    "simulate",
]

SCHEMA_VERSION = 1


def _f(v: Any, nd: int = 8) -> float | None:
    if v is None:
        return None
    x = float(v)
    return round(x, nd) if math.isfinite(x) else None


@dataclass
class ScenarioResult:
    scenario: Scenario
    figures: Figures
    contributions: list[dict[str, Any]] = field(default_factory=list)
    range: dict[str, Any] | None = None
    assumptions: list[str] = field(default_factory=list)


@dataclass
class SimulationReport:
    """Baseline and scenarios (best first). :meth:`to_dict` is the JSON of DESIGN.md §6."""

    baseline: Figures
    baseline_assumptions: list[str]
    results: list[ScenarioResult]
    settings: Settings
    warnings: list[str]
    reuse: dict[str, Any]
    ingest: dict[str, Any]
    pricing: dict[str, Any]

    def figure_dict(self, name: str, fig: Figures, assumptions: list[str]) -> dict[str, Any]:
        base = self.baseline.cost_usd
        delta = fig.cost_usd - base
        unknown = fig.llm_calls > 0 and fig.cache_unknown_calls >= fig.llm_calls
        return {
            "name": name,
            "cost_usd": _f(fig.cost_usd),
            "delta_usd": _f(delta),
            "delta_pct": _f(delta / base * 100.0, 2) if base else None,
            "input_tokens": fig.input_tokens,
            "cache_read_tokens": None if unknown else fig.cache_read_tokens,
            "cache_write_tokens": None if unknown else fig.cache_write_tokens,
            "output_tokens": fig.output_tokens,
            "cache_hit_ratio": _f(fig.cache_hit_ratio, 4),
            "latency_p50_s": _f(fig.latency(0.5), 3),
            "latency_p95_s": _f(fig.latency(0.95), 3),
            "tasks": fig.tasks,
            "assumptions": list(assumptions),
            # beyond the §6 keys (documented in the README)
            "cost_per_task_usd": _f(fig.cost_usd / fig.tasks) if fig.tasks else None,
            "cost_is_lower_bound": fig.cost_is_lower_bound,
            "cache_write_1h_tokens": None if unknown else fig.cache_write_1h_tokens,
            "cache_unknown_calls": fig.cache_unknown_calls,
            "llm_calls": fig.llm_calls,
            "tasks_cut": fig.tasks_cut,
            "warnings": list(fig.warnings),
        }

    def to_dict(self) -> dict[str, Any]:
        out_base = self.figure_dict("baseline", self.baseline, self.baseline_assumptions)
        out_base["reuse_gaps"] = self.reuse
        out_base["warnings"] = list(self.warnings)
        scenarios = []
        for r in self.results:
            d = self.figure_dict(r.scenario.name, r.figures, r.assumptions)
            d["levers"] = r.scenario.levers()
            d["details"] = r.figures.details
            d["contributions"] = r.contributions
            if r.range is not None:
                d["range"] = r.range
            scenarios.append(d)
        return {"schema_version": SCHEMA_VERSION, "baseline": out_base, "scenarios": scenarios}


# ---------------------------------------------------------------------------- assumptions


def _reuse_gaps(ctx: Any) -> dict[str, Any]:
    """Gaps between consecutive llm calls of a task on the same model, and the TTL they fit."""
    import numpy as np

    w = ctx.w
    if w.n_llm < 2:
        return {"calls": 0, "gap_p50_s": None, "gap_p95_s": None, "over_5m": 0, "over_1h": 0,
                "ttl_fit": None}
    same = (w.l_task[1:] == w.l_task[:-1]) & (w.l_model[1:] == w.l_model[:-1])
    gaps = (w.l_start[1:] - w.l_start[:-1])[same] / 1e9
    if not len(gaps):
        return {"calls": 0, "gap_p50_s": None, "gap_p95_s": None, "over_5m": 0, "over_1h": 0,
                "ttl_fit": None}
    p50, p95 = float(np.quantile(gaps, 0.5)), float(np.quantile(gaps, 0.95))
    fit = "5m" if p95 <= 300 else ("1h" if p95 <= 3600 else "none")
    return {"calls": int(len(gaps)), "gap_p50_s": round(p50, 3), "gap_p95_s": round(p95, 3),
            "over_5m": int((gaps > 300).sum()), "over_1h": int((gaps > 3600).sum()),
            "ttl_fit": fit}


def _reuse_sentence(r: dict[str, Any]) -> str | None:
    if not r.get("calls"):
        return None
    fit = r["ttl_fit"]
    tail = {"5m": "the 5m TTL fits (a 1h write would only add its premium)",
            "1h": "the 1h TTL fits (5m entries would expire between calls)",
            "none": "gaps over an hour: no TTL keeps those entries alive"}[fit]
    return (f"Reuse gaps between consecutive calls of a task: p50 {r['gap_p50_s']:g}s, p95 "
            f"{r['gap_p95_s']:g}s ({r['over_5m']} over 5 min, {r['over_1h']} over 1 h): {tail}.")


def _automatic_cachers(ctx: Any, models: Sequence[str]) -> list[str]:
    """The models among ``models`` whose provider caches prompts without being asked."""
    out = []
    for m in models:
        mech = ctx.mech(m, None)
        if mech.kind in ("implicit", "openai_explicit"):
            out.append(f"{mech.provider} {m}")
    return out


def _unknown_cache_baseline(ctx: Any, base: Figures) -> str:
    w = ctx.w
    sel = ~w.l_cache_known & w.l_usage
    models = sorted({str(m) for m in w.l_model[sel] if m is not None})
    auto = _automatic_cachers(ctx, models)
    n, of = base.cache_unknown_calls, base.llm_calls
    text = (f"{n:,} of {of:,} llm calls report no cache fields: the baseline prices their "
            f"{int(w.l_inp[sel].sum()):,} input tokens with no cache reads")
    if auto:
        text += (f"; {', '.join(auto)} cache{'s' if len(auto) == 1 else ''} prompts "
                 "automatically, so the bill was probably lower and this baseline is an upper "
                 "bound")
    return text + "."


def _unknown_cache_scenario(ctx: Any, unk: dict[str, Any], delta: float) -> str:
    auto = _automatic_cachers(ctx, unk["models"])
    text = (f"Caching simulated for {unk['calls']:,} calls whose trace reports no cache fields "
            f"({unk['cache_read_tokens']:,} of their {unk['input_tokens']:,} input tokens "
            "read from the cache)")
    if auto:
        text += (f"; {', '.join(auto)} cache{'s' if len(auto) == 1 else ''} prompts "
                 f"automatically, so part or all of this scenario's Δ ({_usd(delta)}) is "
                 "probably already in the bill: it estimates that caching, it is not a saving "
                 "a change would add")
    return text + "."


def _usd(v: float) -> str:
    return f"−${-v:,.2f}" if v < 0 else f"+${v:,.2f}"


def _cascade_sentences(sc: Scenario, c: dict[str, Any], st: Settings) -> list[str]:
    """The cascade's models, role rule, escalation, tokenizers and per-model caches."""
    assert sc.cascade is not None
    out: list[str] = []
    al = c.get("aliases") or {}
    names = [f"{m} (alias {a!r})" if a != m else m
             for a, m in zip(sc.cascade_given or sc.cascade, sc.cascade, strict=False)]
    out.append(f"Cascade: cheap = {names[0]}, strong = {names[1]}" +
               (" (aliases resolved against the trace, see below)" if al else "") + ".")
    rules = "; ".join(f"{k} → {v}" for k, v in sc.roles) if sc.roles else ""
    out.append("Role rule: a step ending in tool calls (routing/tool decision) → cheap; "
               "the task's final step without tool calls (user-facing synthesis) → strong; "
               f"other steps with at most {st.short_output_tokens} output tokens (short, "
               "classifying) → cheap; the rest → strong" +
               (f"; overridden by name: {rules}" if rules else "") + ".")
    how = (f" ({sc.escalation_source})" if sc.escalation_source else
           " (default; set --escalation-rate)"
           if sc.escalation_rate == 0 else "")
    out.append(f"Escalation rate {c.get('escalation_rate', sc.escalation_rate):g}{how}"
               f": {c.get('escalated_steps', 0):,} of {c.get('cheap_steps', 0):,} cheap "
               "steps re-run on the strong model, paying both.")
    if sc.escalation_candidate and sc.escalation_candidate != c.get("cheap"):
        out.append(f"The escalation rate was measured on {sc.escalation_candidate}, not on "
                   f"the cascade's cheap model {c.get('cheap')}: it carries over only as "
                   "far as the two models behave alike.")
    ratios = c.get("tokenizer_ratios") or {}
    if ratios:
        out.append("Token counts carry over within a tokenizer; across tokenizers: "
                   + ", ".join(f"{k} x{v:g}" for k, v in ratios.items())
                   + " (provider-rules §G: Claude vs o200k +16-30%, Claude 4.7+ "
                   "tokenizer 1-1.35x).")
    out.append("Caches are per model: cheap and strong calls each build their own cache. "
               "Latency from each model's observed median TTFT and time per output token "
               "where the trace has it, else the call's own duration scaled by tier.")
    return out


def _loop_cap_sentence(sc: Scenario, fig: Figures) -> str:
    caps = []
    if sc.max_iterations is not None:
        caps.append(f"{sc.max_iterations} llm calls")
    if sc.token_budget is not None:
        caps.append(f"{sc.token_budget:,} tokens")
    return (f"Loop caps ({' / '.join(caps)}): tasks over the cap stop at it "
            f"({fig.tasks_cut:,} here); their spend so far is counted and they are "
            "marked as needing escalation, not as successes.")


def _tool_cache_sentence(sc: Scenario, tc: dict[str, Any]) -> str:
    s = ("Tool-result caching: a call with the same tool and argument fingerprint as an "
         "earlier call of its task returns that result at once and is not re-sent to the "
         "model (its latency and its tokens in later prompts are saved)")
    if sc.tool_cache_ttl_s is not None:
        s += (f"; identical calls of other tasks within {sc.tool_cache_ttl_s:g}s also "
              "return at once (latency only)")
    if tc.get("tool_calls_without_fingerprint"):
        s += (f"; {tc['tool_calls_without_fingerprint']:,} tool calls have no argument "
              "fingerprint and are never reused")
    return s + "."


def _lever_sentences(sc: Scenario, fig: Figures, st: Settings) -> list[str]:
    out: list[str] = []
    d = fig.details
    if sc.cascade is not None:
        out.extend(_cascade_sentences(sc, d.get("cascade", {}), st))
    if sc.batch:
        b = d.get("batch", {})
        out.append(_batch_sentence(b, st))
    if sc.trim_history is not None:
        out.append(f"Trimming keeps the stable prefix (tools, system, first user message) and "
                   f"the last {sc.trim_history} turns; older turns (assistant messages with "
                   "their tool results) are dropped; answers are assumed unaffected.")
    if sc.max_output_tokens is not None:
        out.append(f"Outputs over {sc.max_output_tokens:,} tokens are cut at the cap and "
                   "assumed still usable; later prompts carry the shorter answer.")
    if sc.parallel_tools:
        scs = ", ".join(sc.state_changing_tools)
        out.append("Parallel tool calls: the tool calls of one turn run concurrently and the "
                   "turn takes as long as its slowest call" +
                   (f"; state-changing tools ({scs}) still run one after another" if scs
                    else "") + ".")
    if sc.max_iterations is not None or sc.token_budget is not None:
        out.append(_loop_cap_sentence(sc, fig))
    if sc.tool_cache:
        out.append(_tool_cache_sentence(sc, d.get("tool_cache", {})))
    return out


def _batch_sentence(b: dict[str, Any], st: Settings) -> str:
    """The batch lever as applied: the discount is the one the prices gave, not a constant."""
    from agentcost.simulation.latency import duration_label

    window = duration_label(b.get("window_s", st.batch_window_s))
    own, batched, n = b.get("own_tier_cost_usd"), b.get("batch_cost_usd"), b.get("priced_calls")
    if n and own:
        price = (f"{n:,} batched call{'s' if n != 1 else ''} priced at the provider's batch "
                 f"prices: ${batched:,.4f} instead of ${own:,.4f} at their own tier "
                 f"({(batched - own) / own * 100:+.1f}%; cache discounts stack as the price "
                 "data has them)")
    elif b.get("calls"):
        price = ("the batched calls have no known price, so no batch discount is applied "
                 "(see warnings)")
    else:
        price = "no call was eligible, so nothing was priced at batch prices"
    return (f"Batch: {price}; each batched call's latency becomes the batch window ({window}; "
            "most batches finish within 1 h, results may take up to 24 h).")


def _range_sentence(sc: Scenario, st: Settings) -> str:
    from agentcost.simulation.latency import duration_label

    parts = []
    if sc.cascade is not None:
        from agentcost.simulation.shared import escalation_rate_for

        parts.append(f"escalation rate {escalation_rate_for(sc, 'optimistic'):g} / "
                     f"{escalation_rate_for(sc, 'pessimistic'):g}")
        parts.append("tokenizer ratio at the low / high end")
    parts.append(f"cache hits lost to eviction under load 0% / {st.eviction_share:.0%}")
    parts.append("OpenAI retention at its stated maximum / typical minimum")
    if sc.batch:
        parts.append(f"batch cache hits kept 100% / {st.batch_hit_share_pessimistic:.0%}, batch "
                     f"window {duration_label(st.batch_window_s)} / "
                     f"{duration_label(st.batch_window_pessimistic_s)}")
    return ("Range (optimistic / pessimistic): " + "; ".join(parts)
            + " — the range reports the cheapest and the costliest of those runs and the "
            "expected one.")


# ---------------------------------------------------------------------------- entry point

# Runs go to worker processes (fork: the prepared workload is shared copy-on-write) when the
# trace has at least this many llm calls; AGENTCOST_JOBS sets the number of processes running
# them (1: this one alone). This process runs its share too: one worker fewer to fork, whose
# copied pages and run state would add to the peak memory, for the same parallelism.
PARALLEL_MIN_CALLS = 20_000
_CTX: Any = None
_JOBS: list[tuple[Scenario, str]] = []
_EDITING = {"cache", "cascade", "trim_history", "max_output_tokens", "tool_cache",
            "tool_results", "compaction", "response_cache"}


def _job(i: int) -> Figures:
    from agentcost.simulation.engine import run

    sc, variant = _JOBS[i]
    return run(_CTX, sc, variant)


def _run_jobs(ctx: Any, jobs: list[tuple[Scenario, str]]) -> list[Figures]:
    """Run every (scenario, variant): shared with worker processes for large traces, else in
    turn. Results come back in the order of ``jobs`` whoever ran them."""
    import multiprocessing as mp
    import os

    from agentcost.simulation.engine import run

    env = os.environ.get("AGENTCOST_JOBS", "").strip()
    n = int(env) if env.isdigit() else (os.cpu_count() or 1)
    forkable = "fork" in mp.get_all_start_methods()
    if n <= 1 or len(jobs) <= 1 or ctx.w.n_llm < PARALLEL_MIN_CALLS or not forkable:
        return [run(ctx, sc, variant) for sc, variant in jobs]
    global _CTX, _JOBS
    if ctx.st.calibrate and any(set(sc.levers()) & _EDITING for sc, _ in jobs):
        from agentcost.simulation.engine import reference

        reference(ctx)  # computed once here, inherited by every worker
    _CTX, _JOBS = ctx, jobs
    try:
        return _shared_run(min(n, len(jobs)) - 1, len(jobs))
    finally:
        _CTX, _JOBS = None, []


def _shared_run(workers: int, n_jobs: int) -> list[Figures]:
    """Jobs ``0..n_jobs-1`` taken in order by ``workers`` forked processes and this one, each
    taking the next job when it is free (a worker is handed one job at a time)."""
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    results: list[Figures | None] = [None] * n_jobs
    nxt = 0
    running: dict[Future[Figures], int] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as pool:
        while nxt < n_jobs or running:
            while nxt < n_jobs and len(running) < workers:
                running[pool.submit(_job, nxt)] = nxt
                nxt += 1
            if nxt < n_jobs:
                results[nxt] = _job(nxt)
                nxt += 1
                done = {f for f in running if f.done()}
            else:
                done = wait(running, return_when=FIRST_COMPLETED).done
            for f in done:
                results[running.pop(f)] = f.result()
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def simulate(table: StepTable, scenarios: Scenario | Sequence[Scenario],
             settings: Settings | None = None, *, config: Config | None = None
             ) -> SimulationReport:
    """Simulate ``scenarios`` over ``table`` and compare each with the baseline."""
    from agentcost.perf import no_gc

    # The replay allocates millions of small objects next to a large, long-lived workload: with
    # the cyclic collector on, its full passes over that workload dominate the run (2-6x).
    # Nothing here builds reference cycles, so it is paused for the duration.
    with no_gc():
        return _simulate(table, scenarios, settings, config)


def _simulate(table: StepTable, scenarios: Scenario | Sequence[Scenario],
              settings: Settings | None, config: Config | None) -> SimulationReport:
    from agentcost.simulation.cascade import resolve_for_trace
    from agentcost.simulation.engine import run
    from agentcost.simulation.shared import Context
    from agentcost.simulation.workload import prepare

    st = settings or Settings()
    w = prepare(table)
    ctx = Context(w, st, config)
    base = run(ctx, Scenario(name="baseline"))
    pricing = table.pricing.to_dict()
    resolved = [resolve_for_trace(sc, w) for sc in
                ([scenarios] if isinstance(scenarios, Scenario) else list(scenarios))]
    scs = [r.scenario for r in resolved]
    from agentcost.simulation.context import with_summary_model

    scs = [with_summary_model(sc, w) for sc in scs]  # compaction: the trace's cheap model
    jobs = _jobs(scs, resolved, st)
    figs = _run_jobs(ctx, [(sc, variant) for _, _, sc, variant in jobs])
    sv = _Scenarios(ctx, st, base, _price_line(pricing), _reuse_gaps(ctx),
                    {(k, part): f for (k, part, _, _), f in zip(jobs, figs, strict=True)})
    results = [sv.result(k, sc, resolved[k]) for k, sc in enumerate(scs)]
    results.sort(key=lambda r: (r.figures.cost_usd if math.isfinite(r.figures.cost_usd)
                                else math.inf))
    warnings = _lower_bound_warnings(base)
    return SimulationReport(baseline=base,
                            baseline_assumptions=_base_notes(ctx, base, sv.price_line),
                            results=results, settings=st, warnings=warnings, reuse=sv.reuse,
                            ingest=table.ingest.to_dict(), pricing=pricing)


def _price_line(pricing: dict[str, Any]) -> str:
    """The prices sentence, naming the price data that was actually used."""
    data = str(pricing.get("data") or "")
    which = (f"bundled data {pricing.get('data_fingerprint')}" if data.startswith("bundled")
             else f"price data {pricing.get('data_fingerprint')}: {data}")
    return (f"Prices: genai-prices {pricing.get('version')} ({which}) at each step's hour, the "
            "same data for the baseline and every scenario"
            + (f"; agentcost.yaml prices for {', '.join(pricing['overrides'])}"
               if pricing.get("overrides") else "") + ".")


def _base_notes(ctx: Any, base: Figures, price_line: str) -> list[str]:
    notes = ["The trace as observed (tokens, cache reads and writes, latency), re-priced.",
             price_line]
    if base.cache_unknown_calls:
        notes.append(_unknown_cache_baseline(ctx, base))
    if ctx.w.times_filled:
        notes.append(f"{ctx.w.times_filled:,} steps have no start time: placed back to back "
                     "after the previous step of their task.")
    notes.append("Task latency = wall time from the task's first step start to its last "
                 "step end; p50/p95 over tasks.")
    return notes


def _jobs(scs: list[Scenario], resolved: list[Any], st: Settings
          ) -> list[tuple[int, str, Scenario, str]]:
    """Every run the report needs: (scenario index, part, scenario, variant)."""
    from agentcost.simulation.cascade import all_on_strong

    jobs: list[tuple[int, str, Scenario, str]] = []
    for k, sc in enumerate(scs):
        jobs.append((k, "main", sc, "expected"))
        if resolved[k].model_change:
            jobs.append((k, "allstrong", all_on_strong(sc), "expected"))
            if sc.levers() != ["cascade"]:
                jobs.append((k, "cascadeonly", sc.only(["cascade"]), "expected"))
        levers = sc.levers()
        for j in range(len(levers) - 1):
            jobs.append((k, f"contrib{j}", sc.only(levers[: j + 1]), "expected"))
        if st.with_range:
            jobs.append((k, "optimistic", sc, "optimistic"))
            jobs.append((k, "pessimistic", sc, "pessimistic"))
    return jobs


@dataclass
class _Scenarios:
    """Builds each scenario's result from the runs of :func:`_jobs`."""

    ctx: Any
    st: Settings
    base: Figures
    price_line: str
    reuse: dict[str, Any]
    by: dict[tuple[int, str], Figures]
    calib: str | None = None

    def result(self, k: int, sc: Scenario, res_k: Any) -> ScenarioResult:
        fig = self.by[(k, "main")]
        rng = self.range_figures(k, fig) if self.st.with_range else None
        return ScenarioResult(sc, fig, self.contributions(k, sc, fig), rng,
                              self.assumptions(k, sc, fig, res_k))

    def contributions(self, k: int, sc: Scenario, fig: Figures) -> list[dict[str, Any]]:
        levers = sc.levers()
        out: list[dict[str, Any]] = []
        if len(levers) < 2:
            return out
        prev = self.base
        for j, lv in enumerate(levers):
            f = fig if j == len(levers) - 1 else self.by[(k, f"contrib{j}")]
            p50a, p50b = f.latency(0.5), prev.latency(0.5)
            out.append({
                "lever": lv, "label": LEVER_LABELS[lv],
                "delta_usd": _f(f.cost_usd - prev.cost_usd),
                "delta_latency_p50_s": _f(p50a - p50b, 3)
                if p50a is not None and p50b is not None else None,
                "cache_read_tokens_delta": f.cache_read_tokens - prev.cache_read_tokens,
            })
            prev = f
        return out

    def assumptions(self, k: int, sc: Scenario, fig: Figures, res_k: Any) -> list[str]:
        from agentcost.simulation.cascade import split_sentence

        out = [self.price_line, *fig.assumptions, *_lever_sentences(sc, fig, self.st)]
        if {"tool_results", "compaction", "response_cache"} & set(sc.levers()):
            out.extend(self.context(sc, fig))
        if res_k.notes:
            out.append("Cascade models chosen for this trace: " + "; ".join(res_k.notes) + ".")
        fig.warnings.extend(x for x in res_k.warnings if x not in fig.warnings)
        if res_k.model_change and sc.cascade is not None:
            only = fig if sc.levers() == ["cascade"] else self.by[(k, "cascadeonly")]
            text, split = split_sentence(sc.cascade[1], self.base.cost_usd,
                                         self.by[(k, "allstrong")].cost_usd, only.cost_usd)
            out.append(text)
            fig.details.setdefault("cascade", {})["delta_split"] = split
        unk = fig.details.get("cache", {}).get("unknown_in_trace_simulated")
        if unk:
            out.append(_unknown_cache_scenario(self.ctx, unk, fig.cost_usd - self.base.cost_usd))
        reuse_s = _reuse_sentence(self.reuse)
        if (fig.replayed or "cache" in sc.levers()) and reuse_s:
            out.append(reuse_s)
        if fig.replayed and self.ctx.w.l_rd.sum() > 0:
            out.append(self.calibration())
        if "cache" in sc.levers():
            fig.details.setdefault("cache", {})["reuse_gaps"] = self.reuse
        if self.st.with_range:
            out.append(_range_sentence(sc, self.st))
        return out

    def context(self, sc: Scenario, fig: Figures) -> list[str]:
        """The context levers' sentences; tokens and dollars saved go to the details."""
        from agentcost.simulation.context import sentences

        saved_tok = self.base.input_tokens - fig.input_tokens
        saved_usd = self.base.cost_usd - fig.cost_usd
        fig.details["context_saved"] = {"input_tokens": saved_tok,
                                        "usd": _f(saved_usd) if math.isfinite(saved_usd)
                                        else None}
        return sentences(sc, fig.details, saved_tok, saved_usd)

    def calibration(self) -> str:
        if self.calib is None:
            from agentcost.simulation.engine import reference_figures

            c = reference_figures(self.ctx)
            obs = int(self.ctx.w.l_rd.sum())
            err = (c.cache_read_tokens - obs) / obs * 100.0
            self.calib = (f"Calibration: replaying the trace as observed gives "
                          f"{c.cache_read_tokens:,} cache-read tokens against {obs:,} reported "
                          f"({err:+.1f}%)"
                          + ("; calls a scenario leaves unchanged keep the reported figures, "
                             "only the calls it changes are simulated." if self.st.calibrate
                             else "; every call simulated (calibrate: false)."))
        return self.calib

    def range_figures(self, k: int, fig: Figures) -> dict[str, Any]:
        """The cheapest and the costliest of the runs under the optimistic, expected and
        pessimistic assumptions: effects can cross (more escalations can warm the strong
        model's cache), so the labels go by outcome, not by input."""
        base = self.base
        runs = sorted([fig, self.by[(k, "optimistic")], self.by[(k, "pessimistic")]],
                      key=lambda f: f.cost_usd)
        return {label: {
            "cost_usd": _f(fv.cost_usd), "delta_usd": _f(fv.cost_usd - base.cost_usd),
            "delta_pct": _f((fv.cost_usd - base.cost_usd) / base.cost_usd * 100.0, 2)
            if base.cost_usd else None,
            "cache_hit_ratio": _f(fv.cache_hit_ratio, 4),
            "latency_p50_s": _f(fv.latency(0.5), 3),
            "latency_p95_s": _f(fv.latency(0.95), 3),
        } for label, fv in (("optimistic", runs[0]), ("pessimistic", runs[-1]))}


def _lower_bound_warnings(base: Figures) -> list[str]:
    """Why the baseline (and so every scenario) is a lower bound, if it is."""
    parts = [f"{n:,} {what}" for n, what in (
        (base.unpriced_calls, "llm call(s) have no known price"),
        (base.no_usage_calls, "llm call(s) have no usage"),
        (base.partial_usage_calls, "llm call(s) report only input or only output tokens"))
        if n]
    if not parts:
        return []
    return ["; ".join(parts) + ": every total leaves the unknown part out and is a lower bound"]
