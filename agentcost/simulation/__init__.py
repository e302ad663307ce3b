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
blocks), :mod:`.cache` (the prompt-cache replay), :mod:`.engine` (one scenario, stage by stage:
:mod:`.shared` (figures, context, plan), :mod:`.levers`, :mod:`.prompts`, :mod:`.calls`,
:mod:`.notes`, :mod:`.latency`, :mod:`.costs`), :mod:`.jobs` (runs in worker processes),
:mod:`.assumptions` (the report's sentences), :mod:`.tokenizers` (cross-family token ratios),
:mod:`.context` and :mod:`.near` (the context levers; near-duplicate requests).

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

from agentcost.simulation.assumptions import (
    base_notes,
    lever_sentences,
    lower_bound_warnings,
    price_line,
    range_sentence,
    reuse_gaps,
    reuse_sentence,
    unknown_cache_scenario,
)
from agentcost.simulation.jobs import run_jobs
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


# ---------------------------------------------------------------------------- entry point


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
    figs = run_jobs(ctx, [(sc, variant) for _, _, sc, variant in jobs])
    sv = _Scenarios(ctx, st, base, price_line(pricing), reuse_gaps(ctx),
                    {(k, part): f for (k, part, _, _), f in zip(jobs, figs, strict=True)})
    results = [sv.result(k, sc, resolved[k]) for k, sc in enumerate(scs)]
    results.sort(key=lambda r: (r.figures.cost_usd if math.isfinite(r.figures.cost_usd)
                                else math.inf))
    warnings = lower_bound_warnings(base)
    return SimulationReport(baseline=base,
                            baseline_assumptions=base_notes(ctx, base, sv.price_line),
                            results=results, settings=st, warnings=warnings, reuse=sv.reuse,
                            ingest=table.ingest.to_dict(), pricing=pricing)


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

        out = [self.price_line, *fig.assumptions, *lever_sentences(sc, fig, self.st)]
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
            out.append(unknown_cache_scenario(self.ctx, unk, fig.cost_usd - self.base.cost_usd))
        reuse_s = reuse_sentence(self.reuse)
        if (fig.replayed or "cache" in sc.levers()) and reuse_s:
            out.append(reuse_s)
        if fig.replayed and self.ctx.w.l_rd.sum() > 0:
            out.append(self.calibration())
        if "cache" in sc.levers():
            fig.details.setdefault("cache", {})["reuse_gaps"] = self.reuse
        if self.st.with_range:
            out.append(range_sentence(sc, self.st))
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


